package redisserver

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syncsRE reads the PSYNCs a master accepted: full and partial.
var syncsRE = regexp.MustCompile(`(?m)^sync_(?:full|partial_ok):(\d+)`)

// CutReplicaLinks cuts the links of master's replicas (CLIENT KILL TYPE
// replica) and fails the test unless, within timeout, master has accepted
// a sync again from as many replicas as were cut and every one of
// replicas reports master_link_status:up: each logged in again as its
// masteruser with its masterauth. The failure carries the replicas' log
// tails (Unable to AUTH to MASTER).
func CutReplicaLinks(t testing.TB, timeout time.Duration, master *Server, replicas ...*Server) {
	t.Helper()
	syncs := func() int {
		info, _ := master.Ask("INFO", "stats")
		n := 0
		for _, m := range syncsRE.FindAllStringSubmatch(info, -1) {
			v, _ := strconv.Atoi(m[1])
			n += v
		}
		return n
	}
	before := syncs()
	cut, err := strconv.Atoi(strings.TrimPrefix(master.Do(t, "CLIENT", "KILL", "TYPE", "replica"), ":"))
	if err != nil || cut != len(replicas) {
		t.Fatalf("redisserver: CLIENT KILL TYPE replica on %s cut %d links (%v), want %d", master.Addr, cut, err, len(replicas))
	}
	deadline := time.Now().Add(timeout)
	for {
		up := syncs() >= before+cut
		for _, r := range replicas {
			info, _ := r.Ask("INFO", "replication")
			up = up && strings.Contains(info, "master_link_status:up")
		}
		if up {
			return
		}
		if time.Now().After(deadline) {
			var logs []string
			for _, r := range replicas {
				logs = append(logs, r.Addr+":\n"+r.LogTail(5))
			}
			t.Fatalf("redisserver: the replicas of %s did not re-link within %s:\n%s", master.Addr, timeout, strings.Join(logs, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
