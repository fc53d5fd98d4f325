package redsafe

import (
	"errors"

	"github.com/redsafe/redsafe/seal"
)

// keyRingOf resolves o's encryption keys (inline or from their files, see
// keyfiles.go) and parses them with keyRing. It returns nil when the
// primary key is missing or unusable.
func keyRingOf(o Options, p Policy, r *Report) *seal.Sealer {
	primary, ok := o.primaryKeySetting().resolve(p, r)
	previous, okPrevious := o.previousKeysSetting().resolve(p, r)
	if !ok || !okPrevious {
		return nil // a conflict or an unreadable file: already a finding
	}
	return keyRing(primary, previous, r)
}

// keyRing is the one parser of the encryption keys: the primary key, then
// the previous keys in order. Every problem is a finding, which names the
// variable (and the file) the key came from and never the key; a previous
// key that is unusable is one error finding and is left out. It returns
// nil when the primary key is missing or unusable.
func keyRing(primaryKey, previousKeys keyTexts, r *Report) *seal.Sealer {
	if len(primaryKey.texts) == 0 {
		r.add("encryption.key-missing", SeverityError, "set "+EnvEncryptionKey+" to the output of `redsafe keygen`, or "+EnvEncryptionKeyFile+" to a file holding it",
			"no encryption key is configured: every value must be encrypted, in every environment")
		return nil
	}
	primary, err := seal.ParseKey(primaryKey.texts[0])
	if err != nil {
		r.add("encryption.key-invalid", SeverityError, primaryKey.fix(EnvEncryptionKey),
			"%s does not hold a usable Fernet key (%v)", primaryKey.from, err)
		return nil
	}
	var previous []*seal.Key
	seen := map[string]bool{primary.ID(): true}
	from := previousKeys.from
	for i, text := range previousKeys.texts {
		k, err := seal.ParseKey(text)
		if notRandom := err; errors.Is(notRandom, seal.ErrNotRandom) {
			// Kept to open what it sealed, so rotate-key can move it off.
			k, err = seal.ParsePreviousKey(text)
			r.add("encryption.previous-key-not-random", SeverityWarning, "re-seal what it sealed with `redsafe rotate-key`, then drop it from "+from,
				"entry %d of %s (key %s) is not a random key (%v); it is kept only to open old values", i+1, from, k.ID(), notRandom)
		}
		if err != nil {
			r.add("encryption.previous-key-invalid", SeverityError, "remove it or replace it with the old key exactly as it was",
				"entry %d of %s is not a usable Fernet key (%v)", i+1, from, err)
			continue
		}
		if seen[k.ID()] {
			what := "is listed already"
			if k.Equal(primary) {
				what = "is the primary key " + primaryKey.from + ": the old key may be missing"
			}
			r.add("encryption.previous-key-duplicate", SeverityWarning, "remove the duplicate from "+from,
				"entry %d of %s (key %s) %s", i+1, from, k.ID(), what)
			continue
		}
		seen[k.ID()] = true
		previous = append(previous, k)
	}
	return seal.New(primary, previous...)
}

// nameKeyOf resolves and parses o's key-name key (KeyNameKey or
// KeyNameKeyFile), the key of hashed key names (docs/FORMAT.md, "Key
// names"). It is parsed as strictly as the primary encryption key, and
// must not be one of the encryption keys in ring: it is configured on its
// own so that it outlives their rotation, and a key serves one purpose.
// nil when it is not configured (the name key is then derived from the
// primary key) or unusable (an error finding).
func nameKeyOf(o Options, p Policy, ring *seal.Sealer, r *Report) *seal.Key {
	setting, ok := o.nameKeySetting().resolve(p, r)
	if !ok || len(setting.texts) == 0 {
		return nil
	}
	k, err := seal.ParseKey(setting.texts[0])
	if err != nil {
		r.add("keyname.key-invalid", SeverityError, setting.fix(EnvKeyNameKey),
			"%s does not hold a usable key (%v)", setting.from, err)
		return nil
	}
	if ring != nil {
		for _, e := range ring.Keys() {
			if k.Equal(e) {
				r.add("keyname.key-reused", SeverityError, "give key names a key of their own: "+setting.fix(EnvKeyNameKey),
					"%s holds encryption key %s: the key of key names must be a separate key, which survives rotating the encryption key", setting.from, e.ID())
				return nil
			}
		}
	}
	return k
}

// KeyRing returns the Sealer of o's encryption keys (EncryptionKey or
// EncryptionKeyFile, then PreviousEncryptionKeys or
// PreviousEncryptionKeysFile), read and checked exactly as Validate and
// Open do, for tools that seal and open values without connecting. Key
// files are read now, under the policy of o's environment. It checks the
// keys alone: it returns a *ConfigError naming each key problem, and
// nothing about the rest of o. Neither the Sealer nor the error shows key
// bytes under any fmt verb; keys are named by their seal.Key.ID.
func (o Options) KeyRing() (*seal.Sealer, error) {
	d := o.detection()
	r := Report{Environment: d.env}
	s := keyRingOf(o, PolicyFor(d.env), &r)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return s, nil
}
