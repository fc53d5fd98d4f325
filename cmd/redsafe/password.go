package main

import (
	"fmt"

	"github.com/redsafe/redsafe"
)

var passwordCmd = &command{
	name:    "password",
	summary: "print a random password that meets an environment's policy",
	usage: `Usage: redsafe password [--environment ENV]

Prints a random password from crypto/rand that meets the policy of ENV:
48 characters in production (288 bits), 32 in staging, 24 in development and
12 in testing. The characters are safe unquoted in URLs, shells and Redis ACL
files.

Flags:
  --environment ENV   production (default), staging, development or testing

Examples:
  redsafe password
  export REDIS_PASSWORD="$(redsafe password --environment staging)"
`,
	run: runPassword,
}

func runPassword(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	envName := fs.String("environment", string(redsafe.Production), "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	env, err := redsafe.ParseEnvironment(*envName)
	if err != nil {
		c.errorf("password: %v", err)
		return 2
	}
	fmt.Fprintln(c.stdout, redsafe.GeneratePassword(env))
	return 0
}
