package resp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/resp"
)

// streamConn is a net.Conn whose Read serves data, again and again when
// loop is set; Close is recorded.
type streamConn struct {
	net.Conn
	data   []byte
	off    int
	loop   bool
	closed bool
}

func (c *streamConn) Read(p []byte) (int, error) {
	if c.off == len(c.data) {
		if !c.loop {
			return 0, io.EOF
		}
		c.off = 0
	}
	n := copy(p, c.data[c.off:])
	c.off += n
	return n, nil
}

func (c *streamConn) Close() error                { c.closed = true; return nil }
func (c *streamConn) Write(p []byte) (int, error) { return len(p), nil }

// commands is n GETs as rueidis writes them.
func commands(n int) []byte {
	return bytes.Repeat([]byte("*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n"), n)
}

// TestGuardRefusesBeforeTheHeader: what a reader behind the guard receives
// stops before the refused header's line end, the error is the refused
// function's, the connection is closed and stays refused.
func TestGuardRefusesBeforeTheHeader(t *testing.T) {
	replies := "+OK\r\n$3\r\nabc\r\n"
	conn := &streamConn{data: []byte(replies + "*67108864\r\n:1\r\n")}
	mine := errors.New("refused")
	var seen error
	g := resp.NewGuard(conn, resp.Limits{}, func(err error) error { seen = err; return mine })
	g.Write(commands(3))
	got, err := io.ReadAll(g)
	if !errors.Is(err, mine) || !errors.Is(seen, resp.ErrLimit) || !conn.closed {
		t.Fatalf("ReadAll: %v (framer said %v), closed %v", err, seen, conn.closed)
	}
	if !strings.HasPrefix(string(got), replies) || strings.Contains(string(got), "67108864\r\n") {
		t.Errorf("the reader received %q", got)
	}
	if n, err := g.Read(make([]byte, 8)); n != 0 || !errors.Is(err, mine) {
		t.Errorf("Read after the refusal = %d, %v", n, err)
	}
}

// TestGuardRefusesUnsolicitedReplies: a reply when no command awaits one
// is refused (rueidis would panic on it); pushes and the attribute before
// a reply are not replies, and commands split across writes count once
// complete.
func TestGuardRefusesUnsolicitedReplies(t *testing.T) {
	answered := "+OK\r\n>2\r\n+invalidate\r\n_\r\n|1\r\n+a\r\n+b\r\n:1\r\n"
	conn := &streamConn{data: []byte(answered + "+EXTRA\r\n")}
	g := resp.NewGuard(conn, resp.Limits{}, nil)
	cmds := commands(2)
	g.Write(cmds[:7])
	g.Write(cmds[7:])
	got, err := io.ReadAll(g)
	if !errors.Is(err, resp.ErrMalformed) || !strings.Contains(err.Error(), "a reply to no command") || string(got) != answered {
		t.Fatalf("ReadAll = %q, %v; want the two replies and a refusal", got, err)
	}
}

// replyStream is n GET replies of size bytes each.
func replyStream(n, size int) []byte {
	var b bytes.Buffer
	for range n {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", size, bytes.Repeat([]byte("x"), size))
	}
	return b.Bytes()
}

// TestGuardAllocatesNothing: following replies costs no allocation per
// Read, so the guard adds no garbage to a busy cache.
func TestGuardAllocatesNothing(t *testing.T) {
	stream := replyStream(64, 100)
	g := resp.NewGuard(&streamConn{data: stream, loop: true}, resp.ClientLimits(0), nil)
	cmds, buf := commands(64), make([]byte, len(stream))
	if allocs := testing.AllocsPerRun(1000, func() { g.Write(cmds); io.ReadFull(g, buf) }); allocs != 0 {
		t.Errorf("%v allocations per Read", allocs)
	}
}

// BenchmarkGuard: the cost per GET of counting the command as rueidis
// writes it and following its reply as rueidis reads it (into a 512 KiB
// buffer), the copy of the reply included.
func BenchmarkGuard(b *testing.B) {
	for _, size := range []int{16, 1024, 16384} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			const perStream = 256
			stream := replyStream(perStream, size)
			g := resp.NewGuard(&streamConn{data: stream, loop: true}, resp.ClientLimits(0), nil)
			buf, cmds := make([]byte, 512<<10), commands(perStream)
			b.ReportAllocs()
			b.SetBytes(int64(len(stream) / perStream))
			b.ResetTimer()
			for i := 0; i < b.N; i += perStream {
				g.Write(cmds)
				for read := 0; read < len(stream); {
					n, err := g.Read(buf[:min(len(buf), len(stream)-read)])
					if err != nil {
						b.Fatal(err)
					}
					read += n
				}
			}
		})
	}
}

// BenchmarkFramer: the framing alone, per reply, without the copy a Read
// makes.
func BenchmarkFramer(b *testing.B) {
	for _, size := range []int{16, 1024, 16384} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			const perStream = 256
			stream := replyStream(perStream, size)
			f := resp.NewFramer(resp.ClientLimits(0))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += perStream {
				if _, err := f.Scan(stream); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
