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
	srcClient rueidis.Client
	dstClient rueidis.Client
	src       *source
	dst       *dest
	sample    *reservoir

	st    *keyspace.State[Counts]
	path  string
	rep   *Report
	saved time.Time
}

// connect dials both sides and finds out what they support.
func connect(ctx context.Context, cfg Config) (*migration, error) {
	srcClient, err := cfg.Source.Dial(cfg.SourceDB)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	dstClient, err := cfg.Dest.Dial(cfg.DestDB)
	if err != nil {
		srcClient.Close()
		return nil, fmt.Errorf("destination: %w", err)
	}
	// Closed, never released (see migration.close): _ drops the release.
	conn, _ := srcClient.Dedicate()
	m := &migration{cfg: cfg, srcClient: srcClient, dstClient: dstClient,
		src:    &source{conn: conn, dumps: cfg.AllowUnencryptedTypes},
		dst:    &dest{client: dstClient, sealer: cfg.Sealer, overwrite: cfg.Overwrite, dryRun: cfg.DryRun},
		sample: newReservoir(cfg.Sample)}
	fail := func(err error) (*migration, error) {
		m.close()
		return nil, err
	}
	if err := m.src.probe(ctx, dialTimeout(cfg.Source)); err != nil {
		return fail(fmt.Errorf("source: %w", err))
	}
	if cfg.forcePTTL {
		m.src.absolute = false
	}
	if err := m.dst.probe(ctx, dialTimeout(cfg.Dest)); err != nil {
		return fail(fmt.Errorf("destination: %w", err))
	}
	return m, nil
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

// close closes the source's dedicated connection rather than releasing it:
// once its pipe reads in the background, a release sends UNSUBSCRIBE,
// PUNSUBSCRIBE and SUNSUBSCRIBE to put it back in the pool, and a hostile
// source can answer those in ways that make rueidis panic (a +OK where it
// expects a push). The connection is not reused, so closing it loses
// nothing.
func (m *migration) close() {
	m.src.conn.Close()
	m.srcClient.Close()
	m.dstClient.Close()
}

// batch copies the keys of one SCAN reply and checkpoints.
func (m *migration) batch(ctx context.Context, b keyspace.Batch) error {
	var n Counts
	if len(b.Keys) > 0 {
		if err := m.copy(ctx, b.Keys, &n); err != nil {
			return keyspace.Explain(err)
		}
	}
	m.st.Counts.Add(n)
	m.st.Cursor = b.Cursor
	m.st.Done = b.Cursor == 0
	if m.path != "" && (len(b.Keys) > 0 || m.st.Done || time.Since(m.saved) > time.Second) {
		m.saved = time.Now()
		m.st.Updated = m.saved
		if err := keyspace.SaveState(m.path, m.st); err != nil {
			return err
		}
	}
	if m.cfg.Progress != nil {
		c := m.st.Counts
		frac := 1.0
		if !m.st.Done {
			frac = keyspace.Fraction(m.st.Cursor)
		}
		m.cfg.Progress(progress.Report{Fraction: frac, Keys: c.Scanned,
			Summary: fmt.Sprintf("%s written, %s existing, %s left", progress.Thousands(c.Written()), progress.Thousands(c.Existing+c.InSync), progress.Thousands(c.Left.Total()))})
	}
	return nil
}

// copy reads keys from the source and writes them to the destination.
func (m *migration) copy(ctx context.Context, keys []string, n *Counts) error {
	n.Scanned = int64(len(keys))
	recs, err := bounded(ctx, m.cfg.Timeout, "reading a batch", func(ctx context.Context) ([]record, error) { return m.src.read(ctx, keys) })
	if err != nil {
		return fmt.Errorf("source: %w", err)
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
		return fmt.Errorf("destination: %w", err)
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
