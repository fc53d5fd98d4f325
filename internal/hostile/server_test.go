package hostile

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/resp"
)

// TestAnswersLikeRedis: without an attack, a probe's handshake and
// questions get Redis 7's answers, over TLS verified with the server's CA.
func TestAnswersLikeRedis(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{})
	c, err := resp.DialTimeout(s.Addr, s.TLSConfig(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vs, err := c.Pipeline([]string{"HELLO", "2", "AUTH", "default", "pw"}, []string{"PING"},
		[]string{"CONFIG", "GET", "dir"}, []string{"INFO", "server"}, []string{"NOSUCH"})
	if err != nil {
		t.Fatal(err)
	}
	hello := vs[0]
	if len(hello.Elems) != 14 || hello.Elems[3].Str != "7.0.15" {
		t.Errorf("HELLO 2 = %v", hello)
	}
	if vs[1].String() != "+PONG" {
		t.Errorf("PING = %v", vs[1])
	}
	if got := vs[2].String(); got != "dir\n/var/lib/redis" {
		t.Errorf("CONFIG GET dir = %q", got)
	}
	if !strings.Contains(vs[3].Str, "redis_version:7.0.15\r\n") || strings.Contains(vs[3].Str, Escape) {
		t.Errorf("INFO = %q", vs[3].Str)
	}
	if !vs[4].IsError() {
		t.Errorf("unknown command = %v", vs[4])
	}
	if got := len(s.Commands()); got != 5 {
		t.Errorf("Commands() has %d commands, want 5", got)
	}
}

// TestHELLO3: rueidis's handshake gets a RESP3 map, as from Redis 7.
func TestHELLO3(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{Plaintext: true})
	raw := dial(t, s)
	io.WriteString(raw, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
	line, _ := bufio.NewReader(raw).ReadString('\n')
	if line != "%7\r\n" {
		t.Errorf("HELLO 3 starts with %q, want a map of 7", line)
	}
}

// TestTerminalEscapes: after the handshake, the strings a probe prints
// carry the escape sequence, in well-formed replies.
func TestTerminalEscapes(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{Handshake: 1, Attack: TerminalEscapes})
	c, err := resp.DialTimeout(s.Addr, s.TLSConfig(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cmd := range [][]string{{"PING"}, {"CONFIG", "GET", "dir"}, {"INFO"}, {"ACL", "LOG", "128"}, {"BOGUS"}} {
		got, err := c.Do(cmd...)
		if err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
		if tainted := strings.Contains(got, Escape); tainted != (cmd[0] != "PING") {
			t.Errorf("%v = %q: escape present %v", cmd, got, tainted)
		}
	}
}

// TestAttackBounded: an attack stops at MaxBytes, and at MaxDuration when
// it writes slowly, closing the connection.
func TestAttackBounded(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{Plaintext: true, Attack: Nesting, MaxBytes: 1 << 20})
	raw := dial(t, s)
	io.WriteString(raw, "PING\r\n")
	n, _ := io.Copy(io.Discard, raw)
	if n != 1<<20 {
		t.Errorf("Nesting wrote %d bytes, want exactly MaxBytes (%d)", n, 1<<20)
	}

	slow := Start(t, Config{Plaintext: true, Attack: Bulk(1<<20, 0, 0), MaxDuration: 300 * time.Millisecond})
	raw = dial(t, slow)
	start := time.Now()
	io.WriteString(raw, "PING\r\n")
	got, _ := io.ReadAll(raw)
	if string(got) != "$1048576\r\n" || time.Since(start) > 3*time.Second {
		t.Errorf("Bulk sent %q and closed after %v, want its header and a close after MaxDuration", got, time.Since(start))
	}
}

// TestAttackStopsWhenClientLeaves: the endless attacks end with the client,
// long before their bounds.
func TestAttackStopsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	for name, a := range map[string]Attack{"nesting": Nesting, "line": EndlessLine, "array": HugeArray, "bulk": HugeBulk, "drip": SlowDrip} {
		s := Start(t, Config{Plaintext: true, Attack: a})
		raw := dial(t, s)
		io.WriteString(raw, "PING\r\n")
		raw.Read(make([]byte, 1))
		raw.Close()
		deadline := time.Now().Add(5 * time.Second)
		for s.open() > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := s.open(); n != 0 || s.Attacked() != 1 {
			t.Errorf("%s: %d connections still open 5 s after the client left (attacked %d)", name, n, s.Attacked())
		}
	}
}

// TestAttacksWrite: each attack sends what its name says.
func TestAttacksWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a      Attack
		prefix string
	}{
		{Nesting, "*1\r\n*1\r\n*1\r\n"},
		{PushNesting, ">1\r\n>1\r\n"},
		{MapNesting, "%1\r\n%1\r\n"},
		{EndlessLine, "+AAAAAAAA"},
		{HugeArray, "*67108864\r\n:1\r\n:1\r\n"},
		{HugeBulk, "$536870912\r\nxxxx"},
		{OversizedBulk, "$1073741824\r\nxxxx"},
		{SlowDrip, "+"},
	} {
		s := Start(t, Config{Plaintext: true, Attack: tc.a})
		raw := dial(t, s)
		io.WriteString(raw, "PING\r\n")
		buf := make([]byte, len(tc.prefix))
		if _, err := io.ReadFull(raw, buf); err != nil || !bytes.Equal(buf, []byte(tc.prefix)) {
			t.Errorf("got %q, %v, want %q", buf, err, tc.prefix)
		}
	}
}

func (s *Server) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func dial(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}
