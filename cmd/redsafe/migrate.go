package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/migrate"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/internal/secretfile"
)

var migrateCmd = &command{
	name:    "migrate",
	summary: "copy an insecure Redis into a secure one, encrypting every value",
	usage: `Usage: redsafe migrate --from URL [--to URL] [--from-password-file FILE]
                      [--from-ca-cert FILE] [--overwrite] [--allow-unencrypted-types]
                      [--dry-run] [--resume] [--state FILE] [--match PATTERN]
                      [--count 500] [--rate N] [--sample 100] [--env-file FILE]
                      [--json] [--progress auto|bar|lines|none]

Copies every key of the source database (--from, typically a plaintext Redis
without authentication) into the destination that --to, or REDIS_URL, names,
as the user and with the TLS settings of the REDIS_* environment, which must
meet the policy of its environment. On the way:

  - every string value is sealed with REDIS_ENCRYPTION_KEY; a value that is
    already a token of a configured key is copied, not sealed twice;
  - the TTL is kept to the millisecond: the source's absolute deadline
    (PEXPIRETIME; PTTL on Redis before 7) is set with SET PXAT;
  - a key the destination has is left alone (SET NX, atomic), unless
    --overwrite;
  - keys of other types cannot be encrypted: they are counted and listed
    (masked) and left, unless --allow-unencrypted-types copies them as they
    are with DUMP/RESTORE, which needs a destination user that may run
    RESTORE (the admin user of redsafe conf; the app user may not).

Either side may be a Redis Cluster: the URL's host is asked for the other
nodes (addr= seeds are not needed here). A cluster source is walked master by
master, a SCAN each, and a cluster destination is written through the master
of each key's slot. A cluster has database 0 only. A slot that changes hands
during the walk (a resharding, a failover) ends the run with an error, since
keys moved onto a master walked before would be missed: run it again.

The destination may be reached through Sentinels (REDIS_URL or --to with
master_set=, the Sentinels' user in REDIS_SENTINEL_*): the copy goes to the
master they name, which must say so itself (ROLE, which the user needs), and
they are asked again every 2s. After a failover symptom on the destination
(connection refused or lost, READONLY, LOADING, MASTERDOWN, a node that is
not the master, the Sentinels naming another master) it waits up to 30s for
the new master and resumes there, saying "master moved from A to B". The last
writes the old master acknowledged may not have reached the new one
(replication is asynchronous), so the copy starts again from the beginning:
SET NX finds the keys that survived in sync and writes the rest. A source
named through Sentinels is refused: give its master's address.

Each batch of the source is read in one MULTI/EXEC (on a cluster, one per
hash slot), so a value and its TTL are from the same moment. The run keeps a
checkpoint (the SCAN cursor, on a cluster the master it stands at, and
counts, no key names) in the state file after every batch; after a crash or
Ctrl-C, --resume continues from there, and keys copied just before it count
as in sync. A completed run ends with a verification: keys on both sides,
and a random sample of the values written, decrypted on the destination and
compared with the source, TTLs included.

Exit status: 0 done and verified; 1 an error or a failed verification; 2 a
usage error; 130 interrupted, with the checkpoint saved.

Flags:
  --from URL                  source: redis://[user[:password]@]host[:port][/db] or rediss://
  --from-password-file FILE   the source's password, kept off the command line
  --from-ca-cert FILE         CA bundle for a rediss:// source, over the system roots
  --to URL                    destination (default REDIS_URL)
  --overwrite                 replace keys the destination has
  --allow-unencrypted-types   copy hashes, lists, sets, ... unencrypted (DUMP/RESTORE)
  --dry-run                   read and count, write nothing
  --resume                    continue the run recorded in the state file
  --state FILE                checkpoint file (default .redsafe-migrate.state, mode 0600)
  --match PATTERN             only source keys that match (SCAN MATCH)
  --count N                   keys per batch (default 500)
  --rate N                    at most N keys per second, to protect the source
  --sample N                  values to verify at the end (default 100; 0: none)
  --env-file FILE             read the variables from FILE, over the process environment
  --json                      print the report as JSON
  --progress MODE             auto (a bar on a terminal, lines otherwise), bar, lines, none
  --timeout D                 bound connecting and its probes (default 5s); each
                              batch round trip is bound by 30s

Examples:
  set -a; . ./.env.secure; set +a
  redsafe migrate --from redis://old-cache:6379/0 --dry-run
  redsafe migrate --from redis://old-cache:6379/0 --rate 10000
  redsafe migrate --from redis://old-cache:6379/0 --resume
  REDIS_USERNAME=admin REDIS_PASSWORD="$(cat secrets/admin.password)" \
    redsafe migrate --from redis://old-cache:6379/0 --allow-unencrypted-types
  # into a Sentinel deployment, as the app user (+role):
  redsafe migrate --from redis://old-cache:6379/0 \
    --to 'rediss://app@sentinel-1:26379/0?master_set=redsafe&addr=sentinel-2:26379&addr=sentinel-3:26379'
`,
	run: runMigrate,
}

const migrateStateFile = ".redsafe-migrate.state"

func runMigrate(c *cli, cmd *command, args []string) int {
	f, fs := c.jobFlagSet(cmd, migrateStateFile, migrate.DefaultCount)
	from := fs.String("from", "", "")
	fromPasswordFile := fs.String("from-password-file", "", "")
	fromCA := fs.String("from-ca-cert", "", "")
	to := fs.String("to", "", "")
	overwrite := fs.Bool("overwrite", false, "")
	allowTypes := fs.Bool("allow-unencrypted-types", false, "")
	sample := fs.Int("sample", migrate.DefaultSample, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	err := f.check(fs)
	switch {
	case err != nil:
	case *from == "":
		err = errors.New("--from is required: the URL of the Redis to copy from")
	case *sample < 0 || *sample > 100_000:
		err = fmt.Errorf("--sample %d must be between 0 and 100000", *sample)
	}
	if err != nil {
		c.errorf("migrate: %v\nrun `redsafe help migrate` for usage", err)
		return 2
	}
	src, srcDB, err := c.migrateSource(*from, *fromPasswordFile, *fromCA)
	if err != nil {
		c.errorf("migrate: %v", err)
		return 2
	}
	opts, err := c.options(*f.envFile)
	if err != nil {
		c.errorf("migrate: %v", err)
		return 2
	}
	if *to != "" {
		opts.URL = *to
	}
	if len(opts.HashedKeyPrefixes) > 0 {
		// migrate copies each key under its own name, and seals it for
		// that name: the service would look for hashed names.
		c.errorf("migrate: REDIS_HASHED_KEY_PREFIXES is not supported: migrate copies key names as they are, and the service would look for hashed ones; migrating into a deployment with hashed key names is not supported: write those values through the library")
		return 2
	}
	ctx, stop, cleanup := interrupts(context.Background(), c.stderr)
	defer cleanup()
	dst, dstDB, sealer, err := keyspace.FromOptions(ctx, opts, "redsafe-migrate", *f.timeout)
	if err != nil {
		c.errorf("migrate: destination: %s", errText(err))
		return 1
	}
	src.DialTimeout = *f.timeout
	// Either side may be a Redis Cluster: a source is walked master by
	// master, a destination written through its slots' masters. A server
	// that will not say whether it is one is refused: copying one node of
	// a cluster would report done with the other nodes' keys left behind.
	srcCluster, err := src.Cluster()
	if err != nil {
		c.errorf("migrate: source: %s", errText(escapeReplies(err)))
		return 1
	}
	dstCluster, err := dst.Cluster()
	if err != nil {
		c.errorf("migrate: destination: %s", errText(escapeReplies(err)))
		return 1
	}
	var srcNodes, dstNodes, srcIDs, dstIDs []string
	var srcOwners string
	if srcCluster != nil {
		srcNodes, srcOwners, srcIDs = srcCluster.Masters, srcCluster.Owners, srcCluster.IDs
	}
	if dstCluster != nil {
		dstNodes, dstIDs = dstCluster.Masters, dstCluster.IDs
	}
	if srcNodes != nil && srcDB != 0 {
		c.errorf("migrate: the source %s is a Redis Cluster node, and a cluster has database 0 only: drop the /%d from --from", src.Addr, srcDB)
		return 2
	}

	display := c.progress("migrate", *f.progress)
	cfg := migrate.Config{Source: src, SourceDB: srcDB, Dest: dst, DestDB: dstDB, SourceNodes: srcNodes, DestNodes: dstNodes, SourceOwners: srcOwners, SourceIDs: srcIDs, DestIDs: dstIDs, Sealer: sealer,
		Match: *f.match, Count: *f.count, Rate: *f.rate, DryRun: *f.dryRun, Overwrite: *overwrite,
		AllowUnencryptedTypes: *allowTypes, StatePath: *f.state, Resume: *f.resume, Sample: *sample, Stop: stop,
		Progress: display.report, Note: display.note}
	if *sample == 0 {
		cfg.Sample = -1
	}
	if !*f.asJSON {
		verb := "migrating"
		if *f.dryRun {
			verb = "dry run (nothing is written):"
		}
		to := migrateSide(dst.Addr, dstDB, dstNodes)
		if dst.Resolve != nil {
			to = fmt.Sprintf("the master %s of %s, db %d", dst.Addr, dst.Sentinels, dstDB)
		}
		fmt.Fprintf(c.stdout, "%s %s -> %s, sealing with key %s\n", verb, migrateSide(src.Addr, srcDB, srcNodes), to, sealer.Keys()[0].ID())
	}
	rep, err := migrate.Run(ctx, cfg)
	display.finish()
	var dial *keyspace.DialError
	if errors.As(err, &dial) && dial.Addr == dst.Addr {
		err = diagnose(ctx, opts, err)
	}
	err = escapeReplies(err)
	code := migrateExit(c, rep, err, *f.state)
	if rep != nil {
		if *f.asJSON {
			state := *f.state
			if *f.dryRun {
				state = ""
			}
			writeJobJSON(c.stdout, code, state, err, rep)
		} else {
			writeMigrateText(c.stdout, rep, err, *f.state)
		}
	}
	return code
}

// migrateSource is the source's target: the URL, with the password from
// FILE when given, and TLS for rediss:// verified against the system roots
// and caFile.
func (c *cli) migrateSource(raw, passwordFile, caFile string) (keyspace.Target, int, error) {
	u, err := redisurl.Parse(raw)
	if err != nil {
		return keyspace.Target{}, 0, fmt.Errorf("--from: %v", err)
	}
	if u.MasterSet != "" {
		// Its credentials would be the data nodes', sent to a Sentinel.
		return keyspace.Target{}, 0, errors.New("--from names Sentinels (master_set=): migrate reads from one server or a cluster; give the master's address (SENTINEL GET-MASTER-ADDR-BY-NAME), or copy from a replica")
	}
	t := keyspace.Target{Addr: u.Addr(), Username: u.Username, Password: u.Password, Name: "redsafe-migrate"}
	if u.Password != "" {
		fmt.Fprintln(c.stderr, "redsafe: warning: --from carries a password, which other users of this machine can read in the process list; prefer --from-password-file")
	}
	if passwordFile != "" {
		if u.Password != "" {
			return t, 0, errors.New("--from carries a password and --from-password-file names another: give one")
		}
		pw, err := secretfile.ReadLine(passwordFile, secretfile.Named) // one line, owner and mode checked
		if err != nil {
			return t, 0, fmt.Errorf("--from-password-file: %v", err)
		}
		t.Password = pw
	}
	if caFile != "" && !u.TLS {
		return t, 0, errors.New("--from-ca-cert is for a rediss:// source; --from is redis:// (plaintext)")
	}
	if u.TLS {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return t, 0, fmt.Errorf("--from-ca-cert: %v", err)
			}
			if !pool.AppendCertsFromPEM(pem) {
				return t, 0, fmt.Errorf("--from-ca-cert: %s holds no PEM certificate", caFile)
			}
			// The nodes a source cluster names, beyond the one --from
			// names, must chain to this CA alone.
			t.NodeRoots = x509.NewCertPool()
			t.NodeRoots.AppendCertsFromPEM(pem)
		}
		t.TLS = &tls.Config{RootCAs: pool, ServerName: u.Host, MinVersion: tls.VersionTLS12}
	}
	return t, u.DB, nil
}

// migrateSide names one side of a run for its first line.
func migrateSide(addr string, db int, nodes []string) string {
	if nodes != nil {
		return fmt.Sprintf("the cluster of %s (%d masters)", addr, len(nodes))
	}
	return fmt.Sprintf("%s db %d", addr, db)
}

func migrateExit(c *cli, rep *migrate.Report, err error, state string) int {
	switch {
	case errors.Is(err, keyspace.ErrStopped):
		c.errorf("migrate: interrupted; the checkpoint is in %s: continue with `redsafe migrate --resume` and the same flags", state)
		return exitInterrupted
	case errors.Is(err, keyspace.ErrSlotsMoved):
		c.errorf("migrate: %v", err)
		return 1
	case err != nil && rep != nil && !rep.DryRun && rep.Scanned > 0 && !rep.Complete:
		c.errorf("migrate: %s\nthe checkpoint in %s is at the last completed batch: continue with `redsafe migrate --resume` once fixed", errText(err), state)
		return 1
	case err != nil:
		c.errorf("migrate: %s", errText(err))
		return 1
	case rep.Verification != nil && !rep.Verification.OK:
		return 1
	}
	return 0
}

func writeMigrateText(w io.Writer, rep *migrate.Report, err error, state string) {
	if rep.AlreadyDone {
		fmt.Fprintf(w, "the run recorded in %s had finished; nothing to resume (run without --resume for a new pass). Its counts:\n", state)
	}
	row(w, "scanned", rep.Scanned, "")
	row(w, "encrypted", rep.Encrypted, "sealed with the primary key; TTL kept")
	row(w, "already encrypted", rep.AlreadyEncrypted, "tokens of a configured key; copied, not sealed twice")
	if rep.Restored > 0 {
		row(w, "restored", rep.Restored, "other types, copied UNENCRYPTED (--allow-unencrypted-types)")
	}
	if rep.Overwritten > 0 {
		row(w, "overwritten", rep.Overwritten, "of those, replaced a key the destination had")
	}
	row(w, "existing", rep.Existing, "the destination has the key with other data; kept (--overwrite replaces)")
	row(w, "in sync", rep.InSync, "the destination already holds the same value")
	left := rep.Left.String()
	if len(rep.LeftExamples) > 0 {
		left += "; e.g. " + strings.Join(rep.LeftExamples, ", ")
	}
	row(w, "left", rep.Left.Total(), left)
	row(w, "expired", rep.Expired, "reached their TTL before they were copied")
	row(w, "vanished", rep.Vanished, "deleted before they were read")
	if !rep.AlreadyDone {
		fmt.Fprintf(w, "%.1fs, %s keys/s, TTLs read with %s\n", rep.Seconds, progress.Thousands(int64(rep.KeysPerSecond)), rep.TTLSource)
	}
	writeFailovers(w, rep.Failovers)
	if v := rep.Verification; v != nil {
		fmt.Fprintln(w, "verification:")
		fmt.Fprintf(w, "  keys        %s on the source, %s on the destination\n", progress.Thousands(v.SourceKeys), progress.Thousands(v.DestinationKeys))
		fmt.Fprintf(w, "  sample      %d values decrypted on the destination: %d match the source (TTL within %d ms), %d changed on the source, %d gone, %d missing, %d wrong\n",
			v.Sampled, v.Matched, v.TTLMaxDriftMs, v.ChangedOnSource, v.Gone, v.Missing, v.Mismatched)
		for _, p := range v.Problems {
			fmt.Fprintf(w, "  problem     %s\n", p)
		}
		for _, s := range v.Warnings {
			fmt.Fprintf(w, "  warning     %s\n", s)
		}
	}
	switch {
	case err != nil || !rep.Complete:
		fmt.Fprintln(w, "INCOMPLETE: the walk did not reach the end")
	case rep.AlreadyDone:
		fmt.Fprintln(w, "OK: that run had completed")
	case rep.DryRun:
		fmt.Fprintf(w, "dry run: %s keys would be written; nothing was written\n", progress.Thousands(rep.Written()))
	case rep.Verification != nil && !rep.Verification.OK:
		fmt.Fprintln(w, "FAIL: the destination does not hold what was copied")
	default:
		fmt.Fprintln(w, "OK: copied and verified")
	}
	if n := rep.Left.Total(); n > 0 && (err == nil && rep.Complete) {
		fmt.Fprintf(w, "note: keys of other types left on the source: %s; they cannot be encrypted: copy them unencrypted with --allow-unencrypted-types (as a user that may run RESTORE), or move them by hand\n", progress.Thousands(n))
	}
}
