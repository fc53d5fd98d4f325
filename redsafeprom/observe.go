package redsafeprom

import (
	"crypto/tls"
	"slices"
	"time"

	"github.com/redsafe/redsafe"
)

// Operation implements redsafe.Observer.
func (m *Metrics) Operation(command string, d time.Duration, class redsafe.ErrorClass) {
	s, ok := m.commands[command]
	if !ok { // a command newer than this package: slower, still correct
		s = commandSeries{m.operations.WithLabelValues(command), m.operationTime.WithLabelValues(command)}
	}
	s.count.Inc()
	s.time.Observe(d.Seconds())
	if class != "" {
		m.errors.WithLabelValues(command, string(class)).Inc()
	}
}

// Encrypt implements redsafe.Observer.
func (m *Metrics) Encrypt(d time.Duration) { m.encryptTime.Observe(d.Seconds()) }

// Decrypt implements redsafe.Observer.
func (m *Metrics) Decrypt(d time.Duration) { m.decryptTime.Observe(d.Seconds()) }

// DecryptFailure implements redsafe.Observer.
func (m *Metrics) DecryptFailure(error) { m.decryptFailures.Inc() }

// PreviousKeyRead implements redsafe.Observer.
func (m *Metrics) PreviousKeyRead() { m.previousKeyReads.Inc() }

// Validated implements redsafe.Observer. The gauges are set, not added
// to, so a service that retries Open reports the last attempt.
func (m *Metrics) Validated(r redsafe.Report, insecureOverride bool) {
	counts := map[redsafe.Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
	}
	for _, s := range []redsafe.Severity{redsafe.SeverityError, redsafe.SeverityWarning, redsafe.SeverityInfo} {
		m.findings.WithLabelValues(string(s)).Set(float64(counts[s]))
	}
	if insecureOverride {
		m.insecure.Set(1)
	} else {
		m.insecure.Set(0)
	}
}

// TLSHandshake implements redsafe.Observer.
func (m *Metrics) TLSHandshake(d time.Duration, state tls.ConnectionState) {
	m.handshakeTime.Observe(d.Seconds())
	if len(state.PeerCertificates) > 0 {
		m.certExpiry.set(state.PeerCertificates[0].NotAfter)
	}
}

// Connect implements redsafe.Observer.
func (m *Metrics) Connect(d time.Duration, class redsafe.ErrorClass) {
	m.connects.Inc()
	if class != "" {
		m.errors.WithLabelValues(commandConnect, string(class)).Inc()
		return
	}
	m.readyTime.Observe(d.Seconds())
}

// ReplyRefused implements redsafe.Observer. A limit outside the fixed set
// (from a newer redsafe) is counted as malformed, so the label values stay
// the known ones.
func (m *Metrics) ReplyRefused(limit string) {
	if !slices.Contains(replyLimits, limit) {
		limit = redsafe.ReplyLimitMalformed
	}
	m.repliesRefused.WithLabelValues(limit).Inc()
}
