package redsafe

import (
	"errors"

	"github.com/redsafe/redsafe/seal"
)

// keyRing is the one parser of the encryption keys: the primary key, then
// the previous keys in order. Every problem is a finding; a previous key
// that is unusable is one error finding and is left out. It returns nil
// when the primary key is missing or unusable.
func keyRing(primaryText string, previousTexts []string, r *Report) *seal.Sealer {
	if primaryText == "" {
		r.add("encryption.key-missing", SeverityError, "set "+EnvEncryptionKey+" to the output of `redsafe keygen`",
			"no encryption key is configured: every value must be encrypted, in every environment")
		return nil
	}
	primary, err := seal.ParseKey(primaryText)
	if err != nil {
		r.add("encryption.key-invalid", SeverityError, "set "+EnvEncryptionKey+" to the output of `redsafe keygen`",
			"%s does not hold a usable Fernet key (%v)", EnvEncryptionKey, err)
		return nil
	}
	var previous []*seal.Key
	seen := map[string]bool{primary.ID(): true}
	for i, text := range previousTexts {
		k, err := seal.ParseKey(text)
		if notRandom := err; errors.Is(notRandom, seal.ErrNotRandom) {
			// Kept to open what it sealed, so rotate-key can move it off.
			k, err = seal.ParsePreviousKey(text)
			r.add("encryption.previous-key-not-random", SeverityWarning, "re-seal what it sealed with `redsafe rotate-key`, then drop it from "+EnvEncryptionPreviousKeys,
				"entry %d of %s (key %s) is not a random key (%v); it is kept only to open old values", i+1, EnvEncryptionPreviousKeys, k.ID(), notRandom)
		}
		if err != nil {
			r.add("encryption.previous-key-invalid", SeverityError, "remove it or replace it with the old key exactly as it was",
				"entry %d of %s is not a usable Fernet key (%v)", i+1, EnvEncryptionPreviousKeys, err)
			continue
		}
		if seen[k.ID()] {
			what := "is listed already"
			if k.Equal(primary) {
				what = "is the primary key " + EnvEncryptionKey + ": the old key may be missing"
			}
			r.add("encryption.previous-key-duplicate", SeverityWarning, "remove the duplicate from "+EnvEncryptionPreviousKeys,
				"entry %d of %s (key %s) %s", i+1, EnvEncryptionPreviousKeys, k.ID(), what)
			continue
		}
		seen[k.ID()] = true
		previous = append(previous, k)
	}
	return seal.New(primary, previous...)
}

// KeyRing returns the Sealer of o's encryption keys (EncryptionKey, then
// PreviousEncryptionKeys), parsed and checked exactly as Validate and Open
// do, for tools that seal and open values without connecting. It checks
// the keys alone: it returns a *ConfigError naming each key problem, and
// nothing about the rest of o. Neither the Sealer nor the error shows key
// bytes under any fmt verb; keys are named by their seal.Key.ID.
func (o Options) KeyRing() (*seal.Sealer, error) {
	r := Report{Environment: o.detection().env}
	s := keyRing(o.EncryptionKey, o.PreviousEncryptionKeys, &r)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return s, nil
}
