package redsafe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestRealTrafficPassesTheGuard: a real Redis's replies pass the reply
// limits: a 1 MiB value, a pipelined GetMany, the local cache's
// CLIENT TRACKING invalidation pushes. And the guard is really on these
// connections: a lowered MaxReplyBytes refuses a value larger than it from
// the same server, and the cache goes on working on a new connection.
func TestRealTrafficPassesTheGuard(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	ctx := testContext(t)
	o := serverOptions(s)
	o.MaxReplyBytes = 4 << 20
	c := openCache(t, o)

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB, about 1.4 MB sealed
	if err := c.Set(ctx, "big", big, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "big"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get of 1 MiB: %d bytes, %v", len(got), err)
	}

	items := map[string][]byte{}
	var keys []string
	for i := range 200 {
		k := fmt.Sprintf("many:%d", i)
		items[k], keys = []byte(strings.Repeat("v", i)), append(keys, k)
	}
	if err := c.SetMany(ctx, items, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetMany(ctx, append(keys, "missing"))
	if err != nil || len(got) != len(items) || !bytes.Equal(got["many:199"], items["many:199"]) {
		t.Fatalf("GetMany: %d values, %v", len(got), err)
	}

	// The same server, a reply over MaxReplyBytes: refused, and named.
	if err := c.Set(ctx, "huge", bytes.Repeat(big, 4), time.Minute); err != nil {
		t.Fatal(err)
	}
	// Not retried: the guard's refusal comes back at once, within a
	// deadline that a retry loop would exhaust.
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err = c.Get(short, "huge")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Get of a refused reply took %v: it was retried until the deadline", took)
	}
	var re *ReplyError
	if !errors.Is(err, ErrReplyRefused) || !errors.As(err, &re) || re.Limit != ReplyLimitBulk || re.Max != 4<<20 ||
		!strings.Contains(err.Error(), "reply string longer than 4194304 bytes") || ClassifyError(err) != ClassProtocol {
		t.Fatalf("Get of a 5.6 MB token with MaxReplyBytes 4 MiB = %v, want a ReplyError naming the limit", err)
	}
	if got, err := c.Get(ctx, "big"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get after the refusal: %d bytes, %v", len(got), err)
	}

	// The local cache: another client's writes reach it as RESP3 pushes.
	o.LocalCache = LocalCacheOptions{MaxBytes: 8 << 20, TTL: time.Hour}
	lc := openCache(t, o)
	for round := range 20 {
		want := fmt.Sprintf("v%d", round)
		if err := c.Set(ctx, "k", []byte(want), time.Minute); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for {
			v, err := lc.Get(ctx, "k") // cached after the first read of each round
			if err == nil && string(v) == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: Get = %q, %v 2 s after another client's Set", round, v, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	if st := lc.LocalCacheStats(); st.Invalidations < 19 {
		t.Errorf("%d invalidations for 19 overwrites of a cached key", st.Invalidations)
	}
	if got, err := lc.GetMany(ctx, keys); err != nil || len(got) != len(items) {
		t.Fatalf("GetMany through the local cache: %d values, %v", len(got), err)
	}
}
