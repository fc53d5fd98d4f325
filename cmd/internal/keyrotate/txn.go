package keyrotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/seal"
)

// maxAttempts is how often one key is tried alone before it is left as
// contended: each failure means a writer changed it in the meantime.
const maxAttempts = 6

// txn rotates batches of keys with check-and-set on one dedicated
// connection, without Lua:
//
//	WATCH k1..kn; MGET k1..kn          (one round trip)
//	MULTI; SET ki new KEEPTTL ...; EXEC (one round trip)
//
// EXEC applies every SET or, when a writer touched any watched key after
// the WATCH, none. A SET is only queued for a value the MGET read after
// the WATCH, so it can only replace that exact token. After an abort the
// keys still to rotate are read and tried again in halves, down to single
// keys, so one busy key costs a few round trips and not the batch.
type txn struct {
	conn   rueidis.DedicatedClient
	sealer *seal.Sealer // all keys, primary first, sealing in the configured format
	dryRun bool
	// bySlot: on a cluster node, where WATCH, MGET and a transaction must
	// keep to one hash slot, each batch is split by slot first.
	bySlot bool
	// beforeExec, in tests, runs between the read and the write.
	beforeExec func(keys []string)
}

// item is one key during one visit.
type item struct {
	key      string
	seen     bool   // read at least once in this visit
	first    string // the value first read
	changed  bool   // a later read found another value
	attempts int    // tries on its own, after its batch was aborted
	next     string // the rotated token to write
}

// batch processes keys and adds their outcomes to n.
func (t *txn) batch(ctx context.Context, keys []string, n *Counts) error {
	groups := [][]string{keys}
	if t.bySlot {
		groups = keyspace.BySlot(keys)
	}
	var queue [][]*item
	for _, g := range groups {
		items := make([]*item, len(g))
		for i, k := range g {
			items[i] = &item{key: k}
		}
		queue = append(queue, items)
	}
	for len(queue) > 0 {
		group := queue[0]
		queue = queue[1:]
		aborted, err := t.attempt(ctx, group, n)
		if err != nil {
			return err
		}
		switch {
		case len(aborted) == 0:
		case len(aborted) > 1:
			half := len(aborted) / 2
			queue = append(queue, aborted[:half], aborted[half:])
		case aborted[0].attempts >= maxAttempts:
			n.Contended++
			t.changed(aborted[0], n)
		default:
			// One key a writer keeps changing: give the writer a moment.
			if err := sleep(ctx, time.Duration(aborted[0].attempts)*time.Millisecond); err != nil {
				return err
			}
			queue = append(queue, aborted)
		}
	}
	return nil
}

// attempt reads and conditionally rotates group once. It counts every key
// whose outcome is final and returns those whose write was aborted.
func (t *txn) attempt(ctx context.Context, group []*item, n *Counts) (aborted []*item, err error) {
	keys := make([]string, len(group))
	for i, it := range group {
		keys[i] = it.key
	}
	if len(group) == 1 {
		group[0].attempts++
	}
	var read []rueidis.Completed
	if !t.dryRun {
		read = append(read, t.conn.B().Watch().Key(keys...).Build())
	}
	read = append(read, t.conn.B().Mget().Key(keys...).Build())
	res := t.conn.DoMulti(ctx, read...)
	for _, r := range res {
		if err := r.Error(); err != nil {
			t.unwatch(ctx)
			return nil, err
		}
	}
	values, err := res[len(res)-1].ToArray()
	if err != nil || len(values) != len(group) {
		t.unwatch(ctx)
		return nil, fmt.Errorf("MGET of %d keys: unexpected reply (%v)", len(group), err)
	}

	var rotate, untyped []*item
	for i, it := range group {
		if values[i].IsNil() {
			untyped = append(untyped, it)
			continue
		}
		v, err := values[i].ToString()
		if err != nil {
			t.unwatch(ctx)
			return nil, err
		}
		t.observe(it, v)
		switch next, err := t.classify(it.key, v); {
		case err == nil && next == "":
			n.Current++
			t.changed(it, n)
		case err == nil:
			it.next = next
			rotate = append(rotate, it)
		default:
			n.Undecryptable++
			if errors.Is(err, seal.ErrAuthentication) {
				n.UnknownKey++
			}
			t.changed(it, n)
		}
	}

	var write []rueidis.Completed
	switch {
	case t.dryRun:
	case len(rotate) > 0:
		write = append(write, t.conn.B().Multi().Build())
		for _, it := range rotate {
			write = append(write, t.conn.B().Set().Key(it.key).Value(it.next).Keepttl().Build())
		}
		write = append(write, t.conn.B().Exec().Build())
	default:
		write = append(write, t.conn.B().Unwatch().Build())
	}
	// Keys MGET found no string under: another type, or gone. TYPE runs
	// after EXEC, so the transaction does not depend on them.
	for _, it := range untyped {
		write = append(write, t.conn.B().Type().Key(it.key).Build())
	}
	if t.beforeExec != nil {
		t.beforeExec(keys)
	}
	if len(write) == 0 {
		t.rotated(rotate, n)
		return nil, nil
	}
	res = t.conn.DoMulti(ctx, write...)
	typed := res[len(res)-len(untyped):]
	if !t.dryRun {
		last := res[len(res)-len(untyped)-1]
		if err := last.Error(); len(rotate) > 0 && rueidis.IsRedisNil(err) {
			aborted = rotate
		} else if err != nil {
			return nil, fmt.Errorf("EXEC: %w", firstError(res, err))
		} else if len(rotate) > 0 {
			if err := execErrors(last); err != nil {
				return nil, err
			}
			t.rotated(rotate, n)
		}
	} else {
		t.rotated(rotate, n)
	}
	for i, it := range untyped {
		typ, err := typed[i].ToString()
		if err != nil {
			return nil, fmt.Errorf("TYPE: %w", err)
		}
		switch typ {
		case "none", "string":
			// Gone when MGET ran; a string now is a writer's new key.
			n.Vanished++
		default:
			n.SkippedTypes.Add(typ, 1)
		}
		t.changed(it, n)
	}
	return aborted, nil
}

// classify returns "" for a value under the primary key in the configured
// format, the re-sealed token for any other value a key opens (under a
// previous key, or Fernet where the sealed format is configured), and the
// error of the last key tried for a value no key opens. Re-sealing keeps
// the token's timestamp; a sealed token is bound to name, its Redis key.
func (t *txn) classify(name, v string) (string, error) {
	token := []byte(v)
	if needs, err := t.sealer.NeedsRotation(name, token); err != nil || !needs {
		return "", err
	}
	next, err := t.sealer.RotateFor(nil, name, token)
	if err != nil {
		return "", err
	}
	return string(next), nil
}

func (t *txn) observe(it *item, v string) {
	switch {
	case !it.seen:
		it.seen, it.first = true, v
	case v != it.first:
		it.changed = true
	}
}

func (t *txn) changed(it *item, n *Counts) {
	if it.changed {
		n.ChangedByWriters++
	}
}

func (t *txn) rotated(items []*item, n *Counts) {
	for _, it := range items {
		n.Rotated++
		t.changed(it, n)
	}
}

// preflight runs an empty transaction, so that a user who may not run
// MULTI or EXEC is refused before anything is written: were MULTI refused
// inside a batch, the SETs queued after it would run unconditionally.
func (t *txn) preflight(ctx context.Context) error {
	if t.dryRun {
		return nil
	}
	for _, r := range t.conn.DoMulti(ctx, t.conn.B().Multi().Build(), t.conn.B().Exec().Build()) {
		if err := r.Error(); err != nil {
			return fmt.Errorf("MULTI/EXEC: %w", err)
		}
	}
	return nil
}

// unwatch clears the WATCH after a failed read, so the connection is clean
// for whatever comes next. Its own failure is not interesting.
func (t *txn) unwatch(ctx context.Context) {
	if !t.dryRun {
		t.conn.Do(ctx, t.conn.B().Unwatch().Build())
	}
}

// firstError prefers the reply that explains an EXECABORT: the command
// that was refused while the transaction was queued.
func firstError(res []rueidis.RedisResult, fallback error) error {
	for _, r := range res {
		if err := r.Error(); err != nil && !rueidis.IsRedisNil(err) {
			return err
		}
	}
	return fallback
}

// execErrors returns the first error inside EXEC's replies.
func execErrors(r rueidis.RedisResult) error {
	replies, err := r.ToArray()
	if err != nil {
		return err
	}
	for _, m := range replies {
		if err := m.Error(); err != nil {
			return fmt.Errorf("SET inside EXEC: %w", err)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
