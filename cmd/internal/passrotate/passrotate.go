// Package passrotate changes a Redis ACL user's password in the two steps
// that keep every client connected: add the new password next to the old
// one, let clients move over, then remove every other password. Each step is
// verified by logging in on a fresh connection, never by the reply code of
// the change alone.
package passrotate

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// Server is where the user lives, and the operations user that may run
// ACL SETUSER, ACL GETUSER, ACL SAVE and CONFIG GET there.
type Server struct {
	Addr string
	TLS  *tls.Config // nil for plaintext (never for a redsafe policy above testing)
	// NodeRoots verify a cluster's nodes other than Addr (topology.TLSFor):
	// the CA file alone; nil: TLS.RootCAs.
	NodeRoots     *x509.CertPool
	AdminUser     string
	AdminPassword string
	Timeout       time.Duration // per connection and command; 0 => 5s
	// Sentinel: a Redis Sentinel, whose users live in its sentinel.conf
	// (SENTINEL FLUSHCONFIG saves them), not in an ACL file.
	Sentinel bool
}

// Step is one verified fact, printed as the rotation goes.
type Step struct {
	Name   string `json:"name"`
	Detail string `json:"detail"`
}

// Result is what a rotation step did.
type Result struct {
	User      string `json:"user"`
	Passwords int    `json:"passwords"`      // how many the user has afterwards
	Removed   int    `json:"removed"`        // by RemoveOthers
	Saved     bool   `json:"saved"`          // ACL SAVE wrote the server's aclfile
	SaveNote  string `json:"note,omitempty"` // why the change is not saved, when it is not
	Steps     []Step `json:"steps"`
	// Nodes are every process of a Sentinel deployment, for --status.
	Nodes []NodeStatus `json:"nodes,omitempty"`

	merged int // nodes merged into it (AddAll, RemoveOthersAll)
}

func (r *Result) step(name, format string, args ...any) {
	r.Steps = append(r.Steps, Step{Name: name, Detail: termsafe.Escape(fmt.Sprintf(format, args...))}) // details quote the server (aclfile)
}

// Hash is the form in which Redis stores and lists an ACL password.
func Hash(password string) string {
	h := sha256.Sum256([]byte(password))
	return hex.EncodeToString(h[:])
}

// Add gives user the password next, keeping the ones it has, and proves
// that next now logs in. When current is not empty it also proves that the
// current password still does, so that no client is locked out between the
// steps.
func (s Server) Add(user, current, next string) (*Result, error) {
	r := &Result{User: user}
	admin, err := s.admin()
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	if _, err := s.passwords(admin, user); err != nil {
		return nil, err
	}
	if err := expectOK(admin, "ACL SETUSER "+user+" >(new password)", "ACL", "SETUSER", user, ">"+next); err != nil {
		return nil, err
	}
	if err := s.login(user, next); err != nil {
		return nil, fmt.Errorf("the new password was added but does not log in: %w", err)
	}
	r.step("new-password", "a fresh connection logs in as %s with the new password", user)
	if current != "" {
		if err := s.login(user, current); err != nil {
			return nil, fmt.Errorf("the current password no longer logs in after the new one was added: %w", err)
		}
		r.step("old-password", "the current password still logs in, so running clients keep working")
	}
	hashes, err := s.passwords(admin, user)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(hashes, Hash(next)) {
		return nil, fmt.Errorf("ACL GETUSER %s does not list the new password", user)
	}
	r.Passwords = len(hashes)
	r.step("acl", "%s has %d passwords", user, len(hashes))
	s.save(admin, r)
	return r, nil
}

// RemoveOthers removes every password of user except keep, after proving
// that keep logs in, and then proves that keep still does and that it is the
// only password left.
func (s Server) RemoveOthers(user, keep string) (*Result, error) {
	r := &Result{User: user}
	if err := s.login(user, keep); err != nil {
		return nil, fmt.Errorf("refusing to remove the other passwords: the password to keep does not log in (%w); run `redsafe rotate-password --add` first", err)
	}
	r.step("keep-password", "the password to keep logs in as %s", user)
	admin, err := s.admin()
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	hashes, err := s.passwords(admin, user)
	if err != nil {
		return nil, err
	}
	keepHash := Hash(keep)
	if !slices.Contains(hashes, keepHash) {
		return nil, fmt.Errorf("ACL GETUSER %s does not list the password to keep; nothing was removed", user)
	}
	for _, h := range hashes {
		if h == keepHash {
			continue
		}
		// "!<hash>" removes a password by its hash: the old password itself
		// is not needed, and never sent.
		if err := expectOK(admin, "ACL SETUSER "+user+" !(hash)", "ACL", "SETUSER", user, "!"+h); err != nil {
			return nil, err
		}
		r.Removed++
	}
	after, err := s.passwords(admin, user)
	if err != nil {
		return nil, err
	}
	if len(after) != 1 || after[0] != keepHash {
		return nil, fmt.Errorf("after the removal %s still has %d passwords", user, len(after))
	}
	r.Passwords = 1
	r.step("acl", "removed %d old password(s); %s has one password", r.Removed, user)
	if err := s.login(user, keep); err != nil {
		return nil, fmt.Errorf("the kept password stopped logging in: %w", err)
	}
	r.step("keep-password", "a fresh connection still logs in with the kept password")
	s.save(admin, r)
	return r, nil
}

// Passwords returns how many passwords user has.
func (s Server) Passwords(user string) (int, error) {
	admin, err := s.admin()
	if err != nil {
		return 0, err
	}
	defer admin.Close()
	h, err := s.passwords(admin, user)
	return len(h), err
}

// Login reports whether password logs in as user on a fresh connection.
func (s Server) Login(user, password string) error { return s.login(user, password) }

func (s Server) dial() (*resp.Conn, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	return resp.DialTimeout(s.Addr, s.TLS, timeout)
}

// login authenticates on a fresh connection and sends PING.
func (s Server) login(user, password string) error {
	c, err := s.dial()
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", s.Addr, err)
	}
	defer c.Close()
	if err := expectOK(c, "AUTH "+user, "AUTH", user, password); err != nil {
		return err
	}
	reply, err := c.Do("PING")
	if err != nil {
		return err
	}
	if reply != "+PONG" {
		return fmt.Errorf("PING as %s: %s", user, errorCode(reply))
	}
	return nil
}

func (s Server) admin() (*resp.Conn, error) {
	c, err := s.dial()
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.Addr, err)
	}
	if err := expectOK(c, "AUTH "+s.AdminUser, "AUTH", s.AdminUser, s.AdminPassword); err != nil {
		c.Close()
		return nil, fmt.Errorf("the operations user: %w; pass the admin user's password with --admin-password-file", err)
	}
	return c, nil
}

// passwords lists user's password hashes from ACL GETUSER.
func (s Server) passwords(admin *resp.Conn, user string) ([]string, error) {
	v, err := admin.DoValue("ACL", "GETUSER", user)
	if err != nil {
		return nil, err
	}
	switch {
	case v.IsError():
		return nil, fmt.Errorf("ACL GETUSER %s: %s; the operations user needs the ACL command", user, errorCode("-"+v.Str))
	case v.Nil:
		return nil, fmt.Errorf("the server has no user %q", user)
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if v.Elems[i].Str == "passwords" {
			var out []string
			for _, e := range v.Elems[i+1].Elems {
				out = append(out, e.Str)
			}
			return out, nil
		}
	}
	return nil, errors.New("ACL GETUSER returned no passwords field")
}

// save persists the ACL change when the server keeps its users in an ACL
// file. Without one the change lives in memory only, which the result says:
// a restart would bring the old password back.
func (s Server) save(admin *resp.Conn, r *Result) {
	if s.Sentinel {
		if err := expectOK(admin, "SENTINEL FLUSHCONFIG", "SENTINEL", "FLUSHCONFIG"); err != nil {
			r.SaveNote = "SENTINEL FLUSHCONFIG failed (" + termsafe.Escape(err.Error()) + "): the change is live but a restart would undo it"
			return
		}
		r.Saved = true
		r.step("saved", "SENTINEL FLUSHCONFIG wrote the Sentinel's configuration")
		return
	}
	v, err := admin.DoValue("CONFIG", "GET", "aclfile")
	if err != nil || v.IsError() || len(v.Elems) < 2 {
		r.SaveNote = "could not read the server's aclfile setting; make sure the new password survives a restart"
		return
	}
	if v.Elems[1].Str == "" {
		r.SaveNote = "the server keeps no ACL file: the change lives in memory until the server's configuration (users.acl or requirepass) has it too"
		return
	}
	if err := expectOK(admin, "ACL SAVE", "ACL", "SAVE"); err != nil {
		r.SaveNote = "ACL SAVE failed (" + termsafe.Escape(err.Error()) + "): the change is live but a restart would undo it"
		return
	}
	r.Saved = true
	r.step("saved", "ACL SAVE wrote %s", v.Elems[1].Str)
}

// expectOK runs a command whose only good reply is +OK. what names the
// command in errors without any secret argument.
func expectOK(c *resp.Conn, what string, args ...string) error {
	reply, err := c.Do(args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if reply != "+OK" {
		return fmt.Errorf("%s: %s", what, errorCode(reply))
	}
	return nil
}

// errorCode is the code of an error reply (WRONGPASS, NOPERM) without the
// rest, which could echo an argument.
func errorCode(reply string) string {
	return strings.TrimPrefix(resp.FirstWord(reply), "-")
}
