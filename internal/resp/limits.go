package resp

import (
	"errors"
	"fmt"
)

// Limits bound what one reply from a server may cost the reader, so that a
// hostile or broken server (or TLS bytes read as RESP) cannot exhaust the
// stack or the memory of the process reading it. A reply that crosses one
// is refused with a *LimitError naming it. A zero field takes its value
// from DefaultLimits.
type Limits struct {
	MaxDepth     int   // levels of aggregates nested inside one another
	MaxLine      int   // bytes in one line (a simple string, an error, a number, a header), without its type byte and CRLF
	MaxAggregate int64 // elements one aggregate claims (a map's pairs count twice)
	MaxElements  int64 // elements one reply claims, all its aggregates together
	MaxBulk      int64 // bytes in one bulk string
	MaxBytes     int64 // bytes in one reply, framing included
}

// DefaultLimits fit every probe in this repository: CONFIG GET *, INFO,
// ACL LOG 128, SCAN pages, the values `verify` and the tests read (the
// largest a few MiB). Memory stays proportional to what the server really
// sent: a claimed count or length is never allocated up front.
var DefaultLimits = Limits{
	MaxDepth:     64,
	MaxLine:      64 << 10,
	MaxAggregate: 512 << 10,
	MaxElements:  1 << 20,
	MaxBulk:      64 << 20,
	MaxBytes:     128 << 20,
}

// RedisMaxBulk is Redis's own largest string (proto-max-bulk-len, 512 MB),
// the bulk limit of the client library's connections.
const RedisMaxBulk = 512 << 20

// DefaultClientMaxBytes is the largest reply a client library's
// connection accepts by default (redsafe.DefaultMaxReplyBytes).
const DefaultClientMaxBytes = 1 << 30

// ClientLimits are the limits of a client library's connections
// (rueidis's, through Guard): DefaultLimits' structure, with room for the
// largest value Redis stores, and maxBytes for a whole reply (0:
// DefaultClientMaxBytes). rueidis allocates an aggregate's claimed
// elements (40 bytes each) when it reads its header, so MaxElements also
// bounds that allocation, to 40 MiB per reply.
func ClientLimits(maxBytes int64) Limits {
	if maxBytes <= 0 {
		maxBytes = DefaultClientMaxBytes
	}
	l := DefaultLimits
	l.MaxBytes = maxBytes
	l.MaxBulk = min(RedisMaxBulk, maxBytes)
	return l
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxLine <= 0 {
		l.MaxLine = d.MaxLine
	}
	if l.MaxAggregate <= 0 {
		l.MaxAggregate = d.MaxAggregate
	}
	if l.MaxElements <= 0 {
		l.MaxElements = d.MaxElements
	}
	if l.MaxBulk <= 0 {
		l.MaxBulk = d.MaxBulk
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	return l
}

// Limit names one of the Limits, in errors and metric labels.
type Limit string

// The Limits fields, as a LimitError names them: MaxDepth, MaxLine,
// MaxAggregate, MaxElements, MaxBulk and MaxBytes in that order.
const (
	LimitDepth     Limit = "depth"
	LimitLine      Limit = "line"
	LimitAggregate Limit = "aggregate"
	LimitElements  Limit = "elements"
	LimitBulk      Limit = "bulk"
	LimitBytes     Limit = "bytes"
)

// ErrLimit matches every *LimitError.
var ErrLimit = errors.New("resp: reply exceeds a limit")

// ErrMalformed matches every reply refused because it is not RESP the
// reader can frame: an unknown type byte, a bad length, a streamed
// (RESP3 "?") aggregate, which Redis never sends.
var ErrMalformed = errors.New("resp: malformed reply")

// LimitError reports a reply refused for crossing Limit, whose value was
// Max.
type LimitError struct {
	Limit Limit
	Max   int64
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitDepth:
		return fmt.Sprintf("resp: reply nests deeper than %d levels", e.Max)
	case LimitLine:
		return fmt.Sprintf("resp: reply line longer than %d bytes", e.Max)
	case LimitAggregate:
		return fmt.Sprintf("resp: reply aggregate claims more than %d elements", e.Max)
	case LimitElements:
		return fmt.Sprintf("resp: reply claims more than %d elements in all", e.Max)
	case LimitBulk:
		return fmt.Sprintf("resp: reply string longer than %d bytes", e.Max)
	}
	return fmt.Sprintf("resp: reply larger than %d bytes", e.Max)
}

func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// malformed is an ErrMalformed with what was wrong; never the bytes
// themselves beyond one quoted type byte, since a reply can hold secrets.
type malformed string

func (m malformed) Error() string        { return "resp: malformed reply: " + string(m) }
func (m malformed) Is(target error) bool { return target == ErrMalformed }
