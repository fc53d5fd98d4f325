package keyspace

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/hostile"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
)

// TestTargetGuardsReplies: the jobs' rueidis client (rotate-key, migrate
// --from) reads replies within resp.ClientLimits, over TLS: a server that
// nests its HELLO reply without end, or claims 64 Mi elements in a SCAN
// reply, is refused with the limit's error instead of crashing the job or
// ballooning it; a real server still works.
func TestTargetGuardsReplies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		attack hostile.Attack
		want   string
	}{
		{"nesting at HELLO", hostile.Nesting, "resp: reply nests deeper than 64 levels"},
		{"huge array at SCAN", hostile.OnCommand("SCAN", hostile.HugeArray), "resp: reply aggregate claims more than 524288 elements"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, hostile.Config{Attack: tc.attack})
			c, err := Target{Addr: s.Addr, TLS: s.TLSConfig(), Password: "pw", DialTimeout: 2 * time.Second}.Dial(0)
			if err == nil {
				defer c.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				err = c.Do(ctx, c.B().Scan().Cursor(0).Build()).Error()
			}
			if !errors.Is(err, resp.ErrLimit) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}

	s := redisserver.Start(t, redisserver.Config{})
	c, err := Target{Addr: s.Addr, TLS: s.TLSConfig(), Password: s.Password}.Dial(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Do(ctx, c.B().Ping().Build()).Error(); err != nil {
		t.Fatalf("PING through the guard on a real server: %v", err)
	}
}
