package redsafeprom_test

import (
	"bytes"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/redsafeprom"
	"github.com/redsafe/redsafe/seal"
)

// The cache benchmarks run against a real TLS redis-server, so they measure
// what a service sees: sealing, the round trip and opening, without an
// Observer and with the Prometheus one, side by side:
//
//	go test -run '^$' -bench Cache -benchmem .
func BenchmarkCacheGet1KiB(b *testing.B) {
	benchObservers(b, func(b *testing.B, c *redsafe.Cache) {
		ctx := b.Context()
		if err := c.Set(ctx, "bench", bytes.Repeat([]byte("v"), 1<<10), time.Minute); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCacheSet1KiB(b *testing.B) {
	benchObservers(b, func(b *testing.B, c *redsafe.Cache) {
		ctx := b.Context()
		value := bytes.Repeat([]byte("v"), 1<<10)
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Set(ctx, "bench", value, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchObservers runs bench on one server with a cache per Observer.
func benchObservers(b *testing.B, bench func(*testing.B, *redsafe.Cache)) {
	s := redisserver.Start(b, redisserver.Config{})
	metrics := redsafeprom.New(redsafeprom.Options{})
	prometheus.NewRegistry().MustRegister(metrics)
	for _, tc := range []struct {
		name string
		obs  redsafe.Observer
	}{{"observer=none", nil}, {"observer=prometheus", metrics}} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := redsafe.Open(b.Context(), redsafe.Options{
				Environment:   redsafe.Production,
				URL:           s.URL("", ""),
				Password:      s.Password,
				EncryptionKey: seal.GenerateKey().Encode(),
				TLS:           redsafe.TLSOptions{CAFile: s.CAFile},
				Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
				Observer:      tc.obs,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			bench(b, c)
		})
	}
}
