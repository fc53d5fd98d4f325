package main

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/seal"
)

var envCmd = &command{
	name:    "env",
	summary: "write a complete, validated env file for a service",
	usage: `Usage: redsafe env --environment ENV [--output .env.secure] [--force] [flags]
       redsafe env --validate-only [--output .env.secure]

Writes every REDIS_* variable a service needs for ENV: a rediss:// URL, a
password that meets ENV's policy, a new encryption key, and the TLS settings.
The key goes to a file of its own beside the env file, OUTPUT.encryption.key,
which REDIS_ENCRYPTION_KEY_FILE names (with --key-file, that file is named
instead); --inline-key writes REDIS_ENCRYPTION_KEY into the env file instead,
for a platform that passes the variables but not the files (docker compose's
env_file for a container that does not mount the key file).
The files are validated before they are written, and written with mode 0600,
never through a link. An existing file is refused unless --force, which moves
it to a timestamped backup first. Nothing secret is printed.

Values are written single-quoted, in the one format that sh, docker compose's
env_file and systemd's EnvironmentFile read alike (README, "Env files"); a
value it cannot carry (a line break, a ' or a \) is refused. --validate-only
also refuses a file outside that format, naming the line and the variable.

Flags:
  --environment ENV     production, staging, development or testing (required)
  --output FILE         the env file (default .env.secure)
  --force               replace an existing file, keeping a backup
  --validate-only       validate an existing file instead; exit 1 on an error
                        (a file outside the format or readable by others included)
  --host HOST           the server's host name as clients reach it (default localhost)
  --port PORT           its TLS port (default 6380)
  --user NAME           the ACL user (default app)
  --password-file FILE  use the password in FILE (such as secrets/app.password
                        from redsafe conf) instead of generating one
  --key-file FILE       use the encryption key in FILE instead of a new one:
                        REDIS_ENCRYPTION_KEY_FILE names FILE
  --inline-key          write the key into the env file (REDIS_ENCRYPTION_KEY)
                        instead of naming a key file
  --certs DIR           where redsafe certs wrote ca.crt (default certs)
  --client NAME         add DIR/NAME.crt and DIR/NAME.key for mutual TLS

Examples:
  redsafe env --environment development
  redsafe env --environment production --host redis.internal \
      --password-file redis-secure/secrets/app.password --certs redis-secure/certs
  redsafe env --validate-only --output .env.secure
`,
	run: runEnv,
}

func runEnv(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	envName := fs.String("environment", "", "")
	output := fs.String("output", ".env.secure", "")
	force := fs.Bool("force", false, "")
	validateOnly := fs.Bool("validate-only", false, "")
	host := fs.String("host", "localhost", "")
	port := fs.Int("port", 6380, "")
	user := fs.String("user", "app", "")
	passwordFile := fs.String("password-file", "", "")
	keyFile := fs.String("key-file", "", "")
	inlineKey := fs.Bool("inline-key", false, "")
	certsDir := fs.String("certs", "certs", "")
	client := fs.String("client", "", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	if *validateOnly {
		return validateEnvFile(c, *output)
	}
	if *envName == "" {
		c.errorf("env: --environment is required (production, staging, development or testing)")
		return 2
	}
	env, err := redsafe.ParseEnvironment(*envName)
	if err != nil {
		c.errorf("env: %v", err)
		return 2
	}
	if *port < 1 || *port > 65535 {
		c.errorf("env: --port %d is not a port number", *port)
		return 2
	}
	if !hostFlagOK(*host) {
		c.errorf("env: --host must be a host name (letters, digits, '.', '-', '_') or an IP address")
		return 2
	}
	if strings.Trim(*user, nameChars) != "" {
		c.errorf("env: --user must be letters, digits, '.', '-' and '_'")
		return 2
	}
	spec := envSpec{Environment: env, Host: *host, Port: *port, User: *user}
	if spec.Password, err = secretFrom(*passwordFile, func() string { return redsafe.GeneratePassword(env) }); err != nil {
		c.errorf("env: %v", err)
		return 1
	}
	newKeyFile, err := spec.keyFrom(*keyFile, *output, *inlineKey)
	if err != nil {
		c.errorf("env: %v", err)
		return 1
	}
	if spec.CAFile, err = filepath.Abs(filepath.Join(*certsDir, certs.CAFile)); err != nil {
		c.errorf("env: %v", err)
		return 1
	}
	if *client != "" {
		cert, key := certs.ClientFiles(*client) // where `certs --client NAME` writes them
		spec.CertFile, _ = filepath.Abs(filepath.Join(*certsDir, cert))
		spec.KeyFile, _ = filepath.Abs(filepath.Join(*certsDir, key))
	}
	if report := redsafe.Validate(spec.options()); !report.OK() {
		writeReportText(c.stderr, report)
		c.errorf("env: refusing to write %s: it would not pass its own policy (run `redsafe certs --dir %s` first if ca.crt is missing)", *output, *certsDir)
		return 1
	}
	data, err := spec.render(time.Now())
	if err != nil {
		c.errorf("env: refusing to write %s: %v", *output, err)
		return 1
	}
	// The key file first, so that the env file never names a file that
	// is not there; both are refused before either is written.
	var files []pendingFile
	if newKeyFile != "" {
		files = append(files, pendingFile{newKeyFile, []byte(spec.Key + "\n")})
	}
	files = append(files, pendingFile{*output, data})
	for _, f := range files {
		if err := refuseExisting(f.path, *force); err != nil {
			c.errorf("env: %v", err)
			return 1
		}
	}
	for _, f := range files {
		backupPath, err := writeSecretFile(f.path, f.data, *force)
		if err != nil {
			c.errorf("env: %v", err)
			return 1
		}
		if backupPath != "" {
			fmt.Fprintf(c.stdout, "moved the old file to %s\n", backupPath)
		}
	}
	var fresh []string
	if *passwordFile == "" {
		fresh = append(fresh, "a new password")
	}
	if *keyFile == "" {
		fresh = append(fresh, "a new encryption key")
	}
	what := ""
	if len(fresh) > 0 {
		what = " with " + strings.Join(fresh, " and ")
	}
	fmt.Fprintf(c.stdout, "wrote %s (mode 0600) for %s: REDIS_URL=rediss://%s@%s/0%s\n",
		*output, env, *user, hostPort(*host, *port), what)
	if newKeyFile != "" {
		fmt.Fprintf(c.stdout, "wrote the encryption key to %s (mode 0600), which %s names\n", newKeyFile, redsafe.EnvEncryptionKeyFile)
	}
	fmt.Fprintf(c.stdout, "load it with: set -a; . %s; set +a\n", shellPath(*output))
	return 0
}

// keyFrom sets the spec's encryption key: the key file named (by path,
// or inline with inline), or a new key, inline or in a new file beside the
// env file output. It returns the path of that new file, for the caller to
// write once the spec is validated; "" when there is none to write.
func (s *envSpec) keyFrom(keyFile, output string, inline bool) (newFile string, err error) {
	switch {
	case inline:
		s.Key, err = secretFrom(keyFile, func() string { return seal.GenerateKey().Encode() })
		return "", err
	case keyFile != "":
		// Named where it is: the service reads the one copy there is.
		s.EncryptionKeyFile, err = filepath.Abs(keyFile)
		return "", err
	}
	s.Key, newFile = seal.GenerateKey().Encode(), output+".encryption.key"
	if s.EncryptionKeyFile, err = filepath.Abs(newFile); err != nil {
		return "", err
	}
	return newFile, nil
}

// pendingFile is a file of secrets to write once everything is checked.
type pendingFile struct {
	path string
	data []byte
}

// secretFrom reads a one-line secret from path, or generates one when path
// is empty.
func secretFrom(path string, generate func() string) (string, error) {
	if path == "" {
		return generate(), nil
	}
	return secretfile.ReadLine(path, secretfile.Named) // one line, owner and mode checked
}

func validateEnvFile(c *cli, path string) int {
	vars, err := envfile.Read(path)
	if err != nil {
		// A file outside the format, or one others can read, fails the
		// validation it was given for: exit 1, as for an error finding.
		c.errorf("env: cannot read the env file: %v", err)
		return 1
	}
	report := redsafe.Validate(redsafe.OptionsFromLookup(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }))
	writeReportText(c.stdout, report)
	if !report.OK() {
		return 1
	}
	return 0
}

// nameChars are the characters of host and user names that REDIS_URL
// carries as they are.
const nameChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_"

// hostFlagOK accepts a DNS or container name or an IP address, so that
// --host cannot add a line to the env file or a path, a query or a user to
// REDIS_URL.
func hostFlagOK(h string) bool {
	return net.ParseIP(h) != nil || h != "" && len(h) <= 253 && strings.Trim(h, nameChars) == ""
}

// shellPath makes a relative path usable with the shell's `.` builtin,
// which searches PATH for names without a slash.
func shellPath(p string) string {
	if filepath.IsAbs(p) || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") {
		return p
	}
	return "./" + p
}
