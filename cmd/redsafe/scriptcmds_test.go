package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/rogpeppe/go-internal/testscript"
)

// freeport VAR sets VAR to a free loopback port.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ts.Setenv(args[0], strconv.Itoa(port))
}

// waitport PORT waits up to 10 s until 127.0.0.1:PORT accepts connections.
func cmdWaitPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitport PORT")
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+args[0], time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	ts.Fatalf("nothing listens on port %s", args[0])
}

// loadenv FILE sets the script's environment from an env file, as
// `set -a; . FILE; set +a` would.
func cmdLoadEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: loadenv FILE")
	}
	vars, err := envfile.Read(ts.MkAbs(args[0]))
	ts.Check(err)
	for k, v := range vars {
		ts.Setenv(k, v)
	}
}

// setfile VAR FILE sets VAR to the trimmed content of FILE, so that secrets
// reach commands through the environment rather than the script's text.
func cmdSetFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: setfile VAR FILE")
	}
	b, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Setenv(args[0], strings.TrimSpace(string(b)))
}

// pidgone FILE asserts that the process whose pid FILE holds has exited.
func cmdPidGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pidgone FILE")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	ts.Check(err)
	if syscall.Kill(pid, 0) == nil {
		ts.Fatalf("process %d is still running", pid)
	}
}

// nosecrets FILE... asserts that the content of no FILE appears in the last
// command's stdout or stderr.
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nosecrets FILE...")
	}
	out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
	for _, f := range args {
		b, err := os.ReadFile(ts.MkAbs(f))
		ts.Check(err)
		if s := strings.TrimSpace(string(b)); s != "" && strings.Contains(out, s) {
			ts.Fatalf("the output contains the secret in %s", f)
		}
	}
}

// stopLeftoverServers stops any redis-server that `redsafe up` left in a
// script's work directory, so a failed script leaks no process.
func stopLeftoverServers(workDir string) {
	pids, _ := filepath.Glob(filepath.Join(workDir, "*", "redis.pid"))
	nodes, _ := filepath.Glob(filepath.Join(workDir, "*", "nodes", "*", "redis.pid")) // up --cluster
	pids = append(pids, nodes...)
	for _, p := range pids {
		if srv, err := redisserver.In(filepath.Dir(p)); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			srv.Stop(ctx)
			cancel()
		}
	}
}

// cmpglob PATTERN FILE asserts that exactly one file matches PATTERN and that
// it has FILE's content: a backup kept what it replaced.
func cmdCmpGlob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: cmpglob PATTERN FILE")
	}
	matches, err := filepath.Glob(ts.MkAbs(args[0]))
	ts.Check(err)
	if len(matches) != 1 {
		ts.Fatalf("%s matches %d files, want 1", args[0], len(matches))
	}
	got, err := os.ReadFile(matches[0])
	ts.Check(err)
	if want := ts.ReadFile(args[1]); string(got) != want {
		ts.Fatalf("%s differs from %s", matches[0], args[1])
	}
}

// replace FILE OLD NEW rewrites every OLD in FILE to NEW ($WORK is expanded
// in the arguments as usual).
func cmdReplace(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	p := ts.MkAbs(args[0])
	b, err := os.ReadFile(p)
	ts.Check(err)
	if !strings.Contains(string(b), args[1]) {
		ts.Fatalf("%s does not contain %q", args[0], args[1])
	}
	ts.Check(os.WriteFile(p, []byte(strings.ReplaceAll(string(b), args[1], args[2])), 0o644))
}

// redis start NAME (CONF | --directive value... ) starts a redis-server with
// the one launcher (redisserver.Launch): from a redis.conf, or from
// directives written the way redis-server takes them on its command line,
// which go into a 0600 conf file of the script's work directory rather than
// onto argv (where a password would show in ps). It returns once the server
// logs that it is ready; the script's end stops it by its own pid, even when
// the script fails. redis stop NAME stops it earlier. A CONF must log to
// stdout (no logfile line): that is where readiness is read.
func cmdRedis(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || (args[0] == "start") == (args[0] == "stop") {
		ts.Fatalf("usage: redis start NAME (CONF | --directive value...) | redis stop NAME")
	}
	key := scriptServer{ts, args[1]}
	if args[0] == "stop" {
		p, ok := scriptServers.LoadAndDelete(key)
		if !ok {
			ts.Fatalf("redis stop %s: no such server", args[1])
		}
		p.(*redisserver.Process).Stop()
		return
	}
	conf := ts.MkAbs(args[1] + ".redis.conf")
	if len(args) == 3 && !strings.HasPrefix(args[2], "--") {
		conf = ts.MkAbs(args[2])
	} else {
		var b strings.Builder
		for _, a := range args[2:] {
			if name, ok := strings.CutPrefix(a, "--"); ok {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(name)
				continue
			}
			b.WriteString(" " + redisserver.ConfQuote(a))
		}
		ts.Check(os.WriteFile(conf, []byte(b.String()+"\n"), 0o600))
	}
	// Attached, and never stopped by a context: by Stop only (below).
	p, err := redisserver.Launch{Dir: ts.MkAbs("."), Conf: conf, Timeout: 10 * time.Second}.Start(context.Background())
	if err != nil {
		ts.Fatalf("redis start %s: %v", args[1], err)
	}
	if _, loaded := scriptServers.LoadOrStore(key, p); loaded {
		p.Stop()
		ts.Fatalf("redis start %s: a server of that name runs already", args[1])
	}
	ts.Defer(func() {
		if p, ok := scriptServers.LoadAndDelete(key); ok {
			p.(*redisserver.Process).Stop()
		}
	})
}

// scriptServer names a server that `redis start` started in one script.
type scriptServer struct {
	ts   *testscript.TestScript
	name string
}

var scriptServers sync.Map // scriptServer → *redisserver.Process
