package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/keyrotate"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/internal/termsafe"
	"github.com/redsafe/redsafe/seal"
)

var rotateKeyCmd = &command{
	name:    "rotate-key",
	summary: "re-encrypt every value under the new key, online and resumable",
	usage: `Usage: redsafe rotate-key [--check | --dry-run] [--resume] [--state FILE]
                         [--match PATTERN] [--count 500] [--db LIST] [--rate N]
                         [--accept-undecryptable]
                         [--env-file FILE] [--json] [--progress auto|bar|lines|none]

Re-seals every value that opens with a previous key under the primary key,
while the service keeps running. The rotation, step by step:

  1. Deploy with REDIS_ENCRYPTION_KEY=<new> and
     REDIS_ENCRYPTION_PREVIOUS_KEYS=<old>: readers accept both keys and
     new writes use the new one.
  2. Run redsafe rotate-key with the same variables.
  3. Once redsafe rotate-key --check reports no value under a previous
     key and exits 0, drop the old key from REDIS_ENCRYPTION_PREVIOUS_KEYS.

A value that no configured key opens is lost for good once the key it was
sealed with is dropped. So every mode exits 3 while any value opens with
no configured key (a wrong or missing previous key, a key from elsewhere):
find the key that opens them and add it to REDIS_ENCRYPTION_PREVIOUS_KEYS.
Only when they are meant to stay unreadable (plain text from before,
another application's values) acknowledge them with --accept-undecryptable.

It walks the database that REDIS_URL names (or each of --db) with SCAN, a
batch at a time. Each value is replaced only if it still holds the token
that was read, with WATCH/MULTI/EXEC on one connection, so it works for a
user whose ACL refuses Lua (the app user of redsafe conf). The value keeps
its remaining TTL (SET KEEPTTL) and the token keeps its original Fernet
timestamp, as Python's MultiFernet.rotate does. A writer that changes a key
in the meantime wins: its value is kept, and counted.

On a Redis Cluster it walks every master that serves slots, a SCAN each, one
transaction per hash slot, with a checkpoint cursor per master. A slot that
changes hands during the walk (a resharding, a failover) ends the run with an
error, since keys moved onto a master walked before would be missed: run it
again without --resume.

Left untouched and counted: values no configured key opens (never deleted),
values already under the primary key, and keys of other types. A previous
key equal to the primary key, or listed twice, is reported as a warning.

Through Sentinels (REDIS_URL with master_set=), it asks them for the master,
checks that the server says so itself (ROLE) before it writes, and asks them
again every 2s. After a failover symptom (connection refused or lost,
READONLY, LOADING, MASTERDOWN, a node that is not the master, or the
Sentinels naming another master) it waits up to 30s for the master they name
and resumes there, saying "master moved from A to B". A SCAN cursor means
nothing on another server, and the last writes the old master acknowledged
may not have reached the new one (replication is asynchronous), so the walk
starts again from the beginning on the new master: values rotated already
count as current and are not sealed again, and one the failover lost is
rotated again. The user also needs ROLE there.

The run keeps a checkpoint (SCAN cursor and counts, no key names) in the
state file after every batch. After a crash or Ctrl-C, --resume continues
from there. Running it again is harmless: rotated values count as current.

The user needs SCAN, TYPE, WATCH, MGET, MULTI, SET and EXEC on the keys, as
the app user of redsafe conf has; a user confined to a key pattern needs
--match with that pattern.

Exit status: 0 done; 1 an error, or values left under a previous key
(--check), or values writers kept changing (run again); 2 a usage error;
3 values open with no configured key (unless --accept-undecryptable);
130 interrupted, with the checkpoint saved.

Flags:
  --check           write nothing; exit 1 while any value is under a previous
                    key, 3 while any value opens with no configured key
  --dry-run         write nothing; count what a rotation would do
  --resume          continue the run recorded in the state file
  --state FILE      checkpoint file (default .redsafe-rotate-key.state, mode 0600)
  --match PATTERN   only keys that match (SCAN MATCH), e.g. 'session:*'
  --count N         keys per SCAN and per transaction (default 500)
  --db LIST         databases to walk, e.g. 0,1 (default: the one in REDIS_URL)
  --rate N          at most N keys per second, to protect production latency
  --env-file FILE   read the variables from FILE, over the process environment
  --json            print the report as JSON, with the exit status's verdict:
                    "ok", "undecryptable", "under-previous-key", "contended",
                    "incomplete", "error" or "interrupted"
  --progress MODE   auto (a bar on a terminal, lines otherwise), bar, lines, none
  --timeout D       bound connecting (default 5s)
  --accept-undecryptable
                    values no configured key opens do not make it exit 3: only
                    for values meant to stay unreadable; they are still counted

Examples:
  set -a; . ./.env.secure; set +a
  redsafe rotate-key --dry-run
  redsafe rotate-key --rate 5000
  redsafe rotate-key --resume
  redsafe rotate-key --check --json | jq '.rotated'
  # through Sentinels, as the app user (+role), the Sentinels as their own user:
  REDIS_URL='rediss://app@sentinel-1:26379/0?master_set=redsafe&addr=sentinel-2:26379&addr=sentinel-3:26379' \
    REDIS_SENTINEL_USERNAME=client REDIS_SENTINEL_PASSWORD_FILE=secrets/sentinel-client.password \
    redsafe rotate-key --rate 5000
`,
	run: runRotateKey,
}

const rotateStateFile = ".redsafe-rotate-key.state"

func runRotateKey(c *cli, cmd *command, args []string) int {
	f, fs := c.jobFlagSet(cmd, rotateStateFile, keyrotate.DefaultCount)
	check := fs.Bool("check", false, "")
	accept := fs.Bool("accept-undecryptable", false, "")
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
	warnings := keyWarnings(opts)
	for _, w := range warnings {
		c.errorf("rotate-key: warning [%s] %s\nfix: %s", w.ID, w.Message, w.Fix)
	}
	ctx, stop, cleanup := interrupts(context.Background(), c.stderr)
	defer cleanup()
	target, db, sealer, err := keyspace.FromOptions(ctx, opts, "redsafe-rotate-key", *f.timeout)
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
	mode := keyrotate.Rotate
	switch {
	case *check:
		mode = keyrotate.Check
	case *f.dryRun:
		mode = keyrotate.DryRun
	}
	if mode != keyrotate.Check && len(sealer.Keys()) == 1 {
		c.errorf("rotate-key: %s is empty, so there is nothing to rotate from\nfix: set it to the key(s) the values were sealed with before, the primary key to the new one", redsafe.EnvEncryptionPreviousKeys)
		return 1
	}

	// A cluster is walked master by master, each with a SCAN of its own.
	// A server that will not say whether it is one is refused: walking one
	// node of a cluster would report done while the others keep values
	// under the old key.
	cluster, err := target.Cluster()
	if err != nil {
		c.errorf("rotate-key: %s", errText(escapeReplies(err)))
		return 1
	}
	var nodes []string
	var owners string
	if cluster != nil {
		nodes, owners = cluster.Masters, cluster.Owners
	}
	if nodes != nil && (len(dbs) != 1 || dbs[0] != 0) {
		c.errorf("rotate-key: %s is a Redis Cluster node, and a cluster has database 0 only: drop --db", target.Addr)
		return 2
	}

	display := c.progress("rotate-key", *f.progress)
	cfg := keyrotate.Config{Target: target, DBs: dbs, Nodes: nodes, Owners: owners, Sealer: sealer, Match: *f.match, Count: *f.count, Rate: *f.rate,
		Mode: mode, StatePath: *f.state, Resume: *f.resume, Stop: stop,
		Progress: display.report, Note: display.note}
	if !*f.asJSON {
		where := target.Addr + " db " + joinInts(dbs)
		if target.Resolve != nil {
			where = fmt.Sprintf("the master %s of %s, db %s", target.Addr, target.Sentinels, joinInts(dbs))
		}
		if nodes != nil {
			where = fmt.Sprintf("the cluster of %s (%d masters: %s)", target.Addr, len(nodes), strings.Join(nodes, ", "))
		}
		fmt.Fprintf(c.stdout, "%s %s, primary key %s%s\n", map[keyrotate.Mode]string{keyrotate.Rotate: "rotating", keyrotate.DryRun: "dry run (nothing is written):", keyrotate.Check: "checking"}[mode],
			where, sealer.Keys()[0].ID(), previousIDs(sealer.Keys()[1:]))
	}
	rep, err := keyrotate.Run(ctx, cfg)
	display.finish()
	if err != nil {
		err = diagnose(ctx, opts, err)
	}
	code := rotateExit(c, rep, err, *f.state, *accept)
	if rep != nil {
		if *f.asJSON {
			state := *f.state
			if mode != keyrotate.Rotate {
				state = ""
			}
			writeJobJSON(c.stdout, code, state, err, rotateJSON{Report: rep, Verdict: rotateVerdict(rep, err, code),
				AcceptedUndecryptable: *accept, Warnings: warnings})
		} else {
			writeRotateText(c.stdout, rep, err, *f.state, *accept)
		}
	}
	return code
}

// exitUndecryptable is rotate-key's exit code while values open with no
// configured key: dropping the key they were sealed with would lose them.
const exitUndecryptable = 3

// rotateJSON is the --json report: the counts and the verdict the exit
// code gives.
type rotateJSON struct {
	*keyrotate.Report
	Verdict               string            `json:"verdict"`
	AcceptedUndecryptable bool              `json:"accepted_undecryptable"`
	Warnings              []redsafe.Finding `json:"warnings"`
}

// rotateVerdict names the outcome that code, from rotateExit, stands for.
func rotateVerdict(rep *keyrotate.Report, err error, code int) string {
	switch {
	case code == exitInterrupted:
		return "interrupted"
	case code == exitUndecryptable:
		return "undecryptable"
	case err != nil:
		return "error"
	case code != 0 && !rep.Complete:
		return "incomplete"
	case code != 0 && rep.Contended > 0:
		return "contended"
	case code != 0:
		return "under-previous-key"
	}
	return "ok"
}

// keyWarnings returns the configuration's warnings about its keys, such as
// a previous key equal to the primary one or listed twice: in a rotation
// they often mean that the old key is not the one configured.
func keyWarnings(opts redsafe.Options) []redsafe.Finding {
	out := []redsafe.Finding{}
	for _, f := range redsafe.Validate(opts).Warnings() {
		if strings.HasPrefix(f.ID, "encryption.") {
			out = append(out, f)
		}
	}
	return out
}

// rotateExit reports an error on stderr and returns the exit code.
func rotateExit(c *cli, rep *keyrotate.Report, err error, state string, accept bool) int {
	switch {
	case errors.Is(err, keyspace.ErrStopped):
		c.errorf("rotate-key: interrupted; the checkpoint is in %s: continue with `redsafe rotate-key --resume`", state)
		return exitInterrupted
	case errors.Is(err, keyspace.ErrInterruptedRun), errors.Is(err, keyspace.ErrSlotsMoved):
		c.errorf("rotate-key: %v", err)
		return 1
	case err != nil && rep != nil && rep.Mode == keyrotate.Rotate && rep.Scanned > 0:
		c.errorf("rotate-key: %s\nthe checkpoint in %s is at the last completed batch: continue with `redsafe rotate-key --resume` once fixed", errText(err), state)
		return 1
	case err != nil:
		c.errorf("rotate-key: %s", errText(err))
		return 1
	case rep.Undecryptable > 0 && !accept:
		return exitUndecryptable
	case rep.Mode == keyrotate.Check && rep.Rotated > 0, rep.Contended > 0:
		return 1
	}
	return 0
}

func writeRotateText(w io.Writer, rep *keyrotate.Report, err error, state string, accept bool) {
	if rep.AlreadyDone {
		fmt.Fprintf(w, "the run recorded in %s had finished; nothing to resume (run without --resume for a new pass). Its counts:\n", state)
	}
	rotated, rotatedNote := "rotated", "re-sealed under the primary key; TTL and token timestamp kept"
	if rep.Mode != keyrotate.Rotate {
		rotated, rotatedNote = "under a previous key", "still to rotate"
	}
	row(w, "scanned", rep.Scanned, "")
	row(w, rotated, rep.Rotated, rotatedNote)
	row(w, "already current", rep.Current, "sealed with the primary key")
	row(w, "undecryptable", rep.Undecryptable, "no configured key opens them; left untouched")
	row(w, "skipped by type", rep.SkippedTypes.Total(), rep.SkippedTypes.String())
	row(w, "vanished", rep.Vanished, "deleted or expired before they were read")
	if rep.Mode == keyrotate.Rotate {
		row(w, "changed by writers", rep.ChangedByWriters, "a writer replaced the value first; its value was kept")
	}
	if rep.Contended > 0 {
		row(w, "contended", rep.Contended, "writers kept changing them; run again")
	}
	if !rep.AlreadyDone {
		fmt.Fprintf(w, "%.1fs, %s keys/s\n", rep.Seconds, progress.Thousands(int64(rep.KeysPerSecond)))
	}
	writeFailovers(w, rep.Failovers)
	if err != nil || !rep.Complete {
		fmt.Fprintln(w, "INCOMPLETE: the walk did not reach the end")
		if rep.Undecryptable > 0 {
			writeUndecryptable(w, rep, accept)
		}
		return
	}
	lost := rep.Undecryptable > 0 && !accept
	if rep.Undecryptable > 0 {
		writeUndecryptable(w, rep, accept)
	}
	switch {
	case rep.Mode == keyrotate.Check && rep.Rotated > 0:
		fmt.Fprintf(w, "FAIL: %s values are still under a previous key; run `redsafe rotate-key`\n", progress.Thousands(rep.Rotated))
	case rep.Mode == keyrotate.DryRun:
		fmt.Fprintf(w, "dry run: %s values would be rotated; nothing was written\n", progress.Thousands(rep.Rotated))
	case rep.Contended > 0:
		fmt.Fprintf(w, "INCOMPLETE: %s values changed under every attempt; run again\n", progress.Thousands(rep.Contended))
	case lost:
		// writeUndecryptable has said what fails and what to do.
	case rep.Mode == keyrotate.Check && rep.Match != "":
		// A mistyped or narrow pattern checks little: say what was checked
		// rather than that the keys can go.
		fmt.Fprintf(w, "OK: none of the %s keys matching %s in %s is under a previous key; keys outside the pattern were not checked: run without --match before dropping a key from %s\n",
			progress.Thousands(rep.Scanned), termsafe.Escape(rep.Match), dbList(rep.DBs), redsafe.EnvEncryptionPreviousKeys)
	case rep.Mode == keyrotate.Check:
		fmt.Fprintf(w, "OK: none of the %s keys in %s is under a previous key; the previous keys can be dropped from %s\n",
			progress.Thousands(rep.Scanned), dbList(rep.DBs), redsafe.EnvEncryptionPreviousKeys)
	default:
		fmt.Fprintln(w, "OK: every value the configured keys open is under the primary key; confirm with `redsafe rotate-key --check`")
	}
}

// dbList names the databases a run walked: "db 0", "dbs 0, 3".
func dbList(dbs []int) string {
	parts := make([]string, len(dbs))
	for i, db := range dbs {
		parts[i] = strconv.Itoa(db)
	}
	if len(dbs) == 1 {
		return "db " + parts[0]
	}
	return "dbs " + strings.Join(parts, ", ")
}

// writeUndecryptable explains values no configured key opens: lost for
// good if the key they were sealed with is dropped.
func writeUndecryptable(w io.Writer, rep *keyrotate.Report, accept bool) {
	n, other := rep.Undecryptable, rep.UnknownKey
	what := fmt.Sprintf("%s values open with no configured key (%s Fernet tokens sealed with a key that is not configured, %s not Fernet tokens)",
		progress.Thousands(n), progress.Thousands(other), progress.Thousands(n-other))
	if accept {
		fmt.Fprintf(w, "accepted with --accept-undecryptable: %s; they were left as they are\n", what)
		return
	}
	fmt.Fprintf(w, "FAIL: %s.\n"+
		"  If they were sealed with the old key and it is dropped, they are lost for good: keep every old key until this passes.\n"+
		"  fix: find the key that opens them, add it to %s and run `redsafe rotate-key` again (with --resume after an interrupted run);\n"+
		"       if they are meant to stay unreadable (plain text from before, another application's values), run again with --accept-undecryptable\n",
		what, redsafe.EnvEncryptionPreviousKeys)
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
