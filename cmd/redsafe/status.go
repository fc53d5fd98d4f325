package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/internal/sentinelinfo"

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
certificate expires. For a cluster (up --cluster) it lists every node: its
port, pid, role and slots; for a Sentinel deployment (up --sentinel) every
Sentinel and data node with its role, and which node the Sentinels name
as the master now. Exits 0 when it (every node) is running and 1
when it is not, so scripts can write: redsafe status || redsafe up

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
	// CertWarning says what to do when the server certificate expires
	// within certWarnDays, or has expired; absent otherwise.
	CertWarning string       `json:"cert_warning,omitempty"`
	Nodes       []nodeStatus `json:"nodes,omitempty"` // a cluster's, or a Sentinel deployment's Sentinels and data nodes, in port order
	// Master is where the Sentinels say the master is now (up --sentinel).
	Master string `json:"master,omitempty"`
}

// nodeStatus is one node of a cluster.
type nodeStatus struct {
	Listen  string `json:"listen"`
	Running bool   `json:"running"`
	Pid     int    `json:"pid,omitempty"`
	Role    string `json:"role,omitempty"`  // master, replica or sentinel, when the node could be asked
	Slots   string `json:"slots,omitempty"` // the slot ranges a master serves
}

func runStatus(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	dir := fs.String("dir", ".redsafe", "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	servers, err := upServers(*dir)
	if err != nil {
		c.errorf("status: %v", err)
		return 1
	}
	top, err := redisserver.In(*dir)
	if err != nil {
		c.errorf("status: %v", err)
		return 1
	}
	st := statusReport{Dir: termsafe.Escape(top.Dir)} // a directory name may hold control characters
	if len(servers) == 1 {
		st.Pid, st.Running = servers[0].Pid()
		if port, ok := confPort(servers[0].Conf); ok {
			st.Listen = fmt.Sprintf("127.0.0.1:%d", port)
		}
	} else {
		st.Running = true
		var roles map[string]nodeRole
		if slices.ContainsFunc(servers, func(d redisserver.Dir) bool { return d.Sentinel }) {
			roles, st.Master = sentinelRoles(top.Dir, servers)
		} else {
			roles = clusterRoles(top.Dir, servers)
		}
		for _, srv := range servers {
			n := nodeStatus{Listen: "127.0.0.1:" + filepath.Base(srv.Dir)}
			n.Pid, n.Running = srv.Pid()
			st.Running = st.Running && n.Running
			if r, ok := roles[n.Listen]; ok {
				n.Role, n.Slots = r.role, r.slots
			}
			st.Nodes = append(st.Nodes, n)
		}
	}
	if pem, err := secretfile.ReadPublic(filepath.Join(top.Dir, "certs", "server.crt"), 1<<20, false); err == nil {
		if cert, err := certs.ParseCert(pem); err == nil {
			st.CertExpires = cert.NotAfter.UTC()
			st.CertDaysLeft = int(time.Until(cert.NotAfter).Hours() / 24)
			st.CertWarning = certWarning(cert.NotAfter, time.Now(), termsafe.Escape(*dir))
		}
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
	} else if len(st.Nodes) > 0 {
		for _, n := range st.Nodes {
			state := "not running"
			if n.Running {
				state = fmt.Sprintf("pid %d", n.Pid)
			}
			fmt.Fprintf(c.stdout, "node %s  %-11s %-8s %s\n", n.Listen, state, n.Role, n.Slots)
		}
		if st.Master != "" {
			fmt.Fprintf(c.stdout, "the Sentinels name %s as the master\n", st.Master)
		}
		if !st.Running {
			fmt.Fprintf(c.stdout, "not every process runs (start them with: redsafe up --cluster N or --sentinel, --dir %s)\n", termsafe.Escape(*dir))
		}
	} else if st.Running {
		fmt.Fprintf(c.stdout, "running: redis-server pid %d, TLS on %s\n", st.Pid, st.Listen)
	} else {
		fmt.Fprintf(c.stdout, "not running (start it with: redsafe up --dir %s)\n", termsafe.Escape(*dir))
	}
	if !*asJSON && !st.CertExpires.IsZero() {
		fmt.Fprintf(c.stdout, "server certificate expires %s (%d days)\n", st.CertExpires.Format("2006-01-02"), st.CertDaysLeft)
		if st.CertWarning != "" {
			fmt.Fprintf(c.stdout, "warning: %s\n", st.CertWarning)
		}
	}
	if !st.Running {
		return 1
	}
	return 0
}

type nodeRole struct{ role, slots string }

// statusAdmin asks the processes of an `up` directory as the admin user
// whose password up keeps in secrets/, over TLS verified against its CA.
type statusAdmin struct {
	password string
	pool     *x509.CertPool
}

func newStatusAdmin(top string) (*statusAdmin, bool) {
	password, err := secretfile.ReadLine(filepath.Join(top, "secrets", "admin.password"), secretfile.Owned)
	if err != nil {
		return nil, false
	}
	caPEM, err := secretfile.ReadPublic(filepath.Join(top, "certs", "ca.crt"), 1<<20, false)
	if err != nil {
		return nil, false
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	return &statusAdmin{password: password, pool: pool}, true
}

// do runs one command on the process whose directory srv is (named by its
// port), when it runs; an error reply is an error.
func (a *statusAdmin) do(srv redisserver.Dir, args ...string) (string, error) {
	if _, running := srv.Pid(); !running {
		return "", errors.New("not running")
	}
	conn, err := resp.Dial("127.0.0.1:"+filepath.Base(srv.Dir), &tls.Config{RootCAs: a.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	reply, err := conn.Do("AUTH", "admin", a.password)
	if err == nil && reply == "+OK" {
		reply, err = conn.Do(args...)
	}
	if err == nil && strings.HasPrefix(reply, "-") {
		err = errors.New(resp.FirstWord(reply))
	}
	return reply, err
}

// clusterRoles asks a running node for CLUSTER NODES: each node's role
// and slots by address. Nothing when no node can be asked.
func clusterRoles(top string, servers []redisserver.Dir) map[string]nodeRole {
	admin, ok := newStatusAdmin(top)
	if !ok {
		return nil
	}
	for _, srv := range servers {
		reply, err := admin.do(srv, "CLUSTER", "NODES")
		if err != nil {
			continue
		}
		roles := map[string]nodeRole{}
		for _, line := range strings.Split(strings.TrimSpace(reply), "\n") {
			f := strings.Fields(line)
			if len(f) < 8 {
				continue
			}
			addr, _, _ := strings.Cut(f[1], "@")
			role := "replica"
			if strings.Contains(f[2], "master") {
				role = "master"
			}
			roles[termsafe.Escape(addr)] = nodeRole{role: role, slots: termsafe.Escape(strings.Join(f[8:], " "))}
		}
		return roles
	}
	return nil
}

// sentinelRoles asks each data node of a Sentinel deployment its ROLE,
// and the Sentinels where the master is now (the first that answers).
func sentinelRoles(top string, servers []redisserver.Dir) (roles map[string]nodeRole, master string) {
	admin, ok := newStatusAdmin(top)
	if !ok {
		return nil, ""
	}
	roles = map[string]nodeRole{}
	for _, srv := range servers {
		listen := "127.0.0.1:" + filepath.Base(srv.Dir)
		if srv.Sentinel {
			if reply, err := admin.do(srv, "ROLE"); err == nil && strings.HasPrefix(reply, "sentinel") {
				roles[listen] = nodeRole{role: "sentinel"}
			}
			if reply, err := admin.do(srv, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", serverconf.DefaultMasterSet); err == nil && master == "" {
				if hp := strings.Split(reply, "\n"); len(hp) == 2 {
					master, _ = sentinelinfo.Addr(hp[0], hp[1]) // "" unless a valid host:port
				}
			}
			continue
		}
		if reply, err := admin.do(srv, "ROLE"); err == nil {
			role, _, _ := strings.Cut(reply, "\n")
			roles[listen] = nodeRole{role: map[string]string{"master": "master", "slave": "replica"}[role]}
		}
	}
	return roles, master
}

// certWarnDays is when status starts to warn, as `certs check` does.
const certWarnDays = 30

// certWarning is what status says of a server certificate that expires
// within certWarnDays or has expired, "" otherwise.
func certWarning(notAfter, now time.Time, dir string) string {
	left := notAfter.Sub(now)
	renew := fmt.Sprintf("renew it under the same CA with `redsafe certs renew --dir %s/certs`, then load it without a restart with `redsafe certs reload --dir %s --admin-password-file %s/secrets/admin.password` (or run `redsafe up --dir %s`, which does both)", dir, dir, dir, dir)
	switch {
	case left <= 0:
		return "the server certificate has expired: clients refuse it; " + renew
	case left < certWarnDays*24*time.Hour:
		return fmt.Sprintf("the server certificate expires in %d days; %s", int(left.Hours()/24), renew)
	}
	return ""
}
