package redsafe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// A call whose context never ends must still return when the server is gone:
// rueidis alone would retry a read until the context ends.
func TestCommandTimeoutBoundsCallsWithoutDeadline(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
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
}

// TestCallerDeadlineAndCommandTimeout runs calls against a live server that
// holds every reply back (CLIENT PAUSE ALL for far longer than the test),
// so each call ends only when its context does. A caller's own deadline is
// kept, whether it is sooner or later than CommandTimeout, and
// CommandTimeout ends a call whose context has none. The bounds are the
// deadlines themselves: each call must last at least the deadline that
// should end it and less than the next one, so a call ended by the wrong
// one fails.
func TestCallerDeadlineAndCommandTimeout(t *testing.T) {
	t.Parallel()
	const (
		short = 250 * time.Millisecond
		mid   = 1500 * time.Millisecond
		long  = 4 * time.Second
	)
	s := redisserver.Start(t, redisserver.Config{})
	open := func(timeout time.Duration) *Cache {
		o := serverOptions(s)
		o.CommandTimeout = timeout
		c := openCache(t, o)
		if err := c.Set(context.Background(), "k", []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
		return c
	}
	longTimeout, shortTimeout := open(long), open(short)
	// The server answers nothing more until it is stopped at cleanup.
	s.Do(t, "CLIENT", "PAUSE", "60000", "ALL")

	for _, tc := range []struct {
		name     string
		c        *Cache
		deadline time.Duration // the caller's; 0 for none
		ends     time.Duration // what must end the call
	}{
		{"shorter caller deadline wins over CommandTimeout", longTimeout, short, short},
		{"longer caller deadline is kept over CommandTimeout", shortTimeout, mid, mid},
		{"no caller deadline: CommandTimeout", shortTimeout, 0, short},
	} {
		for name, call := range map[string]func(context.Context, *Cache) error{
			"Get":     func(ctx context.Context, c *Cache) error { _, err := c.Get(ctx, "k"); return err },
			"GetMany": func(ctx context.Context, c *Cache) error { _, err := c.GetMany(ctx, []string{"k", "j"}); return err },
		} {
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			start := time.Now()
			err := call(ctx, tc.c)
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s, %s: err = %v, want a deadline error", tc.name, name, err)
			}
			if took < tc.ends || took >= tc.ends+(mid-short) {
				t.Errorf("%s, %s: took %v; the deadline that must end it is %v", tc.name, name, took, tc.ends)
			}
		}
	}
}
