package keyspace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/internal/resp"
)

// ErrNotMaster is matched when the server a job is about to write to says
// (ROLE) that it is not the master: a Sentinel that has not heard of a
// failover yet, or a demoted master, names it still.
var ErrNotMaster = errors.New("the server is not the master")

// ErrMasterMoved is matched when the Sentinels name another master than
// the one a job writes to: the master it writes to may be cut off from
// the others and its writes lost, though it still answers as a master.
var ErrMasterMoved = errors.New("the Sentinels name another master")

// DefaultFailoverWait bounds how long a job waits, after a failover
// symptom, for the Sentinels to name a master that answers as one: longer
// than a failover takes with Sentinel's down-after-milliseconds of a few
// seconds.
const DefaultFailoverWait = 30 * time.Second

// IsFailover reports whether err is what a master's failover looks like
// to a client: the connection refused, reset or closed, no reply in time,
// READONLY (it is a replica now), LOADING, MASTERDOWN, or ErrNotMaster and
// ErrMasterMoved.
func IsFailover(err error) bool {
	if err == nil {
		return false
	}
	for _, e := range []error{ErrNotMaster, ErrMasterMoved, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, rueidis.ErrClosing, context.DeadlineExceeded} {
		if errors.Is(err, e) {
			return true
		}
	}
	var dial *DialError
	var op *net.OpError
	if errors.As(err, &dial) || errors.As(err, &op) {
		return true
	}
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		msg := re.Error()
		for _, code := range []string{"READONLY", "LOADING", "MASTERDOWN"} {
			if strings.HasPrefix(msg, code) {
				return true
			}
		}
	}
	return false
}

// CheckMaster returns ErrNotMaster unless the server c is connected to
// says (ROLE) that it is a master. A job asks on the connection it writes
// on, at every connection: a Sentinel can name an old master.
func CheckMaster(ctx context.Context, c rueidis.CoreClient) error {
	role, err := c.Do(ctx, c.B().Role().Build()).ToArray()
	if err != nil {
		return fmt.Errorf("ROLE: %w", err)
	}
	if len(role) == 0 {
		return fmt.Errorf("%w: ROLE answered nothing", ErrNotMaster)
	}
	s, _ := role[0].ToString()
	return isMaster(s)
}

// isMaster is nil for ROLE's "master", ErrNotMaster naming any other of
// ROLE's words (a server's own text is not repeated).
func isMaster(role string) error {
	switch role {
	case "master":
		return nil
	case "slave", "replica", "sentinel":
		return fmt.Errorf("%w: it is a %s", ErrNotMaster, role)
	}
	return fmt.Errorf("%w: ROLE gave no role", ErrNotMaster)
}

// role asks the server t names, on a connection of its own, what it is.
func (t Target) role() error {
	c, err := t.probe()
	if err != nil {
		return err
	}
	defer c.Close()
	v, err := c.DoValue("ROLE")
	switch {
	case err != nil:
		return &DialError{Addr: t.Addr, Err: err}
	case v.IsError():
		return fmt.Errorf("ROLE: %s", resp.FirstWord(v.Str))
	case len(v.Elems) == 0:
		return fmt.Errorf("%w: ROLE answered nothing", ErrNotMaster)
	}
	return isMaster(v.Elems[0].Str)
}

// Follow asks t's Sentinels (Resolve), with a growing pause between
// tries and for at most wait, until they name a server that answers ROLE
// as a master, and returns t aimed at it: the same address when the
// master did not move. The error says why the last try failed.
func (t Target) Follow(ctx context.Context, wait time.Duration) (Target, error) {
	if t.Resolve == nil {
		return t, errors.New("not reached through Sentinels")
	}
	if wait <= 0 {
		wait = DefaultFailoverWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	pause := 50 * time.Millisecond
	for {
		addr, cfg, err := t.Resolve(ctx)
		if err == nil {
			n := t
			n.Addr, n.TLS = addr, cfg
			if err = n.role(); err == nil {
				return n, nil
			}
			err = fmt.Errorf("the Sentinels name %s: %w", addr, err)
		}
		timer := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return t, fmt.Errorf("no master within %s: %w", wait, err)
		case <-timer.C:
		}
		pause = min(2*pause, time.Second)
	}
}
