package redsafe

import (
	"errors"
	"fmt"

	"github.com/redsafe/redsafe/internal/resp"
)

// ErrReplyRefused matches every *ReplyError: the server sent a reply past
// one of the reply limits, or one that is not RESP. Open reports it as the
// Cause of a *ConnectError; later, it is the error of the commands that
// were waiting on the connection.
var ErrReplyRefused = errors.New("server reply refused")

// The limits a *ReplyError names in Limit, and an Observer in
// ReplyRefused: a fixed set, so they can label metrics.
const (
	ReplyLimitDepth     = "depth"     // aggregates nested deeper than 64 levels
	ReplyLimitLine      = "line"      // a line (simple string, error, number) longer than 64 KiB
	ReplyLimitAggregate = "aggregate" // one array, map or set claiming more than 512 Ki elements
	ReplyLimitElements  = "elements"  // one reply's aggregates claiming more than 1 Mi elements in all
	ReplyLimitBulk      = "bulk"      // one string longer than 512 MiB (Redis's own limit) or MaxReplyBytes
	ReplyLimitBytes     = "bytes"     // one reply larger than Options.MaxReplyBytes
	ReplyLimitMalformed = "malformed" // not RESP: an unknown type, a bad length, a streamed reply
)

// ReplyError reports a reply the library refused to read further. The
// connection it came on is closed before the client library has acted on
// the offending header, so the reply cost no more memory than the bytes
// read. The message names the limit and its value; it never quotes the
// reply, which could hold anything.
type ReplyError struct {
	Addr  string // the server's host:port
	Limit string // one of the ReplyLimit* constants
	Max   int64  // the limit's value; 0 for ReplyLimitMalformed
	err   error
}

func (e *ReplyError) Error() string {
	msg := fmt.Sprintf("redsafe: refused a reply from %s, connection closed: %v", e.Addr, e.err)
	if e.Limit == ReplyLimitBytes || e.Limit == ReplyLimitBulk {
		msg += " (Options.MaxReplyBytes)"
	}
	return msg
}

func (e *ReplyError) Is(target error) bool { return target == ErrReplyRefused }

// newReplyError turns the framer's error into a *ReplyError.
func newReplyError(err error, addr string) *ReplyError {
	e := &ReplyError{Addr: addr, Limit: ReplyLimitMalformed, err: err}
	var le *resp.LimitError
	if errors.As(err, &le) {
		e.Limit, e.Max = string(le.Limit), le.Max
	}
	return e
}
