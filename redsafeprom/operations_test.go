package redsafeprom

import (
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestOperationsByCommand: every Cache method counts under its own command,
// misses are not errors, and each seal and open is timed.
func TestOperationsByCommand(t *testing.T) {
	t.Parallel()
	_, c, m := startCache(t, redisserver.Config{})
	ctx := testContext(t)

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Set(ctx, "a", []byte("1"), time.Minute))
	must(c.Set(ctx, "b", []byte("2"), 0))
	_, err := c.Get(ctx, "a")
	must(err)
	if _, err := c.Get(ctx, "missing"); err != redsafe.ErrNotFound {
		t.Fatalf("Get(missing) = %v", err)
	}
	_, err = c.Exists(ctx, "a")
	must(err)
	_, err = c.TTL(ctx, "a")
	must(err)
	must(c.SetMany(ctx, map[string][]byte{"c": []byte("3"), "d": []byte("4")}, time.Minute))
	_, err = c.GetMany(ctx, []string{"a", "c", "d", "missing"})
	must(err)
	_, err = c.Delete(ctx, "a", "b")
	must(err)
	must(c.Health(ctx))
	if err := c.Set(ctx, "neg", []byte("x"), -time.Second); err == nil {
		t.Fatal("negative ttl accepted")
	}

	want := map[string]float64{
		redsafe.CommandSet: 3, redsafe.CommandGet: 2, redsafe.CommandExists: 1, redsafe.CommandTTL: 1,
		redsafe.CommandSetMany: 1, redsafe.CommandGetMany: 1, redsafe.CommandDelete: 1, redsafe.CommandPing: 1,
	}
	for command, n := range want {
		if got := value(t, m.operations, command); got != n {
			t.Errorf("operations_total{command=%q} = %v, want %v", command, got, n)
		}
		if got := observations(t, m.operationTime.WithLabelValues(command)); got != uint64(n) {
			t.Errorf("operation_seconds{command=%q} has %d observations, want %v", command, got, n)
		}
	}
	// The miss is a success; the negative ttl is the only error.
	if got := value(t, m.errors, redsafe.CommandSet, string(redsafe.ClassOther)); got != 1 {
		t.Errorf(`errors_total{command="set",class="other"} = %v, want 1`, got)
	}
	if got := value(t, m.errors, redsafe.CommandGet, string(redsafe.ClassUnreachable)); got != 0 {
		t.Errorf("a miss counted as an error: %v", got)
	}
	if got := observations(t, m.encryptTime); got != 4 {
		t.Errorf("encrypt_seconds has %d observations, want 4 (two Set, two SetMany items)", got)
	}
	if got := observations(t, m.decryptTime); got != 4 {
		t.Errorf("decrypt_seconds has %d observations, want 4 (one Get, three GetMany hits)", got)
	}
}
