package redsafe

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/redsafe/redsafe/internal/redact"
	"github.com/redsafe/redsafe/internal/redisurl"
)

// The types here hold a password, an encryption key or a TLS configuration
// (whose client certificate carries its private key). Under every fmt
// verb, as a slog.LogValuer and as JSON they print a view instead: the URL
// redacted, the user name, "xxxxx" for a password that is set, keys by ID,
// TLS as a summary. JSON is one way: what MarshalJSON writes cannot be read
// back into a working configuration, on purpose. A value kept in an
// unexported field of another struct is out of reach of fmt's methods;
// format that struct the same way.

// optionsView is what Options prints: a field of Options is shown only
// once it is listed here.
type optionsView struct {
	Environment            Environment    `json:"environment,omitempty"`
	URL                    string         `json:"url,omitempty"`
	Username               string         `json:"username,omitempty"`
	Password               string         `json:"password,omitempty"`
	Credentials            bool           `json:"credentials_func,omitempty"`
	Dial                   bool           `json:"dial_func,omitempty"`
	PasswordFile           string         `json:"password_file,omitempty"`
	EncryptionKey          string         `json:"encryption_key,omitempty"`
	PreviousEncryptionKeys []string       `json:"previous_encryption_keys,omitempty"`
	TLS                    tlsOptionsView `json:"tls"`
	AllowInsecurePlaintext bool           `json:"allow_insecure_plaintext,omitempty"`
	KeyPrefix              string         `json:"key_prefix,omitempty"`
	TokenTTL               string         `json:"token_ttl,omitempty"`
	DialTimeout            string         `json:"dial_timeout,omitempty"`
	CommandTimeout         string         `json:"command_timeout,omitempty"`
	MaxReplyBytes          int64          `json:"max_reply_bytes,omitempty"`
	LocalCache             localCacheView `json:"local_cache"`
	ReadFromReplicas       bool           `json:"read_from_replicas,omitempty"`
	Sentinel               sentinelView   `json:"sentinel"`

	// The key files are paths; the key-name key is shown by its ID.
	EncryptionKeyFile          string `json:"encryption_key_file,omitempty"`
	PreviousEncryptionKeysFile string `json:"previous_encryption_keys_file,omitempty"`
	KeyNameKey                 string `json:"key_name_key,omitempty"`
	KeyNameKeyFile             string `json:"key_name_key_file,omitempty"`

	ValueFormat       string   `json:"value_format,omitempty"`
	SealedOnly        bool     `json:"sealed_only,omitempty"`
	Compress          bool     `json:"compress,omitempty"`
	HashedKeyPrefixes []string `json:"hashed_key_prefixes,omitempty"`
}

type sentinelView struct {
	Username     string `json:"username,omitempty"`
	Password     string `json:"password,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
}

type tlsOptionsView struct {
	Enabled    bool       `json:"enabled,omitempty"`
	CAFile     string     `json:"ca_file,omitempty"`
	CertFile   string     `json:"cert_file,omitempty"`
	KeyFile    string     `json:"key_file,omitempty"` // a path, not the key
	Verify     VerifyMode `json:"verify,omitempty"`
	MinVersion string     `json:"min_version,omitempty"`
	ServerName string     `json:"server_name,omitempty"`
}

type localCacheView struct {
	MaxBytes      int64  `json:"max_bytes,omitempty"`
	TTL           string `json:"ttl,omitempty"`
	TopologyCheck string `json:"topology_check,omitempty"`
}

func (o Options) view() optionsView {
	v := optionsView{
		Environment:            o.Environment,
		URL:                    redisurl.Redact(o.URL),
		Username:               o.Username,
		Password:               redact.Secret(o.Password),
		Credentials:            o.Credentials != nil,
		Dial:                   o.Dial != nil,
		PasswordFile:           o.PasswordFile,
		EncryptionKey:          redact.KeyID(o.EncryptionKey),
		PreviousEncryptionKeys: redact.KeyIDs(o.PreviousEncryptionKeys),
		TLS: tlsOptionsView{Enabled: o.TLS.Enabled, CAFile: o.TLS.CAFile, CertFile: o.TLS.CertFile, KeyFile: o.TLS.KeyFile,
			Verify: o.TLS.Verify, ServerName: o.TLS.ServerName},
		AllowInsecurePlaintext: o.AllowInsecurePlaintext,
		KeyPrefix:              o.KeyPrefix,
		TokenTTL:               durationText(o.TokenTTL),
		DialTimeout:            durationText(o.DialTimeout),
		CommandTimeout:         durationText(o.CommandTimeout),
		MaxReplyBytes:          o.MaxReplyBytes,
		LocalCache:             localCacheView{MaxBytes: o.LocalCache.MaxBytes, TTL: durationText(o.LocalCache.TTL), TopologyCheck: durationText(o.LocalCache.TopologyCheck)},
		ReadFromReplicas:       o.ReadFromReplicas,
		Sentinel:               o.Sentinel.view(),
	}
	if o.TLS.MinVersion != 0 {
		v.TLS.MinVersion = tlsVersionName(o.TLS.MinVersion)
	}
	v.EncryptionKeyFile, v.PreviousEncryptionKeysFile = o.EncryptionKeyFile, o.PreviousEncryptionKeysFile
	v.KeyNameKey, v.KeyNameKeyFile = redact.KeyID(o.KeyNameKey), o.KeyNameKeyFile
	v.ValueFormat, v.SealedOnly, v.Compress, v.HashedKeyPrefixes = o.ValueFormat.String(), o.SealedOnly, o.Compress, o.HashedKeyPrefixes
	return v
}

// durationText is "" for an unset duration, which then takes its default.
func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// String shows Options without the password or the keys.
func (o Options) String() string { return redact.String("redsafe.Options", o.view()) }

// GoString is String, so that %#v shows no secret either.
func (o Options) GoString() string { return o.String() }

// Format prints String under every verb.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String()) }

// LogValue logs Options as a group of its safe fields.
func (o Options) LogValue() slog.Value { return redact.LogValue(o.view()) }

// MarshalJSON writes the safe fields only; it is not meant to be read back.
func (o Options) MarshalJSON() ([]byte, error) { return json.Marshal(o.view()) }

type credentialsView struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

func (c Credentials) view() credentialsView {
	return credentialsView{Username: c.Username, Password: redact.Secret(c.Password)}
}

// String shows the user name and whether a password is set.
func (c Credentials) String() string { return redact.String("redsafe.Credentials", c.view()) }

// GoString is String, so that %#v shows no password either.
func (c Credentials) GoString() string { return c.String() }

// Format prints String under every verb.
func (c Credentials) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String()) }

// LogValue logs the user name and whether a password is set.
func (c Credentials) LogValue() slog.Value { return redact.LogValue(c.view()) }

// MarshalJSON writes the user name and "xxxxx" for a password.
func (c Credentials) MarshalJSON() ([]byte, error) { return json.Marshal(c.view()) }

func (s SentinelOptions) view() sentinelView {
	return sentinelView{Username: s.Username, Password: redact.Secret(s.Password), PasswordFile: s.PasswordFile}
}

// String shows the user name, whether a password is set, and the file.
func (s SentinelOptions) String() string { return redact.String("redsafe.SentinelOptions", s.view()) }

// GoString is String, so that %#v shows no password either.
func (s SentinelOptions) GoString() string { return s.String() }

// Format prints String under every verb.
func (s SentinelOptions) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String()) }

// LogValue logs the safe fields only.
func (s SentinelOptions) LogValue() slog.Value { return redact.LogValue(s.view()) }

// MarshalJSON writes the safe fields only.
func (s SentinelOptions) MarshalJSON() ([]byte, error) { return json.Marshal(s.view()) }

type sentinelsView struct {
	MasterSet string   `json:"master_set"`
	Addrs     []string `json:"addrs"`
	TLS       string   `json:"tls"`
	Username  string   `json:"username,omitempty"`
	Password  string   `json:"password,omitempty"`
}

func (s Sentinels) safe() sentinelsView {
	return sentinelsView{MasterSet: s.MasterSet, Addrs: s.Addrs, TLS: redact.TLS(s.TLS), Username: s.Username, Password: redact.Secret(s.Password)}
}

// String names the Sentinels, the master set and the user, never the
// password.
func (s Sentinels) String() string { return redact.String("redsafe.Sentinels", s.safe()) }

// GoString is String, so that %#v shows no password either.
func (s Sentinels) GoString() string { return s.String() }

// Format prints String under every verb.
func (s Sentinels) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String()) }

// LogValue logs the safe fields.
func (s Sentinels) LogValue() slog.Value { return redact.LogValue(s.safe()) }

// MarshalJSON writes the safe fields only.
func (s Sentinels) MarshalJSON() ([]byte, error) { return json.Marshal(s.safe()) }

type connectionView struct {
	Addr     string `json:"addr"`
	DB       int    `json:"db"`
	TLS      string `json:"tls"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Keys     string `json:"keys,omitempty"` // key IDs only
}

func (c Connection) view() connectionView {
	v := connectionView{Addr: c.Addr, DB: c.DB, TLS: redact.TLS(c.TLS), Username: c.Username, Password: redact.Secret(c.Password)}
	if c.Sealer != nil {
		v.Keys = c.Sealer.String()
	}
	return v
}

// String shows where and as whom the connection goes, TLS as a summary
// (its configuration may hold a client certificate's private key).
func (c Connection) String() string { return redact.String("redsafe.Connection", c.view()) }

// GoString is String, so that %#v shows no secret either.
func (c Connection) GoString() string { return c.String() }

// Format prints String under every verb.
func (c Connection) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String()) }

// LogValue logs the safe fields.
func (c Connection) LogValue() slog.Value { return redact.LogValue(c.view()) }

// MarshalJSON writes the safe fields only.
func (c Connection) MarshalJSON() ([]byte, error) { return json.Marshal(c.view()) }

// config never reaches a caller, but is formatted the same way so that
// no debugging line can print what it holds.
type configView struct {
	Environment Environment
	URL         string
	TLS         string
	Username    string
	Password    string
	Keys        string
}

func (s config) view() configView {
	v := configView{Environment: s.policy.Environment, URL: s.url.String(), TLS: "off",
		Username: s.username, Password: redact.Secret(s.password)}
	if s.useTLS {
		v.TLS = redact.TLS(s.tlsConfig)
	}
	if s.sealer != nil {
		v.Keys = s.sealer.String()
	}
	return v
}

func (s config) String() string                { return redact.String("redsafe.config", s.view()) }
func (s config) GoString() string              { return s.String() }
func (s config) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String()) }
func (s config) LogValue() slog.Value          { return redact.LogValue(s.view()) }
