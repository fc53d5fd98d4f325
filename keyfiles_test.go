package redsafe

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// writeKeyFile writes content to dir/name with mode (chmod'ed, past the
// umask) and returns the path.
func writeKeyFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func keyIDs(s *seal.Sealer) []string {
	var ids []string
	for _, k := range s.Keys() {
		ids = append(ids, k.ID())
	}
	return ids
}

// Each _FILE variable is read: the key ring and the name key are those of
// the files, in order, and the report is clean.
func TestKeyFilesFromEnv(t *testing.T) {
	dir := t.TempDir()
	primary, old1, old2, old3, names := seal.GenerateKey(), seal.GenerateKey(), seal.GenerateKey(), seal.GenerateKey(), seal.GenerateKey()
	vars := map[string]string{
		"ENVIRONMENT":        "production",
		EnvURL:               "rediss://app@redis.example:6380/0",
		EnvPassword:          testPassword,
		EnvEncryptionKeyFile: writeKeyFile(t, dir, "encryption.key", primary.Encode()+"\n", 0o600),
		// One a line, comma-separated on a line, CRLF and blank lines: all
		// as the inline variable would take them.
		EnvEncryptionPreviousKeysFile: writeKeyFile(t, dir, "previous.keys", old1.Encode()+"\r\n\n "+old2.Encode()+" , "+old3.Encode()+"\n", 0o600),
		EnvKeyNameKeyFile:             writeKeyFile(t, dir, "names.key", names.Encode(), 0o600),
	}
	o := OptionsFromLookup(lookupMap(vars))
	if o.EncryptionKeyFile != vars[EnvEncryptionKeyFile] || o.PreviousEncryptionKeysFile != vars[EnvEncryptionPreviousKeysFile] ||
		o.KeyNameKeyFile != vars[EnvKeyNameKeyFile] || o.EncryptionKey != "" || o.PreviousEncryptionKeys != nil || o.KeyNameKey != "" {
		t.Fatalf("OptionsFromLookup: %+v", o)
	}
	c, r := newConfig(o)
	if len(r.Errors())+len(r.Warnings()) != 0 {
		t.Fatalf("errors %v, warnings %v", r.Errors(), r.Warnings())
	}
	want := []string{primary.ID(), old1.ID(), old2.ID(), old3.ID()}
	if got := keyIDs(c.sealer); !slices.Equal(got, want) {
		t.Errorf("key ring %v, want %v", got, want)
	}
	if c.nameKey == nil || !c.nameKey.Equal(names) {
		t.Errorf("name key %v, want %v", c.nameKey, names)
	}
	ring, err := o.KeyRing()
	if err != nil || !slices.Equal(keyIDs(ring), want) {
		t.Errorf("KeyRing: %v, %v", ring, err)
	}

	// The inline forms still work, the key-name key included; an empty
	// previous-keys file is no previous key (all of them dropped after a
	// rotation).
	o = validOptions(Production)
	o.KeyNameKey = names.Encode()
	o.PreviousEncryptionKeysFile = writeKeyFile(t, dir, "empty.keys", "", 0o600)
	if c, r = newConfig(o); !r.OK() || !c.nameKey.Equal(names) || len(c.sealer.Keys()) != 1 {
		t.Errorf("inline key-name key, empty previous-keys file: %v, name key %v, ring %v", ids(r.Errors()), c.nameKey, c.sealer)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", o, o, o), names.Encode()) {
		t.Error("Options prints the key-name key")
	}
}

// The previous keys of the inline variable may also be one a line.
func TestSplitKeyList(t *testing.T) {
	for in, want := range map[string][]string{
		"":               nil,
		" , ,\n":         nil,
		"a,b":            {"a", "b"},
		" a ,\r\nb\n\nc": {"a", "b", "c"},
	} {
		if got := splitKeyList(in); !slices.Equal(got, want) {
			t.Errorf("splitKeyList(%q) = %q, want %q", in, got, want)
		}
	}
}

// A setting given inline and as a file is an error that names both
// variables and neither value, from the environment and from Options.
func TestKeyFileConflicts(t *testing.T) {
	dir := t.TempDir()
	file := writeKeyFile(t, dir, "k", seal.GenerateKey().Encode()+"\n", 0o600)
	names := seal.GenerateKey().Encode()
	for _, tc := range []struct {
		id, inline, fileVar string
		set                 func(o *Options)
	}{
		{"encryption.key-file-conflict", EnvEncryptionKey, EnvEncryptionKeyFile, func(o *Options) { o.EncryptionKeyFile = file }},
		{"encryption.previous-keys-file-conflict", EnvEncryptionPreviousKeys, EnvEncryptionPreviousKeysFile, func(o *Options) {
			o.PreviousEncryptionKeys, o.PreviousEncryptionKeysFile = []string{names}, file
		}},
		{"keyname.key-file-conflict", EnvKeyNameKey, EnvKeyNameKeyFile, func(o *Options) { o.KeyNameKey, o.KeyNameKeyFile = names, file }},
	} {
		o := validOptions(Production)
		tc.set(&o)
		r := Validate(o)
		if !r.has(tc.id) || r.OK() {
			t.Errorf("%s: no error %s: %v", tc.fileVar, tc.id, ids(r.Findings))
			continue
		}
		text := reportText(t, r)
		if !strings.Contains(text, tc.inline) || !strings.Contains(text, tc.fileVar) {
			t.Errorf("%s: the finding does not name both variables:\n%s", tc.id, text)
		}
		assertNoChunk(t, tc.id, text, testKey)
		assertNoChunk(t, tc.id, text, names)
		if r.has("encryption.key-missing") {
			t.Errorf("%s: a conflict is reported as a missing key too", tc.id)
		}
	}
	// The same from the environment.
	r := Validate(OptionsFromLookup(lookupMap(map[string]string{EnvURL: "rediss://app@h:6380/0", EnvPassword: testPassword,
		EnvEncryptionKey: testKey, EnvEncryptionKeyFile: file})))
	if !r.has("encryption.key-file-conflict") {
		t.Errorf("environment: %v", ids(r.Findings))
	}
	assertNoChunk(t, "environment conflict", reportText(t, r), testKey)
}

// Key files have the mode rules of the password file: refused in
// production and staging when others can read them or another user owns
// them, a warning in development and testing.
func TestKeyFileModes(t *testing.T) {
	dir := t.TempDir()
	readable := writeKeyFile(t, dir, "readable", seal.GenerateKey().Encode()+"\n", 0o644)
	foreign := writeKeyFile(t, dir, "foreign", seal.GenerateKey().Encode()+"\n", 0o600)
	if err := os.Chown(foreign, 65534, 65534); err != nil {
		t.Fatalf("chown (tests run as root): %v", err)
	}
	for _, tc := range []struct {
		id  string
		set func(o *Options, path string)
	}{
		{"encryption.key-file-mode", func(o *Options, p string) { o.EncryptionKey, o.EncryptionKeyFile = "", p }},
		{"encryption.previous-keys-file-mode", func(o *Options, p string) { o.PreviousEncryptionKeysFile = p }},
		{"keyname.key-file-mode", func(o *Options, p string) { o.KeyNameKeyFile = p }},
	} {
		for _, path := range []string{readable, foreign} {
			for env, severity := range map[Environment]Severity{Production: SeverityError, Staging: SeverityError, Development: SeverityWarning, Testing: SeverityWarning} {
				o := validOptions(env)
				tc.set(&o, path)
				r := Validate(o)
				var got []Finding
				for _, f := range r.Findings {
					if f.ID == tc.id {
						got = append(got, f)
					}
				}
				if len(got) != 1 || got[0].Severity != severity {
					t.Errorf("%s, %s in %s: %+v, want one %s", tc.id, filepath.Base(path), env, got, severity)
					continue
				}
				if !strings.Contains(got[0].Message, path) {
					t.Errorf("%s: %q does not name the file", tc.id, got[0].Message)
				}
				if severity == SeverityWarning && !r.OK() {
					t.Errorf("%s in %s: a warning stopped Validate: %v", tc.id, env, ids(r.Errors()))
				}
			}
		}
	}
}

// A link to a key file is followed, as for REDIS_PASSWORD_FILE (Kubernetes
// secret volumes are links), and the file it leads to is checked: private
// is accepted, readable by others refused.
func TestKeyFileSymlinkLikePasswordFile(t *testing.T) {
	dir := t.TempDir()
	key := seal.GenerateKey()
	target := writeKeyFile(t, dir, "target.key", key.Encode()+"\n", 0o600)
	pwTarget := writeKeyFile(t, dir, "target.password", testPassword+"\n", 0o600)
	keyLink, pwLink := filepath.Join(dir, "key.link"), filepath.Join(dir, "password.link")
	for link, to := range map[string]string{keyLink: target, pwLink: pwTarget} {
		if err := os.Symlink(to, link); err != nil {
			t.Fatal(err)
		}
	}
	o := validOptions(Production)
	o.EncryptionKey, o.EncryptionKeyFile = "", keyLink
	o.Password, o.PasswordFile = "", pwLink
	c, r := newConfig(o)
	if !r.OK() || len(r.Warnings()) != 0 || !c.sealer.Keys()[0].Equal(key) {
		t.Fatalf("links to private files: errors %v, warnings %v", ids(r.Errors()), ids(r.Warnings()))
	}
	os.Chmod(target, 0o644)
	os.Chmod(pwTarget, 0o644)
	if got := ids(Validate(o).Errors()); !slices.Equal(got, []string{"auth.password-file-mode", "encryption.key-file-mode"}) {
		t.Fatalf("links to readable files: errors %v, want the same refusal for both", got)
	}
}

// A file holding something that is not a key says which variable and
// file and what is wrong, and never shows the content: not in findings,
// JSON, the *ConfigError of Open under %v, %+v and %#v, nor KeyRing's.
func TestKeyFileContentNeverShown(t *testing.T) {
	dir := t.TempDir()
	good := seal.GenerateKey().Encode()
	// A key with one character mistyped: as secret as the key itself.
	nearKey := good[:10] + "!" + good[11:]
	password := GeneratePassword(Production)
	for _, tc := range []struct {
		name, content, id, what string
		set                     func(o *Options, path string)
	}{
		{"password in key file", password + "\n", "encryption.key-invalid", "does not hold a usable Fernet key",
			func(o *Options, p string) { o.EncryptionKey, o.EncryptionKeyFile = "", p }},
		{"damaged key", nearKey + "\n", "encryption.key-invalid", "does not hold a usable Fernet key",
			func(o *Options, p string) { o.EncryptionKey, o.EncryptionKeyFile = "", p }},
		{"two keys on two lines", good + "\n" + password + "\n", "encryption.key-file", "more than one line",
			func(o *Options, p string) { o.EncryptionKey, o.EncryptionKeyFile = "", p }},
		{"bad previous key", seal.GenerateKey().Encode() + "\n" + password + "\n", "encryption.previous-key-invalid", "entry 2 of " + EnvEncryptionPreviousKeysFile,
			func(o *Options, p string) { o.PreviousEncryptionKeysFile = p }},
		{"bad key-name key", password, "keyname.key-invalid", "does not hold a usable key",
			func(o *Options, p string) { o.KeyNameKeyFile = p }},
		{"key-name key is the encryption key", testKey, "keyname.key-reused", "holds encryption key",
			func(o *Options, p string) { o.KeyNameKeyFile = p }},
	} {
		path := writeKeyFile(t, dir, strings.ReplaceAll(tc.name, " ", "-"), tc.content, 0o600)
		o := validOptions(Production)
		o.Logger = discardLogger
		tc.set(&o, path)
		r := Validate(o)
		text := reportText(t, r)
		if !r.has(tc.id) || !strings.Contains(text, tc.what) || !strings.Contains(text, path) {
			t.Errorf("%s: want %s saying %q and naming %s:\n%s", tc.name, tc.id, tc.what, path, text)
		}
		_, err := Open(testContext(t), o)
		printed := fmt.Sprintf("%v %+v %#v %v %+v", err, err, err, r, r)
		if _, kerr := o.KeyRing(); kerr != nil {
			printed += fmt.Sprintf(" %v %+v", kerr, kerr)
		}
		for _, secret := range []string{password, nearKey, good, testKey} {
			if strings.Contains(tc.content, secret) {
				assertNoChunk(t, tc.name+" (report)", text, secret)
				assertNoChunk(t, tc.name+" (Open, KeyRing)", printed, secret)
			}
		}
	}
}

// Open reads the key file once: values are sealed with its key, and a
// later change to the file does not change the running Cache's keys (a
// key change is a restart; see Options.EncryptionKeyFile).
func TestKeyFileReadAtOpen(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	dir := t.TempDir()
	first := seal.GenerateKey()
	file := writeKeyFile(t, dir, "encryption.key", first.Encode()+"\n", 0o600)
	o := serverOptions(s)
	o.EncryptionKey, o.EncryptionKeyFile = "", file
	c := openCache(t, o)
	ctx := testContext(t)
	if err := c.Set(ctx, "k", []byte("v1"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(seal.GenerateKey().Encode()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k2", []byte("v2"), 0); err != nil {
		t.Fatal(err)
	}
	ring := seal.New(first)
	for k, want := range map[string]string{"k": "v1", "k2": "v2"} {
		if got, err := c.Get(ctx, k); err != nil || string(got) != want {
			t.Errorf("Get(%s) = %q, %v", k, got, err)
		}
		if pt, err := ring.Open(nil, []byte(s.Do(t, "GET", k)), 0); err != nil || string(pt) != want {
			t.Errorf("%s is not sealed with the key the file held at Open: %q, %v", k, pt, err)
		}
	}
}
