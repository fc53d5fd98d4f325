package resp

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Reader reads RESP2 replies (and, for a server, commands) within Limits.
// It never allocates for what the peer only claims: an array grows as its
// elements arrive and a bulk string as its bytes do, so memory follows the
// bytes received, which MaxBytes caps.
type Reader struct {
	br      *bufio.Reader
	l       Limits
	bytes   int64 // of the current reply
	elems   int64 // claimed by the current reply's arrays
	scratch []byte
}

// NewReader reads from r, through r itself when it is a *bufio.Reader (so
// a caller can Peek at it), enforcing l (zero fields take DefaultLimits).
func NewReader(r io.Reader, l Limits) *Reader {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	return &Reader{br: br, l: l.withDefaults()}
}

// Read reads one reply.
func (r *Reader) Read() (Value, error) {
	r.bytes, r.elems = 0, 0
	return r.value(0)
}

// ReadCommand reads one command as a server does: an array of bulk
// strings, or an inline command (words on one line, as `PING\r\n`).
func (r *Reader) ReadCommand() ([]string, error) {
	r.bytes, r.elems = 0, 0
	b, err := r.br.Peek(1)
	if err != nil {
		return nil, err
	}
	if b[0] != '*' {
		line, err := r.line()
		if err != nil {
			return nil, err
		}
		return strings.Fields(line), nil
	}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	args := make([]string, 0, len(v.Elems))
	for _, e := range v.Elems {
		if e.Type != '$' || e.Nil {
			return nil, malformed("a command is an array of bulk strings")
		}
		args = append(args, e.Str)
	}
	return args, nil
}

// line reads one line within MaxLine, without its CRLF.
func (r *Reader) line() (string, error) {
	var long []byte // only for a line longer than the bufio buffer
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(long)+len(frag) > r.l.MaxLine+3 { // +3: the type byte and the CRLF
			return "", &LimitError{LimitLine, int64(r.l.MaxLine)}
		}
		if err := r.count(int64(len(frag))); err != nil {
			return "", err
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, frag...)
			continue
		}
		if err != nil {
			return "", err
		}
		var line string
		if long != nil {
			line = string(append(long, frag...))
		} else {
			line = string(frag)
		}
		if len(line) < 3 || line[len(line)-2] != '\r' {
			return "", malformed("line without CRLF")
		}
		return line[:len(line)-2], nil
	}
}

func (r *Reader) count(n int64) error {
	if r.bytes += n; r.bytes > r.l.MaxBytes {
		return &LimitError{LimitBytes, r.l.MaxBytes}
	}
	return nil
}

// length parses a header's number as Framer does: digits, or -1 (null);
// a claim over max is refused as soon as it is read.
func length(s string, typ byte, max int64, limit Limit) (int64, error) {
	bad := malformed("bad length in a " + strconv.QuoteRune(rune(typ)) + " header")
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if s == "" {
		return 0, bad
	}
	var n int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, bad
		}
		if n = n*10 + int64(c-'0'); n > max {
			return 0, &LimitError{limit, max}
		}
	}
	if neg {
		if n != 1 {
			return 0, bad
		}
		return -1, nil
	}
	return n, nil
}

func (r *Reader) value(depth int) (Value, error) {
	line, err := r.line()
	if err != nil {
		return Value{}, err
	}
	switch line[0] {
	case '+', '-', ':':
		return Value{Type: line[0], Str: line[1:]}, nil
	case '$':
		n, err := length(line[1:], '$', r.l.MaxBulk, LimitBulk)
		if err != nil {
			return Value{}, err
		}
		if n == -1 {
			return Value{Type: '$', Nil: true}, nil
		}
		if err := r.count(n + 2); err != nil {
			return Value{}, err
		}
		s, err := r.bulk(n)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: '$', Str: s}, nil
	case '*':
		n, err := length(line[1:], '*', r.l.MaxAggregate, LimitAggregate)
		if err != nil {
			return Value{}, err
		}
		if n == -1 {
			return Value{Type: '*', Nil: true}, nil
		}
		if depth >= r.l.MaxDepth {
			return Value{}, &LimitError{LimitDepth, int64(r.l.MaxDepth)}
		}
		if r.elems += n; r.elems > r.l.MaxElements {
			return Value{}, &LimitError{LimitElements, r.l.MaxElements}
		}
		v := Value{Type: '*', Elems: make([]Value, 0, min(n, 16))}
		for range n {
			e, err := r.value(depth + 1)
			if err != nil {
				return Value{}, err
			}
			v.Elems = append(v.Elems, e)
		}
		return v, nil
	}
	return Value{}, malformed("unexpected type byte " + strconv.QuoteRune(rune(line[0])))
}

// bulk reads a payload of n bytes and its CRLF, growing the string as the
// bytes arrive.
func (r *Reader) bulk(n int64) (string, error) {
	const chunk = 32 << 10
	if r.scratch == nil {
		r.scratch = make([]byte, chunk)
	}
	var b strings.Builder
	b.Grow(int(min(n, 1<<20)))
	for left := n + 2; left > 0; {
		k, err := io.ReadFull(r.br, r.scratch[:min(left, chunk)])
		left -= int64(k)
		if err != nil {
			return "", err
		}
		if left < 2 { // the CRLF ends in this chunk: keep only the payload
			k -= 2 - int(left)
		}
		b.Write(r.scratch[:max(k, 0)])
	}
	s := b.String()
	if len(s) != int(n) {
		return "", malformed("bulk string without CRLF")
	}
	return s, nil
}
