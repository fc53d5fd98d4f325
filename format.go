package redsafe

import (
	"strings"
	"unicode"

	"github.com/redsafe/redsafe/seal"
)

// Format is how values are sealed (Options.ValueFormat).
type Format = seal.Format

// Value formats.
const (
	// FormatFernet is Fernet: Python's cryptography.fernet reads and
	// writes it. It does not bind a value to its key: a token copied from
	// one key to another opens there.
	FormatFernet = seal.Fernet
	// FormatSealed is redsafe's sealed format (docs/FORMAT.md):
	// XAES-256-GCM, bound to the full Redis key name, with a key ID.
	// examples/python/ reads and writes it with cryptography alone.
	FormatSealed = seal.Sealed
)

// checkFormat validates the format settings and applies them to the key
// ring.
func (c *config) checkFormat(o Options, r *Report) {
	if o.ValueFormat != FormatFernet && o.ValueFormat != FormatSealed {
		r.add("encryption.format", SeverityError, "set "+EnvEncryptionFormat+" to fernet or sealed",
			"Options.ValueFormat %d is not a known value format", o.ValueFormat)
		return
	}
	if o.Compress && o.ValueFormat != FormatSealed {
		r.add("encryption.compression-unused", SeverityWarning, "set "+EnvEncryptionFormat+"=sealed to compress, or unset "+EnvEncryptionCompression,
			"compression applies to the sealed format only: Fernet values are never compressed")
	}
	if o.Compress && o.ValueFormat == FormatSealed {
		r.add("encryption.compression", SeverityNotice, "keep it on only for values an attacker cannot influence in part",
			"values of 1 KiB or more are compressed before sealing: a value's length then depends on its content, which leaks a secret stored beside attacker-chosen input (CRIME, BREACH)")
	}
	switch {
	case o.SealedOnly && o.ValueFormat != FormatSealed:
		r.add("encryption.sealed-only", SeverityError, "set "+EnvEncryptionFormat+"=sealed-only, which also seals in the sealed format",
			"Options.SealedOnly refuses Fernet values, but values are sealed as Fernet: the service could not read what it writes")
		return
	case o.ValueFormat == FormatSealed && !o.SealedOnly:
		r.add("encryption.fernet-readable", SeverityNotice, "once `redsafe rotate-key` has converted every value and `redsafe audit` finds no Fernet token, set "+EnvEncryptionFormat+"=sealed-only",
			"Fernet values are still read: a Fernet token, from before the switch or from a backup, opens under any key, so the binding of values to their keys does not hold yet")
	}
	if c.sealer != nil {
		c.sealer = c.sealer.WithFormat(o.ValueFormat).WithCompression(o.Compress).WithSealedOnly(o.SealedOnly)
	}
	for _, p := range o.HashedKeyPrefixes {
		if p == "" || strings.IndexFunc(p, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			r.add("keyname.prefix", SeverityError, "list prefixes such as magic_link:,session: in "+EnvHashedKeyPrefixes+", or * for every key",
				"a hashed key prefix is empty or holds a space or control character")
			return
		}
		if p == "*" {
			p = ""
		}
		c.hashed = append(c.hashed, p)
	}
	if len(c.hashed) > 0 && c.nameKey == nil {
		// The name key would be derived from the primary encryption key:
		// a new primary key would move every hashed key to a new name,
		// where nothing finds it.
		if c.sealer != nil && len(c.sealer.Keys()) > 1 {
			r.add("keyname.key-rotating", SeverityError, "keep the old key as the primary until key names have a key of their own ("+EnvKeyNameKey+"_FILE): rotate-key cannot rename a hashed key, whose name it cannot recover",
				"hashed key names derive their key from the primary encryption key, and previous keys are configured: the new primary key has moved every hashed key to a name nothing wrote")
		} else {
			r.add("keyname.key-derived", SeverityWarning, "give key names a key of their own (`redsafe keygen`, "+EnvKeyNameKey+"_FILE) before the first rotation of the encryption key",
				"hashed key names derive their key from the primary encryption key: rotating that key would rename every hashed key")
		}
	}
	if len(c.hashed) > 0 && c.sealer != nil {
		// The name key is derived from KeyNameKey when there is one, from
		// the primary encryption key otherwise (docs/FORMAT.md).
		from := c.sealer.Keys()[0]
		if c.nameKey != nil {
			from = c.nameKey
		}
		c.hashNameKey = from.NameKey()
	}
}
