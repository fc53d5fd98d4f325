package hostile

import (
	"bytes"
	"strconv"
	"strings"
	"time"
)

// An Attack writes the attacked reply, and whatever it likes after it,
// through s; the connection closes when it returns. A test can write its
// own; Replies makes one from a reply function.
type Attack func(s *Stream)

// chunk is the unit the endless attacks write: small enough that a client
// refusing the reply early has read little of it.
const chunk = 32 << 10

func repeated(unit string) []byte {
	return bytes.Repeat([]byte(unit), chunk/len(unit))
}

// Nest is `<typ>1\r\n` forever: an aggregate whose one element is an
// aggregate, and so on, which makes a recursive reader overflow its stack.
func Nest(typ byte) Attack {
	unit := repeated(string(typ) + "1\r\n") // a map's one pair: its key is the next map
	return func(s *Stream) { s.Repeat(unit) }
}

var (
	// Nesting is `*1\r\n` forever.
	Nesting = Nest('*')
	// PushNesting is `>1\r\n` forever: RESP3 push messages, which clients
	// read outside of any command.
	PushNesting = Nest('>')
	// MapNesting is `%1\r\n` forever: RESP3 maps.
	MapNesting = Nest('%')
)

// EndlessLine is `+AAAA…` without a line end.
func EndlessLine(s *Stream) {
	if s.WriteString("+") == nil {
		s.Repeat(repeated("A"))
	}
}

// HugeArray is `*67108864\r\n` followed by small elements forever: a
// reader that allocates the claimed count, or that stores each element in
// a large struct, runs out of memory long before the count.
func HugeArray(s *Stream) {
	if s.WriteString("*67108864\r\n") == nil {
		s.Repeat(repeated(":1\r\n"))
	}
}

// HugeBulk claims a bulk string of 512 MiB, Redis's own largest string,
// then sends it slowly (32 KiB every 100 ms): a reader that allocates the
// claimed length holds it while waiting; one that grows with what arrives
// does not.
var HugeBulk = Bulk(536870912, chunk, 100*time.Millisecond)

// OversizedBulk claims a 1 GiB bulk string, more than Redis ever sends,
// then sends it slowly.
var OversizedBulk = Bulk(1<<30, chunk, 100*time.Millisecond)

// Bulk claims a bulk string of n bytes, then sends step bytes every
// interval, never finishing it sooner than the claim; step 0 sends
// nothing after the header.
func Bulk(n int64, step int, interval time.Duration) Attack {
	return func(s *Stream) {
		if s.WriteString("$"+strconv.FormatInt(n, 10)+"\r\n") != nil {
			return
		}
		if step <= 0 {
			s.Wait()
			return
		}
		payload := bytes.Repeat([]byte("x"), step)
		for sent := int64(0); sent < n; sent += int64(step) {
			if _, err := s.Write(payload[:min(int64(step), n-sent)]); err != nil {
				return
			}
			if s.Sleep(interval) != nil {
				return
			}
		}
		s.Wait()
	}
}

// SlowDrip sends the reply a Redis 7 would, one byte every 200 ms.
func SlowDrip(s *Stream) { Drip(200 * time.Millisecond)(s) }

// Drip sends the reply a Redis 7 would, one byte every interval.
func Drip(interval time.Duration) Attack {
	return func(s *Stream) {
		for _, b := range s.Redis(s.Cmd) {
			if _, err := s.Write([]byte{b}); err != nil {
				return
			}
			if s.Sleep(interval) != nil {
				return
			}
		}
		s.Wait()
	}
}

// Escape is the terminal escape sequence TerminalEscapes plants in the
// strings it sends: it sets the window title, clears the screen and turns
// the text red. A client that prints it raw is fooled by the server.
const Escape = "\x1b]0;hostile\x07\x1b[2J\x1b[31m"

// TerminalEscapes answers the attacked command and every later one like a
// Redis 7 whose strings carry Escape: every error reply, INFO's os,
// executable and config_file fields, CONFIG GET's dir and logfile, the
// ACL LOG entry's client-info (its addr), username and object, CLIENT
// LIST's addr, ACL GETUSER's key patterns. The replies stay well-formed, so
// a client goes on reading them as usual.
func TerminalEscapes(s *Stream) {
	s.sess.escape = true
	Replies(nil)(s)
}

// Replies answers the attacked command and every later one with f's reply
// (raw RESP), or a Redis 7's when f is nil or returns nil. proto is the
// protocol version the connection's HELLO chose.
func Replies(f func(cmd []string, proto int) []byte) Attack {
	return func(s *Stream) {
		for cmd := s.Cmd; ; {
			var reply []byte
			if f != nil {
				reply = f(cmd, s.sess.proto)
			}
			if reply == nil {
				reply = s.sess.answer(cmd)
			}
			if _, err := s.Write(reply); err != nil {
				return
			}
			var err error
			if cmd, err = s.Next(); err != nil {
				return
			}
		}
	}
}

// OnCommand answers like a Redis 7 until the client sends the command
// name (case-insensitive), then attacks that command's reply with a. With
// Config.Handshake 0 it attacks, on every connection, the first command
// after any handshake, however many replies that takes: a client that
// reconnects and retries meets the attack again.
func OnCommand(name string, a Attack) Attack {
	return func(s *Stream) {
		for !strings.EqualFold(s.Cmd[0], name) {
			if _, err := s.Write(s.Redis(s.Cmd)); err != nil {
				return
			}
			cmd, err := s.Next()
			if err != nil {
				return
			}
			s.Cmd = cmd
		}
		a(s)
	}
}

// ExtraReply answers the attacked command like a Redis 7 and sends one
// reply more, +OK, that answers nothing: a client that matches replies to
// commands in order must not take it for the next command's, nor crash.
// It then goes on answering like a Redis 7.
func ExtraReply(s *Stream) {
	if _, err := s.Write(append(s.Redis(s.Cmd), "+OK\r\n"...)); err != nil {
		return
	}
	cmd, err := s.Next()
	if err != nil {
		return
	}
	s.Cmd = cmd
	Replies(nil)(s)
}
