package hostile

import (
	"errors"
	"net"
	"sync"
	"time"
)

// ErrStopped is what a Stream's methods return once the attack must stop:
// the client went away, the test ended, or the attack reached its bound.
var ErrStopped = errors.New("hostile: attack stopped")

// Stream is an attack's view of its connection. Its Write counts what the
// attack sends against Config.MaxBytes; every method fails with
// ErrStopped once the attack must end. The connection closes when the
// Attack returns.
type Stream struct {
	Cmd []string // the command whose reply is attacked

	sess     *session
	conn     net.Conn
	cmds     <-chan []string
	gone     <-chan struct{} // the client closed its side
	closed   <-chan struct{} // the test ended
	stopped  chan struct{}
	max      int64
	written  int64
	deadline time.Time
}

// watch closes the connection as soon as the attack must stop, which
// unblocks a Write the client does not read; the returned func ends the
// watch.
func (s *Stream) watch() (stop func()) {
	s.stopped = make(chan struct{})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTimer(time.Until(s.deadline))
		defer t.Stop()
		select {
		case <-s.gone:
		case <-s.closed:
		case <-t.C:
		case <-done:
			return
		}
		close(s.stopped)
		s.conn.Close()
	}()
	return func() { close(done); wg.Wait() }
}

func (s *Stream) done() bool {
	select {
	case <-s.stopped:
		return true
	default:
		return false
	}
}

// Write sends p, or the part of it within the bound.
func (s *Stream) Write(p []byte) (int, error) {
	if s.done() {
		return 0, ErrStopped
	}
	if left := s.max - s.written; int64(len(p)) > left {
		p = p[:left]
	}
	if len(p) == 0 {
		return 0, ErrStopped
	}
	n, err := s.conn.Write(p)
	s.written += int64(n)
	if err != nil {
		return n, ErrStopped
	}
	return n, nil
}

// WriteString sends str.
func (s *Stream) WriteString(str string) error {
	_, err := s.Write([]byte(str))
	return err
}

// Repeat sends chunk again and again until the attack must stop.
func (s *Stream) Repeat(chunk []byte) error {
	for {
		if _, err := s.Write(chunk); err != nil {
			return err
		}
	}
}

// Sleep waits for d, or less when the attack must stop.
func (s *Stream) Sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.stopped:
		return ErrStopped
	}
}

// Next waits for the client's next command.
func (s *Stream) Next() ([]string, error) {
	select {
	case cmd := <-s.cmds:
		return cmd, nil
	case <-s.stopped:
		return nil, ErrStopped
	}
}

// Wait blocks until the attack must stop.
func (s *Stream) Wait() {
	<-s.stopped
}

// Redis is the reply a Redis 7 gives to cmd on this connection (HELLO
// switches the protocol as it does on a real server).
func (s *Stream) Redis(cmd []string) []byte { return s.sess.answer(cmd) }
