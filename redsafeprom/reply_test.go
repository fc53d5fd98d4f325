package redsafeprom

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/hostile"
	"github.com/redsafe/redsafe/seal"
)

// TestRepliesRefusedAreCounted: a server whose GET reply nests without end
// gets its connection closed; the refusal is counted under its limit, and
// the Get as an error of class protocol. Every limit is exported at zero
// from the start, so an alert can watch the series before it first moves.
func TestRepliesRefusedAreCounted(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{Attack: hostile.OnCommand("GET", hostile.Nesting)})
	m := New(Options{})
	prometheus.NewPedanticRegistry().MustRegister(m)
	for _, l := range replyLimits {
		if got := value(t, m.repliesRefused, l); got != 0 {
			t.Fatalf("replies_refused_total{limit=%q} = %v before any reply", l, got)
		}
	}
	c, err := redsafe.Open(testContext(t), redsafe.Options{
		Environment:   redsafe.Production,
		URL:           "rediss://" + s.Addr,
		Password:      redsafe.GeneratePassword(redsafe.Production),
		EncryptionKey: seal.GenerateKey().Encode(),
		TLS:           redsafe.TLSOptions{CAFile: s.CAFile},
		DialTimeout:   2 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observer:      m,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	if _, err := c.Get(ctx, "k"); !errors.Is(err, redsafe.ErrReplyRefused) || !strings.Contains(err.Error(), "deeper than 64 levels") {
		t.Fatalf("Get = %v, want a refused reply", err)
	}
	if got := value(t, m.repliesRefused, redsafe.ReplyLimitDepth); got < 1 {
		t.Errorf(`replies_refused_total{limit="depth"} = %v, want at least 1`, got)
	}
	if got := value(t, m.errors, redsafe.CommandGet, string(redsafe.ClassProtocol)); got != 1 {
		t.Errorf(`errors_total{command="get",class="protocol"} = %v, want 1`, got)
	}
	m.ReplyRefused("a-limit-from-the-future")
	if got := value(t, m.repliesRefused, redsafe.ReplyLimitMalformed); got != 1 {
		t.Errorf("an unknown limit was not counted as malformed: %v", got)
	}
}
