package redsafe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestTokenBuffersNeverShared: Sets from many goroutines, many of them
// cancelled while in flight, then every key read back. A buffer given back
// while a cancelled command still pointed into it would put another
// value's token on the wire: that key would then hold a token sealed for
// another name (refused as undecryptable) or another value. Neither may
// happen; a cancelled Set leaves its key absent or holding its own value.
func TestTokenBuffersNeverShared(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	o := serverOptions(s)
	c := openCache(t, o)
	const workers, each = 8, 300
	type write struct {
		key, value string
		ok         bool
	}
	writes := make([][]write, workers)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				w := write{key: fmt.Sprintf("pool:%d:%d", g, i), value: fmt.Sprintf("value %d/%d %x", g, i, rand.Uint64())}
				// Sizes from a few bytes to 64 KiB, so buffers of every
				// size are taken and given back.
				w.value += string(make([]byte, rand.IntN(64<<10)))
				// Every other one has time to finish; the rest are cut
				// short at any point from before the write to after it.
				timeout := time.Second
				if i%2 == 1 {
					timeout = time.Duration(rand.IntN(4000)) * time.Microsecond
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				w.ok = c.Set(ctx, w.key, []byte(w.value), time.Minute) == nil
				cancel()
				writes[g] = append(writes[g], w)
			}
		}()
	}
	wg.Wait()
	ctx := testContext(t)
	cancelled := 0
	for _, ws := range writes {
		for _, w := range ws {
			got, err := c.Get(ctx, w.key)
			switch {
			case err == nil && string(got) == w.value:
			case errors.Is(err, ErrNotFound) && !w.ok:
			default:
				t.Fatalf("%s (Set ok: %v): %d bytes, %v", w.key, w.ok, len(got), err)
			}
			if !w.ok {
				cancelled++
			}
		}
	}
	if cancelled == 0 || cancelled == workers*each {
		t.Fatalf("%d of %d Sets were cancelled: the test needs some of each", cancelled, workers*each)
	}
	t.Logf("%d Sets, %d cancelled in flight or before", workers*each, cancelled)
}
