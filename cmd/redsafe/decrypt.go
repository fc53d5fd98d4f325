package main

import (
	"bytes"
	"time"
)

var decryptCmd = &command{
	name:    "decrypt",
	summary: "open a Fernet token from stdin and write its exact plaintext",
	usage: `Usage: redsafe decrypt [--ttl SECONDS] [--key-file FILE] < token > plaintext

Reads one Fernet token from standard input (surrounding whitespace is
ignored) and writes the exact plaintext bytes to standard output. It tries
REDIS_ENCRYPTION_KEY, then each of REDIS_ENCRYPTION_PREVIOUS_KEYS, as
Python's MultiFernet does.

A token that is malformed, tampered with, sealed with another key or too old
writes nothing to standard output, one line to standard error, and exits 1.
So does input longer than a Redis value (512 MB).

Flags:
  --ttl SECONDS     refuse tokens older than this
  --key-file FILE   read the primary key from FILE instead of REDIS_ENCRYPTION_KEY

Examples:
  redis-cli --tls GET session:42 | redsafe decrypt
  redsafe decrypt --ttl 3600 < report.token > report.pdf
`,
	run: runDecrypt,
}

func runDecrypt(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	ttl := fs.Int64("ttl", 0, "")
	keyFile := fs.String("key-file", "", "")
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
	plaintext, err := sealer.Open(nil, bytes.TrimSpace(input), time.Duration(*ttl)*time.Second)
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
