package redsafe

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// Options configures a Cache. The zero value of every field is a safe
// default; OptionsFromEnv fills Options from the environment contract.
type Options struct {
	// Environment selects the security policy. Empty means: detect it from
	// ENVIRONMENT, APP_ENV, GO_ENV, NODE_ENV and ENV, in that order, and use
	// Production when none of them says.
	Environment Environment

	// URL locates the server: rediss://[user:password@]host[:port][/db].
	// rediss:// means TLS. Required.
	URL string

	// Username and Password authenticate. When the URL carries them too,
	// the two must agree.
	Username string
	Password string

	// Credentials, when set, is called for every new connection and
	// overrides Username and Password, so that a password can be rotated
	// without restarting the service. Each password it returns must meet the
	// environment's policy, or the connection is refused.
	Credentials func(ctx context.Context) (Credentials, error)

	// PasswordFile names a file holding the password on one line. It is read
	// at Open and again for every new connection, so a service picks up a
	// password that `redsafe rotate-password` wrote without a restart. Use
	// it instead of Password, not with it; keep the file mode 0600.
	PasswordFile string

	// EncryptionKey is the primary Fernet key (base64 of 32 bytes, see seal.ParseKey):
	// every value is sealed with it. Required in every environment, here
	// or in EncryptionKeyFile.
	EncryptionKey string

	// EncryptionKeyFile names a file holding EncryptionKey on one line,
	// with the rules of PasswordFile: mode 0600 (production and staging
	// refuse a file others can read, development and testing warn), links
	// followed. Use it instead of EncryptionKey, not with it.
	//
	// Unlike PasswordFile, key files are read once, at Open, and not
	// again: a key change needs a restart. A password belongs to a
	// connection, and rotate-password keeps the old and new ones valid
	// while connections move over; the key ring belongs to every value
	// stored. A service that picked up a new primary key by itself, the
	// moment a file changed, would seal values that the services still on
	// the old ring cannot open, and a half-written or wrong file would cut
	// it off from its own data mid-run. So a key change is a deploy: the
	// new key as the primary with the old one among the previous keys,
	// everywhere, then `redsafe rotate-key` (README, "Runbook: rotating
	// the encryption key and the password").
	EncryptionKeyFile string

	// PreviousEncryptionKeys are only used to open values sealed before a
	// key rotation, tried in order after EncryptionKey.
	PreviousEncryptionKeys []string

	// PreviousEncryptionKeysFile names a file holding the previous keys,
	// one a line or separated by commas (as REDIS_ENCRYPTION_PREVIOUS_KEYS
	// is), with the rules and the single read of EncryptionKeyFile. Use it
	// instead of PreviousEncryptionKeys, not with it.
	PreviousEncryptionKeysFile string

	// KeyNameKey is the key of hashed key names (docs/FORMAT.md, "Key
	// names"): 32 random bytes written as a Fernet key (`redsafe keygen`),
	// never one of the encryption keys. Without it the name key is derived
	// from EncryptionKey, so rotating that key would rename every hashed
	// key: set one of its own before the first rotation. Parsed and
	// checked as EncryptionKey is.
	KeyNameKey string

	// KeyNameKeyFile names a file holding KeyNameKey on one line, with the
	// rules and the single read of EncryptionKeyFile. Use it instead of
	// KeyNameKey, not with it.
	KeyNameKeyFile string

	// ValueFormat is how values are sealed: FormatFernet (the default, which
	// Python's cryptography reads) or FormatSealed (docs/FORMAT.md: bound
	// to its Redis key, with a key ID, faster). Values of either format
	// are read whatever ValueFormat says, so a service can switch and let
	// `redsafe rotate-key` convert what is stored.
	ValueFormat Format

	// SealedOnly, with ValueFormat FormatSealed, refuses Fernet values
	// (ErrUndecryptable): the binding of a value to its key holds only
	// then, since a Fernet token, from before the switch or a backup,
	// opens under any key. Switch to it once `redsafe rotate-key` has
	// converted every value and `redsafe audit` finds no Fernet token
	// (REDIS_ENCRYPTION_FORMAT=sealed-only).
	SealedOnly bool

	// Compress compresses values of 1 KiB or more before sealing them
	// (FormatSealed only), when that saves space. Off by default: the
	// length of a compressed value depends on its content, so a value
	// that mixes attacker-chosen input with a secret leaks the secret
	// through its length (CRIME, BREACH). Switch it on only for values
	// nobody outside can influence in part.
	Compress bool

	// HashedKeyPrefixes stores a key that starts with one of these
	// prefixes under the prefix and a keyed hash of its name (HMAC-SHA256
	// under the name key, see KeyNameKey), so that a secret in a key name
	// (magic_link:<token>, session:<id>) never reaches SCAN, MONITOR, the
	// slow log or an RDB file. "*" hashes every key. A pattern SCAN then
	// sees only the prefixes.
	HashedKeyPrefixes []string

	TLS TLSOptions

	// Sentinel holds the Sentinels' own credentials, for a URL with
	// master_set= (see SentinelOptions).
	Sentinel SentinelOptions

	// AllowInsecurePlaintext lets production run without TLS. It logs a
	// warning at every start. Staging ignores it.
	AllowInsecurePlaintext bool

	// KeyPrefix is prepended to every key, to keep services apart in one
	// database.
	KeyPrefix string

	// TokenTTL, when positive, refuses values whose Fernet timestamp is
	// older than this, whatever their Redis TTL.
	TokenTTL time.Duration

	// DialTimeout bounds connecting, the TLS handshake and authentication.
	// Default 5s.
	DialTimeout time.Duration

	// CommandTimeout bounds how long a command may wait to be written and
	// answered when the caller's context has no deadline; a caller's own
	// deadline, sooner or later, is kept. Default 5s.
	CommandTimeout time.Duration

	// MaxReplyBytes bounds one reply from the server, framing included;
	// each string in it is also bounded by Redis's own 512 MiB. A reply
	// past it, or nested deeper than 64 levels, or whose aggregates claim
	// more than 512 Ki elements (1 Mi in all), or with a line longer than
	// 64 KiB, closes its connection before the client library acts on it:
	// the commands waiting on the connection fail with a *ReplyError
	// (ErrReplyRefused), so that a hostile or broken server cannot crash
	// the process or make it allocate more than that. Default
	// DefaultMaxReplyBytes (1 GiB); at least 64 KiB.
	MaxReplyBytes int64

	// Dial, when set, opens the network connection to addr ("host:port")
	// in place of a net.Dialer with DialTimeout. redsafe runs TLS and its
	// reply limits over the connection Dial returns, exactly as over its
	// own, so Dial sees only ciphertext: use it to count bytes on the wire,
	// to dial through a proxy or to inject faults in tests. It must honour
	// ctx, which carries the dial deadline. Default nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Logger receives security events. Default slog.Default().
	Logger *slog.Logger

	// Observer receives operations, timings and security events for
	// metrics; redsafeprom.New makes one for Prometheus. Default nil:
	// nothing is observed, at no cost.
	Observer Observer

	// LocalCache keeps recently read values, decrypted, in process memory,
	// kept coherent with Redis by server-assisted client-side caching: a
	// write to a cached key from any client makes the server invalidate the
	// local copy. The zero value, the default, switches it off.
	LocalCache LocalCacheOptions

	// ReadFromReplicas sends reads (Get, GetMany, Exists, TTL, and the
	// reads of Fetch and LocalCache) to a replica, and writes to the
	// master, through Sentinels (a URL with master_set=) or on a Redis
	// Cluster. Off by default, and for a reason: replication is
	// asynchronous, so a replica can be behind the master, and a read
	// from it can return an older value than the last write, or miss a key
	// just written, even one this process wrote a moment ago. Turn it on
	// only for data that may be read stale. Through Sentinels, keep at
	// least two replicas (readreplicas.go says why).
	// On one server without Sentinels there is no replica to read from:
	// it does nothing, and Validate warns.
	ReadFromReplicas bool

	// Clock replaces time.Now, for tests of TokenTTL.
	Clock func() time.Time

	// problems found while reading the environment; reported by Validate.
	envFindings []Finding
	detected    *detection
}

// LocalCacheOptions configures the in-process cache of Options.LocalCache.
//
// With MaxBytes > 0, Get and GetMany first look in process memory, and a
// value read from Redis is kept there, decrypted, until one of these
// happens: any client writes, deletes or expires the key (Redis tells the
// cache through RESP3 CLIENT TRACKING, usually within a fraction of a
// millisecond on a local network); its Redis TTL or TTL runs out; its
// token would be older than Options.TokenTTL; the connection that tracked
// it breaks (everything is dropped then, since Redis forgets the tracking
// of a closed connection); or it is evicted to stay within MaxBytes.
// Another process's write is seen once its invalidation arrives, not
// before: a read that races with the write may return the older value.
// SWAPDB sends no invalidation; do not let services' users run it.
//
// The cached form is the plaintext, so a hit costs no network round trip
// and no decryption. It lives only in this process's memory, where the
// encryption key lives too; it is never written anywhere. Evicted and
// invalidated values are overwritten with zeros. Get returns a copy, so a
// caller may modify what it gets.
//
// The Redis user needs CLIENT TRACKING (the app user that `redsafe conf`
// and `redsafe up` create has it) and a Redis of version 6 or later.
type LocalCacheOptions struct {
	// MaxBytes bounds the memory the cache holds: values, keys and about
	// 150 bytes of bookkeeping per entry. 0, the default, switches the
	// cache off. The cache is split into up to 64 shards of at least
	// 4 MiB, and a value that would take more than a quarter of its shard
	// is not cached, so that one value cannot flush the rest: with
	// MaxBytes under 8 MiB that is MaxBytes/4, up to 256 MiB at least
	// 1 MiB, and above that MaxBytes/256.
	MaxBytes int64

	// TTL is the longest a value stays in process memory, however long
	// its Redis TTL: a bound on staleness should an invalidation ever be
	// lost without the connection breaking. Default DefaultLocalCacheTTL.
	TTL time.Duration

	// TopologyCheck is how often, on a Redis Cluster, the Cache asks each
	// node it is connected to (up to 64) for its slot map (CLUSTER SLOTS)
	// and drops every local copy when any node's map has changed. A slot
	// moved without MIGRATE, or taken over by a failover, sends no
	// invalidation for the keys read before the move, so this bounds how
	// long a copy can be stale after the last node learns of one. Default
	// DefaultTopologyCheck; unused on a single server.
	TopologyCheck time.Duration
}

// DefaultLocalCacheTTL is LocalCacheOptions.TTL when it is not set.
const DefaultLocalCacheTTL = time.Minute

// Credentials are a user name and password for one connection.
type Credentials struct {
	Username string
	Password string
}

// TLSOptions configures TLS. It is used when the URL is rediss:// or
// Enabled is true.
type TLSOptions struct {
	// Enabled forces TLS even for a redis:// URL.
	Enabled bool

	// CAFile is a PEM bundle trusted in addition to the system roots.
	CAFile string

	// CertFile and KeyFile are a client certificate and key for mutual TLS.
	//
	// CAFile, CertFile and KeyFile are read at Open and, once one of them
	// has changed (size or modification time), again for the next new
	// connection: a renewed client certificate, or the CA bundle of a CA
	// rotation (`redsafe certs rotate-ca`), is used without a restart.
	// Settings that fail to read or parse are not taken, and the last good
	// ones stay in use. Open connections keep what they were made with;
	// no option forces them to reconnect, and none is needed: a server
	// never verifies an open connection again.
	CertFile string
	KeyFile  string

	// Verify is how the server certificate is checked. Default
	// VerifyRequired.
	Verify VerifyMode

	// MinVersion is tls.VersionTLS12 or tls.VersionTLS13. Default: the
	// policy's minimum (TLS 1.3 in production, 1.2 elsewhere).
	MinVersion uint16

	// ServerName overrides the host name that is verified. Default: the
	// URL's host.
	ServerName string
}

// VerifyMode is how the server certificate is verified, with the values of
// redis-py's ssl_cert_reqs.
type VerifyMode string

const (
	// VerifyRequired verifies the chain and the host name.
	VerifyRequired VerifyMode = "required"
	// VerifyOptional verifies the chain against TLSOptions.CAFile but not
	// the host name.
	VerifyOptional VerifyMode = "optional"
	// VerifyNone verifies nothing. Testing only.
	VerifyNone VerifyMode = "none"
)

const (
	defaultDialTimeout    = 5 * time.Second
	defaultCommandTimeout = 5 * time.Second
)

func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS13:
		return "1.3"
	}
	return tls.VersionName(v)
}
