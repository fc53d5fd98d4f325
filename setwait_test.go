package redsafe

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSetWait: through the Sentinels, SetWait's WAIT counts its own SET.
// Every earlier write acknowledged by the replica, the replica is stopped
// (SIGSTOP): a WAIT on any connection whose last write came before would
// be satisfied by the replica's old acknowledgement and answer 1, while
// SetWait answers 0 after its timeout, with a *ReplicationError that says
// the write is on the master, and the write is there. Once the replica
// runs again, SetWait answers 1 and the replica holds the sealed value
// the moment it returns. Nonsense arguments are refused before anything
// is sent.
func TestSetWait(t *testing.T) {
	t.Parallel()
	sn := startSentinel(t)
	c := openCache(t, sentinelOptions(sn))
	ctx := testContext(t)
	replica := sn.Replicas[0]

	n, err := c.SetWait(ctx, "w:1", []byte("acknowledged"), time.Minute, 1, time.Second)
	if err != nil || n != 1 {
		t.Fatalf("SetWait = %d, %v; want 1 replica", n, err)
	}
	if raw := replica.Do(t, "GET", "w:1"); !strings.HasPrefix(raw, "gAAAAA") {
		t.Fatalf("right after SetWait the replica holds %q, want the sealed value", raw)
	}

	pid := replica.Pid()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume) // before the harness's Stop, which a stopped process would make wait
	// A WAIT on another connection, which has written nothing, for the
	// log: Redis answers it with the replicas' last acknowledgements.
	r, _ := sn.Master.Ask("WAIT", "1", "100")
	t.Logf("a WAIT on a connection of its own, the replica stopped: %s", r)
	began := time.Now()
	n, err = c.SetWait(ctx, "w:2", []byte("on the master only"), time.Minute, 1, 300*time.Millisecond)
	took := time.Since(began)
	var re *ReplicationError
	if n != 0 || !errors.As(err, &re) || !errors.Is(err, ErrNotReplicated) || re.Wanted != 1 || re.Acknowledged != 0 {
		t.Fatalf("SetWait with the replica stopped = %d, %v; want 0 and a *ReplicationError", n, err)
	}
	if took < 300*time.Millisecond {
		t.Errorf("SetWait returned after %v, before its timeout", took)
	}
	if msg := err.Error(); !strings.Contains(msg, "IS stored on the master") || strings.Contains(msg, "w:2") {
		t.Errorf("the error says %q", msg)
	}
	if ClassifyError(err) != ClassNotReplicated {
		t.Errorf("class %q", ClassifyError(err))
	}
	if got, err := c.Get(ctx, "w:2"); err != nil || string(got) != "on the master only" {
		t.Errorf("Get after the unreplicated SetWait = %q, %v", got, err)
	}
	resume()
	waitUntil(t, 10*time.Second, "SetWait to be acknowledged again", func() bool {
		n, err := c.SetWait(ctx, "w:3", []byte("again"), time.Minute, 1, time.Second)
		return err == nil && n == 1
	})
	// More replicas than there are: all there are answer, and it says so.
	if n, err := c.SetWait(ctx, "w:4", []byte("x"), time.Minute, 2, 100*time.Millisecond); n != 1 || !errors.Is(err, ErrNotReplicated) {
		t.Errorf("SetWait for 2 of 1 replica = %d, %v", n, err)
	}

	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	for name, call := range map[string]func() (int, error){
		"0 replicas":       func() (int, error) { return c.SetWait(ctx, "w:bad", []byte("x"), 0, 0, time.Second) },
		"no timeout":       func() (int, error) { return c.SetWait(ctx, "w:bad", []byte("x"), 0, 1, 0) },
		"a short deadline": func() (int, error) { return c.SetWait(short, "w:bad", []byte("x"), 0, 1, time.Second) },
		"a negative ttl":   func() (int, error) { return c.SetWait(ctx, "w:bad", []byte("x"), -time.Second, 1, time.Second) },
	} {
		if n, err := call(); err == nil || n != 0 || errors.Is(err, ErrNotReplicated) {
			t.Errorf("SetWait with %s = %d, %v; want it refused", name, n, err)
		}
	}
	if r := sn.Master.Do(t, "EXISTS", "w:bad"); r != ":0" {
		t.Errorf("a refused SetWait wrote: EXISTS = %s", r)
	}
}

// TestSetWaitWithoutReplicas: on a server with no replica, SetWait stores
// the value and says no replica has it; a user without WAIT is told to
// allow it.
func TestSetWaitWithoutReplicas(t *testing.T) {
	t.Parallel()
	s, denied, _ := aclUserCache(t, "~* +@all -wait")
	ctx := testContext(t)
	c := openCache(t, serverOptions(s))
	n, err := c.SetWait(ctx, "alone", []byte("v"), time.Minute, 1, 50*time.Millisecond)
	if n != 0 || !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("SetWait without replicas = %d, %v", n, err)
	}
	if got, err := c.Get(ctx, "alone"); err != nil || string(got) != "v" {
		t.Errorf("Get = %q, %v: the write is on the master all the same", got, err)
	}
	_, err = denied.SetWait(ctx, "denied", []byte("v"), time.Minute, 1, 50*time.Millisecond)
	var ce *ConnectError
	if !errors.Is(err, ErrNoPermission) || !errors.As(err, &ce) || !strings.Contains(ce.Fix, "+wait") {
		t.Errorf("SetWait without WAIT permission = %v, want ErrNoPermission with a fix naming +wait", err)
	}
}
