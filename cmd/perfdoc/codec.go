package main

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// codecResult is the median of the runs of one seal benchmark.
type codecResult struct {
	NsPerOp     float64
	AllocsPerOp float64
	BytesPerOp  float64
}

// codecSuite is one package's benchmarks that the document reads.
type codecSuite struct {
	pkg     string   // as go test names it from the cmd module
	pattern string   // -bench
	want    []string // the results the document reads, by name
}

var codecSuites = []codecSuite{
	// The round trips (seal then open) of the Fernet codec: the library's
	// path (fresh buffers), buffers reused, fernet-go, the standard-library
	// primitives alone (AES-CBC, HMAC-SHA256, base64), and the sealed
	// format on the library's path.
	{pkg: "./internal/bench/", want: []string{
		"RoundTrip1KiB", "RoundTripReuse1KiB", "FernetGoRoundTrip1KiB", "RawRoundTrip1KiB", "SealedRoundTrip1KiB",
		"RoundTrip256KiB", "RoundTripReuse256KiB", "FernetGoRoundTrip256KiB", "RawRoundTrip256KiB", "SealedRoundTrip256KiB",
	}},
	// Package seal's own benchmarks: each format's seal and open alone into
	// a reused buffer, and the sealed format's floor, the standard
	// library's AES-256-GCM under a fixed key (sealedcodec.go reads them).
	{pkg: "github.com/redsafe/redsafe/seal", pattern: sealPattern, want: sealBenchmarks},
}

func runCodec(count int) (map[string]codecResult, error) {
	all := map[string]codecResult{}
	for _, s := range codecSuites {
		pattern := s.pattern
		if pattern == "" {
			pattern = "^Benchmark(" + strings.Join(s.want, "|") + ")$"
		}
		out, err := goCmd("test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(count), s.pkg)
		if err != nil {
			return nil, err
		}
		res, err := parseBench(out)
		if err != nil {
			return nil, err
		}
		for _, name := range s.want {
			r, ok := res[name]
			if !ok {
				return nil, fmt.Errorf("go test -bench %s printed no result for Benchmark%s", s.pkg, name)
			}
			all[name] = r
		}
	}
	return all, nil
}

// parseBench reads go test -bench output, keeping the median of the runs
// of each benchmark, by ns/op.
func parseBench(out []byte) (map[string]codecResult, error) {
	runs := map[string][]codecResult{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		// The GOMAXPROCS suffix, absent at GOMAXPROCS 1: not the dash of
		// a name such as GCM/fixed-key/seal/1KiB.
		if i := strings.LastIndex(name, "-"); i > 0 && isDigits(name[i+1:]) {
			name = name[:i]
		}
		var r codecResult
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("reading %q: %w", sc.Text(), err)
			}
			switch f[i+1] {
			case "ns/op":
				r.NsPerOp = v
			case "allocs/op":
				r.AllocsPerOp = v
			case "B/op":
				r.BytesPerOp = v
			}
		}
		runs[name] = append(runs[name], r)
	}
	res := map[string]codecResult{}
	for name, rs := range runs {
		slices.SortFunc(rs, func(a, b codecResult) int { return cmp.Compare(a.NsPerOp, b.NsPerOp) })
		res[name] = rs[len(rs)/2]
	}
	return res, sc.Err()
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
