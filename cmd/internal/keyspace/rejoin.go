package keyspace

import (
	"context"
	"fmt"
	"time"
)

// Failover is one move of the master that a job followed.
type Failover struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Seconds from the failure to the new master answering as one.
	Seconds float64 `json:"seconds"`
}

// maxRejoins is how often a job follows its master with no batch done in
// between before it gives up: a master that keeps failing is not a
// failover.
const maxRejoins = 5

// recheckEvery is how often a job asks the Sentinels whether the server
// it writes to is still the master. A master cut off from the Sentinels
// keeps answering as a master while they promote another, and nothing
// tells its clients (+switch-master comes only at the end, and not to a
// job that does not listen).
const recheckEvery = 2 * time.Second

// Rejoin is how a job rides through the failovers of a master reached
// through Sentinels (Target.Resolve): after a failover symptom it waits
// for the master they name and continues there, and between batches it
// asks them now and then whether the master moved.
type Rejoin struct {
	Wait time.Duration // for each failover (Follow); default DefaultFailoverWait
	// Note is told, in one line, each time the job follows its master.
	Note func(string)

	tries   int       // follows since the last batch done
	checked time.Time // the Sentinels were last asked
}

// After is what a job does when its walk on t failed with err. For a
// failover symptom on a target reached through Sentinels, it waits for
// the master they name and returns it, and records a move in o. Then the
// job continues from its checkpoint, which State.On starts over when the
// server changed. Otherwise, or when no master answers within Wait, it
// returns err.
func (r *Rejoin) After(ctx context.Context, t Target, err error, o *Outcome) (Target, error) {
	if t.Resolve == nil || ctx.Err() != nil || !IsFailover(err) {
		return t, err
	}
	if r.tries++; r.tries > maxRejoins {
		return t, fmt.Errorf("%w (the master was followed %d times without a batch done in between; giving up)", err, maxRejoins)
	}
	start := time.Now()
	n, ferr := t.Follow(ctx, r.Wait)
	if ferr != nil {
		return t, fmt.Errorf("%w; then, waiting for the Sentinels to name a master: %w", err, ferr)
	}
	r.checked = time.Now()
	if n.Addr == t.Addr {
		r.note(fmt.Sprintf("lost the master %s for a moment; it is still the master: resuming from the checkpoint", t.Addr))
		return n, nil
	}
	o.Failovers = append(o.Failovers, Failover{From: t.Addr, To: n.Addr, Seconds: time.Since(start).Seconds()})
	r.note(fmt.Sprintf("master moved from %s to %s; resuming from the checkpoint, at the start of the walk (the last writes %s acknowledged may not have reached %s, and a SCAN cursor holds on one server only)",
		t.Addr, n.Addr, t.Addr, n.Addr))
	return n, nil
}

// Batch is called after each batch done on t, before its checkpoint is
// saved. Now and then it asks the Sentinels whether t is still the
// master, and returns ErrMasterMoved when they name another: the batch's
// writes may be lost with t.
func (r *Rejoin) Batch(ctx context.Context, t Target) error {
	r.tries = 0
	if t.Resolve == nil || time.Since(r.checked) < recheckEvery {
		return nil
	}
	r.checked = time.Now()
	addr, _, err := t.Resolve(ctx)
	if err == nil && addr != t.Addr {
		return fmt.Errorf("%w (%s, not %s)", ErrMasterMoved, addr, t.Addr)
	}
	// No Sentinel answering is no news: the writes to t go on.
	return nil
}

func (r *Rejoin) note(s string) {
	if r.Note != nil {
		r.Note(s)
	}
}
