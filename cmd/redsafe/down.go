package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

var downCmd = &command{
	name:    "down",
	summary: "stop the redis-server that redsafe up started",
	usage: `Usage: redsafe down [--dir .redsafe]

Stops the redis-server that redsafe up started from DIR, or every node of
its cluster, or its Sentinels and then its data nodes: SIGTERM, then SIGKILL if it has not exited within 10 seconds. Certificates, secrets and
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
	servers, err := upServers(*dir)
	if err != nil {
		c.errorf("down: %v", err)
		return 1
	}
	code, any := 0, false
	for _, srv := range servers {
		pid, _ := srv.Pid()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		stopped, err := srv.Stop(ctx)
		cancel()
		switch {
		case err != nil:
			c.errorf("down: %v", err)
			code = 1
		case stopped:
			any = true
			if len(servers) == 1 {
				fmt.Fprintf(c.stdout, "stopped redis-server (pid %d)\n", pid)
			} else {
				fmt.Fprintf(c.stdout, "stopped redis-server (pid %d) of %s %s\n", pid, map[bool]string{true: "Sentinel", false: "node"}[srv.Sentinel], filepath.Base(srv.Dir))
			}
		}
	}
	if !any && code == 0 {
		fmt.Fprintf(c.stdout, "no redis-server is running from %s\n", *dir)
	}
	return code
}
