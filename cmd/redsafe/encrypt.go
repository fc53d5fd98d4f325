package main

import (
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/seal"
)

var encryptCmd = &command{
	name:    "encrypt",
	summary: "seal stdin into one Fernet token on stdout",
	usage: `Usage: redsafe encrypt [--key-file FILE] [--format sealed --key-name NAME] < plaintext > token

Reads every byte of standard input and writes one Fernet token, and a
newline, to standard output, sealed with REDIS_ENCRYPTION_KEY. Python's
cryptography.fernet.Fernet(key).decrypt(token) returns the same bytes.

With --format sealed (or REDIS_ENCRYPTION_FORMAT=sealed) it writes a
sealed token instead (docs/FORMAT.md: binary, then the newline), bound to
NAME, the full Redis key it is to be stored under (KeyPrefix included,
and with REDIS_HASHED_KEY_PREFIXES the hashed name the service stores):
it opens under that name only.

Input longer than 402,653,119 bytes, whose token would not fit in a Redis
value (512 MB), is refused with nothing on standard output.

Flags:
  --key-file FILE   read the key from FILE instead of REDIS_ENCRYPTION_KEY
  --format F        fernet or sealed (default: REDIS_ENCRYPTION_FORMAT, else fernet)
  --key-name NAME   the Redis key a sealed token is bound to (required with sealed)

Examples:
  export REDIS_ENCRYPTION_KEY="$(redsafe keygen)"
  echo -n 'hello' | redsafe encrypt
  redsafe encrypt < report.pdf > report.token
  echo -n 'hello' | redsafe encrypt --format sealed --key-name acct:alice > alice.token
`,
	run: runEncrypt,
}

func runEncrypt(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	keyFile := fs.String("key-file", "", "")
	formatName := fs.String("format", "", "")
	keyName := fs.String("key-name", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	if *formatName == "" {
		*formatName, _ = c.lookupEnv(redsafe.EnvEncryptionFormat)
	}
	format, err := seal.ParseFormat(strings.ToLower(*formatName))
	switch {
	case *formatName != "" && err != nil:
		c.errorf("encrypt: --format %q: use fernet or sealed", *formatName)
		return 2
	case format == seal.Sealed && *keyName == "":
		c.errorf("encrypt: a sealed token is bound to the Redis key it is stored under: give it with --key-name NAME (KeyPrefix included)")
		return 2
	case format == seal.Fernet && *keyName != "":
		c.errorf("encrypt: --key-name binds a sealed token to its key; a Fernet token binds nothing (use --format sealed)")
		return 2
	}
	sealer, err := c.sealerFromEnv(*keyFile)
	if err != nil {
		c.errorf("encrypt: %v", err)
		return 1
	}
	sealer = sealer.WithFormat(format)
	plaintext, err := readLimited(c.stdin, stdinLimits.plaintext, "plaintext whose token fits in a Redis value")
	if err != nil {
		c.errorf("encrypt: %v", err)
		return 1
	}
	// Sealed into a buffer that also holds the newline, so that a large
	// token is not copied again on its way out.
	token := sealer.SealFor(make([]byte, 0, sealer.SealedLenFor(len(plaintext))+1), *keyName, plaintext)
	clear(plaintext)
	if _, err := c.stdout.Write(append(token, '\n')); err != nil {
		c.errorf("encrypt: writing the token: %v", err)
		return 1
	}
	return 0
}
