package redsafe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redistest"
)

// A call whose context never ends must still return when the server is gone:
// rueidis alone would retry a read until the context ends.
func TestCommandTimeoutBoundsCallsWithoutDeadline(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Config{})
	o := serverOptions(s)
	o.CommandTimeout = 300 * time.Millisecond
	c := openCache(t, o)
	if err := c.Set(context.Background(), "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	s.Stop()

	for name, call := range map[string]func() error{
		"Get":     func() error { _, err := c.Get(context.Background(), "k"); return err },
		"Exists":  func() error { _, err := c.Exists(context.Background(), "k"); return err },
		"GetMany": func() error { _, err := c.GetMany(context.Background(), []string{"k", "j"}); return err },
	} {
		start := time.Now()
		err := call()
		took := time.Since(start)
		if err == nil {
			t.Errorf("%s succeeded against a stopped server", name)
		}
		if took > 3*time.Second {
			t.Errorf("%s took %v with CommandTimeout 300ms", name, took)
		}
	}

	// A caller's own deadline is used as it is, and bounds the call too.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := c.Get(ctx, "k"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get with a deadline against a stopped server: %v", err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("Get with a 2s deadline took %v", took)
	}
}
