package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/cmd/internal/keyname"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// migration is a run in progress.
type migration struct {
	cfg       Config
	units     []keyspace.Unit // the source's walks: its database, or each master
	dstClient rueidis.Client
	dst       *dest
	sample    *reservoir
	limit     *keyspace.Limiter // one rate over every walk
	// absolute: every source walk so far read PEXPIRETIME (see source).
	absolute bool

	st     *keyspace.State[Counts]
	path   string
	rep    *Report
	saved  time.Time
	rejoin *keyspace.Rejoin
}

// connect dials the destination, a cluster through a client that routes
// each key to its slot's master, and finds out what it supports. The
// source is dialed one walk at a time (migration.walk).
func connect(ctx context.Context, cfg Config) (*migration, error) {
	var dstClient rueidis.Client
	var err error
	if cfg.DestNodes != nil {
		dstClient, err = cfg.Dest.DialCluster(cfg.DestNodes)
	} else {
		dstClient, err = cfg.Dest.Dial(cfg.DestDB)
	}
	if err != nil {
		return nil, &destError{err}
	}
	m := &migration{cfg: cfg, units: keyspace.Units(cfg.Source, []int{cfg.SourceDB}, cfg.SourceNodes), dstClient: dstClient,
		dst:   &dest{client: dstClient, sealer: cfg.Sealer, overwrite: cfg.Overwrite, dryRun: cfg.DryRun},
		limit: keyspace.NewLimiter(cfg.Rate)}
	if err := m.dst.probe(ctx, dialTimeout(cfg.Dest)); err != nil {
		m.close()
		return nil, &destError{err}
	}
	if cfg.Dest.Resolve != nil {
		// A Sentinel that has not heard of a failover names the old
		// master, which may be a replica by now (or writable by mistake).
		if err := keyspace.CheckMaster(ctx, dstClient); err != nil {
			m.close()
			return nil, &destError{fmt.Errorf("%s: %w", cfg.Dest.Addr, keyspace.Explain(err))}
		}
	}
	return m, nil
}

// rejoined connects as connect does, carrying over the run in progress
// (checkpoint, report, sample) from prev. For a destination reached
// through Sentinels it follows the master while connecting fails like a
// failover, and binds the checkpoint to the master it connected to
// (keyspace.State.On): one read while copying to another starts over,
// and SET NX finds what survived in sync.
func rejoined(ctx context.Context, cfg Config, prev *migration, rejoin *keyspace.Rejoin) (*migration, error) {
	for {
		m, err := connect(ctx, cfg)
		if err != nil {
			if cfg.Dest, err = rejoin.After(ctx, cfg.Dest, err, &prev.rep.Outcome); err != nil {
				return nil, err
			}
			continue
		}
		m.st, m.path, m.rep, m.rejoin, m.sample, m.absolute = prev.st, prev.path, prev.rep, rejoin, prev.sample, prev.absolute
		if prev.limit != nil {
			m.limit = prev.limit // one rate over the whole run
		}
		m.rep.Destination = fmt.Sprintf("%s db %d", cfg.Dest.Addr, cfg.DestDB)
		// After a failover rejoin.After has said that the copy starts over.
		first := prev.dstClient == nil
		if cfg.Dest.Resolve != nil && m.st.On(cfg.Dest.Addr) && first && cfg.Note != nil {
			cfg.Note(fmt.Sprintf("the checkpoint was read while copying to another master than %s: copying from the start (keys copied already count as in sync)", cfg.Dest.Addr))
		}
		return m, nil
	}
}

// destError is a failure on the destination: the side that a failover
// can move (Config.Dest reached through Sentinels).
type destError struct{ err error }

func (e *destError) Error() string { return "destination: " + e.err.Error() }
func (e *destError) Unwrap() error { return e.err }

// walk copies the keys of m.units[ui], from the checkpoint's cursor when
// it is the unit the checkpoint stands in.
func (m *migration) walk(ctx context.Context, ui int) error {
	u := m.units[ui]
	client, err := u.Target.Dial(u.DB)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer client.Close()
	// Closed, never released (see source.close): _ drops the release.
	conn, _ := client.Dedicate()
	src := &source{conn: conn, dumps: m.cfg.AllowUnencryptedTypes, bySlot: m.cfg.SourceNodes != nil}
	defer src.close()
	where := "source"
	if m.cfg.SourceNodes != nil {
		where = "source " + u.Name
	}
	if err := src.probe(ctx, dialTimeout(u.Target)); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if m.cfg.forcePTTL {
		src.absolute = false
	}
	m.absolute = m.absolute && src.absolute
	m.rep.TTLSource = map[bool]string{true: "pexpiretime", false: "pttl"}[m.absolute]
	cursor := uint64(0)
	if ui == m.st.DBIndex {
		cursor = m.st.Cursor
	}
	walk := keyspace.Walk{Client: client, Match: m.cfg.Match, Count: int64(m.cfg.Count), Cursor: cursor,
		Limit: m.limit, Timeout: m.cfg.Timeout, Stop: m.cfg.Stop}
	return walk.Run(ctx, func(b keyspace.Batch) error { return m.batch(ctx, src, where, ui, b) })
}

// dialTimeout is the bound of t's connection steps, probes included.
func dialTimeout(t keyspace.Target) time.Duration {
	if t.DialTimeout > 0 {
		return t.DialTimeout
	}
	return 5 * time.Second
}

// bounded runs one round trip under timeout, and names a missed deadline.
func bounded[T any](ctx context.Context, timeout time.Duration, what string, f func(context.Context) (T, error)) (T, error) {
	round, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := f(round)
	if err != nil && ctx.Err() == nil && round.Err() != nil {
		err = fmt.Errorf("%s: no complete reply within %s (the server stopped answering, or answers too slowly): %w", what, timeout, err)
	}
	return v, err
}

// brokenReply reports whether err is a failure of the connection or of
// the reply itself (a timeout, a limit of the connection's guard, a
// closed connection) rather than the server's error reply, which a probe
// reads as "not supported".
func brokenReply(err error) bool {
	if err == nil || rueidis.IsRedisNil(err) {
		return false
	}
	_, isReply := rueidis.IsRedisErr(err)
	return !isReply
}

// close closes the destination. Each walk closes its source connection.
func (m *migration) close() {
	m.dstClient.Close()
}

// batch copies the keys of one SCAN reply and checkpoints.
func (m *migration) batch(ctx context.Context, src *source, where string, ui int, b keyspace.Batch) error {
	var n Counts
	if len(b.Keys) > 0 {
		if err := m.copy(ctx, src, where, b.Keys, &n); err != nil {
			return keyspace.Explain(err)
		}
	}
	if err := m.rejoin.Batch(ctx, m.cfg.Dest); err != nil {
		return &destError{err}
	}
	m.st.Counts.Add(n)
	m.st.DBIndex, m.st.Cursor = ui, b.Cursor
	if b.Cursor == 0 {
		m.st.DBIndex++
		m.st.Done = m.st.DBIndex == len(m.units)
	}
	if m.path != "" && (len(b.Keys) > 0 || b.Cursor == 0 || time.Since(m.saved) > time.Second) {
		m.saved = time.Now()
		m.st.Updated = m.saved
		if err := keyspace.SaveState(m.path, m.st); err != nil {
			return err
		}
	}
	if m.cfg.Progress != nil {
		c := m.st.Counts
		done := float64(m.st.DBIndex)
		if !m.st.Done {
			done += keyspace.Fraction(m.st.Cursor)
		}
		m.cfg.Progress(progress.Report{Fraction: done / float64(len(m.units)), Keys: c.Scanned,
			Summary: fmt.Sprintf("%s written, %s existing, %s left", progress.Thousands(c.Written()), progress.Thousands(c.Existing+c.InSync), progress.Thousands(c.Left.Total()))})
	}
	return nil
}

// copy reads keys from the source and writes them to the destination.
func (m *migration) copy(ctx context.Context, src *source, where string, keys []string, n *Counts) error {
	n.Scanned = int64(len(keys))
	recs, err := bounded(ctx, m.cfg.Timeout, "reading a batch", func(ctx context.Context) ([]record, error) { return src.read(ctx, keys) })
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if m.cfg.afterRead != nil {
		m.cfg.afterRead(keys)
	}
	now := time.Now().UnixMilli()
	var plans []plan
	for _, rec := range recs {
		switch {
		case rec.typ == "none":
			n.Vanished++
		case rec.deadline > 0 && rec.deadline <= now:
			n.Expired++
		case rec.typ == "string":
			plans = append(plans, prepare(m.cfg.Sealer, rec))
		case m.cfg.AllowUnencryptedTypes:
			plans = append(plans, plan{rec: rec, kind: restore, value: rec.value})
		default:
			n.Left.Add(termsafe.Escape(rec.typ), 1) // the source's TYPE reply, printed in the report
			if len(m.rep.LeftExamples) < maxExamples {
				m.rep.LeftExamples = append(m.rep.LeftExamples, keyname.Mask(rec.key))
			}
		}
	}
	outcomes, err := bounded(ctx, m.cfg.Timeout, "writing a batch", func(ctx context.Context) ([]outcome, error) { return m.dst.apply(ctx, plans) })
	if err != nil {
		return &destError{err}
	}
	for i, p := range plans {
		switch outcomes[i] {
		case existing:
			n.Existing++
			continue
		case inSync:
			n.InSync++
		case overwritten:
			n.Overwritten++
			fallthrough
		default:
			switch p.kind {
			case sealed:
				n.Encrypted++
			case tokenCopy:
				n.AlreadyEncrypted++
			case restore:
				n.Restored++
			}
		}
		if p.kind != restore {
			m.sample.add(p.rec.key, p.digest)
		}
	}
	return nil
}
