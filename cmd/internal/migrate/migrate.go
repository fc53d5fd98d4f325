// Package migrate copies a Redis database, typically a plaintext one
// without authentication, into a secure one: every string value is sealed
// with the primary Fernet key on the way, TTLs are kept to the
// millisecond, and keys the destination has are left alone unless told
// otherwise. Keys of other types cannot be encrypted: they are listed and
// left, or copied as they are with DUMP/RESTORE when allowed. The walk
// checkpoints after every batch and resumes from there, and a completed
// run ends with a verification pass.
package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/seal"
)

// Job is the name of the job in state files.
const Job = "migrate"

// DefaultCount is the SCAN COUNT, and so the batch size, by default.
const DefaultCount = 500

// DefaultSample is how many written values the verification compares.
const DefaultSample = 100

// DefaultTimeout bounds a batch's round trip by default: as long as the
// connections' write timeout, after which a server that answers none of a
// batch is considered gone.
const DefaultTimeout = 30 * time.Second

// maxExamples is how many masked names of keys left behind a report lists.
const maxExamples = 5

// Config is one run.
type Config struct {
	Source   keyspace.Target
	SourceDB int
	Dest     keyspace.Target
	DestDB   int
	// SourceNodes and DestNodes are the masters of a side that is a Redis
	// Cluster (keyspace.Target.Masters), nil for one server. A cluster
	// source is walked master by master, a SCAN and a checkpoint cursor
	// each; a cluster destination is written through a client that sends
	// each key to the master of its slot. A cluster has database 0 only.
	SourceNodes []string
	DestNodes   []string
	// SourceOwners is the source cluster's keyspace.Cluster.Owners,
	// checked again after each master, so that a slot moved onto a master
	// already walked fails the run (keyspace.ErrSlotsMoved) instead of
	// leaving its keys behind; "" checks nothing.
	SourceOwners string
	// SourceIDs and DestIDs are each cluster's node ids
	// (keyspace.Cluster.IDs): sides that share one are one cluster, however
	// they are reached.
	SourceIDs, DestIDs []string
	Sealer             *seal.Sealer // seals with the primary key; opens with every key
	Match              string       // SCAN MATCH on the source; "" for every key
	Count              int          // SCAN COUNT (default 500)
	Rate               float64      // keys per second at most; 0 for no limit
	DryRun             bool         // read and count, write nothing
	// Overwrite replaces keys the destination has; otherwise they are left.
	Overwrite bool
	// AllowUnencryptedTypes copies keys of other types with DUMP/RESTORE,
	// unencrypted; otherwise they are counted and left.
	AllowUnencryptedTypes bool
	StatePath             string // checkpoint file; "" keeps none (dry runs keep none)
	Resume                bool
	// Sample is how many written values the verification compares with
	// the source (default DefaultSample; negative: no verification).
	Sample   int
	Progress func(progress.Report)
	// Note, if set, is told in a line when the run follows the
	// destination's master (Dest reached through Sentinels) to another
	// server.
	Note func(string)
	// FailoverWait bounds the wait for the destination's new master after
	// a failover symptom (default keyspace.DefaultFailoverWait).
	FailoverWait time.Duration
	// Timeout bounds each round trip after connecting: each SCAN, a batch's reads on
	// the source, its writes on the destination, the verification's reads
	// (default DefaultTimeout). The probes made while connecting are bound
	// by Source.DialTimeout and Dest.DialTimeout. A server that stops
	// answering, or answers a byte at a time, ends the run with an error
	// instead of holding it.
	Timeout time.Duration
	// Stop, when closed, ends the run after the batch in progress, with
	// its checkpoint saved: Run returns keyspace.ErrStopped.
	Stop <-chan struct{}

	afterRead func(keys []string) // tests: between a batch's read and write
	forcePTTL bool                // tests: read expiries as Redis 6 does
}

// Report is what a run did.
type Report struct {
	Source      string `json:"source"`      // host:port db N, no credentials
	Destination string `json:"destination"` // host:port db N
	// SourceNodes and DestinationNodes are the masters of a side that is
	// a cluster: the source's were each walked.
	SourceNodes      []string `json:"source_nodes,omitempty"`
	DestinationNodes []string `json:"destination_nodes,omitempty"`
	Match            string   `json:"match,omitempty"`
	PrimaryKey       string   `json:"primary_key"` // key id
	DryRun           bool     `json:"dry_run"`
	Overwrite        bool     `json:"overwrite"`
	// TTLSource is how deadlines were read: "pexpiretime" (absolute, exact)
	// or "pttl" (Redis before 7: within half a round trip).
	TTLSource string `json:"ttl_source"`
	keyspace.Outcome
	Counts
	// LeftTotal is the number of keys of other types left.
	LeftTotal int64 `json:"left"`
	// LeftExamples are a few masked names of keys left behind.
	LeftExamples []string      `json:"left_examples"`
	Verification *Verification `json:"verification,omitempty"`
}

// Run copies the source into the destination.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Sealer == nil {
		return nil, errors.New("migrate: a sealer is required")
	}
	if err := sameDatabase(cfg); err != nil {
		return nil, err
	}
	if cfg.Count <= 0 {
		cfg.Count = DefaultCount
	}
	if cfg.Sample == 0 {
		cfg.Sample = DefaultSample
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	rep := &Report{
		Source:      fmt.Sprintf("%s db %d", cfg.Source.Addr, cfg.SourceDB),
		Destination: fmt.Sprintf("%s db %d", cfg.Dest.Addr, cfg.DestDB),
		Match:       cfg.Match, PrimaryKey: cfg.Sealer.Keys()[0].ID(),
		DryRun: cfg.DryRun, Overwrite: cfg.Overwrite, LeftExamples: []string{},
		SourceNodes: cfg.SourceNodes, DestinationNodes: cfg.DestNodes,
	}
	// Through Sentinels, the destination is its master set: its address
	// changes with a failover, and a resume follows it.
	scope := fmt.Sprintf("from %s to %s db %d match %q", rep.Source, cfg.Dest.Where(), cfg.DestDB, cfg.Match)
	if cfg.SourceNodes != nil {
		// The checkpoint holds a cursor per source master: a resume must
		// find the same masters, in the same order, serving the same
		// slots. The destination's nodes do not matter to it.
		scope += fmt.Sprintf(" source nodes %v slots %s", cfg.SourceNodes, cfg.SourceOwners)
	}
	cp := keyspace.Checkpoint[Counts]{Job: Job, Resume: cfg.Resume, Scope: scope}
	if !cfg.DryRun {
		cp.Path = cfg.StatePath
	}
	st, err := cp.Begin(&rep.Outcome)
	if err != nil {
		return nil, err
	}
	before := st.Counts.Scanned
	defer func() {
		rep.Counts = st.Counts
		rep.LeftTotal = rep.Left.Total()
		rep.Finish(rep.Scanned - before)
	}()
	if st.Done {
		return rep, nil
	}

	rejoin := &keyspace.Rejoin{Wait: cfg.FailoverWait, Note: cfg.Note}
	m, err := rejoined(ctx, cfg, &migration{st: st, path: cp.Path, rep: rep, sample: newReservoir(cfg.Sample), absolute: true}, rejoin)
	if err != nil {
		return nil, err
	}
	defer func() { m.close() }()
	for ui := st.DBIndex; ui < len(m.units); ui++ {
		select {
		case <-cfg.Stop:
			return rep, keyspace.ErrStopped
		default:
		}
		if err := m.walk(ctx, ui); err != nil {
			var de *destError
			if !errors.As(err, &de) {
				return rep, err
			}
			// The destination's master, reached through Sentinels, failed
			// over: copy on to the new one, from the checkpoint as rejoined
			// leaves it. The source is the same server.
			t, err := rejoin.After(ctx, m.cfg.Dest, err, &rep.Outcome)
			if err != nil {
				return rep, err
			}
			next := m.cfg
			next.Dest = t
			n, err := rejoined(ctx, next, m, rejoin)
			if err != nil {
				return rep, err
			}
			m.close()
			m = n
			ui = st.DBIndex - 1
			continue
		}
		if cfg.SourceOwners != "" {
			if err := cfg.Source.CheckOwners(cfg.SourceOwners); err != nil {
				return rep, keyspace.Restart(cp.Path, fmt.Errorf("source: %w", err))
			}
		}
	}
	rep.Complete = true
	if !cfg.DryRun && cfg.Sample > 0 {
		v, err := m.verify(ctx)
		rep.Verification = v
		if err != nil {
			return rep, fmt.Errorf("verification: %w", err)
		}
	}
	return rep, nil
}

// sameDatabase refuses a run whose destination is its source: one server
// and database, or clusters that share a node (a cluster has database 0
// only).
func sameDatabase(cfg Config) error {
	if cfg.SourceNodes == nil && cfg.DestNodes == nil {
		if cfg.Source.Addr == cfg.Dest.Addr && cfg.SourceDB == cfg.DestDB {
			return fmt.Errorf("migrate: the source and the destination are the same database (%s db %d)", cfg.Source.Addr, cfg.SourceDB)
		}
		return nil
	}
	if (cfg.SourceNodes != nil && cfg.SourceDB != 0) || (cfg.DestNodes != nil && cfg.DestDB != 0) {
		return errors.New("migrate: a Redis Cluster has database 0 only: drop the /db from its URL")
	}
	for _, id := range cfg.SourceIDs {
		if slices.Contains(cfg.DestIDs, id) {
			return fmt.Errorf("migrate: the source and the destination are the same cluster (both have the node %s)", id)
		}
	}
	src := append([]string{cfg.Source.Addr}, cfg.SourceNodes...)
	dst := append([]string{cfg.Dest.Addr}, cfg.DestNodes...)
	for _, a := range src {
		if slices.Contains(dst, a) {
			return fmt.Errorf("migrate: the source and the destination are the same cluster (both have the node %s)", a)
		}
	}
	return nil
}
