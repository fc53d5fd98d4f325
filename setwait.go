package redsafe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// SetWait is Set followed by WAIT replicas timeout on the same connection,
// so that the caller learns how many replicas acknowledged the write: a
// WAIT sent on another connection would count that connection's writes,
// none. It returns the number that did. When fewer than replicas did
// within timeout, the error is a *ReplicationError (ErrNotReplicated): the
// value IS stored on the master, and may still reach the replicas, or be
// lost if the master fails before it does.
//
// What it guarantees, exactly: Redis replication is asynchronous, and
// WAIT does not make it synchronous. After SetWait returns n >= replicas,
// the write is in the memory of n replicas, no more: not on any disk, and
// a failover may still promote a replica that lacks it (one that was
// behind, or not among the n). It makes a loss less likely, not
// impossible. On a Redis Cluster WAIT counts the replicas of the master
// of key's slot; through Sentinels, those of the current master.
//
// replicas must be at least 1 and timeout positive (WAIT 0 would block
// forever); timeout is rounded up to a millisecond. Without a deadline on
// ctx, the call is bounded by timeout plus Options.CommandTimeout; a
// deadline sooner than timeout is refused before anything is sent. With
// Options.LocalCache, the key's local copy is dropped as Set drops it.
func (c *Cache) SetWait(ctx context.Context, key string, value []byte, ttl time.Duration, replicas int, timeout time.Duration) (acked int, err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandSet, start, err) }()
	if replicas < 1 {
		return 0, fmt.Errorf("redsafe: SetWait needs replicas >= 1, not %d; use Set for a write no replica need acknowledge", replicas)
	}
	if timeout <= 0 {
		return 0, fmt.Errorf("redsafe: SetWait needs a positive timeout, not %v: WAIT with no timeout blocks until enough replicas answer, forever if they never do", timeout)
	}
	ms := int64((timeout + time.Millisecond - 1) / time.Millisecond)
	if deadline, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout+c.cmdTimeout)
		defer cancel()
	} else if left := time.Until(deadline); left < timeout {
		return 0, fmt.Errorf("redsafe: SetWait: the context's deadline (in %v) is sooner than the WAIT timeout %v; nothing was written", left.Round(time.Millisecond), timeout)
	}
	set, err := c.setCommand(key, value, ttl)
	if err != nil {
		return 0, err
	}
	if c.local != nil {
		c.local.Drop(c.name(key))
		defer c.local.Drop(c.name(key))
	}
	wait := c.client.B().Wait().Numreplicas(int64(replicas)).Timeout(ms).Build()
	var n int64
	err = c.client.Dedicated(func(d rueidis.DedicatedClient) error {
		r := d.DoMulti(ctx, set, wait)
		if err := r[0].Error(); err != nil {
			return err
		}
		var err error
		n, err = r[1].AsInt64()
		return err
	})
	if err != nil {
		return 0, err
	}
	if acked = int(n); acked < replicas {
		return acked, &ReplicationError{Wanted: replicas, Acknowledged: acked, Timeout: timeout}
	}
	return acked, nil
}

// ErrNotReplicated matches every *ReplicationError: a write that fewer
// replicas acknowledged than the caller asked for.
var ErrNotReplicated = errors.New("redsafe: write not acknowledged by enough replicas")

// ReplicationError reports a SetWait whose write fewer replicas
// acknowledged than asked within the timeout. The write is stored on the
// master all the same: it may still replicate, or be lost if the master
// fails before it does. It names no key.
type ReplicationError struct {
	Wanted, Acknowledged int
	Timeout              time.Duration
}

func (e *ReplicationError) Error() string {
	return fmt.Sprintf("redsafe: write acknowledged by %d of %d replicas within %v: it IS stored on the master and may still replicate, or be lost if the master fails now",
		e.Acknowledged, e.Wanted, e.Timeout)
}

func (e *ReplicationError) Is(target error) bool { return target == ErrNotReplicated }
