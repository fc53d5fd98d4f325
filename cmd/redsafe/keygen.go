package main

import (
	"fmt"

	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/seal"
)

var keygenCmd = &command{
	name:    "keygen",
	summary: "print a new Fernet encryption key",
	usage: `Usage: redsafe keygen [--output FILE]

Prints a new random Fernet key (url-safe base64 of 32 bytes): the value of
REDIS_ENCRYPTION_KEY. Python's cryptography.fernet reads the same keys.

Flags:
  --output FILE   write the key to FILE (mode 0600; refuses to overwrite)
                  instead of printing it

Examples:
  redsafe keygen
  export REDIS_ENCRYPTION_KEY="$(redsafe keygen)"
  redsafe keygen --output secrets/redis-encryption.key
`,
	run: runKeygen,
}

func runKeygen(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	output := fs.String("output", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	key := seal.GenerateKey().Encode()
	if *output == "" {
		fmt.Fprintln(c.stdout, key)
		return 0
	}
	if err := secretfile.Create(*output, []byte(key+"\n")); err != nil {
		c.errorf("keygen: %v", err)
		return 1
	}
	fmt.Fprintf(c.stderr, "wrote a new key to %s (mode 0600)\n", *output)
	return 0
}
