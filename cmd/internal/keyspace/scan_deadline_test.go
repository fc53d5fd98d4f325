package keyspace

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/hostile"
)

// TestWalkBoundsEachScan: a server that drips its SCAN reply a byte every
// 500 ms (7.5 s for the whole reply) ends the walk after Walk.Timeout with
// an error that names SCAN and the bound, even though the caller's context
// has no deadline. Without the bound the walk waited for the whole drip.
func TestWalkBoundsEachScan(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{Attack: hostile.OnCommand("SCAN", hostile.Drip(500*time.Millisecond))})
	c, err := Target{Addr: s.Addr, TLS: s.TLSConfig(), Password: "pw", DialTimeout: 2 * time.Second}.Dial(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	err = Walk{Client: c, Count: 10, Timeout: time.Second}.Run(context.Background(), func(Batch) error { return nil })
	elapsed := time.Since(start)
	if s.Attacked() == 0 {
		t.Fatal("the server never attacked SCAN: the test proves nothing")
	}
	if err == nil || !strings.Contains(err.Error(), "SCAN: no complete reply within 1s") {
		t.Fatalf("err = %v, want the SCAN bound named", err)
	}
	if elapsed > 4*time.Second {
		t.Fatalf("the walk took %v with a 1s bound per SCAN", elapsed)
	}
}
