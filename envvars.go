package redsafe

import (
	"crypto/tls"
	"os"
	"strings"

	"github.com/redsafe/redsafe/seal"
)

// The environment contract. The names match the Python services redsafe
// replaces, so a service can move over without renaming anything.
const (
	EnvURL                    = "REDIS_URL"
	EnvUsername               = "REDIS_USERNAME"
	EnvACLUsername            = "REDIS_ACL_USERNAME" // alias of REDIS_USERNAME
	EnvPassword               = "REDIS_PASSWORD"
	EnvPasswordFile           = "REDIS_PASSWORD_FILE"
	EnvEncryptionKey          = "REDIS_ENCRYPTION_KEY"
	EnvEncryptionPreviousKeys = "REDIS_ENCRYPTION_PREVIOUS_KEYS"
	// The _FILE forms name a file that holds the value (one line; for the
	// previous keys, one key a line or comma-separated), read at Open with
	// the mode checks of REDIS_PASSWORD_FILE. Setting a variable and its
	// _FILE form both is an error.
	EnvEncryptionKeyFile          = "REDIS_ENCRYPTION_KEY_FILE"
	EnvEncryptionPreviousKeysFile = "REDIS_ENCRYPTION_PREVIOUS_KEYS_FILE"
	// EnvKeyNameKey is the key of hashed key names (Options.KeyNameKey).
	EnvKeyNameKey             = "REDIS_KEY_NAME_KEY"
	EnvKeyNameKeyFile         = "REDIS_KEY_NAME_KEY_FILE"
	EnvTLSEnabled             = "REDIS_TLS_ENABLED"
	EnvTLSCACert              = "REDIS_TLS_CA_CERT"
	EnvTLSCert                = "REDIS_TLS_CERT"
	EnvTLSKey                 = "REDIS_TLS_KEY"
	EnvTLSCertReqs            = "REDIS_TLS_CERT_REQS"
	EnvTLSMinVersion          = "REDIS_TLS_MIN_VERSION"
	EnvTLSServerName          = "REDIS_TLS_SERVER_NAME"
	EnvInsecureAllowPlaintext = "REDIS_INSECURE_ALLOW_PLAINTEXT"
	EnvReadFromReplicas       = "REDIS_READ_FROM_REPLICAS"
	// EnvEncryptionFormat is fernet (the default), sealed or sealed-only
	// (Options.ValueFormat, Options.SealedOnly).
	EnvEncryptionFormat      = "REDIS_ENCRYPTION_FORMAT"
	EnvEncryptionCompression = "REDIS_ENCRYPTION_COMPRESSION"
	// EnvHashedKeyPrefixes is a comma-separated list (Options.HashedKeyPrefixes).
	EnvHashedKeyPrefixes = "REDIS_HASHED_KEY_PREFIXES"
)

// OptionsFromEnv reads the environment contract from the process
// environment. Values it cannot understand are not guessed at: they become
// error findings that Validate and Open report.
func OptionsFromEnv() Options { return OptionsFromLookup(os.LookupEnv) }

// OptionsFromLookup is OptionsFromEnv with another source of variables,
// such as a parsed env file.
func OptionsFromLookup(lookup func(string) (string, bool)) Options {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	d := detectEnvironment(lookup)
	o := Options{
		Environment:   d.env,
		URL:           get(EnvURL),
		Username:      get(EnvUsername),
		PasswordFile:  get(EnvPasswordFile),
		EncryptionKey: get(EnvEncryptionKey),
		// Paths are trimmed like every other value; a key file's content
		// is judged when it is read, at Open.
		EncryptionKeyFile:          get(EnvEncryptionKeyFile),
		PreviousEncryptionKeys:     splitKeyList(get(EnvEncryptionPreviousKeys)),
		PreviousEncryptionKeysFile: get(EnvEncryptionPreviousKeysFile),
		KeyNameKey:                 get(EnvKeyNameKey),
		KeyNameKeyFile:             get(EnvKeyNameKeyFile),
		TLS: TLSOptions{
			CAFile:     get(EnvTLSCACert),
			CertFile:   get(EnvTLSCert),
			KeyFile:    get(EnvTLSKey),
			ServerName: get(EnvTLSServerName),
		},
		Sentinel: SentinelOptions{
			Username:     get(EnvSentinelUsername),
			PasswordFile: get(EnvSentinelPasswordFile),
		},
		detected: &d,
	}
	o.Sentinel.Password, _ = lookup(EnvSentinelPassword)
	// A password may legitimately begin or end with spaces; keep it whole.
	o.Password, _ = lookup(EnvPassword)
	if alias := get(EnvACLUsername); alias != "" {
		if o.Username != "" && o.Username != alias {
			o.envFindings = append(o.envFindings, Finding{ID: "auth.username-conflict", Severity: SeverityError,
				Message: EnvUsername + " and " + EnvACLUsername + " name different users",
				Fix:     "set only one of them"})
		}
		if o.Username == "" {
			o.Username = alias
		}
	}
	o.TLS.Enabled = o.envBool(get, EnvTLSEnabled)
	o.AllowInsecurePlaintext = o.envBool(get, EnvInsecureAllowPlaintext)
	o.ReadFromReplicas = o.envBool(get, EnvReadFromReplicas)
	o.Compress = o.envBool(get, EnvEncryptionCompression)
	if v := strings.ToLower(get(EnvEncryptionFormat)); v == "sealed-only" {
		o.ValueFormat, o.SealedOnly = FormatSealed, true
	} else if v != "" {
		f, err := seal.ParseFormat(v)
		if err != nil {
			o.envFindings = append(o.envFindings, Finding{ID: "encryption.format", Severity: SeverityError,
				Message: notOneOf(EnvEncryptionFormat, "fernet, sealed or sealed-only"),
				Fix:     "set " + EnvEncryptionFormat + " to fernet (the default, which Python reads), sealed (docs/FORMAT.md) or sealed-only (sealed, and Fernet values refused)"})
		}
		o.ValueFormat = f
	}
	for _, p := range strings.Split(get(EnvHashedKeyPrefixes), ",") {
		if p = strings.TrimSpace(p); p != "" {
			o.HashedKeyPrefixes = append(o.HashedKeyPrefixes, p)
		}
	}
	if v := get(EnvTLSCertReqs); v != "" {
		switch m := VerifyMode(strings.ToLower(v)); m {
		case VerifyRequired, VerifyOptional, VerifyNone:
			o.TLS.Verify = m
		default:
			o.envFindings = append(o.envFindings, Finding{ID: "tls.verify-invalid", Severity: SeverityError,
				Message: notOneOf(EnvTLSCertReqs, "required, optional or none"),
				Fix:     "set " + EnvTLSCertReqs + " to required, optional or none"})
		}
	}
	switch v := get(EnvTLSMinVersion); v {
	case "":
	case "1.2", "TLSv1.2":
		o.TLS.MinVersion = tls.VersionTLS12
	case "1.3", "TLSv1.3":
		o.TLS.MinVersion = tls.VersionTLS13
	default:
		o.envFindings = append(o.envFindings, Finding{ID: "tls.min-version-invalid", Severity: SeverityError,
			Message: notOneOf(EnvTLSMinVersion, "1.2 or 1.3"),
			Fix:     "set " + EnvTLSMinVersion + " to 1.2 or 1.3; older versions are never allowed"})
	}
	return o
}

func (o *Options) envBool(get func(string) string, name string) bool {
	switch v := strings.ToLower(get(name)); v {
	case "", "0", "false", "no", "off":
		return false
	case "1", "true", "yes", "on":
		return true
	default:
		o.envFindings = append(o.envFindings, Finding{ID: "env.invalid-bool", Severity: SeverityError,
			Message: notOneOf(name, "true or false"),
			Fix:     "set " + name + " to true or false"})
		return false
	}
}
