package audit

import (
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/hostile"
)

// A server that breaks the connection at the DISCARD of a MULTI probe ends
// the audit with an error naming the reply; it used to close a connection
// that was already gone (a nil pointer).
func TestBrokenDiscardEndsTheAudit(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{Plaintext: true, Attack: hostile.OnCommand("DISCARD", hostile.Nesting)})
	r := audit(t, redsafe.Options{Environment: redsafe.Development, URL: "redis://" + s.Addr + "/0"})
	if s.Attacked() == 0 {
		t.Fatal("DISCARD was never attacked: the test proves nothing")
	}
	if r.Err == nil || !strings.Contains(r.Err.Error(), "the reply to DISCARD was refused") || !strings.Contains(r.Err.Error(), "nests deeper than") {
		t.Fatalf("err = %v, want the refused reply to DISCARD", r.Err)
	}
}
