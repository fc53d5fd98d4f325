package main

import (
	"errors"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/seal"
)

// sealerFromEnv builds the Sealer that encrypt and decrypt use, from
// --key-file, REDIS_ENCRYPTION_KEY or REDIS_ENCRYPTION_KEY_FILE, plus
// REDIS_ENCRYPTION_PREVIOUS_KEYS (or its _FILE form). Keys are never taken
// from argv, where other users could read them. The keys are parsed by the
// library's one key-ring parser (Options.KeyRing), so encrypt, decrypt,
// check, rotate-key and a service read them alike.
func (c *cli) sealerFromEnv(keyFile string) (*seal.Sealer, error) {
	opts := redsafe.OptionsFromLookup(c.lookupEnv)
	if keyFile != "" {
		// The key file gets the same checks as a password file: one line,
		// owned by this user, mode 0600, in a directory others cannot write.
		line, err := secretfile.ReadLine(keyFile, secretfile.Named)
		if err != nil {
			return nil, err
		}
		// The flag replaces the primary key wherever the environment
		// keeps it.
		opts.EncryptionKey, opts.EncryptionKeyFile = strings.TrimSpace(line), ""
	}
	if opts.EncryptionKey == "" && opts.EncryptionKeyFile == "" {
		return nil, errors.New(redsafe.EnvEncryptionKey + " is not set; generate a key with `redsafe keygen`")
	}
	s, err := opts.KeyRing()
	if err != nil {
		return nil, keyProblems(err, keyFile)
	}
	return s, nil
}

// keyProblems turns the key ring's *ConfigError into one line per problem;
// a key read from a file is named by the file.
func keyProblems(err error, keyFile string) error {
	var ce *redsafe.ConfigError
	if !errors.As(err, &ce) {
		return err
	}
	var lines []string
	for _, f := range ce.Report.Errors() {
		line := f.Message
		if keyFile != "" && f.ID == "encryption.key-invalid" {
			line = keyFile + ": " + line
		}
		lines = append(lines, line)
	}
	return errors.New(strings.Join(lines, "\n"))
}
