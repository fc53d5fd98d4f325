package redsafe

import (
	"net"

	"github.com/redsafe/redsafe/internal/resp"
)

// DefaultMaxReplyBytes is Options.MaxReplyBytes when it is not set: room
// for a string of Redis's largest size (512 MiB) and more.
const DefaultMaxReplyBytes = 1 << 30 // = resp.DefaultClientMaxBytes

// minReplyBytes is the smallest Options.MaxReplyBytes accepted: the
// handshake's replies must fit.
const minReplyBytes = 64 << 10

// replyLimits are the limits of the connections Open makes for o.
func replyLimits(o Options) resp.Limits {
	n := o.MaxReplyBytes
	if n == 0 {
		n = DefaultMaxReplyBytes
	}
	return resp.ClientLimits(n)
}

// guard puts the reply limits in front of rueidis's reader, whose own
// reader has none: it recurses without a depth limit and allocates an
// aggregate's claimed length at its header. A reply past a limit closes
// the connection with a *ReplyError, which the Observer is told about.
func (d *dialer) guard(conn net.Conn, addr string) net.Conn {
	return resp.NewGuard(conn, d.limits, func(err error) error {
		re := newReplyError(err, addr)
		if d.obs != nil {
			d.obs.ReplyRefused(re.Limit)
		}
		return re
	})
}

func checkMaxReplyBytes(n int64, r *Report) {
	if n < 0 || n > 0 && n < minReplyBytes {
		r.add("reply.max-bytes", SeverityError, "set MaxReplyBytes to at least 65536 bytes, or to 0 for the default of 1 GiB",
			"MaxReplyBytes is %d: too small for the server's replies", n)
	}
}
