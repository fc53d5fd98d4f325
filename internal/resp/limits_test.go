package resp_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/redsafe/redsafe/internal/hostile"
	"github.com/redsafe/redsafe/internal/resp"
)

// small are tight limits, so each test crosses one with a few bytes.
var small = resp.Limits{MaxDepth: 4, MaxLine: 16, MaxAggregate: 8, MaxElements: 12, MaxBulk: 32, MaxBytes: 200}

// limitCases cross one limit each, in RESP2 so that both the Reader and
// the Framer see them; the last line of each is the one refused.
var limitCases = []struct {
	name  string
	input string
	limit resp.Limit
	msg   string
}{
	{"depth", strings.Repeat("*1\r\n", 5), resp.LimitDepth, "resp: reply nests deeper than 4 levels"},
	{"line", "+" + strings.Repeat("A", 17) + "\r\n", resp.LimitLine, "resp: reply line longer than 16 bytes"},
	{"line of zeros", "*" + strings.Repeat("0", 20) + "1\r\n", resp.LimitLine, "resp: reply line longer than 16 bytes"},
	{"aggregate", "*9\r\n", resp.LimitAggregate, "resp: reply aggregate claims more than 8 elements"},
	{"huge aggregate", "*67108864\r\n", resp.LimitAggregate, "resp: reply aggregate claims more than 8 elements"},
	{"elements", "*2\r\n*8\r\n" + strings.Repeat(":1\r\n", 8) + "*8\r\n", resp.LimitElements, "resp: reply claims more than 12 elements in all"},
	{"bulk", "$33\r\n", resp.LimitBulk, "resp: reply string longer than 32 bytes"},
	{"huge bulk", "$536870912\r\n", resp.LimitBulk, "resp: reply string longer than 32 bytes"},
	{"overflowing bulk", "$999999999999999\r\n", resp.LimitBulk, "resp: reply string longer than 32 bytes"},
	{"bytes", "*8\r\n" + strings.Repeat("$30\r\n"+strings.Repeat("x", 30)+"\r\n", 5) + "$30\r\n", resp.LimitBytes, "resp: reply larger than 200 bytes"},
}

// TestReaderLimits: each limit is refused with an error naming it and its
// value, matched by errors.Is and errors.As.
func TestReaderLimits(t *testing.T) {
	for _, tc := range limitCases {
		r := resp.NewReader(strings.NewReader(tc.input), small)
		_, err := r.Read()
		var le *resp.LimitError
		if !errors.Is(err, resp.ErrLimit) || !errors.As(err, &le) || le.Limit != tc.limit || err.Error() != tc.msg {
			t.Errorf("%s: Read = %v, want %q", tc.name, err, tc.msg)
		}
	}
}

// TestFramerLimits: the Framer refuses the same replies with the same
// errors, whichever way the stream is split, and never lets the '\n' of
// a refused header through.
func TestFramerLimits(t *testing.T) {
	for _, tc := range limitCases {
		for _, step := range []int{1, 3, 7, len(tc.input)} {
			f := resp.NewFramer(small)
			in := []byte(tc.input)
			passed, err := 0, error(nil)
			for i := 0; i < len(in) && err == nil; i += step {
				var n int
				n, err = f.Scan(in[i:min(i+step, len(in))])
				passed += n
			}
			if err == nil || err.Error() != tc.msg || !errors.Is(err, resp.ErrLimit) {
				t.Errorf("%s (step %d): Scan = %v, want %q", tc.name, step, err, tc.msg)
				continue
			}
			// The refused line's '\n' never passes: a reader behind the
			// Framer never acts on the refused header.
			if last := strings.LastIndexByte(tc.input, '\n'); passed > last {
				t.Errorf("%s (step %d): %d bytes passed, the refused line ends at %d", tc.name, step, passed, last)
			}
			if _, again := f.Scan([]byte(":1\r\n")); again == nil {
				t.Errorf("%s: the Framer goes on after a refusal", tc.name)
			}
		}
	}
}

// TestFramerAccepts: real RESP3 traffic passes, split anywhere: nulls,
// attributes, pushes between replies, maps, sets, verbatim strings, a
// bulk string holding CRLFs and bytes that look like headers.
func TestFramerAccepts(t *testing.T) {
	stream := strings.Join([]string{
		"+OK\r\n", "-ERR no\r\n", ":-12\r\n", "_\r\n", "#t\r\n", ",3.14\r\n", "(12345678901234567890\r\n",
		"$-1\r\n", "*-1\r\n", "$0\r\n\r\n", "*0\r\n", "%0\r\n",
		"$12\r\n*1\r\n*1\r\n*1\r\n\r\n",
		"%2\r\n+a\r\n:1\r\n+b\r\n*2\r\n$1\r\nx\r\n_\r\n",
		"~2\r\n+x\r\n+y\r\n",
		"=15\r\ntxt:Some string\r\n", "!5\r\nERR x\r\n",
		">3\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n_\r\n",
		"|1\r\n+ttl\r\n:3600\r\n$5\r\nvalue\r\n",
		"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n|0\r\n:2\r\n",
	}, "")
	l := resp.Limits{MaxDepth: 3, MaxLine: 32, MaxAggregate: 8, MaxElements: 8, MaxBulk: 16, MaxBytes: 64}
	for step := 1; step <= len(stream); step++ {
		f := resp.NewFramer(l)
		for i := 0; i < len(stream); i += step {
			p := []byte(stream[i:min(i+step, len(stream))])
			if n, err := f.Scan(p); err != nil || n != len(p) {
				t.Fatalf("step %d, offset %d: Scan = %d, %v", step, i, n, err)
			}
		}
	}
}

// TestFramerMalformed: what the Framer cannot frame is refused as
// malformed, in particular the negative lengths that make rueidis panic
// (make with a negative length) and streamed replies.
func TestFramerMalformed(t *testing.T) {
	for _, in := range []string{"*-2\r\n", "$-5\r\n", "%-1\r\n", "|-1\r\n", "*?\r\n", "$?\r\n", "x\r\n", ";4\r\n", ".\r\n", "*1x\r\n", "$\r\n", "*-\r\n", "$3\n", "*--1\r\n"} {
		f := resp.NewFramer(resp.Limits{})
		if _, err := f.Scan([]byte(in)); !errors.Is(err, resp.ErrMalformed) {
			t.Errorf("Scan(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

// TestReaderGrowsWithWhatArrives: a claimed array or string that never
// comes costs nothing up front; a long bulk string split across reads is
// read whole, CRLF excluded.
func TestReaderGrowsWithWhatArrives(t *testing.T) {
	big := strings.Repeat("0123456789", 10000) // 100 kB, more than one chunk
	in := "$100000\r\n" + big + "\r\n*3\r\n:1\r\n$2\r\n\r\n\r\n*-1\r\n"
	r := resp.NewReader(bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(in)), 16), resp.Limits{})
	if v, err := r.Read(); err != nil || v.Str != big {
		t.Fatalf("bulk: %d bytes, %v", len(v.Str), err)
	}
	if v, err := r.Read(); err != nil || len(v.Elems) != 3 || v.Elems[1].Str != "\r\n" || !v.Elems[2].Nil {
		t.Fatalf("array: %+v, %v", v, err)
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, claim := range []string{"*500000\r\n:1\r\n", "$60000000\r\nxx"} {
		if _, err := resp.NewReader(strings.NewReader(claim), resp.Limits{}).Read(); !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			t.Errorf("truncated %q: %v, want EOF", claim[:4], err)
		}
	}
	runtime.ReadMemStats(&after)
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 4<<20 {
		t.Errorf("claims of 500000 elements and 60 MB that never came allocated %d bytes", grown)
	}
}

// TestConnAgainstHostileServers: the probes' Conn ends each attack quickly
// with the limit's error instead of crashing or ballooning.
func TestConnAgainstHostileServers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		attack hostile.Attack
		want   string
	}{
		{"nesting", hostile.Nesting, "resp: reply nests deeper than 64 levels"},
		{"endless line", hostile.EndlessLine, "resp: reply line longer than 65536 bytes"},
		{"huge array", hostile.HugeArray, "resp: reply aggregate claims more than 524288 elements"},
		{"huge bulk", hostile.HugeBulk, "resp: reply string longer than 67108864 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, hostile.Config{Handshake: 1, Attack: tc.attack})
			c, err := resp.DialTimeout(s.Addr, s.TLSConfig(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got, err := c.Do("PING"); err != nil || got != "+PONG" {
				t.Fatalf("handshake PING = %q, %v", got, err)
			}
			start := time.Now()
			_, err = c.Do("INFO")
			if !errors.Is(err, resp.ErrLimit) || err.Error() != tc.want {
				t.Fatalf("INFO = %v, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("refused after %v", d)
			}
		})
	}
}

func TestConnSlowDripTimesOut(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{Plaintext: true, Attack: hostile.SlowDrip})
	c, err := resp.DialTimeout(s.Addr, nil, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Do("INFO"); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("INFO dripped = %v, want a timeout", err)
	}
}

// FuzzReader: no input panics the Reader or makes it hold more than its
// limits allow, and whatever the Reader accepts as RESP2 replies the
// Framer accepts too, however the bytes are split.
func FuzzReader(f *testing.F) {
	for _, tc := range limitCases {
		f.Add([]byte(tc.input), byte(3))
	}
	f.Add([]byte("*2\r\n$3\r\nfoo\r\n*1\r\n:1\r\n+OK\r\n-ERR x\r\n$-1\r\n*-1\r\n"), byte(1))
	f.Add([]byte("%1\r\n+a\r\n>2\r\n+b\r\n_\r\n|1\r\n+x\r\n+y\r\n:2\r\n"), byte(2))
	f.Fuzz(func(t *testing.T, in []byte, split byte) {
		src := bytes.NewReader(in)
		br := bufio.NewReader(src)
		r := resp.NewReader(br, small)
		consumed := 0
		for {
			if _, err := r.Read(); err != nil {
				break
			}
			consumed = len(in) - src.Len() - br.Buffered()
		}
		fr := resp.NewFramer(small)
		step := int(split%16) + 1
		for i := 0; i < consumed; i += step {
			p := in[i:min(i+step, consumed)]
			if n, err := fr.Scan(p); err != nil || n != len(p) {
				t.Fatalf("the Reader accepted %q but the Framer refused it at %d: %v", in[:consumed], i+n, err)
			}
		}
		// The Framer never panics on anything either.
		resp.NewFramer(small).Scan(in)
	})
}
