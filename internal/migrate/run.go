package migrate

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/internal/keyspace"
)

// migration is a run in progress.
type migration struct {
	cfg       Config
	srcClient rueidis.Client
	dstClient rueidis.Client
	release   func()
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
	conn, release := srcClient.Dedicate()
	m := &migration{cfg: cfg, srcClient: srcClient, dstClient: dstClient, release: release,
		src:    &source{conn: conn, dumps: cfg.AllowUnencryptedTypes},
		dst:    &dest{client: dstClient, sealer: cfg.Sealer, overwrite: cfg.Overwrite, dryRun: cfg.DryRun},
		sample: newReservoir(cfg.Sample)}
	m.src.probe(ctx)
	if cfg.forcePTTL {
		m.src.absolute = false
	}
	m.dst.probe(ctx)
	return m, nil
}

func (m *migration) close() {
	m.release()
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
		m.cfg.Progress(keyspace.Progress{Fraction: frac, Keys: c.Scanned,
			Summary: fmt.Sprintf("%s written, %s existing, %s left", keyspace.Thousands(c.Written()), keyspace.Thousands(c.Existing+c.InSync), keyspace.Thousands(c.Left.Total()))})
	}
	return nil
}

// copy reads keys from the source and writes them to the destination.
func (m *migration) copy(ctx context.Context, keys []string, n *Counts) error {
	n.Scanned = int64(len(keys))
	recs, err := m.src.read(ctx, keys)
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
			n.Left.Add(rec.typ, 1)
			if len(m.rep.LeftExamples) < maxExamples {
				m.rep.LeftExamples = append(m.rep.LeftExamples, keyspace.MaskKey(rec.key))
			}
		}
	}
	outcomes, err := m.dst.apply(ctx, plans)
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
