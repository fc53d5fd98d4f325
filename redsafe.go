// Package redsafe is a Redis cache that cannot be used insecurely.
//
// Every connection uses TLS and authenticates, and every value is sealed
// with Fernet (AES-128-CBC and HMAC-SHA256, readable by Python's
// cryptography.fernet) before it leaves the process. A configuration that is
// unsafe for its environment makes Open fail with every problem named and
// the fix for each:
//
//	c, err := redsafe.OpenFromEnv(ctx)
//	if err != nil {
//		log.Fatal(err) // lists each problem and how to fix it
//	}
//	defer c.Close()
//	err = c.Set(ctx, "session:42", []byte(`{"user":7}`), time.Hour)
//	v, err := c.Get(ctx, "session:42")
//
// The environment (production, staging, development or testing) selects a
// fixed policy; see PolicyFor. When the environment cannot be told, it is
// production. Values that fail authentication are never returned: Get
// reports them as a *DecryptError and leaves them in place.
//
// Services with their own Redis client can seal and open values the same
// way with package seal.
package redsafe

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/seal"
)

// Cache is an encrypted cache on one Redis server. It is safe for
// concurrent use; commands from concurrent callers are pipelined on shared
// connections.
type Cache struct {
	client   rueidis.Client
	sealer   *seal.Sealer
	prefix   string
	tokenTTL time.Duration
	// hashed and hashNameKey: Options.HashedKeyPrefixes (keynames.go).
	hashed      []string
	hashNameKey []byte
	log         *slog.Logger
	addr        string
	env         Environment
	dialer      *dialer
	obs         Observer    // nil: nothing observes
	local       *localCache // nil: Options.LocalCache is off
	clock       func() time.Time

	// cmdTimeout bounds a command whose context has no deadline.
	cmdTimeout time.Duration

	decryptFailures  atomic.Uint64
	previousKeyReads atomic.Uint64

	// stopWatch ends the background work of a Cache on a cluster
	// (watchTopology), a round trip in flight included; watchDone closes
	// when it has ended. Both nil without it.
	stopWatch context.CancelFunc
	watchDone chan struct{}
}

// OpenFromEnv opens a Cache configured by the environment contract; see
// OptionsFromEnv.
func OpenFromEnv(ctx context.Context) (*Cache, error) {
	return Open(ctx, OptionsFromEnv())
}

// Open validates o, connects, authenticates and sends PING. It returns a
// *ConfigError when the configuration breaks its environment's policy, and a
// *ConnectError naming the cause and the fix when the server cannot be used.
// It never waits longer than the context allows, nor than
// Options.DialTimeout for each connection attempt.
func Open(ctx context.Context, o Options) (*Cache, error) {
	s, _ := newConfig(o)
	return open(ctx, s)
}

// open is the last stage: it connects as s says, and reads nothing else.
// Cluster and Sentinel will connect to what s.topology names.
func open(ctx context.Context, s *config) (*Cache, error) {
	log, report := s.log, s.report
	logReport(ctx, log, report, s)
	observeValidation(s.obs, report)
	if err := report.Err(); err != nil {
		return nil, err
	}

	c := &Cache{
		sealer:      s.sealer,
		prefix:      s.prefix,
		tokenTTL:    s.tokenTTL,
		hashed:      s.hashed,
		hashNameKey: s.hashNameKey,
		log:         log,
		addr:        s.topology.addrs[0],
		env:         s.policy.Environment,
		obs:         s.obs,
		clock:       time.Now,
	}
	if s.clock != nil {
		c.clock = s.clock
	}
	if s.localCache.MaxBytes > 0 {
		c.local = newLocalCache(s.localCache)
	}
	opt := c.clientOption(s)
	client, err := rueidis.NewClient(opt)
	if err == nil {
		err = c.ping(ctx, client)
	}
	if err != nil {
		if client != nil {
			client.Close()
		}
		err = classify(err, s, c.addr, c.dialer)
		log.LogAttrs(ctx, slog.LevelError, "redsafe: open failed", slog.String("addr", c.addr), slog.String("error", err.Error()))
		return nil, err
	}
	c.client = client
	if c.local != nil && client.Mode() == rueidis.ClientModeCluster {
		every := s.localCache.TopologyCheck
		if every <= 0 {
			every = DefaultTopologyCheck
		}
		var watch context.Context
		watch, c.stopWatch = context.WithCancel(context.Background())
		c.watchDone = make(chan struct{})
		go c.watchTopology(watch, every)
	}
	attrs := []slog.Attr{slog.String("addr", c.addr), slog.String("environment", string(c.env)), slog.Int("db", s.url.DB)}
	if st := c.dialer.state.Load(); st != nil {
		attrs = append(attrs, slog.String("tls", tls.VersionName(st.Version)), slog.Bool("tls_resumed", st.DidResume))
	} else {
		attrs = append(attrs, slog.Bool("tls", false))
	}
	log.LogAttrs(ctx, slog.LevelInfo, "redsafe: opened", attrs...)
	return c, nil
}

func (c *Cache) clientOption(s *config) rueidis.ClientOption {
	c.cmdTimeout = s.cmdTimeout
	c.dialer = newDialer(s)
	opt := rueidis.ClientOption{
		InitAddress: s.topology.addrs,
		SelectDB:    s.url.DB,
		Dialer:      net.Dialer{Timeout: s.dialTimeout},
		DialCtxFn:   c.dialer.dial,
		// A connection that does not answer within this is closed and its
		// pending commands fail, so no command waits forever.
		ConnWriteTimeout: s.cmdTimeout,
		// rueidis tells a cluster from a single server itself: it asks the
		// seeds for CLUSTER SLOTS and uses a server that is not a cluster
		// node alone. So a URL naming one node of a cluster finds the rest
		// instead of failing with MOVED on most keys.
		DisableCache: true,
		ClientName:   "redsafe",
		RetryDelay:   retryDelay,
		// DialCtxFn makes every TLS connection itself (c.dialer); the
		// config is set so that rueidis reads each node's tls-port from
		// CLUSTER SHARDS (Redis 8 and later), not its plaintext port.
		TLSConfig: s.tlsConfig,
	}
	if c.local != nil {
		c.local.clientOption(&opt)
	}
	c.sentinelOption(s, &opt)
	s.replicaOption(&opt)
	credentials := s.credentials
	if credentials == nil && s.sentinel != nil && s.sentinel.file != "" {
		// The Sentinels' password file is read for every connection to
		// one, which only a credentials function can do.
		username, password := s.username, s.password
		credentials = func(context.Context) (Credentials, error) {
			return Credentials{Username: username, Password: password}, nil
		}
	}
	if credentials != nil {
		policy, dialTimeout := s.policy, s.dialTimeout
		opt.AuthCredentialsFn = func(ac rueidis.AuthCredentialsContext) (rueidis.AuthCredentials, error) {
			if cr, ok, err := c.sentinelCredentials(s, ac.Address); ok {
				return cr, err // rueidis copies this function to the Sentinels' connections too
			}
			ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
			defer cancel()
			cr, err := credentials(ctx)
			if err != nil {
				return rueidis.AuthCredentials{}, err
			}
			if fs := passwordFindings(cr.Password, policy); len(fs) > 0 {
				return rueidis.AuthCredentials{}, &credentialsError{f: fs[0]}
			}
			c.dialer.password.Store(&cr.Password)
			return rueidis.AuthCredentials{Username: cr.Username, Password: cr.Password}, nil
		}
	} else {
		opt.Username, opt.Password = s.username, s.password
		c.dialer.password.Store(&s.password)
	}
	return opt
}

func (c *Cache) ping(ctx context.Context, client rueidis.Client) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*defaultDialTimeout)
		defer cancel()
	}
	return client.Do(ctx, client.B().Ping().Build()).Error()
}

// Close closes the connections and drops the local cache, if any; commands
// after it fail. It returns an error so that a Cache is an io.Closer; today
// it always returns nil, since closing a connection has no failure the
// caller could act on.
func (c *Cache) Close() error {
	if c.stopWatch != nil {
		c.stopWatch()
		<-c.watchDone
	}
	c.client.Close()
	return nil
}

// Environment is the environment whose policy the Cache was opened under.
func (c *Cache) Environment() Environment { return c.env }

// TLSVersion is the TLS version of the last connection made, or 0 when
// TLS is off.
func (c *Cache) TLSVersion() uint16 {
	if st := c.dialer.state.Load(); st != nil {
		return st.Version
	}
	return 0
}

// Stats are counters of security events since Open.
type Stats struct {
	// DecryptFailures counts stored values refused because they failed
	// authentication or were too old.
	DecryptFailures uint64
	// PreviousKeyReads counts values that opened only with a previous key:
	// when it stays at zero, a key rotation is complete.
	PreviousKeyReads uint64
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{DecryptFailures: c.decryptFailures.Load(), PreviousKeyReads: c.previousKeyReads.Load()}
}

type credentialsError struct{ f Finding }

func (e *credentialsError) Error() string { return "[" + e.f.ID + "] " + e.f.Message }
func (e *credentialsError) Is(target error) bool {
	return target == ErrCredentialsRejected
}
