package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

var downCmd = &command{
	name:    "down",
	summary: "stop the redis-server that redsafe up started",
	usage: `Usage: redsafe down [--dir .redsafe]

Stops the redis-server that redsafe up started from DIR: SIGTERM, then
SIGKILL if it has not exited within 10 seconds. Certificates, secrets and
configuration stay in DIR, so the next redsafe up reuses them. Stopping a
server that is not running is not an error.

Examples:
  redsafe down
  redsafe down --dir /tmp/redsafe-prod
`,
	run: runDown,
}

func runDown(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	dir := fs.String("dir", ".redsafe", "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	srv, err := redisserver.In(*dir)
	if err != nil {
		c.errorf("down: %v", err)
		return 1
	}
	pid, _ := srv.Pid()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stopped, err := srv.Stop(ctx)
	switch {
	case err != nil:
		c.errorf("down: %v", err)
		return 1
	case stopped:
		fmt.Fprintf(c.stdout, "stopped redis-server (pid %d)\n", pid)
	default:
		fmt.Fprintf(c.stdout, "no redis-server is running from %s\n", *dir)
	}
	return 0
}
