package redsafe

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestServerKilledAfterOpen: once the server is gone, every operation's
// error matches ErrUnreachable and is classed unreachable, as Open's would
// be, and says what to do in Fix, not in its one line.
func TestServerKilledAfterOpen(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	ctx := testContext(t)
	if err := c.Set(ctx, "k:1", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	for name, op := range map[string]func(context.Context) error{
		"Get":    func(ctx context.Context) error { _, err := c.Get(ctx, "k:1"); return err },
		"Set":    func(ctx context.Context) error { return c.Set(ctx, "k:1", []byte("v"), time.Minute) },
		"Delete": func(ctx context.Context) error { _, err := c.Delete(ctx, "k:1"); return err },
		"Health": c.Health,
	} {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		err := op(ctx)
		cancel()
		var ce *ConnectError
		if !errors.Is(err, ErrUnreachable) || !errors.As(err, &ce) || ClassifyError(err) != ClassUnreachable {
			t.Errorf("%s after the server died = %v (%T, class %q), want ErrUnreachable", name, err, err, ClassifyError(err))
			continue
		}
		if ce.Fix == "" || strings.ContainsAny(err.Error(), "\r\n") {
			t.Errorf("%s: error %q, fix %q: want one line and a fix", name, err, ce.Fix)
		}
		assertNotIn(t, name+"'s error", err.Error(), s.Password, testKey)
	}
}

// TestOperationErrorsMatchOpenCauses: after Open, a refused permission is
// the same sentinel and class as at Open, and the server's own reply stays
// reachable with errors.As.
func TestOperationErrorsMatchOpenCauses(t *testing.T) {
	t.Parallel()
	s, c, _ := aclUserCache(t, "~app:* +@all -@dangerous")
	ctx := testContext(t)
	err := c.Set(ctx, "other:1", []byte("x"), time.Minute)
	var ce *ConnectError
	if !errors.Is(err, ErrNoPermission) || !errors.As(err, &ce) || ClassifyError(err) != ClassPermission || ce.Fix == "" {
		t.Fatalf("Set outside the key pattern = %v (%T), want ErrNoPermission with a fix", err, err)
	}
	if !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("error %q leaves out the server's reply", err)
	}
	s.Do(t, "LPUSH", "app:list", "x")
	if _, err := c.Get(ctx, "app:list"); !errors.Is(err, ErrServer) || ClassifyError(err) != ClassServer {
		t.Errorf("Get of a list = %v, want ErrServer", err)
	}
	if _, err := c.Get(ctx, "app:missing"); err != ErrNotFound {
		t.Errorf("Get of a missing key = %v, want ErrNotFound itself", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Get(canceled, "app:1"); !errors.Is(err, context.Canceled) || ClassifyError(err) != ClassCanceled {
		t.Errorf("Get with a canceled context = %v, want context.Canceled", err)
	}
}

// TestConfigErrorIsOneLine: every problem is named in one line; the fixes
// are in the report's findings.
func TestConfigErrorIsOneLine(t *testing.T) {
	err := (&ConfigError{Report: Report{Environment: Production, Findings: []Finding{
		{ID: "a.b", Severity: SeverityError, Message: "first", Fix: "do this"},
		{ID: "c.d", Severity: SeverityCritical, Message: "second\nline", Fix: "do that"},
		{ID: "e.f", Severity: SeverityWarning, Message: "not an error"},
	}}}).Error()
	want := "redsafe: refusing to connect: 2 configuration problems for production: [a.b] first; [c.d] second line"
	if err != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}
