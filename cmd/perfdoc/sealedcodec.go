package main

import (
	"bytes"
	"fmt"

	"github.com/redsafe/redsafe/cmd/internal/bench"
)

// The sealed format beside Fernet (issue 14): package seal's benchmarks,
// run by codecSuites in the same run as everything else, and the targets
// and the section of the document made from them.

// sealPattern selects package seal's benchmarks of both formats.
const sealPattern = "^Benchmark(Seal|Open|SealFor|OpenFor|GCM)$"

// sealBenchmarks are the results of package seal that the document reads:
// each format's seal and open alone into a reused buffer, compressed
// sealed values, and the sealed format's floor (BenchmarkGCM).
var sealBenchmarks = []string{
	"Seal/1KiB", "Open/1KiB", "Seal/256KiB", "Open/256KiB",
	"SealFor/sealed/1KiB", "OpenFor/sealed/1KiB", "SealFor/sealed/256KiB", "OpenFor/sealed/256KiB",
	"SealFor/sealed+deflate/1KiB", "OpenFor/sealed+deflate/1KiB", "SealFor/sealed+deflate/256KiB", "OpenFor/sealed+deflate/256KiB",
	"GCM/fixed-key/seal/1KiB", "GCM/fixed-key/open/1KiB", "GCM/xaes/seal/1KiB", "GCM/xaes/open/1KiB", "GCM/xaes/derive",
}

// The 1 KiB codec targets, read as a seal plus an open.
const (
	sealedMaxRoundTripNs = 2500
	sealedMaxAllocs      = 4
	sealedMinOverFernet  = 2.5
)

// sealOpen is one format's seal and open of one size, and their sum.
type sealOpen struct{ seal, open codecResult }

func (p sealOpen) ns() float64     { return p.seal.NsPerOp + p.open.NsPerOp }
func (p sealOpen) allocs() float64 { return p.seal.AllocsPerOp + p.open.AllocsPerOp }
func (p sealOpen) bytes() float64  { return p.seal.BytesPerOp + p.open.BytesPerOp }

func fernetPair(c map[string]codecResult, size string) sealOpen {
	return sealOpen{c["Seal/"+size], c["Open/"+size]}
}

func sealedPair(c map[string]codecResult, variant, size string) sealOpen {
	return sealOpen{c["SealFor/"+variant+"/"+size], c["OpenFor/"+variant+"/"+size]}
}

func gcmPair(c map[string]codecResult, variant string) sealOpen {
	return sealOpen{c["GCM/"+variant+"/seal/1KiB"], c["GCM/"+variant+"/open/1KiB"]}
}

func micros(ns float64) float64 { return ns / 1e3 }

// faster is how many times a is faster than b; 0 when b was not measured.
func faster(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (in docInput) sealedCodecTargets() []target {
	c := in.codec
	s, f, fixed := sealedPair(c, "sealed", "1KiB"), fernetPair(c, "1KiB"), gcmPair(c, "fixed-key")
	measured := s.ns() > 0
	met := func(ok bool) *bool {
		if !measured {
			return nil
		}
		return boolp(ok)
	}
	ts := []target{
		{what: "sealed format, codec: 1 KiB seal + open time", goal: fmt.Sprintf("≤ %.1f µs", micros(sealedMaxRoundTripNs)),
			measured: fmt.Sprintf("%.2f µs (seal %.2f, open %.2f; Fernet %.2f; fixed-key AES-256-GCM %.2f)",
				micros(s.ns()), micros(s.seal.NsPerOp), micros(s.open.NsPerOp), micros(f.ns()), micros(fixed.ns())),
			met: met(s.ns() <= sealedMaxRoundTripNs)},
		{what: "sealed format, codec: 1 KiB seal + open allocations", goal: fmt.Sprintf("≤ %d", sealedMaxAllocs),
			measured: fmt.Sprintf("%.0f (Fernet %.0f; on the Cache's path, fresh buffers: %.0f, Fernet %.0f)",
				s.allocs(), f.allocs(), c["SealedRoundTrip1KiB"].AllocsPerOp, c["RoundTrip1KiB"].AllocsPerOp),
			met: met(s.allocs() <= sealedMaxAllocs)},
		{what: "sealed format, codec: 1 KiB seal + open against Fernet's", goal: fmt.Sprintf("≥ %.1f× faster", sealedMinOverFernet),
			measured: fmt.Sprintf("%.2f× (seal %.2f×, open %.2f×)",
				faster(f.ns(), s.ns()), faster(f.seal.NsPerOp, s.seal.NsPerOp), faster(f.open.NsPerOp, s.open.NsPerOp)),
			met: met(faster(f.ns(), s.ns()) >= sealedMinOverFernet)},
	}
	return append(ts, goalTargets(sealedGoals(), in.targetRun)...)
}

// sealedGoals are redsafe-sealed over plaintext in setget cells, with the
// Fernet stack's ratio of the same cell beside each.
func sealedGoals() []ratioGoal {
	var gs []ratioGoal
	for _, e := range []struct {
		size, callers int
		min           float64
	}{{1024, 1, 0.97}, {1024, 256, 0.95}, {256 << 10, 16, 0.85}} {
		noun := "callers"
		if e.callers == 1 {
			noun = "caller"
		}
		gs = append(gs, ratioGoal{
			what: fmt.Sprintf("sealed format, end to end, %s SET+GET, %d %s: redsafe-sealed over plaintext", bench.SizeName(e.size), e.callers, noun),
			goal: fmt.Sprintf("≥ %.2f", e.min), min: e.min, workload: "setget", size: e.size, callers: e.callers,
			num: bench.StackSealed, den: bench.StackPlaintext, beside: bench.StackRedsafe, besideLabel: "Fernet"})
	}
	return gs
}

func writeSealedCodec(w *bytes.Buffer, in docInput) {
	c := in.codec
	fmt.Fprintf(w, `
## Codec: the sealed format beside Fernet (package seal)

`+"`go test -run '^$' -bench '%s' -benchmem github.com/redsafe/redsafe/seal`"+` from the cmd
module, in this run, median of %d. Each figure is a Seal or an Open alone into a reused buffer.
*sealed* is `+"`SealFor`/`OpenFor`"+` with `+"`WithFormat(Sealed)`"+` under a 28-byte key name, on random values
with compression off; *Fernet* is the same package's `+"`Seal`/`Open`"+` (redsafe's Fernet, faster than
fernet-go); *sealed+deflate* has compression on, on JSON-like values (one 48-byte record
repeated: the best case; real data shrinks less and costs more to compress). The issue's 1 KiB
targets are read as a seal plus an open.

| operation | size | Fernet µs | sealed µs | sealed over Fernet | allocs | B/op | sealed+deflate µs | allocs |
|---|---|---|---|---|---|---|---|---|
`, sealPattern, in.codecRuns)
	for _, size := range []string{"1KiB", "256KiB"} {
		f, s, d := fernetPair(c, size), sealedPair(c, "sealed", size), sealedPair(c, "sealed+deflate", size)
		for _, op := range []struct {
			name             string
			fernet, sealed   float64
			allocs, bytes    float64
			deflate, dallocs float64
		}{
			{"seal", f.seal.NsPerOp, s.seal.NsPerOp, s.seal.AllocsPerOp, s.seal.BytesPerOp, d.seal.NsPerOp, d.seal.AllocsPerOp},
			{"open", f.open.NsPerOp, s.open.NsPerOp, s.open.AllocsPerOp, s.open.BytesPerOp, d.open.NsPerOp, d.open.AllocsPerOp},
			{"seal + open", f.ns(), s.ns(), s.allocs(), s.bytes(), d.ns(), d.allocs()},
		} {
			fmt.Fprintf(w, "| %s | %s | %.2f | %.2f | %.2f× faster | %.0f | %.0f | %.2f | %.0f |\n", op.name, size,
				micros(op.fernet), micros(op.sealed), faster(op.fernet, op.sealed), op.allocs, op.bytes, micros(op.deflate), op.dallocs)
		}
	}

	fmt.Fprintln(w, "\n| primitive, 1 KiB | µs | allocs | B/op |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, p := range []struct{ name, bench string }{
		{"fixed-key AES-256-GCM seal", "GCM/fixed-key/seal/1KiB"},
		{"fixed-key AES-256-GCM open", "GCM/fixed-key/open/1KiB"},
		{"XAES-256-GCM seal", "GCM/xaes/seal/1KiB"},
		{"XAES-256-GCM open", "GCM/xaes/open/1KiB"},
		{"derive (the per-value key alone)", "GCM/xaes/derive"},
	} {
		r := c[p.bench]
		fmt.Fprintf(w, "| %s | %.2f | %.0f | %.0f |\n", p.name, micros(r.NsPerOp), r.AllocsPerOp, r.BytesPerOp)
	}

	fixed, xaes, derive := gcmPair(c, "fixed-key"), gcmPair(c, "xaes"), c["GCM/xaes/derive"]
	s := sealedPair(c, "sealed", "1KiB")
	fmt.Fprintf(w, `
*fixed-key* is the standard library's AES-256-GCM under one key with a 96-bit nonce, the floor;
*XAES-256-GCM* adds the per-value key to it; *derive* is that key alone (two AES blocks under the
cached key, then `+"`aes.NewCipher`"+` and `+"`cipher.NewGCM`"+` of the derived key).

**What the per-value key costs:** %.2f µs and %.0f allocations (%.0f bytes) each time, derive alone;
XAES-256-GCM takes %.2f µs to seal and open 1 KiB against %.2f µs for fixed-key AES-256-GCM, so
the per-value key, derived once to seal and once to open, is %.2f µs of the sealed format's
%.2f µs round trip; the rest is its framing, `+"`time.Now`"+`, 24 random bytes and the key lookup. The derivation's two AES blocks are a few ns; its
cost is the AES-256 key schedule and GHASH tables of a new `+"`cipher.AEAD`"+`, which the standard
library can only build on the heap, and their collection. That is the price of random 192-bit
nonces, safe for far more than the 2^48 values per key redsafe requires, where 96-bit ones are
safe for about 2^32. Being the format's only allocations, they also make it more sensitive to a
busy machine than Fernet, which allocates %.0f times into reused buffers.

On the Cache's path (a fresh token buffer for `+"`SealFor`"+`, none for `+"`OpenFor`"+`, as `+"`Cache.Set`"+` and
`+"`Cache.Get`"+` do; `+"`SealedRoundTrip1KiB`"+` in ./internal/bench/) a 1 KiB round trip of the sealed format takes
%.2f µs and %.0f allocations, Fernet's %.2f µs and %.0f.
`, micros(derive.NsPerOp), derive.AllocsPerOp, derive.BytesPerOp, micros(xaes.ns()), micros(fixed.ns()),
		micros(xaes.ns()-fixed.ns()), micros(s.ns()), fernetPair(c, "1KiB").allocs(),
		micros(c["SealedRoundTrip1KiB"].NsPerOp), c["SealedRoundTrip1KiB"].AllocsPerOp, micros(c["RoundTrip1KiB"].NsPerOp), c["RoundTrip1KiB"].AllocsPerOp)

	d, s256 := sealedPair(c, "sealed+deflate", "256KiB"), sealedPair(c, "sealed", "256KiB")
	fmt.Fprintf(w, `
**Compression** costs DEFLATE itself (level 1) and pays back on large compressible values: the
JSON-like 256 KiB value seals in %.0f µs and opens in %.0f µs (uncompressed random values: %.0f
and %.0f), opening faster because far less is decrypted. DEFLATE writers and readers are pooled;
each is reset to the state of a new one, so no value's length depends on the one before, and
scrubbed with zeros before it goes back, so that no pooled window holds plaintext
(seal/compress_test.go checks both).
`, micros(d.seal.NsPerOp), micros(d.open.NsPerOp), micros(s256.seal.NsPerOp), micros(s256.open.NsPerOp))
}
