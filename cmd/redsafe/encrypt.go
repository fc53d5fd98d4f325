package main

import (
	"fmt"
	"io"
)

var encryptCmd = &command{
	name:    "encrypt",
	summary: "seal stdin into one Fernet token on stdout",
	usage: `Usage: redsafe encrypt [--key-file FILE] < plaintext > token

Reads every byte of standard input and writes one Fernet token, and a
newline, to standard output, sealed with REDIS_ENCRYPTION_KEY. Python's
cryptography.fernet.Fernet(key).decrypt(token) returns the same bytes.

Flags:
  --key-file FILE   read the key from FILE instead of REDIS_ENCRYPTION_KEY

Examples:
  export REDIS_ENCRYPTION_KEY="$(redsafe keygen)"
  echo -n 'hello' | redsafe encrypt
  redsafe encrypt < report.pdf > report.token
`,
	run: runEncrypt,
}

func runEncrypt(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	keyFile := fs.String("key-file", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	sealer, err := c.sealerFromEnv(*keyFile)
	if err != nil {
		c.errorf("encrypt: %v", err)
		return 1
	}
	plaintext, err := io.ReadAll(c.stdin)
	if err != nil {
		c.errorf("encrypt: reading standard input: %v", err)
		return 1
	}
	token := sealer.Seal(nil, plaintext)
	if _, err := fmt.Fprintf(c.stdout, "%s\n", token); err != nil {
		c.errorf("encrypt: writing the token: %v", err)
		return 1
	}
	return 0
}
