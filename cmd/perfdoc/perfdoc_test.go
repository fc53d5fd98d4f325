package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/bench"
)

const goBenchOutput = `goos: linux
goarch: amd64
pkg: github.com/redsafe/redsafe/seal
cpu: AMD EPYC
BenchmarkRoundTrip1KiB-2   	  200000	      6900 ns/op	 148.40 MB/s	    2560 B/op	       2 allocs/op
BenchmarkRoundTrip1KiB-2   	  200000	      6700 ns/op	 152.83 MB/s	    2560 B/op	       2 allocs/op
BenchmarkRoundTrip1KiB-2   	  200000	      9100 ns/op	 112.53 MB/s	    2560 B/op	       3 allocs/op
BenchmarkRawRoundTrip256KiB-2 	     900	   1172310 ns/op	 223.61 MB/s	    1024 B/op	       2 allocs/op
BenchmarkGCM/fixed-key/seal/1KiB-2         	 4000000	       281.5 ns/op	3637.34 MB/s	       0 B/op	       0 allocs/op
BenchmarkGCM/fixed-key/open/1KiB         	 4000000	       290.0 ns/op	3531.03 MB/s	       0 B/op	       0 allocs/op
PASS
ok  	github.com/redsafe/redsafe/seal	12.1s
`

// TestParseBenchMedian: the median run by ns/op is kept whole, the
// GOMAXPROCS suffix is dropped, and other lines are ignored.
func TestParseBenchMedian(t *testing.T) {
	res, err := parseBench([]byte(goBenchOutput))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 4 {
		t.Fatalf("parsed %d benchmarks, want 4: %v", len(res), res)
	}
	// A dash in a sub-benchmark's name is kept, with or without the
	// GOMAXPROCS suffix (absent at GOMAXPROCS 1).
	if res["GCM/fixed-key/seal/1KiB"].NsPerOp != 281.5 || res["GCM/fixed-key/open/1KiB"].NsPerOp != 290 {
		t.Errorf("sub-benchmarks with a dash: %v", res)
	}
	if got := res["RoundTrip1KiB"]; got != (codecResult{NsPerOp: 6900, AllocsPerOp: 2, BytesPerOp: 2560}) {
		t.Errorf("RoundTrip1KiB = %+v, want the median run (6900 ns/op, 2 allocs)", got)
	}
	if got := res["RawRoundTrip256KiB"].NsPerOp; got != 1172310 {
		t.Errorf("RawRoundTrip256KiB ns/op = %v", got)
	}
	if _, err := parseBench([]byte("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Error("a garbled figure was accepted")
	}
}

const pprofTop = `File: bench.test
Type: cpu
Duration: 3.83s, Total samples = 2s (52.2%)
Showing nodes accounting for 2s, 100% of 2s total
      flat  flat%   sum%        cum   cum%
     0.80s 40.00% 40.00%      0.80s 40.00%  internal/runtime/syscall/linux.Syscall6
     0.40s 20.00% 60.00%      0.40s 20.00%  crypto/internal/fips140/sha256.blockSHANI
   200ms 10.00% 70.00%      0.20s 10.00%  crypto/internal/fips140/aes.encryptBlockAsm
     0.20s 10.00% 80.00%      0.20s 10.00%  crypto/internal/fips140/aes/gcm.gcmAesEnc
     0.20s 10.00% 90.00%      0.20s 10.00%  runtime.mallocgc
   100ms  5.00% 95.00%      0.10s  5.00%  github.com/redsafe/redsafe/seal.decodeBulk
     0.10s  5.00%   100%      1.90s 95.00%  github.com/redis/rueidis.(*pipe)._backgroundWrite
         0     0%   100%      1.90s 95.00%  runtime.goexit
`

// TestSummariseProfile: flat times are summed by component, AES-GCM of
// the TLS records is told apart from the AES-CBC of the values, and the
// shares add up to the whole.
func TestSummariseProfile(t *testing.T) {
	p, err := summarise([]byte(pprofTop))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p.Total-2) > 1e-9 {
		t.Fatalf("total = %v s, want 2", p.Total)
	}
	want := map[string]float64{
		"system calls and network polling":  40,
		"value authentication: HMAC-SHA256": 20,
		"value encryption: AES-CBC":         10,
		"TLS records (AES-GCM)":             10,
		"garbage collection and allocation": 10,
		"Fernet framing and base64 (seal)":  5,
		"rueidis (pipelining, RESP3)":       5,
		"goroutine scheduling":              0,
	}
	var sum float64
	for _, s := range p.Shares {
		if math.Abs(s.Percent-want[s.Name]) > 1e-6 {
			t.Errorf("%s: %.1f%%, want %.1f%%", s.Name, s.Percent, want[s.Name])
		}
		sum += s.Percent
	}
	if math.Abs(sum-100) > 1e-6 {
		t.Errorf("shares add up to %.2f%%", sum)
	}
	if p.Shares[0].Name != "system calls and network polling" || p.Top[0].Name != "internal/runtime/syscall/linux.Syscall6" {
		t.Errorf("not sorted largest first: %v / %v", p.Shares[0], p.Top[0])
	}
	if _, err := summarise([]byte("File: x\nShowing nodes accounting for 0, 0% of 0 total\n")); err == nil {
		t.Error("an empty profile was summarised")
	}
}

func TestSeconds(t *testing.T) {
	for in, want := range map[string]float64{"1.5s": 1.5, "350ms": 0.35, "90us": 90e-6, "2min": 120, "1.5hrs": 5400} {
		if got, err := seconds(in); err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("seconds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"flat", "12", "s"} {
		if _, err := seconds(bad); err == nil {
			t.Errorf("seconds(%q) accepted", bad)
		}
	}
}

// rounds is a setget result with the throughput of each of its rounds.
func rounds(stack string, size, callers int, ops ...float64) bench.Result {
	return bench.Result{Stack: stack, Workload: "setget", Size: size, Callers: callers, RoundOpsPerSec: ops}
}

// TestTargetsVerdicts: each target is met or missed by its own threshold,
// judged on the second pass over the target cells (not the matrix, which
// says otherwise here), and one the run did not measure says so rather
// than passing.
func TestTargetsVerdicts(t *testing.T) {
	codec := map[string]codecResult{
		"RoundTrip1KiB": {NsPerOp: 5000, AllocsPerOp: 2}, "FernetGoRoundTrip1KiB": {NsPerOp: 9000, AllocsPerOp: 19},
		"RawRoundTrip1KiB": {NsPerOp: 5800}, "RoundTripReuse1KiB": {NsPerOp: 4500},
		"RoundTrip256KiB": {NsPerOp: 1300}, "RoundTripReuse256KiB": {NsPerOp: 1000},
		"RawRoundTrip256KiB": {NsPerOp: 1100}, "FernetGoRoundTrip256KiB": {NsPerOp: 1400},
	}
	res := func(stack string, callers int, ops float64) bench.Result {
		return rounds(stack, 1024, callers, ops, ops, ops)
	}
	pass := bench.Report{Results: []bench.Result{
		res(bench.StackPlaintext, 256, 1000), res(bench.StackRedsafe, 256, 950), res(bench.StackGoRedis, 256, 500),
		res(bench.StackPlaintext, 1, 1000), res(bench.StackRedsafe, 1, 940),
	}}
	matrix := bench.Report{Results: []bench.Result{
		res(bench.StackPlaintext, 256, 1000), res(bench.StackRedsafe, 256, 850), res(bench.StackGoRedis, 256, 700),
		res(bench.StackPlaintext, 1, 1000), res(bench.StackRedsafe, 1, 990),
	}, Handshake: []bench.Handshake{{Cert: "ecdsa-p256", Mode: "resumed", Samples: 10, Resumed: 10, MedianUS: 800}}}
	got := map[string]string{}
	for _, tg := range (docInput{codec: codec, report: matrix, targetRun: pass}).targets() {
		got[tg.what] = verdict(tg)
	}
	for what, want := range map[string]string{
		"codec: 1 KiB encrypt+decrypt time":                                       "met",
		"codec: 1 KiB allocations":                                                "met",
		"codec: 256 KiB throughput over the standard-library primitives":          "**missed**", // 1100/1300 = 0.85
		"end to end, 1 KiB SET+GET, 256 callers: redsafe over plaintext":          "met",        // 0.95; the matrix's 0.85 would miss
		"end to end, 1 KiB SET+GET, 1 caller: redsafe over plaintext":             "**missed**", // 0.94; the matrix's 0.99 would meet
		"end to end, 1 KiB SET+GET, 256 callers: redsafe over go-redis+fernet-go": "met",        // 1.9; the matrix's 1.21 would miss
		"reconnect: resumed TLS session + AUTH + PING, median (ECDSA P-256)":      "met",
		"local cache hit path, hot 1 KiB keys, 256 callers: over plaintext GET":   "not measured",
	} {
		if got[what] != want {
			t.Errorf("%s: %q, want %q", what, got[what], want)
		}
	}
}

// TestDocument: the generated document leads with the targets and carries
// every section, the chart, the notes on the profile, the estimator of
// the ratios and the settings of the targets' pass.
func TestDocument(t *testing.T) {
	var doc bytes.Buffer
	p, _ := summarise([]byte(pprofTop))
	pass := bench.Report{Machine: bench.Machine{Duration: "8s", Slices: 80}}
	writeDoc(&doc, docInput{codec: map[string]codecResult{}, report: bench.Report{}, targetRun: pass, profile: p, png: "bench.png"})
	s := doc.String()
	last := -1
	for _, heading := range []string{"# Performance", "## Targets", "## End to end", "## Codec (package seal)", "## Codec: the sealed format beside Fernet", "## What the profile shows", "## All measurements", "## Reproduce"} {
		i := strings.Index(s, heading)
		if i < 0 || i < last {
			t.Fatalf("heading %q missing or out of order", heading)
		}
		last = i
	}
	for _, want := range []string{"![throughput against callers, one line per stack](bench.png)", strings.TrimSpace(profileNotes)[:40], "| system calls and network polling | 40.0% |",
		"8s per stack in up to 80 rounds, with the stacks\nthey compare",
		"A ratio is the median, over the rounds, of the paired per-round ratio",
		"bin/redsafe bench --local --cells " + cellsFlag(targetCells(allRatioGoals())) + " --duration 8s --max-slices 80",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the document lacks %q", want)
		}
	}
}

// TestComponentNames: names that merely contain a component's word do
// not land in it.
func TestComponentNames(t *testing.T) {
	for fn, want := range map[string]string{
		"runtime.gcmarknewobject":                    "garbage collection and allocation",
		"crypto/internal/fips140/aes/gcm.gcmAesEnc":  "TLS records (AES-GCM)",
		"runtime.asyncPreempt":                       "goroutine scheduling",
		"sync/atomic.(*Uint64).Add":                  "locks and atomics",
		"internal/sync.(*Mutex).Lock":                "locks and atomics",
		"runtime.memmove":                            "memory copies (memmove)",
		"internal/runtime/syscall/linux.Syscall6":    "system calls and network polling",
		"github.com/redsafe/redsafe/seal.decodeBulk": "Fernet framing and base64 (seal)",
	} {
		if got := component(fn); got != want {
			t.Errorf("component(%q) = %q, want %q", fn, got, want)
		}
	}
}

// sealedCodec is package seal's figures of a plausible run: sealed 1 KiB
// seal + open 1.66 µs with 4 allocations, Fernet 4.46 µs (2.69×).
func sealedCodec() map[string]codecResult {
	return map[string]codecResult{
		"Seal/1KiB": {NsPerOp: 2440}, "Open/1KiB": {NsPerOp: 2020},
		"SealFor/sealed/1KiB": {NsPerOp: 860, AllocsPerOp: 2, BytesPerOp: 1280}, "OpenFor/sealed/1KiB": {NsPerOp: 800, AllocsPerOp: 2, BytesPerOp: 1280},
		"GCM/fixed-key/seal/1KiB": {NsPerOp: 280}, "GCM/fixed-key/open/1KiB": {NsPerOp: 290},
		"GCM/xaes/seal/1KiB": {NsPerOp: 760, AllocsPerOp: 2}, "GCM/xaes/open/1KiB": {NsPerOp: 960, AllocsPerOp: 2},
		"GCM/xaes/derive":     {NsPerOp: 610, AllocsPerOp: 2, BytesPerOp: 1280},
		"SealedRoundTrip1KiB": {NsPerOp: 2600, AllocsPerOp: 6}, "RoundTrip1KiB": {NsPerOp: 5500, AllocsPerOp: 2},
	}
}

// TestSealedTargets: the sealed format's targets of issue 14 are judged
// on their own thresholds, redsafe-sealed over plaintext with Fernet's
// ratio beside it, and a run without the sealed stack or package seal's
// figures says "not measured" rather than passing.
func TestSealedTargets(t *testing.T) {
	res := func(stack string, size, callers int, ops float64) bench.Result {
		return rounds(stack, size, callers, ops, ops, ops, ops, ops)
	}
	rep := bench.Report{Results: []bench.Result{
		res(bench.StackPlaintext, 1024, 1, 1000), res(bench.StackRedsafe, 1024, 1, 840), rounds(bench.StackSealed, 1024, 1, 1010, 950, 980, 960, 1000),
		res(bench.StackPlaintext, 1024, 256, 1000), res(bench.StackRedsafe, 1024, 256, 1030), res(bench.StackSealed, 1024, 256, 940),
		res(bench.StackPlaintext, 256<<10, 16, 1000), res(bench.StackRedsafe, 256<<10, 16, 500), res(bench.StackSealed, 256<<10, 16, 850),
	}}
	codec := sealedCodec()
	type want struct{ verdict, measured string }
	check := func(in docInput, wants map[string]want) {
		t.Helper()
		got := map[string]target{}
		for _, tg := range in.targets() {
			got[tg.what] = tg
		}
		for what, w := range wants {
			tg, ok := got[what]
			switch {
			case !ok:
				t.Errorf("no target %q", what)
			case verdict(tg) != w.verdict:
				t.Errorf("%s: %q (%s), want %q", what, verdict(tg), tg.measured, w.verdict)
			case !strings.HasPrefix(tg.measured, w.measured):
				t.Errorf("%s: measured %q, want it to start with %q", what, tg.measured, w.measured)
			}
		}
	}
	check(docInput{codec: codec, targetRun: rep}, map[string]want{
		"sealed format, codec: 1 KiB seal + open time":                                          {"met", "1.66 µs (seal 0.86, open 0.80; Fernet 4.46; fixed-key AES-256-GCM 0.57)"},
		"sealed format, codec: 1 KiB seal + open allocations":                                   {"met", "4 (Fernet 0; on the Cache's path, fresh buffers: 6, Fernet 2)"},
		"sealed format, codec: 1 KiB seal + open against Fernet's":                              {"met", "2.69× (seal 2.84×, open 2.52×)"},
		"sealed format, end to end, 1 KiB SET+GET, 1 caller: redsafe-sealed over plaintext":     {"met", "0.98× (IQR 0.96–1.00, 5 rounds; Fernet 0.84×)"},
		"sealed format, end to end, 1 KiB SET+GET, 256 callers: redsafe-sealed over plaintext":  {"**missed**", "0.94× (IQR 0.94–0.94, 5 rounds; Fernet 1.03×)"},
		"sealed format, end to end, 256 KiB SET+GET, 16 callers: redsafe-sealed over plaintext": {"met", "0.85× (IQR 0.85–0.85, 5 rounds; Fernet 0.50×)"},
	})

	// Slower than 2.5 µs, more allocations, and under 2.5× Fernet's.
	slow := sealedCodec()
	slow["OpenFor/sealed/1KiB"] = codecResult{NsPerOp: 1700, AllocsPerOp: 3}
	var noSealed bench.Report
	for _, r := range rep.Results {
		if r.Stack != bench.StackSealed {
			noSealed.Results = append(noSealed.Results, r)
		}
	}
	check(docInput{codec: slow, targetRun: noSealed}, map[string]want{
		"sealed format, codec: 1 KiB seal + open time":                                          {"**missed**", "2.56 µs"},
		"sealed format, codec: 1 KiB seal + open allocations":                                   {"**missed**", "5 "},
		"sealed format, codec: 1 KiB seal + open against Fernet's":                              {"**missed**", "1.74×"},
		"sealed format, end to end, 1 KiB SET+GET, 1 caller: redsafe-sealed over plaintext":     {"not measured", ""},
		"sealed format, end to end, 256 KiB SET+GET, 16 callers: redsafe-sealed over plaintext": {"not measured", ""},
	})
	check(docInput{codec: map[string]codecResult{}, targetRun: rep}, map[string]want{
		"sealed format, codec: 1 KiB seal + open time": {"not measured", ""},
	})
}

// TestSealedCodecSection: the section computes its ratios and the cost of
// the per-value key from the run's own figures.
func TestSealedCodecSection(t *testing.T) {
	var doc bytes.Buffer
	writeSealedCodec(&doc, docInput{codec: sealedCodec(), codecRuns: 3})
	s := doc.String()
	for _, want := range []string{
		"median of 3",
		"| seal | 1KiB | 2.44 | 0.86 | 2.84× faster | 2 | 1280 |",
		"| seal + open | 1KiB | 4.46 | 1.66 | 2.69× faster | 4 | 2560 |",
		"| derive (the per-value key alone) | 0.61 | 2 | 1280 |",
		"0.61 µs and 2 allocations (1280 bytes) each time",
		"XAES-256-GCM takes 1.72 µs to seal and open 1 KiB against 0.57 µs",
		"the per-value key, derived once to seal and once to open, is 1.15 µs of the sealed format's\n1.66 µs round trip",
		"takes\n2.60 µs and 6 allocations, Fernet's 5.50 µs and 2.",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the section lacks %q:\n%s", want, s)
		}
	}
}

// TestRatioNear: a ratio just under its threshold is not written as the
// threshold itself, and one comfortably away keeps two decimals.
func TestRatioNear(t *testing.T) {
	for _, c := range []struct {
		v, min float64
		want   string
	}{
		{18947.0 / 19607, 0.97, "0.966"}, // the 1-caller cell of a real run
		{0.8528, 0.85, "0.85"},
		{0.8496, 0.85, "0.850"},
		{0.977, 0.95, "0.98"},
		{1.0, 0.97, "1.00"},
	} {
		if got := ratioNear(c.v, c.min); got != c.want {
			t.Errorf("ratioNear(%v, %v) = %q, want %q", c.v, c.min, got, c.want)
		}
	}
}

// TestGoalTarget: a target is judged by the median of the paired
// per-round ratios, not by the ratio of the cell's totals (OpsPerSec,
// here dragged under the threshold by one disturbed round), and its
// quartiles get a third decimal where two would put them across the
// threshold.
func TestGoalTarget(t *testing.T) {
	g := sealedGoals()[0] // redsafe-sealed over plaintext, 1 KiB, 1 caller, ≥ 0.97
	plain := rounds(bench.StackPlaintext, 1024, 1, 1000, 1000, 1000, 1000, 1000)
	sealed := rounds(bench.StackSealed, 1024, 1, 980, 990, 966.3, 1000, 100)
	plain.OpsPerSec, sealed.OpsPerSec = 1000, 807 // the ratio of sums: 0.81, missed
	tg := g.target(bench.Report{Results: []bench.Result{plain, sealed}})
	if verdict(tg) != "met" || tg.measured != "0.98× (IQR 0.966–0.99, 5 rounds)" {
		t.Errorf("target: %s, %q", verdict(tg), tg.measured)
	}
	// Without the denominator's rounds (an older report) it is not measured.
	plain.RoundOpsPerSec = nil
	if tg := g.target(bench.Report{Results: []bench.Result{plain, sealed}}); tg.met != nil || tg.measured != "" {
		t.Errorf("a cell without plaintext rounds: %s, %q", verdict(tg), tg.measured)
	}
}

// TestTargetCells: the second pass measures every cell that carries an
// end-to-end target, once, with the stacks its targets compare or show
// beside them (plaintext runs anyway); bench parses the list as perfdoc
// writes it, and the pass stays within the time the Makefile states.
func TestTargetCells(t *testing.T) {
	cells := targetCells(allRatioGoals())
	want := "setget:1024:256:redsafe/go-redis+fernet-go/redsafe-sealed," +
		"setget:1024:1:redsafe/redsafe-sealed," +
		"hotget:1024:1:redsafe+localcache,hotget:1024:16:redsafe+localcache,hotget:1024:256:redsafe+localcache," +
		"setget:262144:16:redsafe-sealed/redsafe"
	if got := cellsFlag(cells); got != want {
		t.Errorf("cells:\n%s\nwant\n%s", got, want)
	}
	parsed, err := bench.ParseCells(cellsFlag(cells))
	if err != nil || len(parsed) != len(cells) {
		t.Fatalf("ParseCells: %d cells, %v", len(parsed), err)
	}
	for _, g := range allRatioGoals() {
		if _, ok := cellRatio(bench.Report{}, g.workload, g.size, g.callers, g.num, g.den); ok {
			t.Errorf("%s: measured in an empty report", g.what)
		}
	}
	// 16 stacks across the cells at 8 s and a warm-up each: about 2.3
	// minutes on top of the rest (Makefile: about 11 minutes in all).
	if e := (bench.Config{Cells: parsed, Duration: 8 * time.Second}).Estimate(); e > 150*time.Second {
		t.Errorf("the targets' pass would take about %v", e)
	}
}
