// Package keyrotate re-seals every value of a Redis keyspace under the
// primary Fernet key, online: each value is replaced only if it still holds
// the token that was read (WATCH/MULTI/EXEC, so it works for users whose
// ACL refuses Lua), with its remaining TTL (KEEPTTL) and its original
// Fernet timestamp. The walk checkpoints after every batch and resumes
// from there.
package keyrotate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/seal"
)

// Job is the name of the job in state files.
const Job = "rotate-key"

// Mode is what a run does.
type Mode string

const (
	// Rotate re-seals values under previous keys.
	Rotate Mode = "rotate"
	// DryRun counts what Rotate would do, writing nothing.
	DryRun Mode = "dry-run"
	// Check counts values still under a previous key, writing nothing.
	Check Mode = "check"
)

// Config is one run.
type Config struct {
	Target keyspace.Target
	DBs    []int // databases to walk, in order
	// Nodes are the masters of a Redis Cluster (keyspace.Target.Cluster),
	// each walked with a SCAN of its own in database 0; nil for one server.
	Nodes []string
	// Owners is the cluster's keyspace.Cluster.Owners, read with Nodes:
	// checked again after each master, so that a slot moved onto a master
	// already walked fails the run (keyspace.ErrSlotsMoved) instead of
	// leaving its keys unrotated. "" checks nothing.
	Owners string
	Sealer *seal.Sealer // the primary key and the previous keys
	Match  string       // SCAN MATCH pattern; "" for every key
	Count  int          // SCAN COUNT: keys per batch and transaction (default 500)
	Rate   float64      // keys per second at most; 0 for no limit
	Mode   Mode
	// StatePath is the checkpoint file (Rotate only; dry runs and checks
	// keep no state). "" keeps none.
	StatePath string
	Resume    bool
	// Progress, if set, is called after every batch.
	Progress func(progress.Report)
	// Note, if set, is told in a line when the run follows its master
	// (a Target reached through Sentinels) to another server.
	Note func(string)
	// FailoverWait bounds the wait for a new master after a failover
	// symptom (default keyspace.DefaultFailoverWait).
	FailoverWait time.Duration
	// Stop, when closed, ends the run after the batch in progress, with
	// its checkpoint saved: Run returns keyspace.ErrStopped.
	Stop <-chan struct{}

	beforeExec func(keys []string) // tests: between a batch's read and write
}

// DefaultCount is the SCAN COUNT, and so the transaction size, by default.
const DefaultCount = 500

// Report is what a run did.
type Report struct {
	Mode         Mode     `json:"mode"`
	Target       string   `json:"target"` // host:port
	DBs          []int    `json:"dbs"`
	Nodes        []string `json:"nodes,omitempty"` // a cluster's masters, each walked`
	Match        string   `json:"match,omitempty"`
	PrimaryKey   string   `json:"primary_key"`   // key id, never the key
	PreviousKeys []string `json:"previous_keys"` // key ids
	keyspace.Outcome
	Counts
	// Skipped is the number of keys of other types.
	Skipped int64 `json:"skipped"`
}

// Run walks every database of cfg once. The report is returned with the
// error, too, counting what was done before it.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Sealer == nil || len(cfg.DBs) == 0 {
		return nil, errors.New("rotate: a sealer and at least one database are required")
	}
	if len(cfg.Nodes) > 0 && (len(cfg.DBs) != 1 || cfg.DBs[0] != 0) {
		return nil, errors.New("rotate: a Redis Cluster has database 0 only")
	}
	if cfg.Count <= 0 {
		cfg.Count = DefaultCount
	}
	if cfg.Mode == "" {
		cfg.Mode = Rotate
	}
	keys := cfg.Sealer.Keys()
	rep := &Report{Mode: cfg.Mode, Target: cfg.Target.Addr, DBs: cfg.DBs, Nodes: cfg.Nodes, Match: cfg.Match, PrimaryKey: keys[0].ID(), PreviousKeys: []string{}}
	for _, k := range keys[1:] {
		rep.PreviousKeys = append(rep.PreviousKeys, k.ID())
	}
	cp := keyspace.Checkpoint[Counts]{Job: Job, Scope: scope(cfg, rep), Resume: cfg.Resume}
	if cfg.Mode == Rotate {
		cp.Path = cfg.StatePath
	}
	st, err := cp.Begin(&rep.Outcome)
	if err != nil {
		return nil, err
	}
	before := st.Counts.Scanned
	defer func() {
		rep.Counts = st.Counts
		rep.Skipped = rep.SkippedTypes.Total()
		rep.Finish(rep.Scanned - before)
	}()
	if st.Done {
		return rep, nil
	}
	r := &run{cfg: cfg, st: st, path: cp.Path, limit: keyspace.NewLimiter(cfg.Rate),
		rejoin: &keyspace.Rejoin{Wait: cfg.FailoverWait, Note: cfg.Note}}
	if r.aim(cfg.Target) && cfg.Note != nil {
		cfg.Note(fmt.Sprintf("the checkpoint was read on another master than %s: walking from the start (values rotated already count as current)", cfg.Target.Addr))
	}
	for ui := st.DBIndex; ui < len(r.units); ui++ {
		select {
		case <-cfg.Stop:
			return rep, keyspace.ErrStopped
		default:
		}
		if err := r.walk(ctx, ui); err != nil {
			// A master reached through Sentinels that failed over: walk
			// on the new one, from the checkpoint as r.aim leaves it.
			t, err := r.rejoin.After(ctx, r.target, err, &rep.Outcome)
			if err != nil {
				return rep, err
			}
			r.aim(t)
			rep.Target = t.Addr
			ui = st.DBIndex - 1
			continue
		}
		if cfg.Owners != "" {
			if err := cfg.Target.CheckOwners(cfg.Owners); err != nil {
				return rep, keyspace.Restart(cp.Path, err)
			}
		}
	}
	rep.Complete = true
	return rep, nil
}

// scope names what a checkpoint is about: a resume must match it, the
// cluster's masters included (the checkpoint holds a cursor per node).
func scope(cfg Config, rep *Report) string {
	if len(cfg.Nodes) > 0 {
		return fmt.Sprintf("%s cluster nodes %v slots %s match %q primary key %s", cfg.Target.Where(), cfg.Nodes, cfg.Owners, cfg.Match, rep.PrimaryKey)
	}
	return fmt.Sprintf("%s dbs %v match %q primary key %s", cfg.Target.Where(), cfg.DBs, cfg.Match, rep.PrimaryKey)
}

type run struct {
	cfg    Config
	st     *keyspace.State[Counts]
	path   string
	limit  *keyspace.Limiter
	saved  time.Time // when the state file was last written
	target keyspace.Target
	units  []keyspace.Unit
	rejoin *keyspace.Rejoin
}

// aim points the run's walks at t. For a master reached through Sentinels
// the checkpoint is bound to it: one read on another server starts over
// (keyspace.State.On, which says whether it did), and a value current
// already is not sealed again.
func (r *run) aim(t keyspace.Target) (restarted bool) {
	r.target, r.units = t, keyspace.Units(t, r.cfg.DBs, r.cfg.Nodes)
	return t.Resolve != nil && r.st.On(t.Addr)
}

// walk walks r.units[di] from the checkpoint.
func (r *run) walk(ctx context.Context, di int) error {
	u := r.units[di]
	client, err := u.Target.Dial(u.DB)
	if err != nil {
		return err
	}
	defer client.Close()
	// Closed, not released: a release sends the UNSUBSCRIBE family, whose
	// answers from a hostile server can make rueidis panic; the connection
	// is not reused anyway.
	conn, _ := client.Dedicate()
	defer conn.Close()
	t := &txn{conn: conn, sealer: r.cfg.Sealer, dryRun: r.cfg.Mode != Rotate, bySlot: len(r.cfg.Nodes) > 0, beforeExec: r.cfg.beforeExec}
	if u.Target.Resolve != nil {
		// A Sentinel that has not heard of a failover names the old
		// master, which may be a replica by now (or writable by mistake).
		if err := keyspace.CheckMaster(ctx, conn); err != nil {
			return fmt.Errorf("%s: %w", u.Target.Addr, keyspace.Explain(err))
		}
	}
	if err := t.preflight(ctx); err != nil {
		return keyspace.Explain(err)
	}
	cursor := uint64(0)
	if di == r.st.DBIndex {
		cursor = r.st.Cursor
	}
	walk := keyspace.Walk{Client: client, Match: r.cfg.Match, Count: int64(r.cfg.Count), Cursor: cursor, Limit: r.limit, Stop: r.cfg.Stop}
	return walk.Run(ctx, func(b keyspace.Batch) error {
		var n Counts
		if len(b.Keys) > 0 {
			n.Scanned = int64(len(b.Keys))
			if err := t.batch(ctx, b.Keys, &n); err != nil {
				return fmt.Errorf("%s: %w", u.Name, keyspace.Explain(err))
			}
		}
		if err := r.rejoin.Batch(ctx, u.Target); err != nil {
			return err
		}
		r.st.Counts.Add(n)
		r.st.DBIndex, r.st.Cursor = di, b.Cursor
		if b.Cursor == 0 {
			r.st.DBIndex++
			r.st.Done = r.st.DBIndex == len(r.units)
		}
		// A sparse table yields many empty batches: their cursors are
		// saved now and then, the rest at once.
		if len(b.Keys) > 0 || b.Cursor == 0 || time.Since(r.saved) > time.Second {
			if err := r.save(); err != nil {
				return err
			}
		}
		r.progress()
		return nil
	})
}

func (r *run) save() error {
	if r.path == "" {
		return nil
	}
	r.saved = time.Now()
	r.st.Updated = r.saved
	return keyspace.SaveState(r.path, r.st)
}

func (r *run) progress() {
	if r.cfg.Progress == nil {
		return
	}
	c := r.st.Counts
	done := float64(r.st.DBIndex)
	if r.st.DBIndex < len(r.units) {
		done += keyspace.Fraction(r.st.Cursor)
	}
	verb := "rotated"
	if r.cfg.Mode != Rotate {
		verb = "under a previous key"
	}
	r.cfg.Progress(progress.Report{
		Fraction: done / float64(len(r.units)),
		Keys:     c.Scanned,
		Summary:  fmt.Sprintf("%s %s, %s current, %s undecryptable", progress.Thousands(c.Rotated), verb, progress.Thousands(c.Current), progress.Thousands(c.Undecryptable)),
	})
}
