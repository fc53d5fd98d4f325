package redsafe

import "crypto/tls"

// Policy is the security policy of one environment. Policies are fixed:
// security cannot be switched off, only the environment chosen.
type Policy struct {
	Environment Environment

	// MinPasswordLength and MinPasswordBits bound the password; bits are
	// estimated by PasswordBits.
	MinPasswordLength int
	MinPasswordBits   float64

	// RequireTLS refuses plaintext connections. Production may still run
	// without TLS when AllowInsecurePlaintext is set, with a warning at every
	// start; staging has no such override.
	RequireTLS               bool
	PlaintextOverride        bool
	PlaintextLoopbackAllowed bool // development: plaintext to loopback only, with a warning

	MinTLSVersion uint16

	// AllowedVerify lists the certificate verification modes permitted.
	AllowedVerify []VerifyMode

	// PrivateSecretFiles refuses a password file that another user owns or
	// can read, or that sits in a directory others can write to; without
	// it (development, testing) that is a warning.
	PrivateSecretFiles bool
}

// PolicyFor returns the policy of env. An unknown environment gets the
// production policy.
func PolicyFor(env Environment) Policy {
	switch env {
	case Staging:
		return Policy{Environment: Staging, MinPasswordLength: 32, MinPasswordBits: 192,
			RequireTLS: true, MinTLSVersion: tls.VersionTLS12, AllowedVerify: []VerifyMode{VerifyRequired}, PrivateSecretFiles: true}
	case Development:
		return Policy{Environment: Development, MinPasswordLength: 24, MinPasswordBits: 128,
			PlaintextLoopbackAllowed: true, MinTLSVersion: tls.VersionTLS12,
			AllowedVerify: []VerifyMode{VerifyRequired, VerifyOptional}}
	case Testing:
		return Policy{Environment: Testing, MinPasswordLength: 12,
			MinTLSVersion: tls.VersionTLS12, AllowedVerify: []VerifyMode{VerifyRequired, VerifyOptional, VerifyNone}}
	default:
		return Policy{Environment: Production, MinPasswordLength: 48, MinPasswordBits: 256,
			RequireTLS: true, PlaintextOverride: true, MinTLSVersion: tls.VersionTLS13,
			AllowedVerify: []VerifyMode{VerifyRequired}, PrivateSecretFiles: true}
	}
}

func (p Policy) allowsVerify(m VerifyMode) bool {
	for _, a := range p.AllowedVerify {
		if a == m {
			return true
		}
	}
	return false
}
