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

// codecBenchmarks are the round trips (seal then open) of package seal's
// benchmarks: the library's path (fresh buffers), buffers reused, fernet-go,
// and the standard-library primitives alone (AES-CBC, HMAC-SHA256, base64).
var codecBenchmarks = []string{
	"RoundTrip1KiB", "RoundTripReuse1KiB", "FernetGoRoundTrip1KiB", "RawRoundTrip1KiB",
	"RoundTrip256KiB", "RoundTripReuse256KiB", "FernetGoRoundTrip256KiB", "RawRoundTrip256KiB",
}

func runCodec(count int) (map[string]codecResult, error) {
	pattern := "^Benchmark(" + strings.Join(codecBenchmarks, "|") + ")$"
	out, err := goCmd("test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", strconv.Itoa(count), "./internal/bench/")
	if err != nil {
		return nil, err
	}
	res, err := parseBench(out)
	if err != nil {
		return nil, err
	}
	for _, name := range codecBenchmarks {
		if _, ok := res[name]; !ok {
			return nil, fmt.Errorf("go test -bench printed no result for Benchmark%s", name)
		}
	}
	return res, nil
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
		if i := strings.LastIndex(name, "-"); i > 0 {
			name = name[:i] // the GOMAXPROCS suffix
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
