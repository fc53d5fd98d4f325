package redsafe

import (
	"strings"

	"github.com/redsafe/redsafe/internal/secretfile"
)

// Keys come inline (REDIS_ENCRYPTION_KEY) or from a file the variable's
// _FILE form names (REDIS_ENCRYPTION_KEY_FILE), the way Docker and
// Kubernetes secrets are mounted, never both. Key files are read at Open
// (and by Validate and Options.KeyRing), once: see Options.EncryptionKeyFile
// for why a key change needs a restart.

// keySetting is one key setting of Options: its inline value and its file.
type keySetting struct {
	inline    []string // the inline value (one key, or the previous keys)
	file      string
	inlineVar string // their variables, for messages
	fileVar   string
	id        string // finding family: id+"-file-conflict", id+"-file", id+"-file-mode"
	list      bool   // a list of keys (the previous keys) rather than one
}

// keyTexts are the keys of a setting, as text, and where they came from.
type keyTexts struct {
	texts []string
	// from names the source in messages: the variable, and for a file its
	// path, never the content.
	from string
	// file is the path they were read from; "" when inline.
	file string
}

// resolve returns the setting's keys: the inline value, or the content of
// the file, read with the mode checks of a password file and split as the
// inline value is. A setting given both ways is an error finding, and
// nothing is used (ok false), so that no one has to guess which one wins.
func (k keySetting) resolve(p Policy, r *Report) (keys keyTexts, ok bool) {
	if k.file == "" {
		return keyTexts{texts: k.inline, from: k.inlineVar}, true
	}
	if len(k.inline) > 0 {
		r.add(k.id+"-file-conflict", SeverityError, "keep the key in one place: unset "+k.inlineVar+" or "+k.fileVar,
			"both %s and %s are set", k.inlineVar, k.fileVar)
		return keyTexts{}, false
	}
	what := "the output of `redsafe keygen` on one line"
	read := secretfile.ReadLine
	if k.list {
		what = "the keys, one a line or separated by commas"
		read = readWhole
	}
	f := secretFile{variable: k.fileVar, path: k.file, id: k.id + "-file",
		fix: "write " + what + " to " + k.file + " with mode 0600, or fix " + k.fileVar}
	content, ok := f.read(p, read, r)
	if !ok {
		return keyTexts{}, false
	}
	keys = keyTexts{from: k.fileVar + " (" + k.file + ")", file: k.file}
	if k.list {
		keys.texts = splitKeyList(content)
	} else {
		keys.texts = []string{content}
	}
	return keys, true
}

// fix says how to correct a key of this source that does not parse.
func (k keyTexts) fix(variable string) string {
	if k.file != "" {
		return "write the output of `redsafe keygen` to " + k.file + " (one line, mode 0600)"
	}
	return "set " + variable + " to the output of `redsafe keygen`"
}

// splitKeyList is the one reader of a list of keys: separated by commas
// (REDIS_ENCRYPTION_PREVIOUS_KEYS) or lines (its _FILE form may hold
// either), spaces around each ignored, empty entries skipped.
func splitKeyList(s string) []string {
	var keys []string
	for _, k := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// The three key settings of o.

func (o Options) primaryKeySetting() keySetting {
	s := keySetting{file: o.EncryptionKeyFile, inlineVar: EnvEncryptionKey, fileVar: EnvEncryptionKeyFile, id: "encryption.key"}
	if o.EncryptionKey != "" {
		s.inline = []string{o.EncryptionKey}
	}
	return s
}

func (o Options) previousKeysSetting() keySetting {
	return keySetting{inline: o.PreviousEncryptionKeys, file: o.PreviousEncryptionKeysFile,
		inlineVar: EnvEncryptionPreviousKeys, fileVar: EnvEncryptionPreviousKeysFile, id: "encryption.previous-keys", list: true}
}

func (o Options) nameKeySetting() keySetting {
	s := keySetting{file: o.KeyNameKeyFile, inlineVar: EnvKeyNameKey, fileVar: EnvKeyNameKeyFile, id: "keyname.key"}
	if o.KeyNameKey != "" {
		s.inline = []string{o.KeyNameKey}
	}
	return s
}
