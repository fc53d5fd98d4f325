package keyspace

import (
	"context"
	"time"
)

// Limiter paces work to a number of operations per second on average. A
// nil *Limiter does not limit.
type Limiter struct {
	interval time.Duration // per operation
	next     time.Time     // when the next operation may start
	now      func() time.Time
}

// NewLimiter returns a Limiter for perSecond operations a second, or nil
// for perSecond <= 0.
func NewLimiter(perSecond float64) *Limiter {
	if perSecond <= 0 {
		return nil
	}
	return &Limiter{interval: time.Duration(float64(time.Second) / perSecond), now: time.Now}
}

// Wait blocks until n more operations fit in the rate, or ctx ends. The n
// operations are then free to run at once; callers keep n small (a batch
// of about a tenth of a second's worth) so that bursts stay short.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	now := l.now()
	if l.next.Before(now) {
		l.next = now
	}
	start := l.next
	l.next = l.next.Add(time.Duration(n) * l.interval)
	if d := start.Sub(now); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// BatchFor is the SCAN COUNT to use at perSecond operations a second: a
// tenth of a second's worth, at least 1 and at most count, so that a rate
// limit paces small batches instead of stalling between large ones.
func BatchFor(perSecond float64, count int) int {
	if perSecond <= 0 {
		return count
	}
	return max(1, min(count, int(perSecond/10)))
}
