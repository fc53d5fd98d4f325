package redisserver

import (
	"net"
	"testing"
)

func TestPortCollisionRetries(t *testing.T) {
	t.Parallel()
	// Hold a port, hand it to the harness first, then let it pick freely:
	// redis must fail to bind, and Start must retry on a new port.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	calls := 0
	s := start(t, Config{}, func(n int) ([]int, error) {
		calls++
		if calls == 1 {
			return []int{taken}, nil
		}
		return FreePorts(n)
	})
	if calls != 2 || s.Port == taken {
		t.Errorf("calls = %d, port = %d (taken %d)", calls, s.Port, taken)
	}
	if got := s.Do(t, "PING"); got != "+PONG" {
		t.Errorf("PING = %q", got)
	}
}

// Many servers at once must not collide (run with -race).
func TestParallelStarts(t *testing.T) {
	t.Parallel()
	for i := range 4 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			s := Start(t, Config{NoAuth: i%2 == 0})
			if got := s.Do(t, "PING"); got != "+PONG" {
				t.Errorf("PING = %q", got)
			}
		})
	}
}
