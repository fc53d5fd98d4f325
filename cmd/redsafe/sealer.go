package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/seal"
)

// sealerFromEnv builds the Sealer that encrypt and decrypt use, from
// --key-file or REDIS_ENCRYPTION_KEY, plus REDIS_ENCRYPTION_PREVIOUS_KEYS.
// Keys are never taken from argv, where other users could read them.
func (c *cli) sealerFromEnv(keyFile string) (*seal.Sealer, error) {
	text, source := "", redsafe.EnvEncryptionKey
	if keyFile != "" {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, err
		}
		text, source = string(b), keyFile
	} else {
		text, _ = c.lookupEnv(redsafe.EnvEncryptionKey)
	}
	if strings.TrimSpace(text) == "" {
		return nil, errors.New(redsafe.EnvEncryptionKey + " is not set; generate a key with `redsafe keygen`")
	}
	primary, err := seal.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("%s does not hold a Fernet key (url-safe base64 of 32 bytes); generate one with `redsafe keygen`", source)
	}
	var previous []*seal.Key
	list, _ := c.lookupEnv(redsafe.EnvEncryptionPreviousKeys)
	for i, t := range strings.Split(list, ",") {
		if strings.TrimSpace(t) == "" {
			continue
		}
		k, err := seal.ParseKey(t)
		if err != nil {
			return nil, fmt.Errorf("entry %d of %s is not a Fernet key", i+1, redsafe.EnvEncryptionPreviousKeys)
		}
		previous = append(previous, k)
	}
	return seal.New(primary, previous...), nil
}
