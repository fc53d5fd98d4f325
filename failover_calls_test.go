package redsafe

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// calls is what a client doing Set then Get in a loop saw during a
// failover (startCalls).
type calls struct {
	n int
	failures
	longest time.Duration // the longest Set+Get
	// stale counts Gets that returned an earlier value of the key than
	// the Set just acknowledged: that Set went to a master that lost it.
	stale int
	// sets are the Sets that succeeded, when each started and ended.
	sets []span
}

// span is when one call started and when it returned.
type span struct{ start, end time.Time }

// failures counts the calls of a loop that failed, by ErrorClass, and
// keeps those a caller could not retry.
type failures struct {
	failed   int
	firstErr error
	classes  map[ErrorClass]int
	// unretryable are failures (the first few) that are neither
	// ErrUnreachable nor ErrTimeout nor one of the errors add was told a
	// caller expects.
	unretryable []error
}

func (f *failures) add(err error, expected ...error) {
	f.failed++
	if f.firstErr == nil {
		f.firstErr = err
	}
	if f.classes == nil {
		f.classes = map[ErrorClass]int{}
	}
	f.classes[ClassifyError(err)]++
	if retryable(err, expected...) || len(f.unretryable) >= 5 {
		return
	}
	f.unretryable = append(f.unretryable, err)
}

// retryable reports whether err is a typed failure a caller can retry:
// the server was unreachable or slow, or one of expected.
func retryable(err error, expected ...error) bool {
	for _, e := range append([]error{ErrUnreachable, ErrTimeout}, expected...) {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// firstSetAfter is when the first Set that started after t returned.
func (o calls) firstSetAfter(t time.Time) (time.Time, bool) {
	for _, s := range o.sets {
		if s.start.After(t) {
			return s.end, true
		}
	}
	return time.Time{}, false
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
				o.sets = append(o.sets, span{start, time.Now()})
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
				o.add(err)
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
