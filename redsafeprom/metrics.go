// Package redsafeprom exports what a redsafe.Cache does as Prometheus
// metrics. It is a separate package so that the core library does not
// depend on Prometheus:
//
//	metrics := redsafeprom.New(redsafeprom.Options{})
//	registry.MustRegister(metrics) // your registry; nothing is registered for you
//	opts := redsafe.OptionsFromEnv()
//	opts.Observer = metrics
//	cache, err := redsafe.Open(ctx, opts)
//
// No label carries a cache key, a value or anything secret: labels are
// redsafe's command names, error classes and finding severities, all from
// fixed sets, so the number of series stays small.
package redsafeprom

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redsafe/redsafe"
)

// Options configures the metrics.
type Options struct {
	// Namespace prefixes every metric name. Default "redsafe".
	Namespace string

	// ConstLabels are put on every metric, to tell caches apart that share
	// a registry, such as {"cache": "sessions"}. Default none.
	ConstLabels prometheus.Labels
}

// Metrics is a redsafe.Observer that keeps Prometheus metrics, and the
// prometheus.Collector that exports them. Register it with your own
// registry, and give it to one Cache through Options.Observer: the gauges
// (insecure override, findings, certificate expiry) describe the last Cache
// opened with it.
type Metrics struct {
	operations       *prometheus.CounterVec   // operations_total{command}
	errors           *prometheus.CounterVec   // errors_total{command,class}
	operationTime    *prometheus.HistogramVec // operation_seconds{command}
	encryptTime      prometheus.Histogram
	decryptTime      prometheus.Histogram
	decryptFailures  prometheus.Counter
	previousKeyReads prometheus.Counter
	insecure         prometheus.Gauge
	findings         *prometheus.GaugeVec // validation_findings{severity}
	handshakeTime    prometheus.Histogram
	certExpiry       *certExpiry
	readyTime        prometheus.Histogram
	connects         prometheus.Counter     // operations_total{command="connect"}
	repliesRefused   *prometheus.CounterVec // replies_refused_total{limit}

	// commands holds the series of every command redsafe has, made in New
	// and never written after, so the hot path reads it without a lock or
	// a label lookup.
	commands   map[string]commandSeries
	collectors []prometheus.Collector
}

type commandSeries struct {
	count prometheus.Counter
	time  prometheus.Observer
}

// commandConnect labels connection attempts in operations_total and
// errors_total.
const commandConnect = "connect"

// replyLimits are the label values of replies_refused_total, a fixed set.
var replyLimits = []string{
	redsafe.ReplyLimitDepth, redsafe.ReplyLimitLine, redsafe.ReplyLimitAggregate, redsafe.ReplyLimitElements,
	redsafe.ReplyLimitBulk, redsafe.ReplyLimitBytes, redsafe.ReplyLimitMalformed,
}

var knownCommands = []string{
	redsafe.CommandGet, redsafe.CommandSet, redsafe.CommandDelete, redsafe.CommandExists,
	redsafe.CommandTTL, redsafe.CommandGetMany, redsafe.CommandSetMany, redsafe.CommandPing,
}

// Latency buckets, in seconds. Sealing or opening a small value takes
// microseconds, a network round trip or handshake a millisecond or more.
var (
	cryptoBuckets  = prometheus.ExponentialBuckets(1e-6, 4, 10) // 1µs … 0.26s
	networkBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
)

var _ redsafe.Observer = (*Metrics)(nil)

// New makes the metrics. It registers nothing: pass the result to your
// registry's Register or MustRegister.
func New(o Options) *Metrics {
	if o.Namespace == "" {
		o.Namespace = "redsafe"
	}
	counter := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: o.Namespace, Name: name, Help: help, ConstLabels: o.ConstLabels}
	}
	gauge := func(name, help string) prometheus.GaugeOpts {
		return prometheus.GaugeOpts{Namespace: o.Namespace, Name: name, Help: help, ConstLabels: o.ConstLabels}
	}
	histogram := func(name, help string, buckets []float64) prometheus.HistogramOpts {
		return prometheus.HistogramOpts{Namespace: o.Namespace, Name: name, Help: help, ConstLabels: o.ConstLabels, Buckets: buckets}
	}
	m := &Metrics{
		operations: prometheus.NewCounterVec(counter("operations_total",
			"Cache operations by command, with health check PINGs and connection attempts (connect)."), []string{"command"}),
		errors: prometheus.NewCounterVec(counter("errors_total",
			"Failed operations and connection attempts by command and error class."), []string{"command", "class"}),
		operationTime: prometheus.NewHistogramVec(histogram("operation_seconds",
			"Time of cache operations, sealing and opening included.", networkBuckets), []string{"command"}),
		encryptTime: prometheus.NewHistogram(histogram("encrypt_seconds",
			"Time to seal one value.", cryptoBuckets)),
		decryptTime: prometheus.NewHistogram(histogram("decrypt_seconds",
			"Time to authenticate and open one stored value.", cryptoBuckets)),
		decryptFailures: prometheus.NewCounter(counter("decrypt_failures_total",
			"Stored values refused: tampered with, sealed with a key that is not configured, malformed, or too old.")),
		previousKeyReads: prometheus.NewCounter(counter("previous_key_reads_total",
			"Stored values that opened only with a previous encryption key: rotation is not complete while this grows.")),
		insecure: prometheus.NewGauge(gauge("insecure_override",
			"1 when production runs without TLS through REDIS_INSECURE_ALLOW_PLAINTEXT, else 0.")),
		findings: prometheus.NewGaugeVec(gauge("validation_findings",
			"Configuration findings of the last Open, by severity."), []string{"severity"}),
		handshakeTime: prometheus.NewHistogram(histogram("tls_handshake_seconds",
			"Time of each TLS handshake with the server.", networkBuckets)),
		certExpiry: newCertExpiry(prometheus.NewDesc(prometheus.BuildFQName(o.Namespace, "", "server_cert_expiry_days"),
			"Days until the certificate the server presented in the last TLS handshake expires; negative when expired, absent without TLS.",
			nil, o.ConstLabels)),
		readyTime: prometheus.NewHistogram(histogram("connect_ready_seconds",
			"Time for a new connection to be ready: dial, TLS handshake, HELLO and AUTH.", networkBuckets)),
		repliesRefused: prometheus.NewCounterVec(counter("replies_refused_total",
			"Connections closed because the server's reply crossed a reply limit or was not RESP, by limit."), []string{"limit"}),
		commands: make(map[string]commandSeries, len(knownCommands)),
	}
	for _, c := range knownCommands {
		m.commands[c] = commandSeries{m.operations.WithLabelValues(c), m.operationTime.WithLabelValues(c)}
	}
	m.connects = m.operations.WithLabelValues(commandConnect)
	for _, s := range []redsafe.Severity{redsafe.SeverityError, redsafe.SeverityWarning, redsafe.SeverityInfo} {
		m.findings.WithLabelValues(string(s))
	}
	for _, l := range replyLimits {
		m.repliesRefused.WithLabelValues(l)
	}
	m.collectors = []prometheus.Collector{
		m.operations, m.errors, m.operationTime, m.encryptTime, m.decryptTime, m.decryptFailures, m.previousKeyReads,
		m.insecure, m.findings, m.handshakeTime, m.certExpiry, m.readyTime, m.repliesRefused,
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors {
		c.Collect(ch)
	}
}
