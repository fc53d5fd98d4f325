package bench

import (
	"strings"
	"testing"
)

// TestFailures: failed operations are summed over cells and the first
// one named, so that the CLI can fail a run that had any.
func TestFailures(t *testing.T) {
	rep := Report{Results: []Result{
		{Stack: StackPlaintext, Workload: "setget", Size: 1024, Callers: 4, Ops: 100},
		{Stack: StackRedsafe, Workload: "setget", Size: 1024, Callers: 4, Ops: 90, Errors: 3, FirstError: "OOM command not allowed"},
		{Stack: StackGoRedis, Workload: "get90", Size: 100, Callers: 1, Ops: 90, Errors: 2, FirstError: "i/o timeout"},
	}}
	ops, cells, first := rep.Failures()
	if ops != 5 || cells != 2 || !strings.HasPrefix(first, "redsafe setget 1 KiB, 4 callers: OOM") {
		t.Fatalf("Failures() = %d, %d, %q", ops, cells, first)
	}
	if ops, cells, first := (Report{Results: rep.Results[:1]}).Failures(); ops != 0 || cells != 0 || first != "" {
		t.Fatalf("a clean run: %d, %d, %q", ops, cells, first)
	}
}
