package main

import (
	"bytes"
	"errors"
	"time"

	"github.com/redsafe/redsafe/seal"
)

var decryptCmd = &command{
	name:    "decrypt",
	summary: "open a Fernet token from stdin and write its exact plaintext",
	usage: `Usage: redsafe decrypt [--ttl SECONDS] [--key-file FILE] [--key-name NAME] < token > plaintext

Reads one Fernet token from standard input (surrounding whitespace is
ignored) and writes the exact plaintext bytes to standard output. It tries
REDIS_ENCRYPTION_KEY, then each of REDIS_ENCRYPTION_PREVIOUS_KEYS, as
Python's MultiFernet does. A sealed token (docs/FORMAT.md) opens only under
the Redis key it was sealed for: give it with --key-name; its key ID picks
the key.

A token that is malformed, tampered with, sealed with another key or too old
writes nothing to standard output, one line to standard error, and exits 1.
So does input longer than a Redis value (512 MB).

Flags:
  --ttl SECONDS     refuse tokens older than this
  --key-file FILE   read the primary key from FILE instead of REDIS_ENCRYPTION_KEY
  --key-name NAME   the Redis key a sealed token was stored under (KeyPrefix included)

Examples:
  redis-cli --tls GET session:42 | redsafe decrypt
  redsafe decrypt --ttl 3600 < report.token > report.pdf
  redis-cli --tls --raw GET acct:alice | redsafe decrypt --key-name acct:alice
`,
	run: runDecrypt,
}

func runDecrypt(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	ttl := fs.Int64("ttl", 0, "")
	keyFile := fs.String("key-file", "", "")
	keyName := fs.String("key-name", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	if *ttl < 0 {
		c.errorf("decrypt: --ttl must be a positive number of seconds")
		return 2
	}
	sealer, err := c.sealerFromEnv(*keyFile)
	if err != nil {
		c.errorf("decrypt: %v", err)
		return 1
	}
	input, err := readLimited(c.stdin, stdinLimits.token, "token a Redis value can hold")
	if err != nil {
		c.errorf("decrypt: %v", err)
		return 1
	}
	// The whole plaintext is authenticated before any of it is written.
	plaintext, err := openInput(sealer, *keyName, input, time.Duration(*ttl)*time.Second)
	if err != nil {
		c.errorf("decrypt: %v", err)
		return 1
	}
	if _, err := c.stdout.Write(plaintext); err != nil {
		c.errorf("decrypt: writing the plaintext: %v", err)
		return 1
	}
	return 0
}

// openInput opens a Fernet token (text: surrounding space is trimmed) or a
// sealed one (binary, bound to keyName: as given, or without the one
// newline encrypt and redis-cli add; only the right one authenticates).
func openInput(s *seal.Sealer, keyName string, input []byte, ttl time.Duration) ([]byte, error) {
	if f, ok := seal.TokenFormat(input); !ok || f == seal.Fernet {
		if keyName != "" {
			return nil, errors.New("--key-name is given, but this is a Fernet token, which binds nothing to a key: it was not checked; drop --key-name to open it anyway")
		}
		return s.Open(nil, bytes.TrimSpace(input), ttl)
	}
	if keyName == "" {
		return nil, errors.New("this is a sealed token, bound to the Redis key it was stored under: give that key with --key-name NAME (KeyPrefix included)")
	}
	plaintext, err := s.OpenFor(nil, keyName, input, ttl)
	if trimmed, cut := bytes.CutSuffix(input, []byte("\n")); err != nil && cut {
		if p, err2 := s.OpenFor(nil, keyName, trimmed, ttl); err2 == nil {
			return p, nil
		}
	}
	return plaintext, err
}
