package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/seal"
)

// sealerFromEnv builds the Sealer that encrypt and decrypt use, from
// --key-file or REDIS_ENCRYPTION_KEY, plus REDIS_ENCRYPTION_PREVIOUS_KEYS.
// Keys are never taken from argv, where other users could read them.
func (c *cli) sealerFromEnv(keyFile string) (*seal.Sealer, error) {
	text, source := "", redsafe.EnvEncryptionKey
	if keyFile != "" {
		// The key file gets the same checks as a password file: one line,
		// owned by this user, mode 0600, in a directory others cannot write.
		line, err := secretfile.ReadLine(keyFile, secretfile.Named)
		if err != nil {
			return nil, err
		}
		text, source = line, keyFile
	} else {
		text, _ = c.lookupEnv(redsafe.EnvEncryptionKey)
	}
	if strings.TrimSpace(text) == "" {
		return nil, errors.New(redsafe.EnvEncryptionKey + " is not set; generate a key with `redsafe keygen`")
	}
	primary, err := seal.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("%s does not hold a usable Fernet key (%v)", source, err)
	}
	var previous []*seal.Key
	list, _ := c.lookupEnv(redsafe.EnvEncryptionPreviousKeys)
	for i, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) == "" {
			continue
		}
		k, err := seal.ParsePreviousKey(t)
		if err != nil {
			return nil, fmt.Errorf("entry %d of %s is not a usable Fernet key (%v)", i+1, redsafe.EnvEncryptionPreviousKeys, err)
		}
		previous = append(previous, k)
	}
	return seal.New(primary, previous...), nil
}
