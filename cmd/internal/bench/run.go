// Package bench is the engine of `redsafe bench`: it measures redsafe
// against plaintext values through the same client and against go-redis
// with fernet-go, on one Redis server, running the stacks in alternating
// short slices so that a noisy machine slows each of them equally.
//
// go-redis is imported here and nowhere in the library: the library's
// import graph (the root package, seal, redsafeprom) stays free of it.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/redis/rueidis"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redact"
)

// Config describes a run.
type Config struct {
	// Options say how every stack connects (address, user, TLS) and the
	// encryption key; plaintext and go-redis use the same settings.
	Options   redsafe.Options
	Sizes     []int    // value sizes in bytes
	Callers   []int    // concurrent callers
	Workloads []string // names from Workloads; empty means all
	// Cells, when given, are the cells to measure, in their order,
	// instead of every workload at every size and number of callers.
	Cells []Cell
	// Stacks are names from StackNames, each run in the workloads that
	// have it; empty means all. Plaintext always runs: it is the baseline
	// of every ratio, and its client deletes the keys of a cell.
	Stacks []string
	// Duration is the measured time of each stack in each cell (workload,
	// size, callers), made of alternating slices.
	Duration time.Duration
	// MaxSlices caps the slices Duration is split into; 0 means
	// DefaultMaxSlices. A higher cap gives a long Duration more rounds,
	// and so more paired ratios, rather than longer slices.
	MaxSlices int
	Prefix    string // of every key written; each run adds its own id
	// ServerPID, when the server is local, lets Run measure its CPU time.
	ServerPID int
	// Progress receives a line per cell; nil: none.
	Progress io.Writer
}

// Result is one stack in one cell.
type Result struct {
	Stack     string  `json:"stack"`
	Workload  string  `json:"workload"`
	Size      int     `json:"size"`
	Callers   int     `json:"callers"`
	OpsPerSec float64 `json:"ops_per_sec"`
	P50US     float64 `json:"p50_us"`
	P99US     float64 `json:"p99_us"`
	P999US    float64 `json:"p999_us"`
	// WireBytesPerOp counts TCP payload both ways, TLS records included.
	WireBytesPerOp float64 `json:"wire_bytes_per_op"`
	// ClientCPUUSPerOp is this process's CPU time per operation.
	ClientCPUUSPerOp float64 `json:"client_cpu_us_per_op"`
	// ServerCPUUSPerOp is the local redis-server's; 0 when not known.
	ServerCPUUSPerOp float64 `json:"server_cpu_us_per_op,omitempty"`
	// Slices is how many alternating slices the cell's time was split
	// into: fewer than Machine.Slices when operations were slow. A round
	// is one slice of every stack of the cell, back to back.
	Slices int `json:"slices"`
	// RatioToPlaintext is the median, over the cell's rounds, of this
	// stack's operations per second in a round over the plaintext stack's
	// in the same round (PairedRatio): 1 for plaintext itself. It is not
	// OpsPerSec over plaintext's, which a few disturbed slices can move.
	RatioToPlaintext float64 `json:"ratio_to_plaintext"`
	// RatioP25 and RatioP75 are the quartiles of those per-round ratios,
	// and Rounds their number.
	RatioP25 float64 `json:"ratio_p25"`
	RatioP75 float64 `json:"ratio_p75"`
	Rounds   int     `json:"rounds"`
	// RoundOpsPerSec is the throughput of each round, in order: what any
	// two stacks of the cell are paired by.
	RoundOpsPerSec []float64 `json:"round_ops_per_sec"`
	Ops            uint64    `json:"ops"`
	Errors         uint64    `json:"errors"`
	// FirstError describes the first failed operation, if any.
	FirstError string `json:"first_error,omitempty"`
}

// Defaults of the CLI.
var (
	DefaultSizes    = []int{100, 1024, 16384, 262144}
	DefaultCallers  = []int{1, 16, 256}
	DefaultDuration = 5 * time.Second
)

// Limits that keep a run bounded.
const (
	MaxCallers = 4096
	MaxSize    = 16 << 20
	// MaxCellBytes bounds size x callers: every caller of a stack keeps
	// at least one value in Redis (and in this process) during a cell, and
	// all the stacks of a cell together must stay well within the local
	// server's maxmemory, or evictions would turn into errors.
	MaxCellBytes = 128 << 20
	MinDuration  = 20 * time.Millisecond
	MaxDuration  = 10 * time.Minute
	// DefaultMaxSlices caps the slices of a cell unless Config.MaxSlices
	// says otherwise; MaxSlices is the most that 10 ms slices of
	// MaxDuration make.
	DefaultMaxSlices = 20
	MaxSlices        = int(MaxDuration / sliceLength)
)

// sliceLength is the shortest slice, taken when operations are fast and
// the cap on rounds allows: the shorter the slices, the closer in time the
// two measurements of a pair, so that the machine's slower swings (other
// processes, the host) hit both stacks of a round alike. With one caller
// on loopback a 10 ms slice still holds some 70 SET+GET pairs, and the
// drain at its end (the operation in flight) is about 1% of it; for
// slower operations sliceSchedule makes slices longer.
const sliceLength = 10 * time.Millisecond

// dataBudget bounds the values a stack keeps in Redis during a cell.
const dataBudget = 32 << 20

// Slices returns how many alternating slices make up d: about one every
// 10 ms, at least 1 and at most maxSlices (DefaultMaxSlices when it is 0).
func Slices(d time.Duration, maxSlices int) int {
	if maxSlices <= 0 {
		maxSlices = DefaultMaxSlices
	}
	return min(max(int((d+sliceLength/2)/sliceLength), 1), maxSlices)
}

// sliceSchedule splits a stack's measured time in a cell into n slices of
// d: as Slices says, but fewer and longer when operations are slow, so
// that a slice holds at least 20 operations of each caller at the median
// latency p50 of the warm-up. A slice ends by waiting for the operations
// in flight, at less than full concurrency; short slices of slow
// operations would be mostly that drain, and penalise the slower stacks.
func sliceSchedule(total, p50 time.Duration, maxSlices int) (n int, d time.Duration) {
	n = Slices(total, maxSlices)
	if p50 > 0 {
		n = min(n, max(int(total/(20*p50)), 1))
	}
	return n, total / time.Duration(n)
}

// warmup is the unmeasured run of each stack before a cell: connections
// are made and pools grown.
func warmup(d time.Duration) time.Duration {
	return min(max(d/4, 20*time.Millisecond), 500*time.Millisecond)
}

// Estimate is how long Run will take, roughly.
func (c Config) Estimate() time.Duration {
	var total time.Duration
	cells, _ := c.cells()
	for _, cell := range cells {
		total += time.Duration(len(c.stacksOf(cell))) * (c.Duration + warmup(c.Duration) + 50*time.Millisecond)
	}
	return total
}

// stacksOf are the stacks of the cell's workload that the run measures,
// plaintext first: the cell's own, or else Config.Stacks.
func (c Config) stacksOf(cell Cell) []string {
	w := lookupWorkload(cell.Workload)
	if w == nil {
		return nil
	}
	names := c.Stacks
	if len(cell.Stacks) > 0 {
		names = cell.Stacks
	}
	if len(names) == 0 {
		return w.stacks
	}
	var out []string
	for _, name := range w.stacks {
		if name == StackPlaintext || slices.Contains(names, name) {
			out = append(out, name)
		}
	}
	return out
}

// cells are Config.Cells, checked, or else every workload at every size
// and number of callers.
func (c Config) cells() ([]Cell, error) {
	if len(c.Cells) > 0 {
		return c.Cells, checkCells(c.Cells)
	}
	wls, err := c.workloads()
	if err != nil {
		return nil, err
	}
	var out []Cell
	for _, w := range wls {
		for _, size := range c.Sizes {
			for _, callers := range c.Callers {
				out = append(out, Cell{Workload: w.name, Size: size, Callers: callers})
			}
		}
	}
	return out, nil
}

// CheckStacks refuses a name that is not one of StackNames.
func CheckStacks(names []string) error {
	for _, name := range names {
		if !slices.Contains(StackNames(), name) {
			return fmt.Errorf("unknown stack %q; choose from %s", name, strings.Join(StackNames(), ", "))
		}
	}
	return nil
}

func (c Config) workloads() ([]*workload, error) {
	if len(c.Workloads) == 0 {
		return workloads, nil
	}
	var out []*workload
	for _, name := range c.Workloads {
		w := lookupWorkload(name)
		if w == nil {
			return nil, fmt.Errorf("unknown workload %q; choose from %s", name, strings.Join(WorkloadNames(), ", "))
		}
		out = append(out, w)
	}
	return out, nil
}

// Run measures every cell and returns a Result per stack and cell.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	cells, err := cfg.cells()
	if err != nil {
		return nil, err
	}
	if err := CheckStacks(cfg.Stacks); err != nil {
		return nil, err
	}
	r, err := newRunner(cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	var results []Result
	for n, c := range cells {
		rs, err := r.cell(ctx, c)
		if err != nil {
			return results, fmt.Errorf("%s, %s, %d callers: %w", c.Workload, SizeName(c.Size), c.Callers, err)
		}
		r.progress(n+1, len(cells), rs)
		results = append(results, rs...)
	}
	return results, nil
}

type runner struct {
	cfg      Config
	conn     *redsafe.Connection
	wire     *wire
	runID    string
	server   *procCPU
	noteOnce sync.Once // the note that a stack is left out

	modeOnce sync.Once // isCluster
	cluster  bool
	modeErr  error
}

func newRunner(cfg Config) (*runner, error) {
	conn, err := cfg.Options.Connection()
	if err != nil {
		return nil, err
	}
	var id [3]byte
	rand.Read(id[:])
	r := &runner{cfg: cfg, conn: conn, wire: &wire{}, runID: hex.EncodeToString(id[:])}
	if cfg.ServerPID > 0 {
		r.server = &procCPU{pid: cfg.ServerPID}
	}
	// Every connection the redsafe stacks dial is counted too, below TLS.
	r.cfg.Options.Dial = r.wire.dial(cfg.Options.Dial)
	return r, nil
}

func (r *runner) close() {}

// isCluster reports whether the deployment is a Redis Cluster, as a client
// configured as the library's finds out; asked once a run.
func (r *runner) isCluster() (bool, error) {
	r.modeOnce.Do(func() {
		var p *plaintextStack
		if p, r.modeErr = newPlaintext(r.conn, r.wire); r.modeErr == nil {
			r.cluster = p.cluster()
			p.close()
		}
	})
	return r.cluster, r.modeErr
}

// open connects the stacks of a cell. Each cell has new clients, so that
// no cell inherits another's connections, pools or modes (rueidis moves
// to background pipelining for good once it has seen concurrent callers).
func (r *runner) open(ctx context.Context, names []string) ([]stack, error) {
	var sts []stack
	cluster, err := r.isCluster()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", StackPlaintext, redact.WithoutSecrets(err, r.conn.Password))
	}
	for _, name := range names {
		var s stack
		switch name {
		case StackPlaintext:
			s, err = newPlaintext(r.conn, r.wire)
		case StackRedsafe, StackSealed, StackLocalCache:
			s, err = newRedsafe(ctx, r.cfg.Options, name)
		case StackGoRedis:
			if cluster {
				// go-redis's ClusterClient asks COMMAND for every
				// command's routing until it gets an answer, which the
				// app user may not run (ACL): measured so, it says
				// nothing about encryption.
				r.noteOnce.Do(func() {
					if r.cfg.Progress != nil {
						fmt.Fprintln(r.cfg.Progress, "bench: go-redis+fernet-go is left out on a Redis Cluster: its ClusterClient needs COMMAND, which the app user may not run")
					}
				})
				continue
			}
			s, err = newGoRedis(r.conn, r.wire)
		default:
			err = fmt.Errorf("unknown stack %q", name)
		}
		if err != nil {
			for _, s := range sts {
				s.close()
			}
			return nil, fmt.Errorf("%s: %w", name, redact.WithoutSecrets(err, r.conn.Password))
		}
		sts = append(sts, s)
	}
	return sts, nil
}

// cell measures one workload at one size and number of callers, for each
// of its stacks, in alternation.
func (r *runner) cell(ctx context.Context, c Cell) ([]Result, error) {
	w, size, callers := lookupWorkload(c.Workload), c.Size, c.Callers
	sts, err := r.open(ctx, r.cfg.stacksOf(c))
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, s := range sts {
			s.close()
		}
	}()
	plan := w.plan(size, callers)
	var slowest time.Duration // the largest median latency of a warm-up
	states := make([][]*caller, len(sts))
	defer r.cleanup(sts, states)
	for i, st := range sts {
		states[i] = r.callers(st, w, plan, size, callers)
		if err := w.prepare(ctx, st, states[i], plan); err != nil {
			return nil, fmt.Errorf("%s: preparing the keys: %w", st.name(), err)
		}
		if _, err := r.slice(ctx, st, w, states[i], warmup(r.cfg.Duration)); err != nil {
			return nil, err
		}
		var h histogram
		for _, c := range states[i] {
			h.merge(&c.hist)
			c.reset()
		}
		slowest = max(slowest, h.quantile(0.5))
	}
	acc := make([]accum, len(sts))
	n, d := sliceSchedule(r.cfg.Duration, slowest, r.cfg.MaxSlices)
	for round := range n {
		for k := range sts {
			i := (round + k) % len(sts) // each stack leads in turn
			s, err := r.slice(ctx, sts[i], w, states[i], d)
			if err != nil {
				return nil, err
			}
			acc[i].add(s)
		}
	}
	results := make([]Result, len(sts))
	for i, st := range sts {
		results[i] = acc[i].result(st.name(), w.name, size, callers, states[i])
		if results[i].FirstError != "" {
			// A server may quote AUTH's arguments in its error replies.
			results[i].FirstError = redact.WithoutSecrets(errors.New(results[i].FirstError), r.conn.Password).Error()
		}
		results[i].Slices = n
	}
	pairWithPlaintext(results)
	return results, nil
}

// slice runs every caller of one stack for d.
func (r *runner) slice(ctx context.Context, st stack, w *workload, cs []*caller, d time.Duration) (sliceResult, error) {
	if err := ctx.Err(); err != nil {
		return sliceResult{}, err
	}
	// One deadline for every operation of every stack, so that none of
	// them pays for a context of its own (redsafe would add one).
	opCtx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	before := sliceResult{bytes: r.wire.total(), cpu: processCPU(), serverCPU: r.server.load()}
	var ops0, errs0 uint64
	for _, c := range cs {
		ops0, errs0 = ops0+c.ops, errs0+c.errs
	}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(opCtx, st, w, deadline)
		}()
	}
	wg.Wait()
	s := sliceResult{
		elapsed:   time.Since(start),
		bytes:     r.wire.total() - before.bytes,
		cpu:       processCPU() - before.cpu,
		serverCPU: r.server.load() - before.serverCPU,
	}
	for _, c := range cs {
		s.ops += c.ops
		s.errs += c.errs
	}
	s.ops -= ops0
	s.errs -= errs0
	if err := ctx.Err(); err != nil {
		return s, err
	}
	if s.ops == 0 && s.errs > 0 {
		return s, fmt.Errorf("%s: every operation failed: %v", st.name(), redact.WithoutSecrets(firstError(cs), r.conn.Password))
	}
	return s, nil
}

type sliceResult struct {
	elapsed        time.Duration
	ops, errs      uint64
	bytes          uint64
	cpu, serverCPU time.Duration
}

// opsPerSec is the slice's throughput.
func (s sliceResult) opsPerSec() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.ops) / s.elapsed.Seconds()
}

// accum sums a stack's slices in a cell, and keeps each one's throughput:
// the rounds its ratios to the other stacks are paired by.
type accum struct {
	sliceResult
	rounds []float64
}

func (a *accum) add(s sliceResult) {
	a.rounds = append(a.rounds, s.opsPerSec())
	a.elapsed += s.elapsed
	a.ops += s.ops
	a.errs += s.errs
	a.bytes += s.bytes
	a.cpu += s.cpu
	a.serverCPU += s.serverCPU
}

func (a *accum) result(stack, workload string, size, callers int, cs []*caller) Result {
	var h histogram
	for _, c := range cs {
		h.merge(&c.hist)
	}
	res := Result{Stack: stack, Workload: workload, Size: size, Callers: callers, Ops: a.ops, Errors: a.errs,
		OpsPerSec: a.opsPerSec(), RoundOpsPerSec: a.rounds}
	res.P50US = us(h.quantile(0.50))
	res.P99US = us(h.quantile(0.99))
	res.P999US = us(h.quantile(0.999))
	if a.ops > 0 {
		res.WireBytesPerOp = float64(a.bytes) / float64(a.ops)
		res.ClientCPUUSPerOp = us(a.cpu) / float64(a.ops)
		res.ServerCPUUSPerOp = us(a.serverCPU) / float64(a.ops)
	}
	if err := firstError(cs); err != nil {
		res.FirstError = err.Error()
	}
	return res
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func firstError(cs []*caller) error {
	for _, c := range cs {
		if c.firstErr != nil {
			return c.firstErr
		}
	}
	return nil
}

// cleanup deletes every key a cell wrote, through its plaintext client.
func (r *runner) cleanup(sts []stack, states [][]*caller) {
	var keys []string
	seen := map[string]bool{}
	for _, cs := range states {
		for _, c := range cs {
			for _, k := range c.keys {
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	var p *plaintextStack
	for _, s := range sts {
		if ps, ok := s.(*plaintextStack); ok {
			p = ps
		}
	}
	if p == nil || len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One DEL a key: a cluster refuses a DEL across slots.
	for chunk := range slices.Chunk(keys, 256) {
		cmds := make(rueidis.Commands, len(chunk))
		for i, k := range chunk {
			cmds[i] = p.c.B().Del().Key(k).Build()
		}
		p.c.DoMulti(ctx, cmds...)
	}
}

func (r *runner) progress(n, total int, rs []Result) {
	if r.cfg.Progress == nil || len(rs) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "bench: [%d/%d] %-7s %-8s %3d callers:", n, total, rs[0].Workload, SizeName(rs[0].Size), rs[0].Callers)
	for i, res := range rs {
		if i > 0 {
			b.WriteString(" ·")
		}
		fmt.Fprintf(&b, " %s %s ops/s", res.Stack, FormatCount(res.OpsPerSec))
		if res.Stack != StackPlaintext && res.RatioToPlaintext > 0 {
			fmt.Fprintf(&b, " (%.2fx)", res.RatioToPlaintext)
		}
		if res.Errors > 0 {
			fmt.Fprintf(&b, " [%d errors: %s]", res.Errors, res.FirstError)
		}
	}
	fmt.Fprintln(r.cfg.Progress, b.String())
}

// SizeName is "100 B", "1 KiB", "256 KiB".
func SizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// FormatCount writes n with thousands separators: 43,612.
func FormatCount(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}

// dial returns an Options.Dial that counts the bytes of each connection
// next, or a net.Dialer when next is nil, opens.
func (w *wire) dial(next func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if next == nil {
		var d net.Dialer
		next = d.DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return w.wrap(conn), nil
	}
}
