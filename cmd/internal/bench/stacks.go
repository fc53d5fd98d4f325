package bench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	fernet "github.com/fernet/fernet-go"
	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/topology"
)

// The stacks compared. Each reads and writes its own keys; all use the same
// server, user, TLS configuration and value TTL.
const (
	StackPlaintext  = "plaintext"
	StackRedsafe    = "redsafe"        // Fernet values, the library's default
	StackSealed     = "redsafe-sealed" // Options.ValueFormat = FormatSealed
	StackLocalCache = "redsafe+localcache"
	StackGoRedis    = "go-redis+fernet-go"
)

// StackNames lists every stack, in the order a cell runs them: plaintext
// first, the baseline of every ratio.
func StackNames() []string {
	return []string{StackPlaintext, StackRedsafe, StackSealed, StackLocalCache, StackGoRedis}
}

// valueTTL is the expiry of every value written, so that nothing a run
// leaves behind outlives it for long.
const valueTTL = 10 * time.Minute

// stack is one way of using Redis as an encrypted (or, for the baseline,
// plaintext) cache. get and getMany return how many bytes of values, or
// how many values, they read, so that callers can check them.
type stack interface {
	name() string
	set(ctx context.Context, key string, value []byte) error
	get(ctx context.Context, key string) (int, error)
	setMany(ctx context.Context, keys []string, value []byte) error
	getMany(ctx context.Context, keys []string) (int, error)
	close()
}

// wire counts the bytes on the wire of every connection the stacks dial,
// below TLS. Stacks run one at a time, so the change over a slice belongs
// to the stack that ran it.
type wire struct{ sent, recv atomic.Uint64 }

func (w *wire) total() uint64 { return w.sent.Load() + w.recv.Load() }

func (w *wire) wrap(c net.Conn) net.Conn { return &countingConn{Conn: c, w: w} }

type countingConn struct {
	net.Conn
	w *wire
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.recv.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.sent.Add(uint64(n))
	return n, err
}

// dialTLS dials addr, counting, and completes the TLS handshake.
func (w *wire) dialTLS(ctx context.Context, addr string, cfg *tls.Config, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn := w.wrap(raw)
	if cfg == nil {
		return conn, nil
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}

const dialTimeout = 5 * time.Second

// --- plaintext values through rueidis, configured as redsafe configures it

type plaintextStack struct{ c rueidis.Client }

func newPlaintext(conn *redsafe.Connection, w *wire) (*plaintextStack, error) {
	cfg := conn.TLS
	if cfg != nil {
		cfg = cfg.Clone()
	}
	// As the library: the seeds first, a cluster found from them (rueidis
	// uses a server that is not a cluster node alone), every node verified
	// against the name it is reached by.
	c, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress: seeds(conn),
		SelectDB:    conn.DB,
		Username:    conn.Username,
		Password:    conn.Password,
		Dialer:      net.Dialer{Timeout: dialTimeout},
		TLSConfig:   cfg,
		DialCtxFn: func(ctx context.Context, addr string, _ *net.Dialer, _ *tls.Config) (net.Conn, error) {
			return w.dialTLS(ctx, addr, topology.TLSFor(cfg, conn.NodeRootCAs, conn.Addr, addr), dialTimeout)
		},
		ConnWriteTimeout: dialTimeout,
		DisableCache:     true,
		ClientName:       "redsafe-bench",
	})
	if err != nil {
		return nil, err
	}
	return &plaintextStack{c: c}, nil
}

// seeds are the addresses a client connects to first.
func seeds(conn *redsafe.Connection) []string {
	if len(conn.Seeds) > 0 {
		return conn.Seeds
	}
	return []string{conn.Addr}
}

// cluster reports whether s reached a Redis Cluster.
func (s *plaintextStack) cluster() bool { return s.c.Mode() == rueidis.ClientModeCluster }

func (s *plaintextStack) name() string { return StackPlaintext }
func (s *plaintextStack) close()       { s.c.Close() }

func (s *plaintextStack) setCmd(key string, value []byte) rueidis.Completed {
	return s.c.B().Set().Key(key).Value(rueidis.BinaryString(value)).Px(valueTTL).Build()
}

func (s *plaintextStack) set(ctx context.Context, key string, value []byte) error {
	return s.c.Do(ctx, s.setCmd(key, value)).Error()
}

func (s *plaintextStack) get(ctx context.Context, key string) (int, error) {
	v, err := s.c.Do(ctx, s.c.B().Get().Key(key).Build()).AsBytes()
	return len(v), err
}

func (s *plaintextStack) setMany(ctx context.Context, keys []string, value []byte) error {
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = s.setCmd(k, value)
	}
	for _, r := range s.c.DoMulti(ctx, cmds...) {
		if err := r.Error(); err != nil {
			return err
		}
	}
	return nil
}

func (s *plaintextStack) getMany(ctx context.Context, keys []string) (int, error) {
	cmds := make(rueidis.Commands, len(keys))
	for i, k := range keys {
		cmds[i] = s.c.B().Get().Key(k).Build()
	}
	n := 0
	for _, r := range s.c.DoMulti(ctx, cmds...) {
		v, err := r.AsBytes()
		if err != nil && !rueidis.IsRedisNil(err) {
			return n, err
		}
		if err == nil && v != nil {
			n++
		}
	}
	return n, nil
}

// --- redsafe: Fernet values, sealed values, or Fernet with the local cache

type redsafeStack struct {
	c    *redsafe.Cache
	kind string
}

// newRedsafe opens the library as the stack kind uses it: StackRedsafe,
// StackSealed or StackLocalCache. The format is the stack's, whatever
// REDIS_ENCRYPTION_FORMAT of the deployment says, and values are never
// compressed (the bench's values are random, which DEFLATE cannot shrink),
// so that each stack measures what its name says.
func newRedsafe(ctx context.Context, opts redsafe.Options, kind string) (*redsafeStack, error) {
	opts.ValueFormat, opts.Compress = redsafe.FormatFernet, false
	switch kind {
	case StackSealed:
		opts.ValueFormat = redsafe.FormatSealed
	case StackLocalCache:
		opts.LocalCache = redsafe.LocalCacheOptions{MaxBytes: 256 << 20, TTL: time.Minute}
	}
	c, err := redsafe.Open(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &redsafeStack{c: c, kind: kind}, nil
}

func (s *redsafeStack) name() string { return s.kind }
func (s *redsafeStack) close()       { s.c.Close() }

func (s *redsafeStack) set(ctx context.Context, key string, value []byte) error {
	return s.c.Set(ctx, key, value, valueTTL)
}

func (s *redsafeStack) get(ctx context.Context, key string) (int, error) {
	v, err := s.c.Get(ctx, key)
	return len(v), err
}

func (s *redsafeStack) setMany(ctx context.Context, keys []string, value []byte) error {
	items := make(map[string][]byte, len(keys))
	for _, k := range keys {
		items[k] = value
	}
	return s.c.SetMany(ctx, items, valueTTL)
}

func (s *redsafeStack) getMany(ctx context.Context, keys []string) (int, error) {
	m, err := s.c.GetMany(ctx, keys)
	return len(m), err
}

// --- go-redis with fernet-go: what a Go team would assemble by hand

type goRedisStack struct {
	c    *goredis.Client
	key  *fernet.Key
	keys []*fernet.Key
}

// newGoRedis is go-redis with fernet-go on one server (Run leaves it out
// on a cluster), with the primary key of conn's key ring: the key as the
// library read it, inline or from REDIS_ENCRYPTION_KEY_FILE.
func newGoRedis(conn *redsafe.Connection, w *wire) (*goRedisStack, error) {
	if conn.Sealer == nil {
		return nil, errors.New("fernet-go: no encryption key is configured")
	}
	k, err := fernet.DecodeKey(conn.Sealer.Keys()[0].Encode())
	if err != nil {
		return nil, fmt.Errorf("fernet-go cannot read the encryption key: %w", err)
	}
	cfg := conn.TLS
	if cfg != nil {
		cfg = cfg.Clone()
	}
	c := goredis.NewClient(&goredis.Options{
		Addr: conn.Addr, Username: conn.Username, Password: conn.Password, DB: conn.DB,
		Dialer: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return w.dialTLS(ctx, addr, cfg, dialTimeout)
		},
		ClientName: "redsafe-bench",
	})
	return &goRedisStack{c: c, key: k, keys: []*fernet.Key{k}}, nil
}

func (s *goRedisStack) name() string { return StackGoRedis }
func (s *goRedisStack) close()       { s.c.Close() }

var errFernet = errors.New("fernet-go refused a token")

func (s *goRedisStack) set(ctx context.Context, key string, value []byte) error {
	tok, err := fernet.EncryptAndSign(value, s.key)
	if err != nil {
		return err
	}
	return s.c.Set(ctx, key, tok, valueTTL).Err()
}

func (s *goRedisStack) get(ctx context.Context, key string) (int, error) {
	tok, err := s.c.Get(ctx, key).Bytes()
	if err != nil {
		return 0, err
	}
	v := fernet.VerifyAndDecrypt(tok, 0, s.keys)
	if v == nil {
		return 0, errFernet
	}
	return len(v), nil
}

func (s *goRedisStack) setMany(ctx context.Context, keys []string, value []byte) error {
	p := s.c.Pipeline()
	for _, k := range keys {
		tok, err := fernet.EncryptAndSign(value, s.key)
		if err != nil {
			return err
		}
		p.Set(ctx, k, tok, valueTTL)
	}
	_, err := p.Exec(ctx)
	return err
}

func (s *goRedisStack) getMany(ctx context.Context, keys []string) (int, error) {
	p := s.c.Pipeline()
	cmds := make([]*goredis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = p.Get(ctx, k)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return 0, err
	}
	n := 0
	for _, cmd := range cmds {
		tok, err := cmd.Bytes()
		if err != nil {
			continue
		}
		if fernet.VerifyAndDecrypt(tok, 0, s.keys) == nil {
			return n, errFernet
		}
		n++
	}
	return n, nil
}
