// Command redsafe sets up, checks and operates a secure Redis, and seals and
// opens values the way the redsafe library does.
//
// Run `redsafe help` for the commands and `redsafe help COMMAND` for
// examples.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisurl"
)

// command is one subcommand. run returns the process exit code: 0 success,
// 1 a failed check or refused input, 2 a usage error.
type command struct {
	name    string
	summary string
	usage   string // synopsis, description and examples
	run     func(c *cli, cmd *command, args []string) int
}

var commands = []*command{
	upCmd, downCmd, statusCmd, verifyCmd, auditCmd,
	rotateKeyCmd, rotatePasswordCmd, migrateCmd, benchCmd,
	checkCmd, certsCmd, confCmd, envCmd,
	keygenCmd, passwordCmd, encryptCmd, decryptCmd,
}

// cli carries the process's streams and environment, so commands can be
// tested in-process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
}

func main() {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv}
	os.Exit(c.main(os.Args[1:]))
}

func (c *cli) main(args []string) int {
	if len(args) == 0 {
		c.printUsage(c.stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			if cmd := lookup(rest[0]); cmd != nil {
				fmt.Fprint(c.stdout, cmd.usage)
				return 0
			}
			c.errorf("unknown command %q; run `redsafe help` for the list", rest[0])
			return 2
		}
		c.printUsage(c.stdout)
		return 0
	}
	cmd := lookup(name)
	if cmd == nil {
		c.errorf("unknown command %q; run `redsafe help` for the list", name)
		return 2
	}
	return cmd.run(c, cmd, rest)
}

func lookup(name string) *command {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd
		}
	}
	return nil
}

func (c *cli) printUsage(w io.Writer) {
	fmt.Fprint(w, `redsafe sets up, checks and operates a TLS-only, authenticated, encrypted Redis.

Usage:
  redsafe COMMAND [flags]

Commands:
`)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-16s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, `
Configuration comes from the environment: REDIS_URL, REDIS_PASSWORD,
REDIS_ENCRYPTION_KEY and the other REDIS_* variables in the README.

Run "redsafe help COMMAND" for a command's flags and examples.
`)
}

// flags returns a FlagSet that prints the command's usage on -h and reports
// errors the same way every command does.
func (c *cli) flags(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args. It returns an exit code and false when the command
// should stop: 0 after --help, 2 after a usage error.
func (c *cli) parse(cmd *command, fs *flag.FlagSet, args []string) (int, bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(c.stdout, cmd.usage)
		return 0, false
	case err != nil:
		c.errorf("%s: %v\nrun `redsafe help %s` for usage", cmd.name, err, cmd.name)
		return 2, false
	case fs.NArg() > 0:
		c.errorf("%s: unexpected argument %s\nrun `redsafe help %s` for usage", cmd.name, shownArgument(fs.Arg(0)), cmd.name)
		return 2, false
	}
	return 0, true
}

// shownArgument quotes an argument for an error, redacted when it looks
// like a URL with credentials (`redsafe verify rediss://app:PW@h`): what
// goes to a terminal or a CI log must not hold the password, even if the
// process list did.
func shownArgument(arg string) string {
	if !strings.ContainsAny(arg, "@:") {
		return fmt.Sprintf("%q", arg)
	}
	if shown := redisurl.Redact(arg); shown != "" {
		return fmt.Sprintf("%q", shown)
	}
	return "(not shown: it may hold a password)"
}

func (c *cli) errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(c.stderr, "redsafe: "+strings.TrimPrefix(msg, "redsafe: "))
}

// fixLines is what to do about err, for a terminal: the library keeps each
// fix in a field (ConnectError.Fix, each finding's Fix of a ConfigError)
// so that its Error stays one line; a command prints them under it.
func fixLines(err error) string {
	var (
		connErr *redsafe.ConnectError
		cfgErr  *redsafe.ConfigError
		b       strings.Builder
	)
	switch {
	case errors.As(err, &connErr) && connErr.Fix != "":
		b.WriteString("\nfix: " + connErr.Fix)
	case errors.As(err, &cfgErr):
		for _, f := range cfgErr.Report.Errors() {
			b.WriteString("\n  - [" + f.ID + "] " + f.Message)
			if f.Fix != "" {
				b.WriteString("\n    fix: " + f.Fix)
			}
		}
	}
	return b.String()
}

// quietLogger keeps the library's own log records out of command output:
// commands report what matters themselves.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
