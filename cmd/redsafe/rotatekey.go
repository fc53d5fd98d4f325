package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/keyspace"
	"github.com/redsafe/redsafe/internal/rotate"
	"github.com/redsafe/redsafe/seal"
)

var rotateKeyCmd = &command{
	name:    "rotate-key",
	summary: "re-encrypt every value under the new key, online and resumable",
	usage: `Usage: redsafe rotate-key [--check | --dry-run] [--resume] [--state FILE]
                         [--match PATTERN] [--count 500] [--db LIST] [--rate N]
                         [--env-file FILE] [--json] [--progress auto|bar|lines|none]

Re-seals every value that opens with a previous key under the primary key,
while the service keeps running. The rotation, step by step:

  1. Deploy with REDIS_ENCRYPTION_KEY=<new> and
     REDIS_ENCRYPTION_PREVIOUS_KEYS=<old>: readers accept both keys and
     new writes use the new one.
  2. Run redsafe rotate-key with the same variables.
  3. Once redsafe rotate-key --check reports no value under a previous
     key, drop the old key from REDIS_ENCRYPTION_PREVIOUS_KEYS.

It walks the database that REDIS_URL names (or each of --db) with SCAN, a
batch at a time. Each value is replaced only if it still holds the token
that was read, with WATCH/MULTI/EXEC on one connection, so it works for a
user whose ACL refuses Lua (the app user of redsafe conf). The value keeps
its remaining TTL (SET KEEPTTL) and the token keeps its original Fernet
timestamp, as Python's MultiFernet.rotate does. A writer that changes a key
in the meantime wins: its value is kept, and counted.

Left untouched and counted: values no configured key opens (never deleted),
values already under the primary key, and keys of other types.

The run keeps a checkpoint (SCAN cursor and counts, no key names) in the
state file after every batch. After a crash or Ctrl-C, --resume continues
from there. Running it again is harmless: rotated values count as current.

The user needs SCAN, TYPE, WATCH, MGET, MULTI, SET and EXEC on the keys, as
the app user of redsafe conf has; a user confined to a key pattern needs
--match with that pattern.

Exit status: 0 done; 1 an error, or values left under a previous key
(--check), or values writers kept changing (run again); 2 a usage error;
130 interrupted, with the checkpoint saved.

Flags:
  --check           write nothing; exit 1 while any value is under a previous
                    key (undecryptable values are reported but do not fail it)
  --dry-run         write nothing; count what a rotation would do
  --resume          continue the run recorded in the state file
  --state FILE      checkpoint file (default .redsafe-rotate-key.state, mode 0600)
  --match PATTERN   only keys that match (SCAN MATCH), e.g. 'session:*'
  --count N         keys per SCAN and per transaction (default 500)
  --db LIST         databases to walk, e.g. 0,1 (default: the one in REDIS_URL)
  --rate N          at most N keys per second, to protect production latency
  --env-file FILE   read the variables from FILE, over the process environment
  --json            print the report as JSON
  --progress MODE   auto (a bar on a terminal, lines otherwise), bar, lines, none
  --timeout D       bound connecting (default 5s)

Examples:
  set -a; . ./.env.secure; set +a
  redsafe rotate-key --dry-run
  redsafe rotate-key --rate 5000
  redsafe rotate-key --resume
  redsafe rotate-key --check --json | jq '.rotated'
`,
	run: runRotateKey,
}

const rotateStateFile = ".redsafe-rotate-key.state"

func runRotateKey(c *cli, cmd *command, args []string) int {
	f, fs := c.jobFlagSet(cmd, rotateStateFile, rotate.DefaultCount)
	check := fs.Bool("check", false, "")
	dbList := fs.String("db", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	err := f.check(fs)
	if err == nil && *check && (*f.dryRun || *f.resume) {
		err = errors.New("--check writes nothing and keeps no state: use it without --dry-run and --resume")
	}
	if err != nil {
		c.errorf("rotate-key: %v\nrun `redsafe help rotate-key` for usage", err)
		return 2
	}
	opts, err := c.options(*f.envFile)
	if err != nil {
		c.errorf("rotate-key: %v", err)
		return 2
	}
	ctx, stop, cleanup := interrupts(context.Background(), c.stderr)
	defer cleanup()
	target, db, sealer, err := connection(ctx, opts, "redsafe-rotate-key", *f.timeout)
	if err != nil {
		c.errorf("rotate-key: %s", errText(err))
		return 1
	}
	dbs := []int{db}
	if *dbList != "" {
		if dbs, err = parseDBs(*dbList); err != nil {
			c.errorf("rotate-key: %v", err)
			return 2
		}
	}
	mode := rotate.Rotate
	switch {
	case *check:
		mode = rotate.Check
	case *f.dryRun:
		mode = rotate.DryRun
	}
	if mode != rotate.Check && len(sealer.Keys()) == 1 {
		c.errorf("rotate-key: %s is empty, so there is nothing to rotate from\nfix: set it to the key(s) the values were sealed with before, the primary key to the new one", redsafe.EnvEncryptionPreviousKeys)
		return 1
	}

	progress, finish := c.progress(*f.progress)
	cfg := rotate.Config{Target: target, DBs: dbs, Sealer: sealer, Match: *f.match, Count: *f.count, Rate: *f.rate,
		Mode: mode, StatePath: *f.state, Resume: *f.resume, Stop: stop,
		Progress: progress}
	if !*f.asJSON {
		fmt.Fprintf(c.stdout, "%s %s db %s, primary key %s%s\n", map[rotate.Mode]string{rotate.Rotate: "rotating", rotate.DryRun: "dry run (nothing is written):", rotate.Check: "checking"}[mode],
			target.Addr, joinInts(dbs), sealer.Keys()[0].ID(), previousIDs(sealer.Keys()[1:]))
	}
	rep, err := rotate.Run(ctx, cfg)
	finish()
	if err != nil {
		err = diagnose(ctx, opts, err)
	}
	code := rotateExit(c, rep, err, *f.state)
	if rep != nil {
		if *f.asJSON {
			state := *f.state
			if mode != rotate.Rotate {
				state = ""
			}
			writeJobJSON(c.stdout, code, state, err, rep)
		} else {
			writeRotateText(c.stdout, rep, err, *f.state)
		}
	}
	return code
}

// rotateExit reports an error on stderr and returns the exit code.
func rotateExit(c *cli, rep *rotate.Report, err error, state string) int {
	switch {
	case errors.Is(err, keyspace.ErrStopped):
		c.errorf("rotate-key: interrupted; the checkpoint is in %s: continue with `redsafe rotate-key --resume`", state)
		return exitInterrupted
	case errors.Is(err, keyspace.ErrInterruptedRun):
		c.errorf("rotate-key: %v", err)
		return 1
	case err != nil && rep != nil && rep.Mode == rotate.Rotate && rep.Scanned > 0:
		c.errorf("rotate-key: %s\nthe checkpoint in %s is at the last completed batch: continue with `redsafe rotate-key --resume` once fixed", errText(err), state)
		return 1
	case err != nil:
		c.errorf("rotate-key: %s", errText(err))
		return 1
	case rep.Mode == rotate.Check && rep.Rotated > 0, rep.Contended > 0:
		return 1
	}
	return 0
}

func writeRotateText(w io.Writer, rep *rotate.Report, err error, state string) {
	if rep.AlreadyDone {
		fmt.Fprintf(w, "the run recorded in %s had finished; nothing to resume (run without --resume for a new pass). Its counts:\n", state)
	}
	rotated, rotatedNote := "rotated", "re-sealed under the primary key; TTL and token timestamp kept"
	if rep.Mode != rotate.Rotate {
		rotated, rotatedNote = "under a previous key", "still to rotate"
	}
	row(w, "scanned", rep.Scanned, "")
	row(w, rotated, rep.Rotated, rotatedNote)
	row(w, "already current", rep.Current, "sealed with the primary key")
	row(w, "undecryptable", rep.Undecryptable, "no configured key opens them; left untouched")
	row(w, "skipped by type", rep.SkippedTypes.Total(), rep.SkippedTypes.String())
	row(w, "vanished", rep.Vanished, "deleted or expired before they were read")
	if rep.Mode == rotate.Rotate {
		row(w, "changed by writers", rep.ChangedByWriters, "a writer replaced the value first; its value was kept")
	}
	if rep.Contended > 0 {
		row(w, "contended", rep.Contended, "writers kept changing them; run again")
	}
	if !rep.AlreadyDone {
		fmt.Fprintf(w, "%.1fs, %s keys/s\n", rep.Seconds, keyspace.Thousands(int64(rep.KeysPerSecond)))
	}
	if err != nil || !rep.Complete {
		fmt.Fprintln(w, "INCOMPLETE: the walk did not reach the end")
		return
	}
	switch {
	case rep.Mode == rotate.Check && rep.Rotated > 0:
		fmt.Fprintf(w, "FAIL: %s values are still under a previous key; run `redsafe rotate-key`\n", keyspace.Thousands(rep.Rotated))
	case rep.Mode == rotate.Check:
		fmt.Fprintf(w, "OK: no value is under a previous key; the previous keys can be dropped from %s\n", redsafe.EnvEncryptionPreviousKeys)
	case rep.Mode == rotate.DryRun:
		fmt.Fprintf(w, "dry run: %s values would be rotated; nothing was written\n", keyspace.Thousands(rep.Rotated))
	case rep.Contended > 0:
		fmt.Fprintf(w, "INCOMPLETE: %s values changed under every attempt; run again\n", keyspace.Thousands(rep.Contended))
	default:
		fmt.Fprintln(w, "OK: every value is under the primary key, or opens with no key; confirm with `redsafe rotate-key --check`")
	}
}

// parseDBs parses a --db list such as "0,2".
func parseDBs(s string) ([]int, error) {
	var dbs []int
	seen := map[int]bool{}
	for _, item := range splitList(s) {
		n, err := strconv.Atoi(item)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--db %q: use database numbers, such as 0,1", s)
		}
		if !seen[n] {
			dbs, seen[n] = append(dbs, n), true
		}
	}
	if len(dbs) == 0 {
		return nil, fmt.Errorf("--db %q names no database", s)
	}
	return dbs, nil
}

func joinInts(ns []int) string {
	s := ""
	for i, n := range ns {
		if i > 0 {
			s += ","
		}
		s += strconv.Itoa(n)
	}
	return s
}

func previousIDs(keys []*seal.Key) string {
	if len(keys) == 0 {
		return ", no previous key"
	}
	s := ", previous "
	for i, k := range keys {
		if i > 0 {
			s += ","
		}
		s += k.ID()
	}
	return s
}
