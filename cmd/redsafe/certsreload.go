package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/certreload"
	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// reloadReport is what `certs reload` prints: every data node in the
// order it was reloaded, and the Sentinels, which cannot be.
type reloadReport struct {
	OK        bool                `json:"ok"`
	Nodes     []certreload.Result `json:"nodes"`
	Sentinels []sentinelCert      `json:"sentinels,omitempty"`
	Next      string              `json:"next,omitempty"`
}

// sentinelCert is what a Sentinel serves to a new client.
type sentinelCert struct {
	Addr    string           `json:"addr"`
	Pid     int              `json:"pid,omitempty"`
	Served  *certreload.Cert `json:"served,omitempty"`
	Current bool             `json:"current"` // serves what it should now (sentinelWant)
	Detail  string           `json:"detail"`
}

// reloadTargets are the processes of one deployment.
type reloadTargets struct {
	nodes     []certreload.Node // in the order they are reloaded
	sentinels []sentinelTarget
	// upDir is the `redsafe up` directory, for the restart commands; ""
	// for a deployment an env file names, whose Sentinels redsafe did not
	// start.
	upDir     string
	masterSet string // the Sentinels' name for it, when an env file names them
}

type sentinelTarget struct {
	node certreload.Node
	dir  redisserver.Dir // in an up directory only
}

func runCertsReload(c *cli, cmd *command, args []string) int {
	fs := c.flags(cmd)
	dir := fs.String("dir", "", "")
	envFile := fs.String("env-file", "", "")
	adminUser := fs.String("admin-user", "admin", "")
	adminFile := fs.String("admin-password-file", "", "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	switch {
	case *dir != "" && *envFile != "":
		c.errorf("certs reload: name the deployment once: --dir for a `redsafe up` directory, or --env-file for a service's configuration")
		return 2
	case *adminFile == "":
		c.errorf("certs reload: --admin-password-file is required: the operations user runs CONFIG SET (admin in a redsafe conf or up deployment: secrets/admin.password)")
		return 2
	}
	password, err := secretFrom(*adminFile, nil)
	if err != nil {
		c.errorf("certs reload: %v", err)
		return 1
	}
	admin := certreload.Admin{User: *adminUser, Password: password}
	var targets *reloadTargets
	if *envFile != "" {
		targets, err = envReloadTargets(c, *envFile, admin)
	} else {
		if *dir == "" {
			*dir = ".redsafe"
		}
		targets, err = upReloadTargets(*dir)
	}
	if err != nil {
		c.errorf("certs reload: %v; nothing was changed", termsafe.Error(err))
		return 1
	}
	report := reloadReport{Nodes: certreload.ReloadAll(targets.nodes, admin)}
	report.OK = len(report.Nodes) > 0 && report.Nodes[len(report.Nodes)-1].OK()
	if report.OK {
		report.Sentinels = sentinelCerts(targets, report.Nodes)
	}
	report.Next = reloadNext(report, targets)
	if *asJSON {
		writeJSON(c.stdout, report)
	} else {
		printReload(c.stdout, report)
	}
	if !report.OK {
		for _, n := range report.Nodes {
			if !n.OK() && n.Status != certreload.Untouched {
				c.errorf("certs reload: %s did not reload: %s", n.Addr, n.Detail)
				break
			}
		}
		return 1
	}
	return 0
}

func printReload(out io.Writer, r reloadReport) {
	printNodes(out, r.Nodes)
	for _, s := range r.Sentinels {
		mark := "ok"
		if !s.Current {
			mark = "warn"
		}
		fmt.Fprintf(out, "  %-4s  sentinel %-18s %s\n", mark, s.Addr, s.Detail)
	}
	if r.Next != "" {
		fmt.Fprintln(out, r.Next)
	}
}

// printNodes prints each data node's reload, one line each, in order.
func printNodes(out io.Writer, nodes []certreload.Result) {
	for _, n := range nodes {
		mark := map[certreload.Status]string{certreload.Reloaded: "ok", certreload.Untouched: "--"}[n.Status]
		if mark == "" {
			mark = "FAIL"
		}
		fmt.Fprintf(out, "  %-4s  node %-22s %s\n", mark, n.Addr, n.Detail)
	}
}

// reloadNext is what to do after the reload: the restart order of the
// Sentinels that serve an old certificate, or how to resume a reload that
// stopped.
func reloadNext(r reloadReport, t *reloadTargets) string {
	if !r.OK {
		var failed string
		var done, left []string
		for _, n := range r.Nodes {
			switch {
			case n.OK():
				done = append(done, n.Addr)
			case n.Status == certreload.Untouched:
				left = append(left, n.Addr)
			default:
				failed = n.Addr
			}
		}
		s := fmt.Sprintf("stopped at %s: it serves the certificate it served before", failed)
		if len(done) > 0 {
			s += "; " + strings.Join(done, ", ") + " serve the new one"
		}
		if len(left) > 0 {
			s += "; " + strings.Join(left, ", ") + " were not touched"
		}
		return s + ". Fix the files (`redsafe certs check`; `redsafe certs renew` issues a matching pair) and run certs reload again: reloading a node twice is harmless"
	}
	var stale []sentinelCert
	for _, s := range r.Sentinels {
		if !s.Current {
			stale = append(stale, s)
		}
	}
	if len(stale) == 0 {
		return fmt.Sprintf("done: every data node (%d) serves the certificate on disk to new connections; open connections keep theirs until they reconnect", len(r.Nodes))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the data nodes serve the new certificate. A Sentinel cannot reload one (Redis has no SENTINEL CONFIG SET for tls-*): restart them one at a time, each only once the one before has rejoined:\n")
	for i, s := range stale {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, t.restartStep(s, len(r.Sentinels)))
	}
	b.WriteString("then run certs reload again: it checks what every Sentinel serves")
	return b.String()
}

// restartStep is how to restart one Sentinel of the deployment, which
// has sentinels in all. In an up directory, up starts it again and waits
// until it has rejoined. A Sentinel an env file names was started by
// someone else (a service manager, another host), so the step names it
// and what to wait for, not a pid or a command of redsafe's.
func (t *reloadTargets) restartStep(s sentinelCert, sentinels int) string {
	replicas := len(t.nodes) - 1
	if t.upDir == "" {
		return fmt.Sprintf("restart the Sentinel on %s, then wait until `SENTINEL MASTER %s` on it shows num-slaves %d and num-other-sentinels %d: it has rejoined",
			s.Addr, termsafe.Escape(t.masterSet), replicas, sentinels-1)
	}
	// The ports up set the directory up for: the first data node's.
	_, port, _ := net.SplitHostPort(t.nodes[0].Addr)
	up := fmt.Sprintf("`redsafe up --sentinel --replicas %d --port %s --dir %s`", replicas, port, termsafe.Escape(t.upDir))
	stop := fmt.Sprintf("kill %d (the Sentinel on %s), then", s.Pid, s.Addr)
	if s.Pid == 0 {
		stop = fmt.Sprintf("the Sentinel on %s is not running:", s.Addr)
	}
	return fmt.Sprintf("%s %s: it starts that Sentinel again and waits until it sees the master, the replicas and the other Sentinels", stop, up)
}

// upReloadTargets are the processes of a `redsafe up` directory, found as
// `redsafe status` finds them, each verified against the directory's CA
// as 127.0.0.1, where up binds them.
func upReloadTargets(dir string) (*reloadTargets, error) {
	servers, err := upServers(dir)
	if err != nil {
		return nil, err
	}
	top, err := redisserver.In(dir)
	if err != nil {
		return nil, err
	}
	caPEM, err := secretfile.ReadPublic(filepath.Join(top.Dir, "certs", certs.CAFile), 1<<20, false)
	if err != nil {
		return nil, fmt.Errorf("%w; is %s a `redsafe up` directory?", err, dir)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no certificate", filepath.Join(top.Dir, "certs", certs.CAFile))
	}
	t := &reloadTargets{upDir: dir}
	for _, srv := range servers {
		port := filepath.Base(srv.Dir)
		if len(servers) == 1 {
			p, ok := confPort(srv.Conf)
			if !ok {
				return nil, fmt.Errorf("%s names no port; set it up with `redsafe up --dir %s`", srv.Conf, dir)
			}
			port = fmt.Sprint(p)
		}
		n := certreload.Node{Addr: net.JoinHostPort("127.0.0.1", port), TLS: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
		if srv.Sentinel {
			t.sentinels = append(t.sentinels, sentinelTarget{node: n, dir: srv})
		} else {
			t.nodes = append(t.nodes, n)
		}
	}
	return t, nil
}

// envReloadTargets are the data nodes of the service's deployment: its
// server, every node of its cluster, masters and replicas, or, through
// its Sentinels, their master and replicas (and the Sentinels, to report).
func envReloadTargets(c *cli, envFile string, admin certreload.Admin) (*reloadTargets, error) {
	opts, err := c.options(envFile)
	if err != nil {
		return nil, err
	}
	// The admin's password goes to every node the deployment names, and
	// a Sentinel or a cluster names them: each must prove itself with a
	// certificate of the deployment's own CA, never one any public CA
	// would sign for a host name.
	switch {
	case opts.TLS.CAFile == "":
		return nil, fmt.Errorf("%s names no CA file (%s): certs reload verifies every node against the deployment's CA alone, the one `certs renew` signs with; set %s to its ca.crt", envFile, redsafe.EnvTLSCACert, redsafe.EnvTLSCACert)
	case opts.TLS.Verify == redsafe.VerifyNone:
		return nil, fmt.Errorf("%s does not verify the server certificate (%s=none): certs reload sends the admin password only to nodes it verified; set it to required", envFile, redsafe.EnvTLSCertReqs)
	}
	conn, err := opts.Connection()
	if errors.Is(err, redsafe.ErrSentinelConnection) {
		return sentinelEnvTargets(opts)
	}
	if err != nil {
		return nil, fmt.Errorf("the service's configuration is refused by its policy; run `redsafe check`: %w", err)
	}
	if conn.TLS == nil {
		return nil, errors.New("REDIS_URL is not rediss://: there is no certificate to reload")
	}
	// The reload verifies every node against the deployment's CA file
	// alone: a certificate is renewed under that CA, and the admin's
	// password must not go to a host with some public CA's certificate.
	if conn.NodeRootCAs != nil {
		conn.TLS = conn.TLS.Clone()
		conn.TLS.RootCAs = conn.NodeRootCAs
	}
	first := certreload.Node{Addr: conn.Addr, TLS: conn.TLS}
	a, err := resp.DialTimeout(conn.Addr, conn.TLS, resp.IOTimeout)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", conn.Addr, err)
	}
	defer a.Close()
	if reply, err := a.Do("AUTH", admin.User, admin.Password); err != nil || reply != "+OK" {
		return nil, fmt.Errorf("AUTH as %s on %s failed; pass the admin user's password with --admin-password-file", admin.User, conn.Addr)
	}
	host, _, _ := net.SplitHostPort(conn.Addr)
	found, err := topology.Read(a.DoValue, true, host)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's nodes from %s: %w", conn.Addr, err)
	}
	t := &reloadTargets{nodes: []certreload.Node{first}}
	if found != nil {
		t.nodes = nil
		for _, n := range found {
			t.nodes = append(t.nodes, certreload.Node{Addr: n.Addr, TLS: topology.TLSFor(conn.TLS, conn.NodeRootCAs, conn.Addr, n.Addr)})
		}
	}
	return t, nil
}

// sentinelCerts asks each Sentinel, with a fresh handshake, which
// certificate it serves, against the one it should serve now (sentinelWant),
// once the data nodes have reloaded (nodes).
func sentinelCerts(t *reloadTargets, nodes []certreload.Result) []sentinelCert {
	if len(t.sentinels) == 0 {
		return nil
	}
	want, what := t.sentinelWant(nodes)
	var out []sentinelCert
	for _, s := range t.sentinels {
		sc := sentinelCert{Addr: s.node.Addr}
		if t.upDir != "" {
			sc.Pid, _ = s.dir.Pid()
		}
		leaf, err := certreload.Served(s.node, resp.IOTimeout)
		switch {
		case err != nil:
			sc.Detail = "a fresh handshake fails: " + termsafe.Error(err).Error()
		default:
			sc.Served = certreload.CertOf(leaf)
			sc.Current = slices.ContainsFunc(want, sc.Served.Same)
			if sc.Current {
				sc.Detail = "serves " + sc.Served.String() + ", " + what
			} else {
				sc.Detail = "serves " + sc.Served.String() + ", not " + what + ": restart it (below)"
			}
		}
		out = append(out, sc)
	}
	return out
}

// sentinelWant is what a Sentinel should serve now, and how to name it. A
// Sentinel cannot be asked which files it reads (SENTINEL CONFIG GET has
// no tls-*). In an up directory every process reads certs/server.crt: the
// file is known, and it is the reference. For a deployment an env file
// names, redsafe knows only the files each data node names, and the
// reload has just proven, by a fresh handshake, that each node serves
// its file: those certificates are the reference. A Sentinel that serves
// none of them is not proven to be out of date (it may read a file of its
// own), but only a restart makes it read its files again, and restarting
// one Sentinel at a time is harmless; the detail says what it is compared
// to, and never claims more.
func (t *reloadTargets) sentinelWant(nodes []certreload.Result) ([]*certreload.Cert, string) {
	if t.upDir != "" {
		pem, err := secretfile.ReadPublic(filepath.Join(t.upDir, "certs", certs.ServerFile), 1<<20, false)
		if err != nil {
			return nil, "the certificate on disk (which cannot be read: " + termsafe.Error(err).Error() + ")"
		}
		c, err := certs.ParseCert(pem)
		if err != nil {
			return nil, "the certificate on disk (which does not parse)"
		}
		return []*certreload.Cert{certreload.CertOf(c)}, "the certificate on disk"
	}
	var want []*certreload.Cert
	var shown []string
	for _, n := range nodes {
		if n.OK() && !slices.ContainsFunc(want, n.After.Same) {
			want = append(want, n.After)
			shown = append(shown, "serial "+n.After.Serial)
		}
	}
	if len(want) == 1 {
		return want, "the certificate the data nodes serve now (" + shown[0] + ")"
	}
	return want, "one the data nodes serve now (" + strings.Join(shown, ", ") + ")"
}
