package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/bench"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisurl"
	"github.com/redsafe/redsafe/internal/secretfile"
)

var benchCmd = &command{
	name:    "bench",
	summary: "measure the cost of encryption: redsafe (Fernet and sealed) against plaintext and go-redis+fernet-go",
	usage: `Usage: redsafe bench [--local] [--env-file FILE] [--sizes 100,1024,16384,262144]
                    [--callers 1,16,256] [--workloads setget,get90,batch,hotget]
                    [--stacks redsafe,redsafe-sealed,...] [--cells LIST]
                    [--duration 5s] [--max-slices 20] [--handshakes 30]
                    [--json] [--plot FILE.png]

Measures, on one Redis server, side by side in one process:

  plaintext           plaintext values through rueidis, configured as redsafe
                      configures it: the baseline
  redsafe             the library: every value sealed with Fernet, the default
  redsafe-sealed      the library with the sealed format (ValueFormat sealed,
                      docs/FORMAT.md), compression off
  redsafe+localcache  the library with Options.LocalCache (hotget only)
  go-redis+fernet-go  go-redis with fernet-go, the stack a Go team would
                      assemble by hand

for every workload, value size and number of concurrent callers (a cell):

  setget   SET then GET of the same key, in turn
  get90    9 GETs to 1 SET over each caller's own keys
  batch    SetMany then GetMany of up to 16 keys (a key is an operation)
  hotget   GETs of 8 hot keys shared by every caller

The stacks of a cell run in alternation, in rounds of one slice each, up
to 20 rounds (--max-slices) of slices of at least 10 ms (fewer, longer ones
when operations are slow), each stack leading in turn, so that a noisy
machine slows each of them equally; --duration is each stack's measured
time per cell. A failed operation makes the exit status 1, after the
results are printed. For each it reports operations per second, p50, p99
and p99.9 latency, bytes on the wire per operation (TLS included), this
process's CPU time per operation, and the ratio to plaintext: the median,
over the rounds, of the stack's operations per second in a round over
plaintext's in the same round, with its quartiles (the JSON has each
round's throughput). Then the cost of a new connection (connect, TLS
handshake, AUTH, PING): median and p90, full and resumed TLS session.

Without --local it uses the deployment the REDIS_* environment describes
(the environment contract), as that user; keys are written under --prefix
with a 10-minute expiry and deleted after each cell. With --local it starts
a TLS-only redis-server on 127.0.0.1, configured as redsafe up configures a
production one, with an ECDSA P-256 certificate, and a second one with
RSA 4096 for the handshake comparison; both are stopped at the end, on an
error and on Ctrl-C.

The redsafe stacks use the format their name says, whatever
REDIS_ENCRYPTION_FORMAT and REDIS_ENCRYPTION_COMPRESSION are set to.

Progress goes to stderr. A run takes about
  sizes x callers x stacks of every workload x (duration + warm-up),
4 x 3 x 17 x 5.5 s, about 19 minutes, with the defaults; narrow it with
the flags (with --cells: the stacks of every cell x (duration + warm-up)).

Flags:
  --local            start and stop a local redis-server for the run
  --env-file FILE    read the REDIS_* variables from FILE (without --local)
  --sizes LIST       value sizes in bytes (default 100,1024,16384,262144)
  --callers LIST     concurrent callers (default 1,16,256; at most 4096)
  --workloads LIST   workloads to run (default all)
  --stacks LIST      stacks to run in the workloads that have them (default
                     all); plaintext, the baseline, always runs
  --cells LIST       measure only these cells, in this order, instead of
                     every workload x size x callers: each is
                     WORKLOAD:SIZE:CALLERS, SIZE in bytes, optionally with
                     :STACK/STACK... to run instead of --stacks; excludes
                     --sizes, --callers and --workloads
  --duration D       measured time per stack per cell (default 5s)
  --max-slices N     most rounds per cell (default 20, at most 60000): a
                     longer --duration with a higher cap gives more
                     rounds of slices as short as 10 ms rather than
                     longer slices
  --handshakes N     connections per handshake measurement (default 30; 0: none)
  --prefix P         prefix of the keys written (default redsafe-bench:)
  --json             print the results as JSON instead of a table
  --plot FILE        also draw throughput against callers as a PNG

Examples:
  redsafe bench --local
  redsafe bench --local --sizes 1024 --callers 1,256 --duration 2s --plot bench.png
  redsafe bench --local --stacks redsafe,redsafe-sealed --workloads setget
  redsafe bench --local --cells setget:1024:1,setget:262144:16:redsafe-sealed --duration 8s --max-slices 80
  set -a; . ./.redsafe/.env.secure; set +a; redsafe bench --workloads setget --json
`,
	run: runBench,
}

func runBench(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	local := fs.Bool("local", false, "")
	envFile := fs.String("env-file", "", "")
	sizesFlag := fs.String("sizes", intList(bench.DefaultSizes), "")
	callersFlag := fs.String("callers", intList(bench.DefaultCallers), "")
	workloadsFlag := fs.String("workloads", strings.Join(bench.WorkloadNames(), ","), "")
	stacksFlag := fs.String("stacks", strings.Join(bench.StackNames(), ","), "")
	cellsFlag := fs.String("cells", "", "")
	duration := fs.Duration("duration", bench.DefaultDuration, "")
	maxSlices := fs.Int("max-slices", bench.DefaultMaxSlices, "")
	handshakes := fs.Int("handshakes", 30, "")
	prefix := fs.String("prefix", "redsafe-bench:", "")
	asJSON := fs.Bool("json", false, "")
	plot := fs.String("plot", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	cfg := bench.Config{Duration: *duration, MaxSlices: *maxSlices, Prefix: *prefix, Workloads: splitList(*workloadsFlag), Stacks: splitList(*stacksFlag), Progress: c.stderr}
	var err error
	if *cellsFlag != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["sizes"] || set["callers"] || set["workloads"] {
			c.errorf("bench: --cells excludes --sizes, --callers and --workloads: each cell names its own")
			return 2
		}
		if cfg.Cells, err = bench.ParseCells(*cellsFlag); err != nil {
			c.errorf("bench: --cells: %v", err)
			return 2
		}
	}
	if cfg.Sizes, err = parseInts(*sizesFlag, 1, bench.MaxSize); err != nil {
		c.errorf("bench: --sizes: %v", err)
		return 2
	}
	if cfg.Callers, err = parseInts(*callersFlag, 1, bench.MaxCallers); err != nil {
		c.errorf("bench: --callers: %v", err)
		return 2
	}
	switch {
	case *duration < bench.MinDuration || *duration > bench.MaxDuration:
		c.errorf("bench: --duration %v must be between %v and %v", *duration, bench.MinDuration, bench.MaxDuration)
		return 2
	case *maxSlices < 1 || *maxSlices > bench.MaxSlices:
		c.errorf("bench: --max-slices %d must be between 1 and %d", *maxSlices, bench.MaxSlices)
		return 2
	case *handshakes < 0 || *handshakes > bench.MaxHandshakes:
		c.errorf("bench: --handshakes %d must be between 0 and %d", *handshakes, bench.MaxHandshakes)
		return 2
	case *local && *envFile != "":
		c.errorf("bench: --local and --env-file exclude each other: --local starts its own server")
		return 2
	case strings.ContainsAny(*prefix, " \t\r\n"):
		c.errorf("bench: --prefix must not contain spaces")
		return 2
	}
	for _, w := range cfg.Workloads {
		if !slices.Contains(bench.WorkloadNames(), w) {
			c.errorf("bench: unknown workload %q; choose from %s", w, strings.Join(bench.WorkloadNames(), ", "))
			return 2
		}
	}
	if len(cfg.Stacks) == 0 {
		c.errorf("bench: --stacks: give at least one of %s", strings.Join(bench.StackNames(), ", "))
		return 2
	}
	if err := bench.CheckStacks(cfg.Stacks); err != nil {
		c.errorf("bench: --stacks: %v", err)
		return 2
	}
	// The cells of --cells are checked by ParseCells, each on its own.
	if size, callers := slices.Max(cfg.Sizes), slices.Max(cfg.Callers); cfg.Cells == nil {
		if err := bench.CheckCellBytes(size, callers); err != nil {
			c.errorf("bench: --sizes %d with --callers %d %v", size, callers, err)
			return 2
		}
	}

	// The chart's file is created first, so that a path that cannot be
	// written fails now rather than after a long run.
	var plotFile *os.File
	if *plot != "" {
		// 0644, overwritten if it exists, never through a link planted there.
		f, err := secretfile.OpenOutput(*plot)
		if err != nil {
			c.errorf("bench: --plot: %v", err)
			return 2
		}
		defer f.Close()
		plotFile = f
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	rep, err := c.bench(ctx, cfg, *local, *envFile, *handshakes)
	if err != nil {
		if ctx.Err() != nil {
			c.errorf("bench: interrupted")
			return 130
		}
		c.errorf("bench: %v", err)
		return 1
	}
	if plotFile != nil {
		if err := writePlot(rep, plotFile); err != nil {
			c.errorf("bench: --plot: %v", err)
			return 1
		}
	}
	if *asJSON {
		rep.WriteJSON(c.stdout)
	} else {
		rep.WriteTable(c.stdout)
	}
	// Failed operations make every figure of their cell suspect: the
	// results are printed, and the exit status says so.
	if failed, cells, first := rep.Failures(); failed > 0 {
		c.errorf("bench: %d operations failed, in %d cells; the first: %s", failed, cells, first)
		return 1
	}
	return 0
}

// writePlot writes the chart and closes f, reporting the first error of
// either: a full disk or a failed close must not pass for a written chart.
func writePlot(rep bench.Report, f *os.File) error {
	err := rep.WritePNG(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// bench runs the measurements against the environment's deployment or a
// local server, which it always stops before it returns.
func (c *cli) bench(ctx context.Context, cfg bench.Config, local bool, envFile string, handshakes int) (bench.Report, error) {
	rep := bench.Report{Machine: bench.DescribeMachine()}
	rep.Machine.Duration = cfg.Duration.String()
	rep.Machine.Slices = bench.Slices(cfg.Duration, cfg.MaxSlices)
	logger := quietLogger()
	var targets []bench.HandshakeTarget
	var rsaDir string
	if local {
		dir, err := os.MkdirTemp("", "redsafe-bench-")
		if err != nil {
			return rep, err
		}
		defer os.RemoveAll(dir)
		fmt.Fprintln(c.stderr, "bench: starting a TLS-only redis-server on 127.0.0.1 (ECDSA P-256 certificate)")
		srv, err := bench.StartLocal(ctx, dir, certs.ECDSAP256)
		defer srv.Stop()
		if err != nil {
			return rep, fmt.Errorf("starting the local redis-server: %w", err)
		}
		cfg.Options, cfg.ServerPID = srv.Options(), srv.Pid()
		rep.Machine.Server = "local redis-server on " + srv.Addr + ", started and stopped by redsafe bench"
		targets = append(targets, bench.HandshakeTarget{Options: srv.Options(), Cert: string(certs.ECDSAP256)})
		rsaDir = filepath.Join(dir, "rsa")
	} else {
		opts, err := c.options(envFile)
		if err != nil {
			return rep, err
		}
		cfg.Options = opts
		if _, err := opts.Connection(); err != nil {
			return rep, err
		}
		rep.Machine.Server = redisurl.Redact(opts.URL)
		targets = append(targets, bench.HandshakeTarget{Options: opts})
	}
	cfg.Options.Logger = logger
	rep.Machine.Redis = bench.ServerVersion(cfg.Options)
	fmt.Fprintf(c.stderr, "bench: %s; about %s\n", rep.Machine.Server, cfg.Estimate().Round(time.Second))
	results, err := bench.Run(ctx, cfg)
	rep.Results = results
	if err != nil {
		return rep, err
	}
	if handshakes == 0 {
		return rep, nil
	}
	if rsaDir != "" {
		fmt.Fprintln(c.stderr, "bench: starting a second redis-server with an RSA 4096 certificate, for the handshakes")
		if err := os.Mkdir(rsaDir, 0o700); err != nil {
			return rep, err
		}
		srv, err := bench.StartLocal(ctx, rsaDir, certs.RSA4096)
		defer srv.Stop()
		if err != nil {
			return rep, fmt.Errorf("starting the RSA redis-server: %w", err)
		}
		targets = append(targets, bench.HandshakeTarget{Options: srv.Options(), Cert: string(certs.RSA4096)})
	}
	for _, t := range targets {
		fmt.Fprintf(c.stderr, "bench: %d new connections each, full and resumed TLS handshakes\n", handshakes)
		hs, err := bench.MeasureHandshakes(ctx, t, handshakes)
		rep.Handshake = append(rep.Handshake, hs...)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// parseInts parses a comma-separated list of integers in [lo, hi].
func parseInts(s string, lo, hi int) ([]int, error) {
	var out []int
	for _, item := range splitList(s) {
		n, err := strconv.Atoi(item)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", item)
		}
		if n < lo || n > hi {
			return nil, fmt.Errorf("%d is outside %d to %d", n, lo, hi)
		}
		if slices.Contains(out, n) {
			return nil, fmt.Errorf("%d appears twice", n)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("give at least one number")
	}
	return out, nil
}

func intList(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}
