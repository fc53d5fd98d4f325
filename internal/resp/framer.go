package resp

import (
	"bytes"
	"strconv"
	"sync/atomic"
)

// Framer follows a stream of RESP3 replies byte by byte without keeping
// them, and refuses the first byte that would take a reply past its Limits
// or that is not RESP it can frame. Guard puts one in front of a client
// library's reader, which has no limits of its own: what the Framer has
// accepted never holds a header the reader would act on dangerously (an
// aggregate of 64 Mi elements, a depth of a million).
//
// It understands every RESP3 type (+ - : $ * % ~ > _ # , ( ! = |,
// attributes included) and skips bulk payloads by counting, so following a
// stream costs a few instructions per reply plus one per header byte. Push
// messages (>) pass and answer no command, except a subscription
// confirmation, which rueidis would take for an answer. Null (_) and
// boolean (#) values must have their exact length, which is all rueidis
// reads of them. Streamed strings and aggregates (a "?" length), which
// Redis never sends, are refused.
// Scan allocates nothing: its stack is allocated once, by NewFramer.
type Framer struct {
	l      Limits
	state  uint8
	typ    byte // the type byte of the line or header being read
	neg    bool // the header's number has a minus sign
	digits int
	num    int64
	line   int   // bytes of the current line so far
	skip   int64 // bulk payload and CRLF still to skip
	stack  []level
	idle   bool  // between replies: the next type byte starts a new one
	bytes  int64 // bytes of the current reply, claimed bulk payloads included
	elems  int64 // elements the current reply's aggregates claim
	err    error // sticky: the stream is not followed past a refusal
	values int64 // top-level values completed, pushes included

	// head is set while the first element of a top-level push is read,
	// word holds its first bytes: see subscribeConfirmation.
	head bool
	word [10]byte

	// pending, when set, counts the commands written and not yet
	// answered: a reply that starts when none is pending is refused.
	pending *atomic.Int64
}

// level is one open aggregate: how many elements it still expects, and
// whether it is an attribute, which precedes a value instead of being one.
type level struct {
	left int64
	attr bool
}

const (
	stType uint8 = iota // expecting a type byte
	stLine              // inside a line, until '\n'
	stNum               // inside a header's number, until '\r'
	stLF                // expecting the '\n' that ends a header
	stBulk              // skipping a bulk payload and its CRLF
)

// NewFramer returns a Framer at the start of a stream, enforcing l (zero
// fields take DefaultLimits).
func NewFramer(l Limits) *Framer {
	l = l.withDefaults()
	return &Framer{l: l, idle: true, stack: make([]level, 0, l.MaxDepth)}
}

// Scan follows p, the next bytes of the stream. It returns len(p) and nil
// when all of p is acceptable; otherwise the number of bytes before the
// refused one, which never includes the '\n' of a refused header, and a
// *LimitError or an ErrMalformed error. After an error every Scan fails.
func (f *Framer) Scan(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	for i := 0; i < len(p); {
		switch f.state {
		case stType:
			if f.idle {
				f.idle, f.bytes, f.elems = false, 0, 0
			}
			// A reply (not a push, not the attribute before a reply) to no
			// command would make rueidis panic ("protocol bug").
			if len(f.stack) == 0 && f.pending != nil && p[i] != '>' && p[i] != '|' && f.pending.Add(-1) < 0 {
				return f.fail(i, malformed("a reply to no command"))
			}
			if f.head && p[i] == '|' {
				return f.fail(i, malformed("an attribute in a push"))
			}
			switch t := p[i]; t {
			case '+', '-', ':', '_', '#', ',', '(':
				f.state, f.line = stLine, 0
			case '$', '=', '!', '*', '%', '~', '>', '|':
				f.state, f.line, f.num, f.digits, f.neg = stNum, 0, 0, 0, false
			default:
				return f.fail(i, malformed("unexpected type byte "+strconv.QuoteRune(rune(t))))
			}
			f.typ = p[i]
			if f.bytes++; f.bytes > f.l.MaxBytes {
				return f.fail(i, &LimitError{LimitBytes, f.l.MaxBytes})
			}
			i++
		case stLine:
			j := bytes.IndexByte(p[i:], '\n')
			n := j + 1
			if j < 0 {
				n = len(p) - i
			}
			f.line += n
			if f.line > f.l.MaxLine+2 { // +2: the CRLF
				return f.fail(i, &LimitError{LimitLine, int64(f.l.MaxLine)})
			}
			// rueidis reads a null and a boolean as a fixed number of
			// bytes, not up to '\n': any other length would let it read
			// the rest of the line as a header this Framer never checked.
			if fixed := fixedLine(f.typ); fixed > 0 && (f.line > fixed || j >= 0 && f.line != fixed) {
				return f.fail(i, malformed("bad "+strconv.QuoteRune(rune(f.typ))+" value"))
			}
			if f.bytes += int64(n); f.bytes > f.l.MaxBytes {
				return f.fail(i, &LimitError{LimitBytes, f.l.MaxBytes})
			}
			if f.head {
				f.capture(p[i:i+n], int64(f.line-n))
				if j >= 0 && subscribeConfirmation(f.word[:], int64(f.line-2)) {
					return f.fail(i, errSubscribeConfirmation)
				}
			}
			i += n
			if j >= 0 {
				f.state = stType
				f.element()
			}
		case stNum:
			c := p[i]
			if f.line++; f.line > f.l.MaxLine+2 { // leading zeros
				return f.fail(i, &LimitError{LimitLine, int64(f.l.MaxLine)})
			}
			switch {
			case c >= '0' && c <= '9':
				f.digits++
				f.num = f.num*10 + int64(c-'0')
				// Checked at each digit, so num never overflows and an
				// oversized claim is refused before its end of line.
				if err := f.checkClaim(); err != nil {
					return f.fail(i, err)
				}
			case c == '-' && f.digits == 0 && !f.neg:
				f.neg = true
			case c == '\r' && f.digits > 0:
				f.state = stLF
			case c == '?':
				return f.fail(i, malformed("streamed replies are not supported"))
			default:
				return f.fail(i, malformed("bad length in a "+strconv.QuoteRune(rune(f.typ))+" header"))
			}
			f.bytes++
			i++
		case stLF:
			if p[i] != '\n' {
				return f.fail(i, malformed("header without CRLF"))
			}
			if err := f.header(); err != nil {
				return f.fail(i, err)
			}
			f.bytes++
			i++
		case stBulk:
			n := min(f.skip, int64(len(p)-i))
			if f.head {
				f.capture(p[i:i+int(n)], f.num+2-f.skip)
				if f.skip == n && subscribeConfirmation(f.word[:], f.num) {
					return f.fail(i, errSubscribeConfirmation)
				}
			}
			f.skip -= n
			i += int(n)
			if f.skip == 0 {
				f.state = stType
				f.element()
			}
		}
	}
	return len(p), nil
}

// fixedLine is the length of a line of type typ that is not read up to
// its '\n' (its CRLF included), or 0: "_\r\n", "#t\r\n".
func fixedLine(typ byte) int {
	switch typ {
	case '_':
		return 2
	case '#':
		return 3
	}
	return 0
}

// capture keeps the bytes of b that fall in word, b starting at offset
// off of the value being read.
func (f *Framer) capture(b []byte, off int64) {
	if off < int64(len(f.word)) {
		copy(f.word[off:], b)
	}
}

// errSubscribeConfirmation refuses a push confirming a subscription:
// rueidis takes one as the answer to the command it is waiting on and
// panics ("protocol bug") unless that command is a SUBSCRIBE, which
// redsafe never sends. Other pushes (invalidations, unsubscribe
// notifications, messages) it handles or ignores.
var errSubscribeConfirmation = malformed("a subscription push, and no SUBSCRIBE was sent")

// subscribeConfirmation tells whether word, the first bytes of a push's
// first element of length n, names a subscription confirmation.
func subscribeConfirmation(word []byte, n int64) bool {
	if n < 0 || n > int64(len(word)) {
		return false
	}
	switch string(word[:n]) {
	case "subscribe", "psubscribe", "ssubscribe":
		return true
	}
	return false
}

func (f *Framer) fail(i int, err error) (int, error) {
	f.err = err
	return i, err
}

// checkClaim refuses a header's number as soon as it passes its limit.
func (f *Framer) checkClaim() error {
	switch f.typ {
	case '$', '=', '!':
		if f.num > f.l.MaxBulk {
			return &LimitError{LimitBulk, f.l.MaxBulk}
		}
	case '%', '|':
		if 2*f.num > f.l.MaxAggregate {
			return &LimitError{LimitAggregate, f.l.MaxAggregate}
		}
	default:
		if f.num > f.l.MaxAggregate {
			return &LimitError{LimitAggregate, f.l.MaxAggregate}
		}
	}
	return nil
}

// header acts on a complete header, before its '\n' is let through.
func (f *Framer) header() error {
	bulk := f.typ == '$' || f.typ == '=' || f.typ == '!'
	if f.neg {
		// -1 is the RESP2 null. Anything else makes a client allocate a
		// negative length, which panics; a null map has no meaning.
		if f.num != 1 || f.typ == '%' || f.typ == '|' {
			return malformed("negative length in a " + strconv.QuoteRune(rune(f.typ)) + " header")
		}
		f.state = stType
		f.element()
		return nil
	}
	if !bulk {
		f.head = false // the push's first element is not a string
	}
	if bulk {
		if f.bytes+f.num+3 > f.l.MaxBytes { // +3: this '\n' and the payload's CRLF
			return &LimitError{LimitBytes, f.l.MaxBytes}
		}
		f.bytes += f.num + 2
		f.skip, f.state = f.num+2, stBulk
		return nil
	}
	if len(f.stack) >= f.l.MaxDepth {
		return &LimitError{LimitDepth, int64(f.l.MaxDepth)}
	}
	n := f.num
	if f.typ == '%' || f.typ == '|' {
		n *= 2
	}
	if f.elems+n > f.l.MaxElements {
		return &LimitError{LimitElements, f.l.MaxElements}
	}
	f.elems += n
	f.state = stType
	switch {
	case n > 0:
		f.head = f.typ == '>' && len(f.stack) == 0
		f.stack = append(f.stack, level{left: n, attr: f.typ == '|'})
	case f.typ != '|': // an empty attribute precedes a value, it is not one
		f.element()
	}
	return nil
}

// element records a complete value: it fills a slot of the innermost open
// aggregate, and each aggregate it completes fills a slot of its parent.
func (f *Framer) element() {
	f.head = false
	for len(f.stack) > 0 {
		top := &f.stack[len(f.stack)-1]
		if top.left--; top.left > 0 {
			return
		}
		attr := top.attr
		f.stack = f.stack[:len(f.stack)-1]
		if attr {
			return // the value the attribute describes comes next
		}
	}
	f.idle = true
	f.values++
}
