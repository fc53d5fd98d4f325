package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// benchjson FILE SIZES CALLERS checks the shape of `redsafe bench --json`:
// exactly the documented keys, a result for every stack of every workload
// at every size and number of callers, plausible figures (the ratio to
// plaintext within its quartiles, a figure for every round), no errors,
// and full and resumed handshakes for both certificate types.
func cmdBenchJSON(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: benchjson FILE SIZES CALLERS")
	}
	var rep map[string]json.RawMessage
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &rep))
	keysOf := func(what string, m map[string]json.RawMessage, want ...string) {
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			ts.Fatalf("%s has keys %v, want %v", what, got, want)
		}
	}
	keysOf("the report", rep, "machine", "results", "handshake")
	var machine map[string]any
	ts.Check(json.Unmarshal(rep["machine"], &machine))
	for _, k := range []string{"cpu", "cores", "gomaxprocs", "os", "arch", "go", "redis", "server", "duration", "slices", "started"} {
		if _, ok := machine[k]; !ok {
			ts.Fatalf("machine lacks %q: %v", k, machine)
		}
	}

	var raw []map[string]json.RawMessage
	ts.Check(json.Unmarshal(rep["results"], &raw))
	type result struct {
		Stack, Workload string
		Size, Callers   int
		OpsPerSec       float64 `json:"ops_per_sec"`
		P50             float64 `json:"p50_us"`
		P99             float64 `json:"p99_us"`
		P999            float64 `json:"p999_us"`
		Wire            float64 `json:"wire_bytes_per_op"`
		Ratio           float64 `json:"ratio_to_plaintext"`
		P25             float64 `json:"ratio_p25"`
		P75             float64 `json:"ratio_p75"`
		Slices, Rounds  int
		RoundOps        []float64 `json:"round_ops_per_sec"`
		Ops, Errors     int
		FirstError      string `json:"first_error"`
	}
	seen := map[string]bool{}
	for _, r := range raw {
		for _, k := range []string{"stack", "workload", "size", "callers", "ops_per_sec", "p50_us", "p99_us", "p999_us", "wire_bytes_per_op",
			"slices", "ratio_to_plaintext", "ratio_p25", "ratio_p75", "rounds", "round_ops_per_sec", "errors"} {
			if _, ok := r[k]; !ok {
				ts.Fatalf("a result lacks %q", k)
			}
		}
		b, _ := json.Marshal(r)
		var res result
		ts.Check(json.Unmarshal(b, &res))
		id := fmt.Sprintf("%s/%s/%d/%d", res.Stack, res.Workload, res.Size, res.Callers)
		switch {
		case seen[id]:
			ts.Fatalf("%s appears twice", id)
		case res.Errors != 0:
			ts.Fatalf("%s: %d errors, the first: %s", id, res.Errors, res.FirstError)
		case res.OpsPerSec <= 0 || res.Ops <= 0:
			ts.Fatalf("%s: %v ops/s", id, res.OpsPerSec)
		case res.P50 <= 0 || res.P99 < res.P50 || res.P999 < res.P99:
			ts.Fatalf("%s: latency quantiles out of order: %v %v %v", id, res.P50, res.P99, res.P999)
		case res.Ratio <= 0 || res.Stack == "plaintext" && (res.Ratio != 1 || res.P25 != 1 || res.P75 != 1):
			ts.Fatalf("%s: ratio to plaintext %v (%v-%v)", id, res.Ratio, res.P25, res.P75)
		case !(res.P25 <= res.Ratio && res.Ratio <= res.P75):
			ts.Fatalf("%s: ratio to plaintext %v outside its quartiles %v-%v", id, res.Ratio, res.P25, res.P75)
		case res.Slices < 1 || res.Rounds != res.Slices || len(res.RoundOps) != res.Slices:
			ts.Fatalf("%s: %d slices, %d rounds, %d round figures", id, res.Slices, res.Rounds, len(res.RoundOps))
		case res.Stack != "redsafe+localcache" && res.Wire < float64(res.Size):
			ts.Fatalf("%s: %v bytes on the wire per operation of %d-byte values", id, res.Wire, res.Size)
		}
		seen[id] = true
	}
	stacks := map[string][]string{
		"setget": {"plaintext", "redsafe", "redsafe-sealed", "go-redis+fernet-go"},
		"get90":  {"plaintext", "redsafe", "redsafe-sealed", "go-redis+fernet-go"},
		"batch":  {"plaintext", "redsafe", "redsafe-sealed", "go-redis+fernet-go"},
		"hotget": {"plaintext", "redsafe", "redsafe-sealed", "redsafe+localcache", "go-redis+fernet-go"},
	}
	want := 0
	for workload, sts := range stacks {
		for _, size := range strings.Split(args[1], ",") {
			for _, callers := range strings.Split(args[2], ",") {
				for _, st := range sts {
					want++
					if id := st + "/" + workload + "/" + size + "/" + callers; !seen[id] {
						ts.Fatalf("no result for %s", id)
					}
				}
			}
		}
	}
	if len(seen) != want {
		ts.Fatalf("%d results, want %d", len(seen), want)
	}

	var hs []map[string]any
	ts.Check(json.Unmarshal(rep["handshake"], &hs))
	got := map[string]bool{}
	for _, h := range hs {
		id := fmt.Sprint(h["cert"], "/", h["mode"])
		median, _ := h["median_us"].(float64)
		p90, _ := h["p90_us"].(float64)
		samples, _ := h["samples"].(float64)
		resumed, _ := h["resumed"].(float64)
		switch {
		case median <= 0 || p90 < median:
			ts.Fatalf("handshake %s: median %v, p90 %v", id, median, p90)
		case h["mode"] == "full" && resumed != 0, h["mode"] == "resumed" && resumed != samples:
			ts.Fatalf("handshake %s: %v of %v resumed", id, resumed, samples)
		case h["tls"] != "TLS 1.3":
			ts.Fatalf("handshake %s over %v", id, h["tls"])
		}
		got[id] = true
	}
	for _, id := range []string{"ecdsa-p256/full", "ecdsa-p256/resumed", "rsa-4096/full", "rsa-4096/resumed"} {
		if !got[id] {
			ts.Fatalf("no handshake measurement %s in %v", id, hs)
		}
	}
}

// redisproc DIR waits up to 10 s for a redis-server working in DIR (or
// below it); `! redisproc DIR` asserts that none is left, allowing 2 s for
// one that is stopping.
func cmdRedisProc(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: redisproc DIR")
	}
	dir := ts.MkAbs(args[0])
	wait := 10 * time.Second
	if neg {
		wait = 2 * time.Second
	}
	deadline := time.Now().Add(wait)
	for {
		pids := redisServersUnder(dir)
		switch {
		case !neg && len(pids) > 0, neg && len(pids) == 0:
			return
		case time.Now().After(deadline) && neg:
			ts.Fatalf("redis-server still running in %s: pids %v", dir, pids)
		case time.Now().After(deadline):
			ts.Fatalf("no redis-server runs in %s", dir)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisServersUnder lists the redis-server processes whose working
// directory is dir or below it, deleted or not.
func redisServersUnder(dir string) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, p := range procs {
		comm, err := os.ReadFile(filepath.Join(p, "comm"))
		if err != nil || !strings.HasPrefix(string(comm), "redis-server") {
			continue
		}
		cwd, err := os.Readlink(filepath.Join(p, "cwd"))
		if err != nil || !strings.HasPrefix(cwd, dir) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(p)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
