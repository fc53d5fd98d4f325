package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/certreload"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/resp"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// rotateCAReport is what `certs rotate-ca` prints: the step it ran, the
// phase the directory is in after it, what every node does now, and the
// proof of the phase on each node.
type rotateCAReport struct {
	OK      bool                `json:"ok"`
	Step    string              `json:"step"` // begin, switch, finish or status
	Phase   certs.RotationPhase `json:"phase"`
	CA      *caInfo             `json:"ca,omitempty"` // the only CA, when no rotation is in progress
	OldCA   *caInfo             `json:"old_ca,omitempty"`
	NewCA   *caInfo             `json:"new_ca,omitempty"`
	Backups []string            `json:"backups,omitempty"`
	Nodes   []certreload.Result `json:"nodes,omitempty"`
	Checks  []rotateCheck       `json:"checks,omitempty"`
	Next    string              `json:"next"`
	err     error               // what stopped the step, if anything
}

// caInfo names a CA as openssl would show it to an operator comparing
// files: subject, SHA-256 fingerprint, expiry.
type caInfo struct {
	Subject     string    `json:"subject"`
	Fingerprint string    `json:"sha256_fingerprint"`
	NotAfter    time.Time `json:"not_after"`
}

// rotateCheck is one node's proof of a phase.
type rotateCheck struct {
	Addr   string `json:"addr"`
	Check  string `json:"check"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

func caInfoOf(a *certs.Authority) *caInfo {
	if a == nil || a.Cert == nil {
		return nil
	}
	sum := sha256.Sum256(a.Cert.Raw)
	return &caInfo{Subject: termsafe.Escape(a.Cert.Subject.CommonName), Fingerprint: strings.ToUpper(hex.EncodeToString(sum[:])), NotAfter: a.Cert.NotAfter.UTC()}
}

var rotateSteps = []string{"begin", "switch", "finish"}

func runCertsRotateCA(c *cli, cmd *command, args []string) int {
	step := "status"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		step, args = args[0], args[1:]
	}
	fs := c.flags(cmd)
	dir := fs.String("dir", ".redsafe", "")
	adminUser := fs.String("admin-user", "admin", "")
	adminFile := fs.String("admin-password-file", "", "")
	days := fs.Int("days", certs.DefaultDays, "")
	asJSON := fs.Bool("json", false, "")
	if code, ok := c.parse(cmd, fs, args); !ok {
		return code
	}
	if step != "status" && !slices.Contains(rotateSteps, step) {
		c.errorf("certs rotate-ca: unknown step %s: the steps are begin, switch and finish, in that order (without one, it says where the rotation is)", shownArgument(step))
		return 2
	}
	if err := certs.CheckDays(*days); err != nil {
		c.errorf("certs rotate-ca: %v", err)
		return 2
	}
	if step != "status" && *adminFile == "" {
		c.errorf("certs rotate-ca: --admin-password-file is required: each step reloads every node as the operations user (secrets/admin.password of the up directory)")
		return 2
	}
	certDir := filepath.Join(*dir, "certs")
	targets, err := upReloadTargets(*dir)
	if err != nil {
		c.errorf("certs rotate-ca: %v; nothing was changed", termsafe.Error(err))
		return 1
	}
	if len(targets.sentinels) > 0 {
		// A Sentinel reads its CA file only when it starts, and connects
		// to the data nodes as a client: it would refuse them once they
		// switch. The runbook gives the manual order.
		c.errorf("certs rotate-ca: %s has Sentinels, which read their CA file only when they start: rotate its CA by hand as the README's runbook says (bundle, restart each Sentinel, switch, restart each, drop the old CA); nothing was changed", termsafe.Escape(*dir))
		return 1
	}
	rep := &rotateCAReport{Step: step}
	var admin certreload.Admin
	if step != "status" {
		password, err := secretFrom(*adminFile, nil)
		if err != nil {
			c.errorf("certs rotate-ca: %v", err)
			return 1
		}
		admin = certreload.Admin{User: *adminUser, Password: password}
	}
	rot, err := certs.ReadRotation(certDir)
	if err == nil {
		switch step {
		case "begin":
			err = rotateBegin(rep, *dir, certDir, admin)
		case "switch":
			err = rotateSwitch(rep, *dir, certDir, admin, *days, rot)
		case "finish":
			err = rotateFinish(rep, *dir, certDir, admin, rot)
		}
	}
	if err == nil {
		rot, err = certs.ReadRotation(certDir)
	}
	switch {
	case rot == nil:
	case rot.Phase == certs.NotRotating:
		rep.Phase, rep.CA = rot.Phase, caInfoOf(rot.Old)
	default:
		rep.Phase, rep.OldCA, rep.NewCA = rot.Phase, caInfoOf(rot.Old), caInfoOf(rot.New)
	}
	rep.OK = err == nil && allReloaded(rep.Nodes) && allChecked(rep.Checks)
	rep.err = err
	rep.Next = rotateNext(rep, *dir, *adminFile)
	if err != nil {
		rep.Next = termsafe.Error(err).Error() + "\n" + rep.Next
	}
	if *asJSON {
		writeJSON(c.stdout, rep)
	} else {
		printRotateCA(c.stdout, rep)
	}
	if !rep.OK {
		c.errorf("certs rotate-ca %s did not complete: %s", step, firstProblem(rep, err))
		return 1
	}
	return 0
}

// rotateBegin: the new CA, ca.crt made a bundle, and every node made to
// read it, each proven to trust both CAs.
func rotateBegin(rep *rotateCAReport, dir, certDir string, admin certreload.Admin) error {
	_, moved, err := certs.BeginRotation(certDir, time.Now())
	if err != nil {
		return err
	}
	rep.Backups = moved
	return reloadTrustingBoth(rep, dir, certDir, admin)
}

// reloadTrustingBoth reloads every node (its CA file with its
// certificates) and proves that each trusts the old and the new CA: the CA
// file it names holds both (Redis accepted the CONFIG SET only after
// reading it), and where the node demands client certificates (a cluster's
// bus, tls-auth-clients), it accepts one of each CA.
func reloadTrustingBoth(rep *rotateCAReport, dir, certDir string, admin certreload.Admin) error {
	rot, targets, err := reloadEveryNode(rep, dir, certDir, admin)
	if err != nil {
		return err
	}
	for i, n := range rep.Nodes {
		if !n.OK() {
			continue
		}
		ch := rotateCheck{Addr: n.Addr, Check: "trusts-both"}
		ch.OK, ch.Detail = caFileHolds(n.CAFile, rot.Old.Cert, rot.New.Cert)
		rep.Checks = append(rep.Checks, ch)
		if n.ClientAuthAddr != "" {
			rep.Checks = append(rep.Checks,
				clientCertCheck(targets.nodes[i], n.ClientAuthAddr, rot.Old, "old-ca-client-accepted", true),
				clientCertCheck(targets.nodes[i], n.ClientAuthAddr, rot.New, "new-ca-client-accepted", true))
		}
	}
	return nil
}

// reloadEveryNode reloads every node of the up directory with the files
// as they are now, verified against ca.crt as it is now, and returns the
// rotation those files are at.
func reloadEveryNode(rep *rotateCAReport, dir, certDir string, admin certreload.Admin) (*certs.Rotation, *reloadTargets, error) {
	rot, err := certs.ReadRotation(certDir)
	if err != nil {
		return nil, nil, err
	}
	targets, err := upReloadTargets(dir)
	if err != nil {
		return nil, nil, err
	}
	rep.Nodes = certreload.ReloadAll(targets.nodes, admin)
	return rot, targets, nil
}

// rotateSwitch: every node reloaded once more and proven to trust both
// CAs (so that one a begin did not reach reads the bundle before any
// certificate changes), the leaves reissued under the new CA, every node
// reloaded with them, and each proven to serve a certificate that a
// client trusting the new CA alone accepts.
func rotateSwitch(rep *rotateCAReport, dir, certDir string, admin certreload.Admin, days int, rot *certs.Rotation) error {
	switch rot.Phase {
	case certs.NotRotating, certs.Started:
		return outOfOrder("the directory's ca.crt does not hold a new CA yet: run the begin step first; nothing was changed")
	case certs.Dropped:
		return outOfOrder("the old CA is already out of ca.crt: run the finish step; nothing was changed")
	case certs.Bundled:
		if err := reloadTrustingBoth(rep, dir, certDir, admin); err != nil {
			return err
		}
		if !allReloaded(rep.Nodes) || !allChecked(rep.Checks) {
			return errors.New("not every node trusts both CAs: nothing was reissued")
		}
		files, err := certs.SwitchRotation(certDir, certs.GenerateOptions{Days: days})
		if err != nil {
			return err
		}
		if files != nil {
			rep.Backups = files.Backups
		}
		rep.Checks = nil
	}
	return reloadServingNew(rep, dir, certDir, admin)
}

// reloadServingNew reloads every node with the files as they are and
// proves that each serves a certificate a client trusting only the new CA
// accepts.
func reloadServingNew(rep *rotateCAReport, dir, certDir string, admin certreload.Admin) error {
	rot, targets, err := reloadEveryNode(rep, dir, certDir, admin)
	if err != nil {
		return err
	}
	newOnly := poolOf(rot.New.Cert)
	for _, n := range targets.nodes {
		rep.Checks = append(rep.Checks, handshakeCheck(n, newOnly, "new-ca-accepted", true))
	}
	return nil
}

// rotateFinish: refused unless every node reloads and serves a certificate
// of the new CA; then ca.crt holds the new CA alone, every node reads it
// again, and each is proven to refuse the old CA: a client trusting only
// the old CA refuses the node, and where the node demands client
// certificates it refuses one of the old CA and accepts one of the new (so
// that the refusal is the CA's, not the probe's). Only then does ca.key
// become the new CA's and the rotation end. Run again, it takes up where
// it stopped.
func rotateFinish(rep *rotateCAReport, dir, certDir string, admin certreload.Admin, rot *certs.Rotation) error {
	switch rot.Phase {
	case certs.Switched:
		// Before any file changes: every node reachable as the admin, and
		// serving a certificate of the new CA.
		if err := reloadServingNew(rep, dir, certDir, admin); err != nil {
			return err
		}
		if !allReloaded(rep.Nodes) || !allChecked(rep.Checks) {
			return errors.New("not every node reloads and serves a certificate of the new CA: nothing was changed; run the switch step again")
		}
		_, moved, err := certs.FinishRotation(certDir, time.Now())
		if err != nil {
			return err
		}
		rep.Backups = moved
	case certs.Dropped:
	default:
		return outOfOrder("some certificates are not the new CA's yet: run the switch step first; nothing was changed")
	}
	rot, targets, err := reloadEveryNode(rep, dir, certDir, admin)
	if err != nil {
		return err
	}
	rep.Checks = nil
	oldOnly := poolOf(rot.Old.Cert)
	for i, n := range rep.Nodes {
		if !n.OK() {
			continue
		}
		ch := rotateCheck{Addr: n.Addr, Check: "trusts-new-only"}
		ch.OK, ch.Detail = caFileHolds(n.CAFile, rot.New.Cert)
		if ch.OK {
			if trusted, _ := caFileHolds(n.CAFile, rot.Old.Cert); trusted {
				ch.OK, ch.Detail = false, "its CA file still holds the old CA"
			}
		}
		rep.Checks = append(rep.Checks, ch, handshakeCheck(targets.nodes[i], oldOnly, "old-ca-refused", false))
		if n.ClientAuthAddr != "" {
			rep.Checks = append(rep.Checks,
				clientCertCheck(targets.nodes[i], n.ClientAuthAddr, rot.New, "new-ca-client-accepted", true),
				clientCertCheck(targets.nodes[i], n.ClientAuthAddr, rot.Old, "old-ca-client-refused", false))
		}
	}
	if !allReloaded(rep.Nodes) || !allChecked(rep.Checks) {
		return nil // the report says what failed; the rotation stays open
	}
	moved, err := certs.CompleteRotation(certDir, time.Now())
	rep.Backups = append(rep.Backups, moved...)
	return err
}

// outOfOrder is a step refused because the rotation is not at the phase
// before it: nothing was changed, and the next step is the phase's.
type outOfOrder string

func (e outOfOrder) Error() string { return string(e) }

// handshakeCheck is a fresh handshake with n verified against roots alone:
// accepted when want, refused as signed by an unknown authority otherwise.
func handshakeCheck(n certreload.Node, roots *x509.CertPool, check string, want bool) rotateCheck {
	cfg := n.TLS.Clone()
	cfg.RootCAs = roots
	ch := rotateCheck{Addr: n.Addr, Check: check}
	leaf, err := certreload.Served(certreload.Node{Addr: n.Addr, TLS: cfg}, resp.IOTimeout)
	var unknown x509.UnknownAuthorityError
	switch {
	case want && err == nil:
		ch.OK, ch.Detail = true, fmt.Sprintf("a client that trusts only the new CA accepts its %s", certreload.CertOf(leaf))
	case want:
		ch.Detail = "a client that trusts only the new CA refuses it: " + termsafe.Error(err).Error()
	case err == nil:
		ch.Detail = fmt.Sprintf("a client that trusts only the old CA still accepts its %s", certreload.CertOf(leaf))
	case errors.As(err, &unknown):
		ch.OK, ch.Detail = true, "a client that trusts only the old CA refuses it: certificate signed by an unknown authority"
	default:
		ch.Detail = "a handshake with only the old CA failed, but not for the CA: " + termsafe.Error(err).Error()
	}
	return ch
}

// clientCertCheck presents a client certificate of ca, issued for the
// check and valid an hour, at addr, where the node demands one: accepted
// when want, refused otherwise.
func clientCertCheck(n certreload.Node, addr string, ca *certs.Authority, check string, want bool) rotateCheck {
	ch := rotateCheck{Addr: addr, Check: check}
	if ca == nil || ca.Key == nil {
		// CompleteRotation was stopped after it replaced ca.key: the old
		// key is in its backup only, and these checks passed before.
		ch.OK, ch.Detail = true, "not repeated: the CA's key is in its backup only (the rotation was completing)"
		return ch
	}
	now := time.Now()
	pair, err := ca.IssueClient("redsafe rotate-ca check", certs.Options{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
	if err != nil {
		ch.Detail = termsafe.Error(err).Error()
		return ch
	}
	cert, err := pair.TLSCertificate()
	if err != nil {
		ch.Detail = termsafe.Error(err).Error()
		return ch
	}
	accepted, err := certreload.ClientCertAccepted(addr, n.TLS, cert, resp.IOTimeout)
	who := fmt.Sprintf("a client certificate of %s", termsafe.Escape(ca.Cert.Subject.CommonName))
	switch {
	case err != nil:
		ch.Detail = "could not tell: " + termsafe.Error(err).Error()
	case accepted == want && want:
		ch.OK, ch.Detail = true, who+" is accepted"
	case accepted == want:
		ch.OK, ch.Detail = true, who+" is refused"
	case want:
		ch.Detail = who + " is refused"
	default:
		ch.Detail = who + " is still accepted"
	}
	return ch
}

// caFileHolds reports whether the CA file a node names, read here, holds
// every one of cas.
func caFileHolds(path string, cas ...*x509.Certificate) (bool, string) {
	if path == "" {
		return false, "the node names no tls-ca-cert-file"
	}
	data, err := secretfile.ReadPublic(path, 1<<20, true) // followed, as Redis follows it
	if err != nil {
		return false, fmt.Sprintf("its CA file cannot be read here: %v", termsafe.Error(err))
	}
	held, err := certs.ParseCerts(data)
	if err != nil {
		return false, termsafe.Error(err).Error()
	}
	for _, ca := range cas {
		found := false
		for _, h := range held {
			found = found || h.Equal(ca)
		}
		if !found {
			return false, fmt.Sprintf("its CA file %s does not hold %s", termsafe.Escape(path), termsafe.Escape(ca.Subject.CommonName))
		}
	}
	names := make([]string, len(cas))
	for i, ca := range cas {
		names[i] = termsafe.Escape(ca.Subject.CommonName)
	}
	return true, "it read " + termsafe.Escape(path) + ", which holds " + strings.Join(names, " and ")
}

func poolOf(c *x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c)
	return p
}

func allReloaded(rs []certreload.Result) bool {
	for _, r := range rs {
		if !r.OK() {
			return false
		}
	}
	return true
}

func allChecked(cs []rotateCheck) bool {
	for _, c := range cs {
		if !c.OK {
			return false
		}
	}
	return true
}

func firstProblem(rep *rotateCAReport, err error) string {
	if err != nil {
		return termsafe.Error(err).Error()
	}
	for _, n := range rep.Nodes {
		if !n.OK() && n.Status != certreload.Untouched {
			return n.Addr + ": " + n.Detail
		}
	}
	for _, ch := range rep.Checks {
		if !ch.OK {
			return ch.Addr + ": " + ch.Detail
		}
	}
	return "see the report"
}

// rotateNext is what to do after the step: the next step's command, or
// what to fix before running this one again.
func rotateNext(rep *rotateCAReport, dir, adminFile string) string {
	if adminFile == "" {
		adminFile = filepath.Join(dir, "secrets", "admin.password")
	}
	command := func(step string) string {
		return fmt.Sprintf("redsafe certs rotate-ca %s --dir %s --admin-password-file %s", step, termsafe.Escape(dir), termsafe.Escape(adminFile))
	}
	var skipped outOfOrder
	if !rep.OK && rep.Step != "status" && !errors.As(rep.err, &skipped) {
		return "fix what failed and run `" + command(rep.Step) + "` again: every step can be run again"
	}
	switch rep.Phase {
	case certs.NotRotating:
		if rep.Step == "finish" {
			return "done: the new CA is the only one; the old CA and its key are in the backups above. A client that trusts only the old CA is refused from now on"
		}
		return "no CA rotation is in progress; start one with `" + command("begin") + "`"
	case certs.Started:
		return "the new CA exists, but ca.crt does not hold it yet: `" + command("begin") + "`"
	case certs.Bundled:
		return fmt.Sprintf("every node trusts both CAs. Give %s (now both CAs) to every client that keeps its own copy (REDIS_TLS_CA_CERT); services on redsafe that name this file read it again for new connections. Then: `%s`",
			termsafe.Escape(filepath.Join(dir, "certs", certs.CAFile)), command("switch"))
	case certs.Dropped:
		return "the old CA is out of ca.crt, but not every node is proven to refuse it yet: fix what failed and run `" + command("finish") + "` again"
	case certs.Switched:
		return fmt.Sprintf("every node serves a certificate of the new CA. Clients that keep copies of the client certificates in %s need the reissued ones; then drop the old CA: `%s`",
			termsafe.Escape(filepath.Join(dir, "certs")), command("finish"))
	}
	return ""
}

func printRotateCA(out io.Writer, r *rotateCAReport) {
	fmt.Fprintf(out, "CA rotation: %s (step %s)\n", r.Phase, r.Step)
	for _, ca := range []struct {
		label string
		info  *caInfo
	}{{"CA", r.CA}, {"old CA", r.OldCA}, {"new CA", r.NewCA}} {
		if ca.info != nil {
			fmt.Fprintf(out, "  %-7s %s, SHA-256 %s, expires %s\n", ca.label, ca.info.Subject, ca.info.Fingerprint, ca.info.NotAfter.Format(time.DateOnly))
		}
	}
	for _, b := range r.Backups {
		if b != "" {
			fmt.Fprintf(out, "  kept the old file as %s\n", b)
		}
	}
	printNodes(out, r.Nodes)
	for _, ch := range r.Checks {
		mark := "ok"
		if !ch.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(out, "  %-4s  %-22s %-16s %s\n", mark, ch.Addr, ch.Check, ch.Detail)
	}
	fmt.Fprintln(out, r.Next)
}
