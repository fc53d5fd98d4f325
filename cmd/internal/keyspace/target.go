// Package keyspace is what the long-running operator jobs (key rotation,
// migration) share: a connection to one database, a SCAN walk that can
// stop and resume at its cursor, a checkpoint file, a rate limit, and key
// names masked for output. The progress line they draw is package
// progress.
package keyspace

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/redact"
	"github.com/redsafe/redsafe/internal/resp"
)

// Target is a server and the credentials to use on it.
type Target struct {
	Addr string      // host:port
	TLS  *tls.Config // nil: plaintext
	// NodeRoots verify the nodes of a cluster other than Addr (see
	// topology.TLSFor): the CA file alone; nil: TLS.RootCAs.
	NodeRoots *x509.CertPool
	Username  string // "" means the default user
	Password  string
	Name      string // CLIENT SETNAME, so operators can see the job in CLIENT LIST
	// DialTimeout bounds the dial, the TLS handshake and authentication.
	// Default 5s.
	DialTimeout time.Duration
	// Resolve, for a master reached through Sentinels, asks them where
	// the master is now, and how to verify it: a failover moves it (see
	// Follow). nil for one server or a cluster, which never move.
	Resolve func(ctx context.Context) (addr string, cfg *tls.Config, err error)
	// Sentinels names the Sentinels and the master set Resolve asks, for
	// reports and checkpoint scopes: unlike Addr it stays the same through
	// a failover. "" without Resolve.
	Sentinels string
}

// Where names what t stands for through failovers: its Sentinels and
// master set when it has them, its address otherwise.
func (t Target) Where() string {
	if t.Resolve != nil {
		return t.Sentinels
	}
	return t.Addr
}

// DialError reports that Target could not be used at all: unreachable, TLS
// failure, refused credentials. Err never contains the password.
type DialError struct {
	Addr string
	DB   int
	Err  error
}

func (e *DialError) Error() string {
	return fmt.Sprintf("cannot connect to %s db %d: %v", e.Addr, e.DB, e.Err)
}

func (e *DialError) Unwrap() error { return e.Err }

// Dial connects to database db and authenticates. The client never
// retries a command by itself: a job decides what is safe to repeat.
func (t Target) Dial(db int) (rueidis.Client, error) {
	return t.dial(db, nil)
}

// DialCluster connects to the cluster whose masters are nodes (from
// Masters), as t's user: each command goes to the node that serves its
// key's slot, redirects included, and every node is verified against the
// host it is reached by (topology.TLSFor). Jobs write through it; they
// walk each master with a Dial of its own.
func (t Target) DialCluster(nodes []string) (rueidis.Client, error) {
	return t.dial(0, nodes)
}

func (t Target) dial(db int, nodes []string) (rueidis.Client, error) {
	timeout := t.DialTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	name := t.Name
	if name == "" {
		name = "redsafe"
	}
	seeds := []string{t.Addr}
	if nodes != nil {
		seeds = nodes
	}
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: seeds,
		TLSConfig:   t.TLS,
		Username:    t.Username,
		Password:    t.Password,
		SelectDB:    db,
		ClientName:  name,
		Dialer:      net.Dialer{Timeout: timeout},
		// Replies within resp.ClientLimits: rueidis's reader has no limits
		// of its own, and these jobs talk to servers nobody vouches for.
		// A cluster's other nodes are checked against their own names.
		DialCtxFn: func(ctx context.Context, addr string, nd *net.Dialer, _ *tls.Config) (net.Conn, error) {
			return resp.DialGuarded(ctx, addr, nd, topology.TLSFor(t.TLS, t.NodeRoots, t.Addr, addr), resp.ClientLimits(0))
		},
		// Batches are large pipelines; a server that answers none of a
		// batch within this is considered gone.
		ConnWriteTimeout:  30 * time.Second,
		ForceSingleClient: nodes == nil,
		DisableCache:      true,
		DisableRetry:      true,
	})
	if err != nil {
		// A server may quote AUTH's arguments in its error reply.
		return nil, &DialError{Addr: t.Addr, DB: db, Err: redact.WithoutSecrets(err, t.Password)}
	}
	return c, nil
}

// Explain adds the likely fix to errors whose reply alone does not say
// what to do. It never adds a key name or a value.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "NOPERM") && strings.Contains(msg, "key"):
		return fmt.Errorf("%w (the user may not touch some keys that SCAN lists: restrict the walk with --match to the user's key pattern)", err)
	case strings.Contains(msg, "NOPERM"):
		return fmt.Errorf("%w (the user's ACL refuses a command the job needs; see `redsafe help` for the command's requirements)", err)
	}
	return err
}

// IsNoPerm reports whether err is an ACL refusal.
func IsNoPerm(err error) bool {
	var re *rueidis.RedisError
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "NOPERM")
}
