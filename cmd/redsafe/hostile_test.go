package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/hostile"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/seal"
)

// Bounds every run of the CLI against a hostile server must keep, with
// --timeout 2s. Measured on 60 runs (each logs its own): peak RSS 16-20 MiB
// and at most 10 s (verify against a slow drip) without -race; 40-61 MiB
// with -race. Before the limits in internal/resp, nesting died with a stack
// overflow after about 1 GB of stack, and an endless line took verify to
// 9 GB; before migrate bounded its probes, a slow drip held it for as long
// as the server kept dripping.
const (
	hostileTimeout = "2s"
	hostileMaxTime = 30 * time.Second
	hostileMaxRSS  = 100 << 20
)

// childRun is what one run of the real CLI did.
type childRun struct {
	stdout, stderr string
	code           int           // exit status; -1 when killed at the deadline
	elapsed        time.Duration // until it exited
	maxRSS         int64         // peak resident set size, bytes
}

// runChild runs the redsafe binary with only env in its environment (and
// PATH and HOME), killed when limit passes, and measures its peak memory.
func runChild(t *testing.T, limit time.Duration, env []string, args ...string) childRun {
	t.Helper()
	bin, err := exec.LookPath("redsafe") // put on $PATH by testscript.Main
	if err != nil {
		t.Fatal(err)
	}
	measure, err := exec.LookPath("rss-of") // so is this (rssof_test.go)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	rssFile := filepath.Join(t.TempDir(), "rss")
	cmd := exec.CommandContext(ctx, measure, append([]string{rssFile, bin}, args...)...)
	// Its own process group, killed whole at the deadline: rss-of and the
	// CLI under it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err = cmd.Run()
	r := childRun{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.code = -1
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", bin, err)
	}
	if kib, err := os.ReadFile(rssFile); err == nil {
		n, _ := strconv.ParseInt(string(kib), 10, 64)
		r.maxRSS = n * 1024 // Linux reports KiB
	} else if r.code != -1 {
		t.Fatalf("rss-of measured nothing: %v\n%s", err, r.stderr)
	}
	return r
}

var crashed = regexp.MustCompile(`panic:|fatal error:|goroutine \d+ \[|runtime\.`)

// hostileTargets runs one CLI command against a hostile server: they share
// a password, a key and, for migrate, a real destination.
type hostileTargets struct {
	password, key string
	dest          *redisserver.Server
}

func newHostileTargets(t *testing.T) hostileTargets {
	pw := redsafe.GeneratePassword(redsafe.Production)
	return hostileTargets{password: pw, key: seal.GenerateKey().Encode(),
		dest: redisserver.Start(t, redisserver.Config{DisableDefaultUser: true,
			Users: []redisserver.User{{Name: "app", Password: pw, Rules: "~* +@all"}}})}
}

// run starts a hostile server for command and runs the CLI against it:
// audit URL over TLS with the server's CA ("audit") or in plaintext
// ("audit-plain"), verify and rotate-key --check over TLS, migrate --from in plaintext ("migrate")
// or over TLS ("migrate-tls").
func (h hostileTargets) run(t *testing.T, command string, cfg hostile.Config, extra ...string) (childRun, *hostile.Server) {
	cfg.Plaintext = command == "migrate" || command == "audit-plain"
	s := hostile.Start(t, cfg)
	env := []string{"ENVIRONMENT=development", "REDIS_USERNAME=app", "REDIS_PASSWORD=" + h.password, "REDIS_ENCRYPTION_KEY=" + h.key}
	var args []string
	switch command {
	case "audit":
		env = append(env, "REDIS_TLS_CA_CERT="+s.CAFile)
		args = []string{"audit", "--timeout", hostileTimeout, "rediss://" + s.Addr + "/0"}
	case "audit-plain":
		args = []string{"audit", "--timeout", hostileTimeout, "redis://" + s.Addr + "/0"}
	case "verify":
		env = append(env, "REDIS_URL=rediss://"+s.Addr+"/0", "REDIS_TLS_CA_CERT="+s.CAFile)
		args = []string{"verify", "--timeout", hostileTimeout}
	case "rotate-key":
		env = append(env, "REDIS_URL=rediss://"+s.Addr+"/0", "REDIS_TLS_CA_CERT="+s.CAFile)
		args = []string{"rotate-key", "--check", "--timeout", hostileTimeout, "--progress", "none"}
	case "migrate", "migrate-tls":
		env = append(env, "REDIS_URL=rediss://"+h.dest.Addr+"/0", "REDIS_TLS_CA_CERT="+h.dest.CAFile)
		from := "redis://" + s.Addr + "/0"
		args = []string{"migrate", "--timeout", hostileTimeout, "--progress", "none", "--state", filepath.Join(t.TempDir(), "state.json")}
		if command == "migrate-tls" {
			from = "rediss://" + s.Addr + "/0"
			args = append(args, "--from-ca-cert", s.CAFile)
		}
		args = append(args, "--from", from)
	default:
		t.Fatalf("unknown command %q", command)
	}
	return runChild(t, 2*hostileMaxTime, env, append(args, extra...)...), s
}

// TestHostileServersCannotCrashOrBalloonTheCLI: audit, verify and
// migrate --from each face every hostile behaviour, on the first reply of
// every connection and after three normal replies (past the HELLO, AUTH and
// CLIENT SETINFO of a handshake). Each ends within hostileMaxTime with exit 1
// and a message that names the limit or what went wrong, never a Go panic
// or stack trace, and its peak RSS stays under hostileMaxRSS.
func TestHostileServersCannotCrashOrBalloonTheCLI(t *testing.T) {
	t.Parallel()
	h := newHostileTargets(t)
	attacks := []struct {
		name   string
		attack hostile.Attack
		want   string // what the output must say
	}{
		{"nesting", hostile.Nesting, `nests deeper than 64 levels`},
		{"endless-line", hostile.EndlessLine, `line longer than 65536 bytes`},
		{"huge-array", hostile.HugeArray, `claims more than 524288 elements`},
		// 512 MiB claimed, within the client library's bulk limit (Redis's
		// own), sent 32 KiB every 100 ms: the probes refuse it, the
		// library's connection times out.
		{"huge-bulk", hostile.HugeBulk, `string longer than 67108864 bytes|deadline exceeded|timed out|no complete reply`},
		{"oversized-bulk", hostile.OversizedBulk, `string longer than (67108864|536870912) bytes`},
		{"slow-drip", hostile.SlowDrip, `i/o timeout|deadline exceeded|timed out|no complete reply`},
	}
	for _, command := range []string{"audit", "audit-plain", "verify", "migrate", "migrate-tls"} {
		for _, a := range attacks {
			for _, handshake := range []int{0, 3} {
				t.Run(fmt.Sprintf("%s/%s/after-%d-replies", command, a.name, handshake), func(t *testing.T) {
					t.Parallel()
					r, s := h.run(t, command, hostile.Config{Handshake: handshake, Attack: a.attack})
					out := r.stdout + r.stderr
					t.Logf("exit %d in %v, peak RSS %.1f MiB, %d attacks; %.300s", r.code, r.elapsed.Round(10*time.Millisecond), float64(r.maxRSS)/(1<<20), s.Attacked(), strings.TrimSpace(r.stderr))
					if s.Attacked() == 0 {
						t.Fatalf("the server never attacked: the test proves nothing\n%s", out)
					}
					if crashed.MatchString(out) {
						t.Fatalf("the CLI crashed:\n%.3000s", out)
					}
					if r.code != 1 {
						t.Errorf("exit %d, want 1\n%s", r.code, out)
					}
					if !regexp.MustCompile(a.want).MatchString(out) {
						t.Errorf("the output does not say what went wrong (%s):\n%s", a.want, out)
					}
					if r.elapsed > hostileMaxTime {
						t.Errorf("took %v, more than %v", r.elapsed, hostileMaxTime)
					}
					bound := int64(hostileMaxRSS)
					if a.name == "huge-bulk" && strings.HasPrefix(command, "migrate") {
						// migrate's rueidis connection must take values as large
						// as Redis's own (512 MiB), and rueidis allocates a string
						// at its header: the claim may cost that much memory.
						bound += resp.RedisMaxBulk
					}
					if r.maxRSS > bound {
						t.Errorf("peak RSS %d MiB, more than %d MiB", r.maxRSS>>20, bound>>20)
					}
				})
			}
		}
	}
}

// controlBytes are what a terminal acts on: C0 controls (but \n and \t,
// which the CLI writes itself), DEL, and the C1 and bidi controls in UTF-8.
var controlBytes = regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f]|\u009b|\u202e|\u2066")

// A server that puts terminal escapes in every string it sends (error
// replies, CONFIG GET dir, ACL LOG, user names) gets them printed escaped by
// every command, never raw.
func TestHostileEscapesArePrintedEscaped(t *testing.T) {
	t.Parallel()
	h := newHostileTargets(t)
	for _, command := range []string{"audit", "audit-plain", "verify", "migrate"} {
		t.Run(command, func(t *testing.T) {
			t.Parallel()
			r, s := h.run(t, command, hostile.Config{Attack: hostile.TerminalEscapes})
			out := r.stdout + r.stderr
			if s.Attacked() == 0 || crashed.MatchString(out) {
				t.Fatalf("attacked %d times; output:\n%s", s.Attacked(), out)
			}
			if loc := controlBytes.FindStringIndex(out); loc != nil {
				t.Errorf("a control character reached the output raw at byte %d: %q", loc[0], out[max(0, loc[0]-60):min(len(out), loc[1]+20)])
			}
		})
	}
}

// The audit quotes what the server sent (the data directory, the client
// addresses of ACL LOG) made visible: the escape sequences appear as
// \x1b..., in the text and in the JSON, and nothing raw reaches the
// terminal.
func TestAuditPrintsServerTextEscaped(t *testing.T) {
	t.Parallel()
	const dir = "/var/lib/redis\x1b]0;owned\x07\x1b[2J\u202e"
	const addr = "10.0.0.9\x1b[31m"
	replies := hostile.Replies(func(cmd []string, proto int) []byte {
		name := strings.ToUpper(strings.Join(cmd[:min(2, len(cmd))], " "))
		bulk := func(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }
		pair := func(k, v string) []byte { return []byte("*2\r\n" + bulk(k) + bulk(v)) }
		switch {
		case name == "CONFIG GET" && len(cmd) == 3 && cmd[2] == "dir":
			return pair("dir", dir)
		case name == "CONFIG GET" && len(cmd) == 3 && cmd[2] == "save":
			return pair("save", "3600 1")
		case name == "SCAN 0":
			return []byte("*2\r\n" + bulk("0") + "*1\r\n" + bulk("plain:1"))
		case name == "TYPE PLAIN:1":
			return []byte("+string\r\n")
		case name == "GET PLAIN:1":
			return []byte(bulk("not encrypted"))
		case name == "ACL LOG":
			entry := []string{"count", "200", "reason", "auth", "client-info", "id=7 addr=" + addr + ":41234 laddr=127.0.0.1:6379 user=default cmd=auth"}
			b := "*1\r\n*" + fmt.Sprint(len(entry))
			b += "\r\n"
			for i, e := range entry {
				if i == 1 {
					b += ":200\r\n"
					continue
				}
				b += bulk(e)
			}
			return []byte(b)
		}
		return nil // as Redis 7
	})
	h := newHostileTargets(t)
	r, _ := h.run(t, "audit", hostile.Config{Attack: replies})
	out := r.stdout + r.stderr
	if loc := controlBytes.FindStringIndex(out); loc != nil {
		t.Fatalf("a control character reached the terminal raw: %q", out[max(0, loc[0]-60):min(len(out), loc[1]+20)])
	}
	for _, want := range []string{`persist in /var/lib/redis\x1b]0;owned\x07\x1b[2J\u202e`, `failed authentications (1 entries) from 10.0.0.9\x1b[31m`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the audit does not show %s\n%s", want, r.stdout)
		}
	}

	r, _ = h.run(t, "audit", hostile.Config{Attack: replies}, "--json")
	var rep struct {
		Findings []struct{ ID, Evidence string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("audit --json: %v\n%s", err, r.stdout)
	}
	seen := 0
	for _, f := range rep.Findings {
		if controlBytes.MatchString(f.Evidence) {
			t.Errorf("%s carries a raw control character in JSON: %q", f.ID, f.Evidence)
		}
		if strings.Contains(f.Evidence, `\x1b`) {
			seen++
		}
	}
	if seen < 2 {
		t.Errorf("the JSON shows the escaped text in %d findings, want 2 (persistence.plaintext-dump, auth.brute-force)\n%s", seen, r.stdout)
	}
}

// rotate-key prints the error a server replied to its SCAN escaped, in the
// text and in the JSON report's error field: the reply reaches the CLI
// through rueidis's error and the job's own wrapping, and used to be
// printed as it came.
func TestRotateKeyPrintsServerErrorsEscaped(t *testing.T) {
	t.Parallel()
	const reply = "ERR " + hostile.Escape + "\u009b2J\u2066x"
	scanError := hostile.Replies(func(cmd []string, proto int) []byte {
		if strings.EqualFold(cmd[0], "SCAN") {
			return []byte("-" + reply + "\r\n")
		}
		return nil // as Redis 7
	})
	h := newHostileTargets(t)
	r, s := h.run(t, "rotate-key", hostile.Config{Attack: scanError})
	out := r.stdout + r.stderr
	if s.Attacked() == 0 || crashed.MatchString(out) || r.code != 1 {
		t.Fatalf("exit %d, attacked %d times; output:\n%s", r.code, s.Attacked(), out)
	}
	if loc := controlBytes.FindStringIndex(out); loc != nil {
		t.Fatalf("a control character reached the terminal raw: %q", out[max(0, loc[0]-60):min(len(out), loc[1]+20)])
	}
	if want := `\x1b]0;hostile\x07\x1b[2J\x1b[31m\u009b2J\u2066x`; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not show the reply escaped (%s):\n%s", want, r.stderr)
	}

	r, _ = h.run(t, "rotate-key", hostile.Config{Attack: scanError}, "--json")
	var rep struct{ Error string }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("rotate-key --json: %v\n%s", err, r.stdout)
	}
	if controlBytes.MatchString(rep.Error) || !strings.Contains(rep.Error, `\x1b]0;hostile`) {
		t.Errorf("the JSON error field carries the reply unescaped: %q", rep.Error)
	}
}
