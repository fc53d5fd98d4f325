package redsafe

import (
	"testing"

	"github.com/redsafe/redsafe/internal/resp"
)

// The ReplyLimit* names are public (metric labels, Observer.ReplyRefused)
// and copied from internal/resp's: a limit renamed there must not silently
// produce a label outside the documented set.
func TestReplyLimitNamesMatchResp(t *testing.T) {
	for lim, want := range map[resp.Limit]string{
		resp.LimitDepth: ReplyLimitDepth, resp.LimitLine: ReplyLimitLine, resp.LimitAggregate: ReplyLimitAggregate,
		resp.LimitElements: ReplyLimitElements, resp.LimitBulk: ReplyLimitBulk, resp.LimitBytes: ReplyLimitBytes,
	} {
		if got := newReplyError(&resp.LimitError{Limit: lim, Max: 1}, "h:1").Limit; got != want {
			t.Errorf("resp limit %q becomes ReplyError.Limit %q, want %q", lim, got, want)
		}
	}
	if got := newReplyError(resp.ErrMalformed, "h:1").Limit; got != ReplyLimitMalformed {
		t.Errorf("a malformed reply becomes ReplyError.Limit %q, want %q", got, ReplyLimitMalformed)
	}
}
