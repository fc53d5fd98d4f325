package audit

import (
	"fmt"
	"strings"
	"testing"
)

// A Sentinel's report is hostile input: only a plain host:port is dialed.
func TestReportedAddr(t *testing.T) {
	for _, c := range []struct {
		host, port, want string
	}{
		{"10.0.0.7", "26379", "10.0.0.7:26379"},
		{"::1", "6380", "[::1]:6380"},
		{"redis-1.internal", "6380", "redis-1.internal:6380"},
		{"10.0.0.7", "0", ""},
		{"10.0.0.7", "65536", ""},
		{"10.0.0.7", "+6380", ""},
		{"10.0.0.7", "06380", ""},
		{"", "6380", ""},
		{"0.0.0.0", "6380", ""},
		{"::", "6380", ""},
		{"224.0.0.1", "6380", ""},
		{"evil host", "6380", ""},
		{"a/b", "6380", ""},
		{"user@host", "6380", ""},
		{"host\r\nINFO", "6380", ""},
		{strings.Repeat("a", 254), "6380", ""},
	} {
		got, ok := reportedAddr(c.host, c.port)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("reportedAddr(%q, %q) = %q, %v; want %q", c.host, c.port, got, ok, c.want)
		}
	}
}

// However many nodes the Sentinels report, the audit visits at most
// maxSentinelNodes, each once.
func TestDeploymentBound(t *testing.T) {
	d := &deployment{master: "10.0.0.1:6380"}
	if d.add(&d.replicas, "10.0.0.1:6380") || len(d.replicas) != 0 {
		t.Fatal("the master was added as a replica")
	}
	full := false
	for i := range 2 * maxSentinelNodes {
		full = d.add(&d.sentinels, fmt.Sprintf("10.0.1.%d:26379", i%200)) || full
		d.add(&d.sentinels, fmt.Sprintf("10.0.1.%d:26379", i%200)) // again: known
	}
	if !full || d.size() != maxSentinelNodes {
		t.Fatalf("size %d (full %v), want %d", d.size(), full, maxSentinelNodes)
	}
}

// Only a Sentinel's 40-hex run id names its links.
func TestAddRunID(t *testing.T) {
	d := &deployment{runIDs: map[string]bool{}}
	d.addRunID("C9B317E8b5adcdd2051e93f9b48be27eec09e79f")
	d.addRunID("not-a-run-id")
	d.addRunID(strings.Repeat("z", 40))
	if len(d.runIDs) != 1 || !d.runIDs["c9b317e8"] {
		t.Fatalf("run ids %v, want only c9b317e8", d.runIDs)
	}
}
