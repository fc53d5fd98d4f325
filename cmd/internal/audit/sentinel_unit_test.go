package audit

import (
	"fmt"
	"strings"
	"testing"
)

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

// Only a Sentinel's 40-hex run id is recorded (lower case, as its links
// are named), and no more of them than the deployment's bound.
func TestAddRunID(t *testing.T) {
	const id = "c9b317e8b5adcdd2051e93f9b48be27eec09e79f"
	d := &deployment{runIDs: map[string]bool{}}
	d.addRunID(strings.ToUpper(id[:8]) + id[8:])
	d.addRunID("not-a-run-id")
	d.addRunID(strings.Repeat("z", 40))
	if len(d.runIDs) != 1 || !d.runIDs[id] {
		t.Fatalf("run ids %v, want only %s", d.runIDs, id)
	}
	for i := range 2 * maxSentinelNodes {
		d.addRunID(fmt.Sprintf("%040x", i))
	}
	if len(d.runIDs) != maxSentinelNodes {
		t.Fatalf("%d run ids recorded, want at most %d", len(d.runIDs), maxSentinelNodes)
	}
}
