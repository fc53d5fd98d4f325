package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// The targets as Go benchmarks, against a real TLS redis-server on
// loopback, as the app user of serverconf. Sub-benchmarks of one stack
// after another run in turn for each -count, so with -count > 1 the
// stacks alternate:
//
//	go test -run '^$' -bench . -count 5 ./internal/bench/
//
// `redsafe bench` is the fuller measurement (alternating slices, latency
// quantiles, bytes on the wire); these are for profiling and regressions:
//
//	go test -run '^$' -bench 'EndToEnd1KiB/callers=1/redsafe' -cpuprofile e2e.prof ./internal/bench/

func benchServer(b testing.TB) redsafe.Options {
	b.Helper()
	password := redsafe.GeneratePassword(redsafe.Production)
	s := redisserver.Start(b, redisserver.Config{
		Users:       []redisserver.User{{Name: "app", Password: password, Rules: serverconf.AppRules("*")}},
		ExtraConfig: []string{"maxmemory 1gb", "maxmemory-policy volatile-lru"},
	})
	return redsafe.Options{
		Environment:   redsafe.Production,
		URL:           s.URL("app", ""),
		Password:      password,
		EncryptionKey: seal.GenerateKey().Encode(),
		TLS:           redsafe.TLSOptions{CAFile: s.CAFile},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func openStack(b testing.TB, opts redsafe.Options, name string) stack {
	b.Helper()
	r, err := newRunner(Config{Options: opts})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(r.close)
	sts, err := r.open(context.Background(), []string{name})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sts[0].close)
	return sts[0]
}

// BenchmarkEndToEnd1KiB is the setget workload: a SET then a GET of the
// same 1 KiB value; ns/op is per pair. ops/s counts both commands.
func BenchmarkEndToEnd1KiB(b *testing.B) {
	opts := benchServer(b)
	for _, callers := range []int{1, 256} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			for _, name := range []string{StackPlaintext, StackRedsafe, StackSealed, StackGoRedis} {
				b.Run(name, func(b *testing.B) {
					st := openStack(b, opts, name)
					value := make([]byte, 1024)
					rand.Read(value)
					ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
					defer cancel()
					var next atomic.Uint64
					pair := func(key string) {
						if err := st.set(ctx, key, value); err != nil {
							b.Fatal(err)
						}
						if n, err := st.get(ctx, key); err != nil || n != len(value) {
							b.Fatalf("get: %d bytes, %v", n, err)
						}
					}
					b.ReportAllocs()
					start := time.Now()
					if callers == 1 {
						for b.Loop() {
							pair("e2e:1")
						}
					} else {
						b.SetParallelism(max(callers/runtime.GOMAXPROCS(0), 1))
						b.RunParallel(func(pb *testing.PB) {
							key := fmt.Sprint("e2e:", next.Add(1))
							for pb.Next() {
								pair(key)
							}
						})
					}
					b.ReportMetric(float64(2*b.N)/time.Since(start).Seconds(), "ops/s")
				})
			}
		})
	}
}

// BenchmarkHotGet is the hit path of the local cache against GETs of the
// same hot key through the other stacks.
func BenchmarkHotGet1KiB(b *testing.B) {
	opts := benchServer(b)
	for _, name := range []string{StackPlaintext, StackRedsafe, StackLocalCache} {
		b.Run(name, func(b *testing.B) {
			st := openStack(b, opts, name)
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			value := make([]byte, 1024)
			if err := st.set(ctx, "hot", value); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(8)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if n, err := st.get(ctx, "hot"); err != nil || n != len(value) {
						b.Fatalf("get: %d bytes, %v", n, err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
		})
	}
}

// BenchmarkHandshake is a new connection: TCP connect, TLS 1.3 handshake
// (ECDSA P-256), AUTH and PING.
func BenchmarkHandshake(b *testing.B) {
	opts := benchServer(b)
	conn, err := opts.Connection()
	if err != nil {
		b.Fatal(err)
	}
	for _, mode := range []string{"full", "resumed"} {
		b.Run(mode, func(b *testing.B) {
			cfg := conn.TLS.Clone()
			cfg.ClientSessionCache = nil
			if mode == "resumed" {
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
				if _, _, err := connectOnce(conn, cfg); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				_, st, err := connectOnce(conn, cfg)
				if err != nil {
					b.Fatal(err)
				}
				if st.DidResume != (mode == "resumed") {
					b.Fatalf("DidResume = %v", st.DidResume)
				}
			}
		})
	}
}
