package redsafe

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/hostile"
	"github.com/redsafe/redsafe/internal/resp"
)

// peakMemoryBound is the most a client may hold, as peak resident memory
// of the whole child process, against a hostile server whose claims the
// limits refuse: measured 17-20 MiB, 43-56 MiB under -race. Without the guard the nesting attacks
// overflow the stack (about 1 GB), the endless line and the huge array
// take gigabytes.
const peakMemoryBound = 100 << 20

// hostileCase is one hostile server and what the client must end with.
type hostileCase struct {
	name    string
	attack  hostile.Attack
	only    string // "open" or "get" when the case makes sense for one phase only
	limit   string // the ReplyError's Limit; "" for a timeout
	message string // in the error's text
	// maxReplyBytes is Options.MaxReplyBytes (0: the default), and bound
	// the peak memory allowed (0: peakMemoryBound).
	maxReplyBytes, bound int64
}

var hostileCases = []hostileCase{
	{"nesting", hostile.Nesting, "", ReplyLimitDepth, "reply nests deeper than 64 levels", 0, 0},
	{"push nesting", hostile.PushNesting, "", ReplyLimitDepth, "reply nests deeper than 64 levels", 0, 0},
	{"map nesting", hostile.MapNesting, "", ReplyLimitDepth, "reply nests deeper than 64 levels", 0, 0},
	{"endless line", hostile.EndlessLine, "", ReplyLimitLine, "reply line longer than 65536 bytes", 0, 0},
	{"huge array", hostile.HugeArray, "", ReplyLimitAggregate, "reply aggregate claims more than 524288 elements", 0, 0},
	{"oversized bulk", hostile.OversizedBulk, "", ReplyLimitBulk, "reply string longer than 536870912 bytes", 0, 0},
	// A claim Redis itself could make (512 MiB) is allowed by default, and
	// rueidis allocates the whole string at its header: the process may
	// hold that much (measured up to 568 MiB once the runtime had to zero
	// the memory), which is what MaxReplyBytes bounds. Lowered, the same
	// claim is refused at its header.
	{"huge bulk", hostile.HugeBulk, "", "", "deadline exceeded", 0, 512<<20 + peakMemoryBound},
	{"huge bulk, MaxReplyBytes 16 MiB", hostile.HugeBulk, "", ReplyLimitBulk, "reply string longer than 16777216 bytes", 16 << 20, 0},
	{"slow drip", hostile.SlowDrip, "open", "", "deadline exceeded", 0, 0}, // the nil a GET gets is 3 bytes
	{"slow value", dripValue, "get", "", "deadline exceeded", 0, 0},
}

// dripValue sends a 64-byte value one byte every 200 ms: longer than the
// 3 bytes of the nil a GET gets from SlowDrip.
func dripValue(s *hostile.Stream) {
	for _, b := range []byte("$64\r\n" + strings.Repeat("v", 64) + "\r\n") {
		if _, err := s.Write([]byte{b}); err != nil || s.Sleep(200*time.Millisecond) != nil {
			return
		}
	}
}

// childEnv names the scenario a re-executed test binary runs.
const childEnv = "REDSAFE_HOSTILE_CHILD"

// childScenario is what the parent tells the child.
type childScenario struct {
	Addr, CAFile  string
	Get           bool // Open must succeed, then Get meets the attack
	Again         bool // then Get again, after a pause
	Callers       int  // then Get from this many goroutines at once, until one fails (rueidis reads in its background goroutine)
	MaxReplyBytes int64
}

// childResult is what the child reports.
type childResult struct {
	OpenErr, GetErr       string
	AgainErr              string
	Refused, Connect      bool // errors.Is(err, ErrReplyRefused); the error is a *ConnectError
	Limit                 string
	Class                 ErrorClass
	Elapsed               time.Duration
	PeakRSS               int64 // bytes: VmHWM, or 0 where /proc is missing
	ObservedReplyRefusals []string
}

// TestHostileServers: against each attack, Open (hostile from the first
// reply) and Get (hostile after the handshake) end within their timeouts
// with a *ReplyError naming the limit, or a timeout for the slow attacks,
// and the client's peak memory stays under peakMemoryBound. Each scenario
// runs in a child process, so that its peak memory is its own and a
// failure (a stack overflow) cannot take the test binary down.
func TestHostileServers(t *testing.T) {
	t.Parallel()
	for _, tc := range hostileCases {
		for _, get := range []bool{false, true} {
			if tc.only == "open" && get || tc.only == "get" && !get {
				continue
			}
			name, attack := tc.name+"/open", tc.attack
			if get {
				// Every connection: rueidis retries a GET on a new one.
				name, attack = tc.name+"/get", hostile.OnCommand("GET", tc.attack)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				s := hostile.Start(t, hostile.Config{Attack: attack})
				res, rss := runChild(t, childScenario{Addr: s.Addr, CAFile: s.CAFile, Get: get, MaxReplyBytes: tc.maxReplyBytes})
				errText := res.OpenErr
				if get {
					if res.OpenErr != "" {
						t.Fatalf("Open failed during the handshake: %s", res.OpenErr)
					}
					errText = res.GetErr
				}
				switch {
				case errText == "":
					t.Fatal("no error")
				case s.Attacked() == 0:
					t.Fatalf("the server never attacked; it read %q", s.Commands())
				case !strings.Contains(errText, tc.message):
					t.Errorf("error %q does not say %q", errText, tc.message)
				case tc.limit != "" && (!res.Refused || res.Limit != tc.limit || res.Class != ClassProtocol):
					t.Errorf("error %q: ErrReplyRefused %v, limit %q, class %q; want limit %q, class protocol", errText, res.Refused, res.Limit, res.Class, tc.limit)
				case tc.limit != "" && !slicesContain(res.ObservedReplyRefusals, tc.limit):
					t.Errorf("the Observer saw refusals %q, want %q", res.ObservedReplyRefusals, tc.limit)
				case tc.limit == "" && res.Class != ClassTimeout:
					t.Errorf("error %q is of class %q, want timeout", errText, res.Class)
				case !get && !res.Connect:
					t.Errorf("Open's error %q is not a *ConnectError", errText)
				}
				bound := cmp.Or(tc.bound, peakMemoryBound)
				if rss > bound {
					t.Errorf("peak memory %d MiB, over the bound of %d MiB", rss>>20, bound>>20)
				}
				t.Logf("%s in %v, peak memory %d MiB", errText, res.Elapsed.Round(time.Millisecond), rss>>20)
			})
		}
	}
}

func slicesContain(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// runChild re-executes the test binary for one scenario and returns its
// result and its peak resident memory in bytes: the child's VmHWM, or,
// when it could not report it, the wait status's Maxrss, an upper bound.
func runChild(t *testing.T, sc childScenario) (childResult, int64) {
	t.Helper()
	spec, _ := json.Marshal(sc)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHostileChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var rss int64
	if cmd.ProcessState != nil {
		rss = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
	}
	if err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[:1000] + "\n…\n" + tail[len(tail)-1000:]
		}
		t.Fatalf("child: %v (peak memory %d MiB)\n%s", err, rss>>20, tail)
	}
	_, line, ok := strings.Cut(out.String(), "RESULT ")
	if !ok {
		t.Fatalf("child reported nothing:\n%s", out.String())
	}
	line, _, _ = strings.Cut(line, "\n")
	var res childResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("child result %q: %v", line, err)
	}
	if res.PeakRSS > 0 {
		rss = res.PeakRSS // the child's own; Maxrss also counts the parent's
	}
	return res, rss
}

// refusalRecorder is an Observer that records ReplyRefused calls.
type refusalRecorder struct {
	NopObserver
	limits chan string
}

func (r *refusalRecorder) ReplyRefused(limit string) {
	select {
	case r.limits <- limit:
	default:
	}
}

// TestHostileChild is the child of TestHostileServers; it does nothing
// unless re-executed by it.
func TestHostileChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("run by TestHostileServers")
	}
	// A guard that failed must not take the shared machine's memory with
	// it: a smaller stack limit than Go's 1 GB, and a watchdog.
	debug.SetMaxStack(256 << 20)
	go func() {
		for range time.Tick(10 * time.Millisecond) {
			if peakRSS() > 1<<30 {
				fmt.Println("child: over 1 GiB of memory, stopped")
				os.Exit(3)
			}
		}
	}()
	var sc childScenario
	if err := json.Unmarshal([]byte(spec), &sc); err != nil {
		t.Fatal(err)
	}
	rec := &refusalRecorder{limits: make(chan string, 16)}
	o := Options{
		Environment:    Production,
		URL:            "rediss://127.0.0.1:" + sc.Addr[strings.LastIndexByte(sc.Addr, ':')+1:],
		Password:       GeneratePassword(Production),
		EncryptionKey:  testKey,
		TLS:            TLSOptions{CAFile: sc.CAFile},
		DialTimeout:    2 * time.Second,
		CommandTimeout: 3 * time.Second,
		MaxReplyBytes:  sc.MaxReplyBytes,
		Logger:         discardLogger,
		Observer:       rec,
	}
	var res childResult
	start := time.Now()
	c, err := Open(context.Background(), o)
	var failure error
	if err != nil {
		res.OpenErr, failure = err.Error(), err
	} else {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		_, err = c.Get(ctx, "session:1")
		cancel()
		if err == nil {
			err = errors.New("Get succeeded")
		}
		res.GetErr, failure = err.Error(), err
		if sc.Callers > 0 {
			res.GetErr = concurrentGets(c, sc.Callers)
		}
		if sc.Again {
			time.Sleep(200 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
			_, err := c.Get(ctx, "session:2")
			cancel()
			res.AgainErr = fmt.Sprint(err)
		}
	}
	res.Elapsed = time.Since(start)
	res.Refused = errors.Is(failure, ErrReplyRefused)
	var re *ReplyError
	if errors.As(failure, &re) {
		res.Limit = re.Limit
	}
	var ce *ConnectError
	res.Connect = errors.As(failure, &ce)
	res.Class = ClassifyError(failure)
	for len(rec.limits) > 0 {
		res.ObservedReplyRefusals = append(res.ObservedReplyRefusals, <-rec.limits)
	}
	res.PeakRSS = peakRSS()
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
}

// peakRSS is this process's peak resident memory since exec (VmHWM), in
// bytes. Unlike the wait status's Maxrss, it does not include the parent's
// memory, which the kernel counts until the exec of a vforked child.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestUnsolicitedReplyCannotCrash: a server that answers a GET and then
// sends a reply to no command would make rueidis panic ("protocol bug")
// and take the service down; the guard refuses that reply instead, tells
// the Observer, and the cache goes on, on a new connection.
func TestUnsolicitedReplyCannotCrash(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{Attack: hostile.OnCommand("GET", hostile.ExtraReply)})
	res, _ := runChild(t, childScenario{Addr: s.Addr, CAFile: s.CAFile, Get: true, Again: true})
	if res.OpenErr != "" || res.GetErr != ErrNotFound.Error() {
		t.Fatalf("Open: %q, Get: %q; want the GET answered (a miss)", res.OpenErr, res.GetErr)
	}
	if !slicesContain(res.ObservedReplyRefusals, ReplyLimitMalformed) {
		t.Errorf("the Observer saw refusals %q, want %q", res.ObservedReplyRefusals, ReplyLimitMalformed)
	}
	if res.AgainErr != ErrNotFound.Error() {
		t.Errorf("the next Get = %q, want a miss on a new connection", res.AgainErr)
	}
}

// TestMaxReplyBytesValidated: a negative MaxReplyBytes, or one too small
// for the handshake's replies, is a configuration error; 0 is the default.
func TestMaxReplyBytesValidated(t *testing.T) {
	for _, tc := range []struct {
		n   int64
		bad bool
	}{{-1, true}, {1000, true}, {0, false}, {64 << 10, false}, {8 << 30, false}} {
		o := Options{Environment: Development, URL: "redis://localhost:6379", EncryptionKey: testKey, MaxReplyBytes: tc.n}
		if got := Validate(o).has("reply.max-bytes"); got != tc.bad {
			t.Errorf("MaxReplyBytes %d: finding %v, want %v", tc.n, got, tc.bad)
		}
	}
	if l := replyLimits(Options{}); l.MaxBytes != DefaultMaxReplyBytes || l.MaxBulk != 512<<20 || DefaultMaxReplyBytes != resp.DefaultClientMaxBytes {
		t.Errorf("default limits %+v", l)
	}
}
