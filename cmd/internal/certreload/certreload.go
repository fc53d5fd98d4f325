// Package certreload installs renewed TLS certificates on running Redis
// servers without a restart: one CONFIG SET per node, which makes Redis
// build a new TLS context for new handshakes (connections already open
// keep theirs), and then a fresh handshake that proves the node serves
// the certificate that is on disk. The reply code of CONFIG SET alone is
// never taken as proof.
package certreload

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// Node is one data node (redis-server) to reload.
type Node struct {
	Addr string // host:port
	// TLS verifies the node as its clients do: roots, server name, and the
	// client certificate when the node requires one.
	TLS *tls.Config
}

// Admin is the operations user, which may run CONFIG GET and CONFIG SET.
type Admin struct {
	User, Password string
	Timeout        time.Duration // per connection and command; 0 => 5s
}

// Status is what happened on one node.
type Status string

const (
	Reloaded  Status = "reloaded"  // a fresh handshake sees the certificate on disk
	Refused   Status = "refused"   // Redis refused the files; it serves the certificate it had
	Failed    Status = "failed"    // anything else that stopped the reload on this node
	Untouched Status = "untouched" // after a node that did not reload: not asked
)

// Cert is a certificate as a handshake or a file shows it.
type Cert struct {
	// Serial is in hex, two digits a byte, upper case: what
	// `openssl s_client | openssl x509 -noout -serial` prints after "serial=".
	Serial   string    `json:"serial"`
	NotAfter time.Time `json:"not_after"`
	raw      []byte    // DER, when known
}

// Result is one node's outcome.
type Result struct {
	Addr     string `json:"addr"`
	Status   Status `json:"status"`
	CertFile string `json:"cert_file,omitempty"` // as the node names it (CONFIG GET tls-cert-file)
	// CAFile is the node's tls-ca-cert-file, resolved against its working
	// directory: the CA it verifies its clients and its peers with
	// (replicas verify their master, cluster nodes each other).
	CAFile string `json:"ca_file,omitempty"`
	// ClientAuthAddr is where the node demands a client certificate
	// signed by that CA, if anywhere: its cluster bus port (cluster nodes
	// authenticate each other so), or its own address with
	// tls-auth-clients yes or optional.
	ClientAuthAddr string `json:"client_auth_addr,omitempty"`
	OnDisk         *Cert  `json:"on_disk,omitempty"`
	Before         *Cert  `json:"served_before,omitempty"`
	After          *Cert  `json:"served_after,omitempty"`
	Detail         string `json:"detail"`
}

// OK reports whether the node serves the certificate on disk now.
func (r Result) OK() bool { return r.Status == Reloaded }

// SerialHex writes a serial number as OpenSSL does: the big-endian bytes
// of the (positive) integer, two upper-case hex digits each.
func SerialHex(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	if len(b) == 0 {
		return "00"
	}
	return strings.ToUpper(fmt.Sprintf("%x", b))
}

// CertOf is what c shows a client.
func CertOf(c *x509.Certificate) *Cert {
	return &Cert{Serial: SerialHex(c), NotAfter: c.NotAfter.UTC(), raw: c.Raw}
}

// Same reports whether c and o are the same certificate: byte for byte
// when both came from a certificate, by serial and expiry otherwise.
func (c *Cert) Same(o *Cert) bool {
	if c == nil || o == nil {
		return false
	}
	if c.raw != nil && o.raw != nil {
		return bytes.Equal(c.raw, o.raw)
	}
	return c.Serial == o.Serial && c.NotAfter.Equal(o.NotAfter)
}

func (c *Cert) String() string {
	return fmt.Sprintf("serial %s (expires %s)", c.Serial, c.NotAfter.Format(time.DateOnly))
}

func (a Admin) timeout() time.Duration {
	if a.Timeout <= 0 {
		return 5 * time.Second
	}
	return a.Timeout
}

// Served is the leaf certificate the node presents to a new client now.
// The handshake is a full one: a fresh config without a session cache
// cannot resume a session, whose certificate would be the one of the
// session's first handshake.
func Served(n Node, timeout time.Duration) (*x509.Certificate, error) {
	return served(n.Addr, n.TLS, timeout)
}

func served(addr string, tlsConfig *tls.Config, timeout time.Duration) (*x509.Certificate, error) {
	cfg := &tls.Config{}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
	}
	cfg.ClientSessionCache = nil
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", addr, cfg)
	if err != nil {
		return nil, fmt.Errorf("a fresh TLS handshake with %s: %w", addr, err)
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if st.DidResume || len(st.PeerCertificates) == 0 {
		return nil, fmt.Errorf("the handshake with %s resumed a session or showed no certificate", addr)
	}
	return st.PeerCertificates[0], nil
}

// files are the TLS settings of a node, as it names them.
type files struct {
	cert, key, clientCert, clientKey, ca, dir string
	clientAuthAddr                            string
}

// abs resolves a path the node names as Redis does: against its working
// directory.
func (f files) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(f.dir, p)
}

// Reload installs the certificate and key a node already names on disk.
// It reads the node's tls-cert-file and tls-key-file (and, when the node
// presents one to its peers, tls-client-cert-file and tls-client-key-file,
// and the CA file it verifies clients and peers with, tls-ca-cert-file),
// checks that the certificate there verifies as the node's clients will
// verify it (before anything changes: a node serving a certificate its
// clients refuse is an outage), sends them back in one CONFIG SET (Redis
// builds the new context from all of them at once, so the certificate and
// its key never have to match one at a time), and proves with a fresh
// handshake that the node serves the file's serial and expiry.
func Reload(n Node, a Admin) Result {
	r := Result{Addr: n.Addr, Status: Failed}
	before := pastExpiry(n.TLS, n.Addr)
	conn, err := resp.DialTimeout(n.Addr, before, a.timeout())
	if err != nil {
		r.Detail = fmt.Sprintf("connecting: %v; nothing was changed on it", termsafe.Error(err))
		return r
	}
	defer conn.Close()
	if reply, err := conn.Do("AUTH", a.User, a.Password); err != nil || reply != "+OK" {
		r.Detail = fmt.Sprintf("AUTH as %s: %s; pass the admin user's password with --admin-password-file", a.User, replyCode(reply, err))
		return r
	}
	f, err := settings(conn, n.Addr)
	if err != nil {
		r.Detail = termsafe.Escape(err.Error()) + "; nothing was changed on it"
		return r
	}
	r.CertFile = termsafe.Escape(f.cert)
	r.CAFile = f.abs(f.ca)
	r.ClientAuthAddr = f.clientAuthAddr
	disk, err := onDisk(f, n)
	if err != nil {
		r.Detail = termsafe.Escape(err.Error()) + "; nothing was changed on it"
		return r
	}
	r.OnDisk = CertOf(disk)
	old, err := served(n.Addr, before, a.timeout())
	if err != nil {
		r.Detail = termsafe.Error(err).Error() + "; nothing was changed on it"
		return r
	}
	r.Before = CertOf(old)

	args := []string{"CONFIG", "SET", "tls-cert-file", f.cert, "tls-key-file", f.key}
	if f.clientCert != "" {
		args = append(args, "tls-client-cert-file", f.clientCert, "tls-client-key-file", f.clientKey)
	}
	if f.ca != "" {
		// The CA file too, read again with the rest: a CA rotation puts
		// a bundle of the old and the new CA there before any certificate
		// changes, and the node must trust it before its peers switch.
		args = append(args, "tls-ca-cert-file", f.ca)
	}
	reply, err := conn.Do(args...)
	if err != nil {
		r.Detail = fmt.Sprintf("CONFIG SET: %v; check what the node serves with `openssl s_client -connect %s`", termsafe.Error(err), n.Addr)
		return r
	}
	probe := n.TLS
	if reply != "+OK" {
		probe = before // what it still serves, the old certificate, may be an expired one
	}
	after, probeErr := served(n.Addr, probe, a.timeout())
	if probeErr == nil {
		r.After = CertOf(after)
	}
	switch {
	case reply != "+OK" && !strings.Contains(reply, "TLS"):
		// Not the TLS context: NOPERM, or a server without TLS support.
		r.Detail = fmt.Sprintf("CONFIG SET: %s; the admin user needs CONFIG SET", quote(reply))
	case reply != "+OK":
		// "Unable to update TLS configuration": Redis built no new
		// context and keeps the one it had.
		r.Status = Refused
		kept := "it still serves " + r.After.String()
		if probeErr != nil {
			kept = "and a fresh handshake failed: " + termsafe.Error(probeErr).Error()
		}
		r.Detail = fmt.Sprintf("Redis refused the new files (%s), %s; most likely %s does not match %s, or the server cannot read them: check with `redsafe certs check` and the server's log",
			quote(reply), kept, termsafe.Escape(f.key), termsafe.Escape(f.cert))
	case probeErr != nil:
		r.Detail = fmt.Sprintf("CONFIG SET was accepted, but %s", termsafe.Error(probeErr))
	case !r.After.Same(r.OnDisk):
		r.Detail = fmt.Sprintf("CONFIG SET was accepted, but a fresh handshake sees %s, not the file's %s", r.After, r.OnDisk)
	default:
		r.Status = Reloaded
		if r.Before.Same(r.OnDisk) {
			r.Detail = fmt.Sprintf("serves %s, as it did already", r.After)
		} else {
			r.Detail = fmt.Sprintf("serves %s, was %s", r.After, r.Before)
		}
	}
	return r
}

// ReloadAll reloads the nodes in order and stops at the first that does
// not serve its new certificate: the nodes after it are not asked, so a
// bad renewal reaches one node, never all.
func ReloadAll(nodes []Node, a Admin) []Result {
	var out []Result
	for i, n := range nodes {
		r := Reload(n, a)
		out = append(out, r)
		if !r.OK() {
			for _, rest := range nodes[i+1:] {
				out = append(out, Result{Addr: rest.Addr, Status: Untouched, Detail: "not asked: an earlier node did not reload"})
			}
			break
		}
	}
	return out
}

// settings reads the node's TLS files and its working directory, against
// which Redis resolves a relative path.
func settings(conn *resp.Conn, addr string) (files, error) {
	v, err := conn.DoValue("CONFIG", "GET", "tls-cert-file", "tls-key-file", "tls-client-cert-file", "tls-client-key-file", "tls-ca-cert-file", "dir",
		"tls-auth-clients", "cluster-enabled", "tls-cluster", "cluster-port", "tls-port")
	if err != nil {
		return files{}, fmt.Errorf("CONFIG GET: %w", err)
	}
	if v.IsError() {
		return files{}, fmt.Errorf("CONFIG GET: %s; the operations user needs CONFIG", quote("-"+v.Str))
	}
	m := map[string]string{}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		m[v.Elems[i].Str] = v.Elems[i+1].Str
	}
	f := files{cert: m["tls-cert-file"], key: m["tls-key-file"], clientCert: m["tls-client-cert-file"], clientKey: m["tls-client-key-file"], ca: m["tls-ca-cert-file"], dir: m["dir"]}
	host, _, _ := net.SplitHostPort(addr)
	switch {
	case m["cluster-enabled"] == "yes" && m["tls-cluster"] == "yes":
		// The bus listens on cluster-port, or on the TLS port + 10000.
		bus, _ := strconv.Atoi(m["cluster-port"])
		if tlsPort, err := strconv.Atoi(m["tls-port"]); bus == 0 && err == nil && tlsPort > 0 {
			bus = tlsPort + 10000
		}
		if bus > 0 && bus < 65536 {
			f.clientAuthAddr = net.JoinHostPort(host, strconv.Itoa(bus))
		}
	case m["tls-auth-clients"] == "yes" || m["tls-auth-clients"] == "optional":
		f.clientAuthAddr = addr
	}
	switch {
	case f.cert == "" || f.key == "":
		return files{}, errors.New("the node has no tls-cert-file or tls-key-file: it does not serve TLS")
	case (f.clientCert == "") != (f.clientKey == ""):
		return files{}, errors.New("the node sets only one of tls-client-cert-file and tls-client-key-file")
	}
	return f, nil
}

// onDisk reads the certificate the node names, on this machine, and
// verifies it as the node's clients will: chain, host name, dates.
func onDisk(f files, n Node) (*x509.Certificate, error) {
	path := f.abs(f.cert)
	data, err := secretfile.ReadPublic(path, 1<<20, true) // links followed, as Redis follows them
	if err != nil {
		return nil, fmt.Errorf("the node's certificate %s cannot be read here (%v): run the reload where the node's files are", path, err)
	}
	leaf, err := certs.ParseCert(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if n.TLS == nil || n.TLS.InsecureSkipVerify {
		return leaf, nil // the clients do not verify it either
	}
	name := serverName(n.TLS, n.Addr)
	now := time.Now()
	if n.TLS.Time != nil {
		now = n.TLS.Time()
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: n.TLS.RootCAs, DNSName: name, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return nil, fmt.Errorf("the new certificate %s would be refused by the node's clients (%v): fix it first (`redsafe certs check`)", path, err)
	}
	return leaf, nil
}

// quote is an error reply made safe to print: one line, escaped, bounded.
func quote(reply string) string {
	s := strings.TrimPrefix(strings.TrimSpace(reply), "-")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return termsafe.Escape(s)
}

// replyCode names a failed reply by its code only: an AUTH reply could
// echo the password.
func replyCode(reply string, err error) string {
	if err != nil {
		return termsafe.Error(err).Error()
	}
	return termsafe.Escape(strings.TrimPrefix(resp.FirstWord(reply), "-"))
}
