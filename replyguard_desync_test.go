package redsafe

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/hostile"
)

// rawReply answers the attacked command with raw, then holds the
// connection open.
func rawReply(raw string) hostile.Attack {
	return func(s *hostile.Stream) {
		if s.WriteString(raw) == nil {
			s.Wait()
		}
	}
}

// TestDesyncRepliesCannotCrash: replies the guard must read exactly as
// rueidis does, or refuse. rueidis reads a null (_) and a boolean (#) as a
// fixed number of bytes, not up to the end of the line, so a guard that
// framed "_xx*-2\r\n" as one line would let rueidis read a negative array
// length and panic (makeslice) in its reading goroutine, which takes the
// service down. The guard refuses them, and Get fails with a *ReplyError.
func TestDesyncRepliesCannotCrash(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, raw string }{
		{"null smuggles a header", "_xx*-2\r\n"},
		{"boolean smuggles a header", "#txx*-2\r\n"},
		{"null then a line", "_\n:*-2\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, hostile.Config{Attack: hostile.OnCommand("GET", rawReply(tc.raw))})
			res, _ := runChild(t, childScenario{Addr: s.Addr, CAFile: s.CAFile, Get: true})
			switch {
			case res.OpenErr != "":
				t.Fatalf("Open failed during the handshake: %s", res.OpenErr)
			case !res.Refused || res.Limit != ReplyLimitMalformed || res.Class != ClassProtocol:
				t.Errorf("Get: %q: ErrReplyRefused %v, limit %q, class %q; want a malformed reply refused", res.GetErr, res.Refused, res.Limit, res.Class)
			case !strings.Contains(res.GetErr, "malformed reply"):
				t.Errorf("Get: %q does not say malformed reply", res.GetErr)
			}
		})
	}
}

// concurrentGets runs Gets from callers goroutines, each until one that is
// not a miss, and returns the first such error's text.
func concurrentGets(c *Cache, callers int) string {
	var once sync.Once
	first := "every Get was a miss"
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				_, err := c.Get(ctx, "session:1")
				cancel()
				if !errors.Is(err, ErrNotFound) {
					once.Do(func() { first = err.Error() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// subscribePush answers GETs like Redis 7 (nil), and from the 50th on
// each connection, with a push confirming a subscription.
func subscribePush(s *hostile.Stream) {
	for gets := 0; ; {
		reply := s.Redis(s.Cmd)
		if strings.EqualFold(s.Cmd[0], "GET") {
			if gets++; gets >= 50 {
				reply = []byte(">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n")
			}
		}
		if _, err := s.Write(reply); err != nil {
			return
		}
		cmd, err := s.Next()
		if err != nil {
			return
		}
		s.Cmd = cmd
	}
}

// TestSubscribePushCannotCrash: rueidis's background reader (concurrent
// callers) takes a push confirming a subscription for the answer to the
// command it waits on and panics ("protocol bug") unless that is a
// SUBSCRIBE, which redsafe never sends. The guard refuses such a push, and
// the callers get a *ReplyError instead of a dead process.
func TestSubscribePushCannotCrash(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.Config{Attack: subscribePush})
	res, _ := runChild(t, childScenario{Addr: s.Addr, CAFile: s.CAFile, Callers: 16})
	if res.OpenErr != "" {
		t.Fatalf("Open: %s", res.OpenErr)
	}
	if !strings.Contains(res.GetErr, "subscription push") {
		t.Errorf("Get: %q; want the subscription push refused", res.GetErr)
	}
	if !slicesContain(res.ObservedReplyRefusals, ReplyLimitMalformed) {
		t.Errorf("the Observer saw refusals %q, want %q", res.ObservedReplyRefusals, ReplyLimitMalformed)
	}
}
