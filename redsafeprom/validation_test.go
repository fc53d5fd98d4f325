package redsafeprom

import (
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestInsecureOverride: production without TLS through the override sets
// the gauge to 1 and exports no certificate expiry; a TLS cache sets it
// to 0.
func TestInsecureOverride(t *testing.T) {
	t.Parallel()
	plain := redisserver.Start(t, redisserver.Config{Plaintext: true})
	o := options(plain)
	o.TLS = redsafe.TLSOptions{}
	o.AllowInsecurePlaintext = true
	c, m := open(t, o)
	if err := c.Health(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if got := value(t, m.insecure); got != 1 {
		t.Errorf("insecure_override = %v with the override in use, want 1", got)
	}
	assertFindings(t, m, redsafe.Validate(o))
	if got := observations(t, m.handshakeTime); got != 0 {
		t.Errorf("tls_handshake_seconds has %d observations without TLS", got)
	}
	if n := testutil.CollectAndCount(m.certExpiry); n != 0 {
		t.Errorf("server_cert_expiry_days exported without TLS")
	}
	if got := observations(t, m.readyTime); got != 1 {
		t.Errorf("connect_ready_seconds has %d observations for a plaintext Open, want 1", got)
	}

	secure := redisserver.Start(t, redisserver.Config{})
	_, m = open(t, options(secure))
	if got := value(t, m.insecure); got != 0 {
		t.Errorf("insecure_override = %v over TLS, want 0", got)
	}
}

// TestValidationFindings: the gauges match the report of each Open, also of
// one that refuses the configuration.
func TestValidationFindings(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	o := options(s)
	o.Environment = redsafe.Development                  // "dev" warnings do not stop Open
	o.PreviousEncryptionKeys = []string{o.EncryptionKey} // a duplicate: a warning
	_, m := open(t, o)
	r := redsafe.Validate(o)
	if len(r.Warnings()) == 0 {
		t.Fatalf("the configuration has no warning to count: %+v", r.Findings)
	}
	assertFindings(t, m, r)

	o.Password = "short"
	_, err := redsafe.Open(testContext(t), withObserver(o, m))
	var ce *redsafe.ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("Open with a weak password = %v", err)
	}
	if len(ce.Report.Errors()) == 0 {
		t.Fatal("no error finding")
	}
	assertFindings(t, m, ce.Report)
}

func withObserver(o redsafe.Options, m *Metrics) redsafe.Options {
	o.Observer = m
	return o
}

func assertFindings(t *testing.T, m *Metrics, r redsafe.Report) {
	t.Helper()
	for _, sev := range []redsafe.Severity{redsafe.SeverityError, redsafe.SeverityWarning, redsafe.SeverityInfo} {
		want := 0
		for _, f := range r.Findings {
			if f.Severity == sev {
				want++
			}
		}
		if got := value(t, m.findings, string(sev)); got != float64(want) {
			t.Errorf("validation_findings{severity=%q} = %v, want %d", sev, got, want)
		}
	}
}
