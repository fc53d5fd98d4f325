package main

import "github.com/redsafe/redsafe/seal"

var encryptCmd = &command{
	name:    "encrypt",
	summary: "seal stdin into one Fernet token on stdout",
	usage: `Usage: redsafe encrypt [--key-file FILE] < plaintext > token

Reads every byte of standard input and writes one Fernet token, and a
newline, to standard output, sealed with REDIS_ENCRYPTION_KEY. Python's
cryptography.fernet.Fernet(key).decrypt(token) returns the same bytes.

Input longer than 402,653,119 bytes, whose token would not fit in a Redis
value (512 MB), is refused with nothing on standard output.

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
	plaintext, err := readLimited(c.stdin, stdinLimits.plaintext, "plaintext whose token fits in a Redis value")
	if err != nil {
		c.errorf("encrypt: %v", err)
		return 1
	}
	// Sealed into a buffer that also holds the newline, so that a large
	// token is not copied again on its way out.
	token := sealer.Seal(make([]byte, 0, seal.SealedLen(len(plaintext))+1), plaintext)
	clear(plaintext)
	if _, err := c.stdout.Write(append(token, '\n')); err != nil {
		c.errorf("encrypt: writing the token: %v", err)
		return 1
	}
	return 0
}
