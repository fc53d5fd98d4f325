package redsafeprom

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// options are production options for s: the harness's random 64-character
// hex password meets the production policy.
func options(s *redisserver.Server) redsafe.Options {
	return redsafe.Options{
		Environment:   redsafe.Production,
		URL:           s.URL("", ""),
		Password:      s.Password,
		EncryptionKey: seal.GenerateKey().Encode(),
		TLS:           redsafe.TLSOptions{CAFile: s.CAFile},
		DialTimeout:   2 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// startCache starts a server configured by cfg and opens a cache on it with
// production options, observed by new metrics.
func startCache(t testing.TB, cfg redisserver.Config) (*redisserver.Server, *redsafe.Cache, *Metrics) {
	t.Helper()
	s := redisserver.Start(t, cfg)
	c, m := open(t, options(s))
	return s, c, m
}

// open opens a cache on o observed by new metrics in their own registry.
func open(t testing.TB, o redsafe.Options) (*redsafe.Cache, *Metrics) {
	t.Helper()
	m := New(Options{})
	prometheus.NewPedanticRegistry().MustRegister(m)
	o.Observer = m
	c, err := redsafe.Open(testContext(t), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, m
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// value reads one series; labels select it in a vector.
func value(t *testing.T, c prometheus.Collector, labels ...string) float64 {
	t.Helper()
	switch v := c.(type) {
	case *prometheus.CounterVec:
		c = v.WithLabelValues(labels...)
	case *prometheus.GaugeVec:
		c = v.WithLabelValues(labels...)
	}
	return testutil.ToFloat64(c)
}

// observations is how many values a histogram has recorded.
func observations(t *testing.T, h prometheus.Observer) uint64 {
	t.Helper()
	var m dto.Metric
	if err := h.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
