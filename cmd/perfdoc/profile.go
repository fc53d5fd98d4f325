package main

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// The profiled benchmark: SET+GET pairs of 1 KiB values, encrypted,
// through 256 concurrent callers, against a real TLS redis-server.
const profiledBenchmark = "^BenchmarkEndToEnd1KiB$/^callers=256$/^redsafe$"

// profileSummary is where the client's CPU went, by component.
type profileSummary struct {
	Benchmark string
	Total     float64 // seconds of CPU sampled
	Shares    []share // largest first
	Top       []share // the functions with the most flat time
}

type share struct {
	Name    string
	Seconds float64
	Percent float64
}

// components classify a function by its name; the first match wins, so
// the specific come before the general.
var components = []struct{ name, match string }{
	{"TLS records (AES-GCM)", "aes/gcm."},
	{"TLS records (AES-GCM)", "crypto/tls."},
	{"value encryption: AES-CBC", "crypto/internal/fips140/aes."},
	{"value encryption: AES-CBC", "crypto/cipher."},
	{"value encryption: AES-CBC", "crypto/aes."},
	{"value encryption: AES-CBC", "fips140/subtle."}, // CBC's XOR
	{"value authentication: HMAC-SHA256", "sha256"},
	{"value authentication: HMAC-SHA256", "crypto/internal/fips140/hmac"},
	{"value authentication: HMAC-SHA256", "crypto/hmac"},
	{"Fernet framing and base64 (seal)", "redsafe/seal."},
	{"Fernet framing and base64 (seal)", "encoding/base64"},
	{"random IVs (crypto/rand)", "crypto/rand"},
	{"random IVs (crypto/rand)", "crypto/internal/sysrand"},
	{"random IVs (crypto/rand)", "getrandom"},
	{"redsafe (Cache)", "redsafe/redsafe."},
	{"rueidis (pipelining, RESP3)", "rueidis"},
	{"system calls and network polling", "syscall"},
	{"system calls and network polling", "internal/poll"},
	{"system calls and network polling", "runtime.netpoll"},
	{"system calls and network polling", "net."},
	{"garbage collection and allocation", "runtime.gc"},
	{"garbage collection and allocation", "internal/runtime/gc"},
	{"garbage collection and allocation", "runtime.scan"},
	{"garbage collection and allocation", "runtime.mark"},
	{"garbage collection and allocation", "runtime.greyobject"},
	{"garbage collection and allocation", "runtime.findObject"},
	{"garbage collection and allocation", "runtime.malloc"},
	{"garbage collection and allocation", "runtime.memclr"},
	{"garbage collection and allocation", "runtime.(*mspan)"},
	{"garbage collection and allocation", "runtime.(*mcache)"},
	{"garbage collection and allocation", "runtime.(*mheap)"},
	{"garbage collection and allocation", "runtime.(*gcWork)"},
	{"garbage collection and allocation", "runtime.heapBits"},
	{"garbage collection and allocation", "runtime.sweep"},
	{"garbage collection and allocation", "runtime.bgsweep"},
	{"garbage collection and allocation", "runtime.(*sweepLocked)"},
	{"the benchmark's own loop and byte counting", "redsafe/internal/bench."},
	{"buffered I/O (bufio)", "bufio."},
	{"memory copies (memmove)", "runtime.memmove"},
	{"locks and atomics", "sync."},
	{"locks and atomics", "sync/atomic."},
	{"locks and atomics", "runtime/atomic"},
	{"goroutine scheduling", "runtime."},
	{"goroutine scheduling", "gogo"},
}

func runProfile(work string) (profileSummary, error) {
	prof := filepath.Join(work, "e2e.prof")
	bin := filepath.Join(work, "bench.test")
	if _, err := goCmd("test", "-run", "^$", "-bench", profiledBenchmark, "-benchtime", "3s",
		"-cpuprofile", prof, "-o", bin, "./internal/bench/"); err != nil {
		return profileSummary{}, err
	}
	top, err := goCmd("tool", "pprof", "-top", "-nodecount=100000", "-nodefraction=0", bin, prof)
	if err != nil {
		return profileSummary{}, err
	}
	return summarise(top)
}

// summarise reads the output of pprof -top: after a header, lines of
// "flat flat% sum% cum cum% function".
func summarise(top []byte) (profileSummary, error) {
	p := profileSummary{Benchmark: profiledBenchmark}
	by := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(top))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		flat, err := seconds(f[0])
		if err != nil {
			continue // the header
		}
		fn := strings.Join(f[5:], " ")
		p.Total += flat
		by[component(fn)] += flat
		p.Top = append(p.Top, share{Name: fn, Seconds: flat})
	}
	if p.Total == 0 {
		return p, fmt.Errorf("the CPU profile has no samples")
	}
	for name, s := range by {
		p.Shares = append(p.Shares, share{Name: name, Seconds: s})
	}
	for _, list := range [][]share{p.Shares, p.Top} {
		for i := range list {
			list[i].Percent = 100 * list[i].Seconds / p.Total
		}
		slices.SortStableFunc(list, func(a, b share) int { return cmp.Compare(b.Seconds, a.Seconds) })
	}
	p.Top = p.Top[:min(len(p.Top), 12)]
	return p, sc.Err()
}

func component(fn string) string {
	for _, c := range components {
		if strings.Contains(fn, c.match) {
			return c.name
		}
	}
	return "other"
}

// seconds parses a pprof duration such as 1.20s, 350ms or 90us.
func seconds(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"min", 60}, {"hrs", 3600}, {"ms", 1e-3}, {"us", 1e-6}, {"µs", 1e-6}, {"ns", 1e-9}, {"s", 1}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f * u.scale, err
		}
	}
	return 0, fmt.Errorf("not a duration: %q", s)
}
