package keyspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/redis/rueidis"
)

// TestIsFailover: what a failover looks like to a client is followed;
// an ACL refusal, a wrong type or a stop is not, so a job does not wait
// for a new master over an error a new master would give as well.
func TestIsFailover(t *testing.T) {
	t.Parallel()
	for _, err := range []error{io.EOF, fmt.Errorf("db 0: %w", syscall.ECONNRESET), syscall.ECONNREFUSED, rueidis.ErrClosing,
		&DialError{Addr: "a:1", Err: errors.New("x")}, ErrNotMaster, fmt.Errorf("x: %w", ErrMasterMoved), context.DeadlineExceeded} {
		if !IsFailover(err) {
			t.Errorf("IsFailover(%v) = false", err)
		}
	}
	for _, err := range []error{nil, ErrStopped, ErrSlotsMoved, errors.New("NOPERM this user has no permissions"), context.Canceled} {
		if IsFailover(err) {
			t.Errorf("IsFailover(%v) = true", err)
		}
	}
}

// TestStateOn: a checkpoint read on another master starts over, counts
// and all; one on the same master, or a finished one, is kept.
func TestStateOn(t *testing.T) {
	t.Parallel()
	st := &State[int]{DBIndex: 1, Cursor: 42, Counts: 7, Server: "a:1"}
	if st.On("a:1") || st.Cursor != 42 || st.Counts != 7 {
		t.Fatalf("same master: %+v", st)
	}
	if !st.On("b:2") || st.DBIndex != 0 || st.Cursor != 0 || st.Counts != 0 || st.Server != "b:2" {
		t.Fatalf("another master: %+v", st)
	}
	done := &State[int]{Done: true, Counts: 3, Server: "a:1"}
	if done.On("b:2") || done.Counts != 3 {
		t.Fatalf("a finished run: %+v", done)
	}
	fresh := &State[int]{}
	if fresh.On("a:1") || fresh.Server != "a:1" {
		t.Fatalf("a fresh run: %+v", fresh)
	}
}
