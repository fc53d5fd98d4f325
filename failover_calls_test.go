package redsafe

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// calls is what a client doing Set then Get in a loop saw during a
// failover (startCalls).
type calls struct {
	n, failed int
	firstErr  error
	longest   time.Duration // the longest Set+Get
	// stale counts Gets that returned an earlier value of the key than
	// the Set just acknowledged: that Set went to a master that lost it.
	stale int
}

// startCalls runs Set then Get of keys in turn on c until stop is
// called, which returns what the loop saw. A Get that returns a value
// never written to its key fails the test.
func startCalls(t *testing.T, ctx context.Context, c *Cache, keys []string) (stop func() calls) {
	t.Helper()
	quit := make(chan struct{})
	done := make(chan calls)
	go func() {
		var o calls
		for i := 0; ; i++ {
			select {
			case <-quit:
				done <- o
				return
			default:
			}
			start := time.Now()
			k := keys[i%len(keys)]
			err := c.Set(ctx, k, []byte(strconv.Itoa(i)), time.Minute)
			if err == nil {
				var v []byte
				v, err = c.Get(ctx, k)
				if n, perr := strconv.Atoi(string(v)); err == nil && n != i {
					if perr != nil || n > i || n%len(keys) != i%len(keys) {
						t.Errorf("Get %s = %q after Set %d: a value never written there", k, v, i)
					}
					o.stale++
				}
			}
			o.n++
			o.longest = max(o.longest, time.Since(start))
			if err != nil {
				o.failed++
				if o.firstErr == nil {
					o.firstErr = err
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	return func() calls {
		close(quit)
		return <-done
	}
}

func (o calls) String() string {
	return fmt.Sprintf("%d calls (Set+Get), %d failed (first: %v), longest %v, %d Gets found an acknowledged Set lost",
		o.n, o.failed, o.firstErr, o.longest.Round(time.Millisecond), o.stale)
}
