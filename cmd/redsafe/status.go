package main

import (
	"encoding/json"
	"fmt"
	"github.com/redsafe/redsafe/internal/secretfile"
	"path/filepath"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/termsafe"
)

var statusCmd = &command{
	name:    "status",
	summary: "show whether the local redis-server runs, where, and when its certificate expires",
	usage: `Usage: redsafe status [--dir .redsafe] [--json]

Reports whether the redis-server that redsafe up started from DIR is
running, its pid, the address it listens on, and when its server
certificate expires. Exits 0 when it is running and 1 when it is not, so
scripts can write: redsafe status || redsafe up

Examples:
  redsafe status
  redsafe status --json | jq .cert_expires
`,
	run: runStatus,
}

type statusReport struct {
	Running      bool      `json:"running"`
	Pid          int       `json:"pid,omitempty"`
	Listen       string    `json:"listen,omitempty"`
	Dir          string    `json:"dir"`
	CertExpires  time.Time `json:"cert_expires,omitzero"`
	CertDaysLeft int       `json:"cert_days_left,omitempty"`
}

func runStatus(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	dir := fs.String("dir", ".redsafe", "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	srv, err := redisserver.In(*dir)
	if err != nil {
		c.errorf("status: %v", err)
		return 1
	}
	st := statusReport{Dir: termsafe.Escape(srv.Dir)} // a directory name may hold control characters
	st.Pid, st.Running = srv.Pid()
	if port, ok := confPort(srv.Conf); ok {
		st.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	}
	if pem, err := secretfile.ReadPublic(filepath.Join(srv.Dir, "certs", "server.crt"), 1<<20, false); err == nil {
		if cert, err := certs.ParseCert(pem); err == nil {
			st.CertExpires = cert.NotAfter.UTC()
			st.CertDaysLeft = int(time.Until(cert.NotAfter).Hours() / 24)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
	} else if st.Running {
		fmt.Fprintf(c.stdout, "running: redis-server pid %d, TLS on %s\n", st.Pid, st.Listen)
	} else {
		fmt.Fprintf(c.stdout, "not running (start it with: redsafe up --dir %s)\n", termsafe.Escape(*dir))
	}
	if !*asJSON && !st.CertExpires.IsZero() {
		fmt.Fprintf(c.stdout, "server certificate expires %s (%d days)\n", st.CertExpires.Format("2006-01-02"), st.CertDaysLeft)
	}
	if !st.Running {
		return 1
	}
	return 0
}
