package keyspace

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/redis/rueidis"
)

// ErrStopped is returned by Walk when Stop closed: the batches before it
// are complete and the walk can resume at the last cursor handed out.
var ErrStopped = errors.New("stopped")

// DefaultScanTimeout bounds one SCAN round trip when Walk.Timeout is 0: as
// long as the jobs' connection write timeout, so that a server dripping
// its reply a byte at a time ends the walk with an error naming SCAN.
const DefaultScanTimeout = 30 * time.Second

// Batch is the keys of one SCAN reply.
type Batch struct {
	Keys []string
	// Cursor is where the walk continues after this batch: the checkpoint
	// to save once the batch is done. 0 when the walk is complete.
	Cursor uint64
}

// Walk is one SCAN pass over a database.
type Walk struct {
	Client rueidis.Client
	Match  string // SCAN MATCH; "" for every key
	Count  int64  // SCAN COUNT hint; 0 for the server's default
	Cursor uint64 // where to start: 0, or a checkpoint
	Limit  *Limiter
	// Timeout bounds each SCAN round trip (default DefaultScanTimeout),
	// whatever ctx allows: a server that answers a byte at a time cannot
	// hold the walk for longer than this per batch.
	Timeout time.Duration
	// Stop, when closed, ends the walk after the batch in progress.
	Stop <-chan struct{}
}

// Run calls fn for every batch in order until the scan completes, fn
// fails, ctx ends or Stop closes (ErrStopped). The next SCAN runs while fn
// works on the current batch. Batches without keys are handed out too, so
// that the cursor a caller checkpoints keeps moving through sparse tables.
//
// SCAN returns every key that exists for the whole walk at least once, and
// may return a key twice: fn must be idempotent.
func (w Walk) Run(ctx context.Context, fn func(Batch) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type reply struct {
		b   Batch
		err error
	}
	next := make(chan reply, 1)
	go func() {
		defer close(next)
		cursor := w.Cursor
		for {
			b, err := w.scan(ctx, cursor)
			select {
			case next <- reply{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || b.Cursor == 0 {
				return
			}
			cursor = b.Cursor
		}
	}()
	for r := range next {
		if r.err != nil {
			return r.err
		}
		if err := w.admit(ctx, len(r.b.Keys)); err != nil {
			return err
		}
		if err := fn(r.b); err != nil {
			return err
		}
		if r.b.Cursor == 0 {
			return nil
		}
		select {
		case <-w.Stop:
			return ErrStopped
		default:
		}
	}
	return ctx.Err()
}

// admit waits until the rate limit lets n more keys through. A rate limit
// can hold a batch back for long, so Stop ends the wait too: ErrStopped,
// before the batch is handed out.
func (w Walk) admit(ctx context.Context, n int) error {
	if w.Limit == nil || w.Stop == nil {
		return w.Limit.Wait(ctx, n)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-w.Stop:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	if err := w.Limit.Wait(waitCtx, n); err != nil {
		if ctx.Err() == nil {
			return ErrStopped
		}
		return err
	}
	return nil
}

func (w Walk) scan(ctx context.Context, cursor uint64) (Batch, error) {
	c := w.Client
	cmd := c.B().Scan().Cursor(cursor)
	var built rueidis.Completed
	switch {
	case w.Match != "" && w.Count > 0:
		built = cmd.Match(w.Match).Count(w.Count).Build()
	case w.Match != "":
		built = cmd.Match(w.Match).Build()
	case w.Count > 0:
		built = cmd.Count(w.Count).Build()
	default:
		built = cmd.Build()
	}
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultScanTimeout
	}
	round, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	e, err := c.Do(round, built).AsScanEntry()
	if err != nil {
		// rueidis may end the call from its own timer on round's deadline
		// an instant before round itself reports it.
		if ctx.Err() == nil && (round.Err() != nil || errors.Is(err, context.DeadlineExceeded)) {
			return Batch{}, fmt.Errorf("SCAN: no complete reply within %s (the server stopped answering, or answers too slowly): %w", timeout, err)
		}
		return Batch{}, err
	}
	return Batch{Keys: e.Elements, Cursor: e.Cursor}, nil
}

// Fraction estimates how much of the keyspace a walk has covered when it
// is about to continue at cursor. SCAN increments its cursor in reversed
// binary, so the cursor's bits read backwards, as a binary fraction, are
// the share of hash slots already visited, whatever the table size.
func Fraction(cursor uint64) float64 {
	return float64(bits.Reverse64(cursor)) / (1 << 64)
}

// Count counts the keys that match (every key for ""), with a SCAN walk:
// unlike DBSIZE it needs no extra permission and honours the pattern. A
// key SCAN returns twice counts twice, so on a busy server it is an
// estimate.
func Count(ctx context.Context, c rueidis.Client, match string) (int64, error) {
	var n int64
	err := Walk{Client: c, Match: match, Count: 1000}.Run(ctx, func(b Batch) error {
		n += int64(len(b.Keys))
		return nil
	})
	return n, err
}
