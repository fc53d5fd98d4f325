//go:build unix

package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func findCheck(r *CheckReport, name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// wantCheck asserts that the named check has status s and that its detail
// contains every string in detail.
func wantCheck(t *testing.T, r *CheckReport, name string, s Status, detail ...string) {
	t.Helper()
	c, ok := findCheck(r, name)
	if !ok {
		t.Errorf("no check %q in %+v", name, r.Checks)
		return
	}
	if c.Status != s {
		t.Errorf("%s = %s (%s), want %s", name, c.Status, c.Detail, s)
	}
	for _, d := range detail {
		if !strings.Contains(c.Detail, d) {
			t.Errorf("%s detail %q does not mention %q", name, c.Detail, d)
		}
	}
	if s == Fail && r.OK {
		t.Errorf("%s failed but report.OK is true", name)
	}
}

// problems lists the checks that are not ok, as "name=status".
func problems(r *CheckReport) []string {
	var out []string
	for _, c := range r.Checks {
		if c.Status != OK {
			out = append(out, c.Name+"="+string(c.Status))
		}
	}
	return out
}

// wantOnly asserts that exactly the given checks are not ok.
func wantOnly(t *testing.T, r *CheckReport, want ...string) {
	t.Helper()
	got := problems(r)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problems = %v, want %v", got, want)
	}
	if hasFail := slices.ContainsFunc(want, func(s string) bool { return strings.HasSuffix(s, "=fail") }); r.OK == hasFail {
		t.Errorf("report.OK = %v with problems %v", r.OK, got)
	}
}

func expectNoProblems(t *testing.T, r *CheckReport) {
	t.Helper()
	if p := problems(r); !r.OK || len(p) > 0 {
		t.Errorf("OK=%v problems=%v; checks: %+v", r.OK, p, r.Checks)
	}
}

// noSecrets checks every detail and the JSON form of r against the key
// files in dir and any extra keys.
func noSecrets(t *testing.T, r *CheckReport, dir string, extra ...[]byte) {
	t.Helper()
	keys := extra
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && strings.Contains(string(b), "PRIVATE KEY") {
			keys = append(keys, b)
		}
	}
	for _, c := range r.Checks {
		noKeyMaterial(t, c.Name, c.Detail, keys...)
	}
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	noKeyMaterial(t, "JSON report", string(j), keys...)
}

func genDir(t *testing.T, o GenerateOptions) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	generate(t, dir, o)
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	write := WriteCert
	if strings.HasSuffix(dst, ".key") {
		write = WriteKey
	}
	if err := write(dst, b); err != nil {
		t.Fatal(err)
	}
}

func TestCheckFreshDir(t *testing.T) {
	t.Parallel()
	dir := genDir(t, GenerateOptions{Client: "app"})
	for _, hosts := range [][]string{nil, DefaultHosts, {"[::1]", "redis"}} {
		r := CheckDir(dir, CheckOptions{Hosts: hosts})
		expectNoProblems(t, r)
		noSecrets(t, r, dir)
		var got []string
		for _, c := range r.Checks {
			got = append(got, c.Name)
		}
		slices.Sort(got)
		want := []string{
			"ca.expiry", "ca.signature", "client.app.chain", "client.app.expiry", "client.app.key", "client.app.signature",
			"permissions.app.key", "permissions.ca.key", "permissions.server.key",
			"server.chain", "server.expiry", "server.hosts", "server.key", "server.signature",
		}
		if !slices.Equal(got, want) {
			t.Errorf("hosts %v: checks %v, want %v", hosts, got, want)
		}
		wantCheck(t, r, "permissions.server.key", OK, "0600")
		if r.Dir != dir || len(r.Certificates) != 3 {
			t.Errorf("Dir %q, %d certificates", r.Dir, len(r.Certificates))
		}
		for _, ci := range r.Certificates {
			if ci.KeyType != "ECDSA P-256" || ci.Signature != "ECDSA-SHA256" || ci.NotAfter.Location() != time.UTC {
				t.Errorf("%+v", ci)
			}
			wantDays := 364 // a fraction of a second has passed since Generate
			if ci.File == CAFile {
				wantDays = 3649
			}
			if ci.DaysLeft != wantDays {
				t.Errorf("%s: DaysLeft %d, want %d", ci.File, ci.DaysLeft, wantDays)
			}
		}
	}
	wantCheck(t, CheckDir(dir, CheckOptions{Hosts: DefaultHosts}), "server.hosts", OK, "redis", "::1")

	// Without a client certificate there are no client checks, and ca.key
	// may be kept elsewhere (offline).
	dir2 := genDir(t, GenerateOptions{})
	if err := os.Remove(filepath.Join(dir2, CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	r := CheckDir(dir2, CheckOptions{})
	expectNoProblems(t, r)
	for _, c := range r.Checks {
		if strings.Contains(c.Name, "client") || c.Name == "permissions.ca.key" {
			t.Errorf("unexpected check %+v", c)
		}
	}
}

func TestCheckHosts(t *testing.T) {
	t.Parallel()
	dir := genDir(t, GenerateOptions{Hosts: []string{"redis.internal", "10.0.0.5"}})
	for _, tc := range []struct {
		hosts   []string
		missing []string
	}{
		{[]string{"redis.internal", "db.example.com"}, []string{"db.example.com"}},
		{[]string{"10.0.0.6"}, []string{"10.0.0.6"}},
		{[]string{"localhost", "127.0.0.1", "::1"}, []string{"localhost", "127.0.0.1", "::1"}},
		{[]string{"internal"}, []string{"internal"}},
		{[]string{"x.redis.internal"}, []string{"x.redis.internal"}},
	} {
		r := CheckDir(dir, CheckOptions{Hosts: tc.hosts})
		wantOnly(t, r, "server.hosts=fail")
		c, _ := findCheck(r, "server.hosts")
		for _, h := range tc.missing {
			if !strings.Contains(c.Detail, h) {
				t.Errorf("hosts %v: detail %q does not name %s", tc.hosts, c.Detail, h)
			}
		}
		// It also says what the certificate does cover and how to fix it.
		for _, s := range []string{"redis.internal", "10.0.0.5", "redsafe certs --renew"} {
			if !strings.Contains(c.Detail, s) {
				t.Errorf("detail %q does not mention %q", c.Detail, s)
			}
		}
	}
	expectNoProblems(t, CheckDir(dir, CheckOptions{Hosts: []string{"10.0.0.5", "redis.internal"}}))
}

func TestCheckExpiry(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Second)
	dir := genDir(t, GenerateOptions{Client: "app", Now: now})
	notAfter := now.Add(365 * 24 * time.Hour)
	notBefore := now.Add(-clockSkew)
	caNotAfter := now.Add(caValidity)

	at := func(when time.Time) *CheckReport {
		t.Helper()
		r := CheckDir(dir, CheckOptions{Now: when, Hosts: DefaultHosts})
		noSecrets(t, r, dir)
		return r
	}
	daysLeft := func(r *CheckReport, file string) int {
		for _, ci := range r.Certificates {
			if ci.File == file {
				return ci.DaysLeft
			}
		}
		t.Fatalf("no %s in %+v", file, r.Certificates)
		return 0
	}

	// 340 days in: 25 days left, a warning that does not fail the report.
	r := at(now.Add(340 * 24 * time.Hour))
	wantOnly(t, r, "server.expiry=warn", "client.app.expiry=warn")
	wantCheck(t, r, "server.expiry", Warn, "25 days", "redsafe certs --renew")
	if d := daysLeft(r, ServerFile); d != 25 {
		t.Errorf("days_left = %d, want 25", d)
	}

	// The 30-day boundary.
	expectNoProblems(t, at(notAfter.Add(-ExpiryWarning)))
	wantOnly(t, at(notAfter.Add(-ExpiryWarning+time.Second)), "server.expiry=warn", "client.app.expiry=warn")

	// Expired (also at the very last second): fail, and the chain fails too.
	for _, when := range []time.Time{notAfter.Add(time.Second), notAfter.Add(12 * time.Hour), notAfter.Add(400 * 24 * time.Hour)} {
		r := at(when)
		wantCheck(t, r, "server.expiry", Fail, "expired", notAfter.UTC().Format(time.DateOnly))
		wantCheck(t, r, "client.app.expiry", Fail, "expired")
		wantCheck(t, r, "server.chain", Fail)
		wantCheck(t, r, "ca.expiry", OK)
		if r.OK {
			t.Errorf("%v: report OK with an expired certificate", when)
		}
		if d := daysLeft(r, ServerFile); d >= 0 {
			t.Errorf("%v: days_left = %d for an expired certificate, want negative", when, d)
		}
	}

	// Not yet valid: a clock problem.
	r = at(notBefore.Add(-time.Minute))
	wantCheck(t, r, "server.expiry", Fail, "not valid until", "clock")
	wantCheck(t, r, "ca.expiry", Fail, "not valid until")
	wantCheck(t, r, "server.chain", Fail)
	expectNoProblems(t, at(notBefore))

	// The CA itself running out.
	r = at(caNotAfter.Add(-10 * 24 * time.Hour))
	wantCheck(t, r, "ca.expiry", Warn, "ca.crt")
	r = at(caNotAfter.Add(time.Hour))
	wantCheck(t, r, "ca.expiry", Fail, "expired")
}

func TestCheckKeyPermissions(t *testing.T) {
	t.Parallel()
	dir := genDir(t, GenerateOptions{Client: "app"})
	for _, tc := range []struct {
		file string
		mode os.FileMode
		ok   bool
	}{
		{ServerKeyFile, 0o644, false},
		{ServerKeyFile, 0o640, false},
		{ServerKeyFile, 0o604, false},
		{ServerKeyFile, 0o660, false},
		{ServerKeyFile, 0o400, true},
		{ServerKeyFile, 0o600, true},
		{CAKeyFile, 0o644, false},
		{CAKeyFile, 0o640, false},
		{appKey, 0o644, false},
		{appKey, 0o606, false},
	} {
		path := filepath.Join(dir, tc.file)
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		r := CheckDir(dir, CheckOptions{})
		name := "permissions." + tc.file
		mode := fmt.Sprintf("%04o", tc.mode)
		if tc.ok {
			expectNoProblems(t, r)
			wantCheck(t, r, name, OK, mode)
		} else {
			wantOnly(t, r, name+"=fail")
			wantCheck(t, r, name, Fail, mode, "chmod 600 "+path)
		}
		noSecrets(t, r, dir)
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// A symlink is judged by the file it points to.
	target := filepath.Join(t.TempDir(), "server.key")
	copyFile(t, filepath.Join(dir, ServerKeyFile), target)
	os.Chmod(target, 0o644)
	link := filepath.Join(dir, ServerKeyFile)
	os.Remove(link)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	wantOnly(t, CheckDir(dir, CheckOptions{}), "permissions.server.key=fail")

	// A missing server.key fails; a missing ca.key does not (kept offline).
	os.Remove(link)
	r := CheckDir(dir, CheckOptions{})
	wantOnly(t, r, "permissions.server.key=fail", "server.key=fail")
}

func TestCheckKeyMismatch(t *testing.T) {
	t.Parallel()
	dir := genDir(t, GenerateOptions{Client: "app"})
	other := genDir(t, GenerateOptions{})
	serverKey := filepath.Join(dir, ServerKeyFile)
	origKey, _ := os.ReadFile(serverKey)

	for name, src := range map[string]string{
		"client.key as server.key": filepath.Join(dir, appKey),
		"ca.key as server.key":     filepath.Join(dir, CAKeyFile),
		"another server's key":     filepath.Join(other, ServerKeyFile),
	} {
		t.Run(name, func(t *testing.T) {
			copyFile(t, src, serverKey)
			r := CheckDir(dir, CheckOptions{})
			wantOnly(t, r, "server.key=fail")
			wantCheck(t, r, "server.key", Fail, ServerKeyFile, "does not belong")
			noSecrets(t, r, dir, origKey)
			if err := WriteKey(serverKey, origKey); err != nil {
				t.Fatal(err)
			}
		})
	}
	expectNoProblems(t, CheckDir(dir, CheckOptions{}))

	// client.key swapped too.
	copyFile(t, filepath.Join(other, ServerKeyFile), filepath.Join(dir, appKey))
	wantOnly(t, CheckDir(dir, CheckOptions{}), "client.app.key=fail")
	os.Remove(filepath.Join(dir, appKey))
	wantOnly(t, CheckDir(dir, CheckOptions{}), "client.app.key=fail")
	os.Remove(filepath.Join(dir, appCrt))
	expectNoProblems(t, CheckDir(dir, CheckOptions{}))

	// Corrupt or misplaced key material: reported without being echoed.
	garbage := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("definitely not a PKCS#8 structure, but secret")})
	for name, data := range map[string][]byte{
		"corrupt key":   garbage,
		"no PEM at all": []byte("secret secret secret"),
		"a certificate": mustRead(t, filepath.Join(dir, ServerFile)),
	} {
		if err := WriteKey(serverKey, data); err != nil {
			t.Fatal(err)
		}
		r := CheckDir(dir, CheckOptions{})
		wantOnly(t, r, "server.key=fail")
		noSecrets(t, r, dir, origKey, garbage)
		if c, _ := findCheck(r, "server.key"); strings.Contains(c.Detail, "secret") {
			t.Errorf("%s: detail echoes the file: %q", name, c.Detail)
		}
	}

	// Certificate and key files swapped: the key is in server.crt.
	WriteCert(filepath.Join(dir, ServerFile), origKey)
	WriteKey(serverKey, mustRead(t, filepath.Join(other, ServerFile)))
	r := CheckDir(dir, CheckOptions{})
	wantCheck(t, r, "server.file", Fail, ServerFile)
	noSecrets(t, r, dir, origKey)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckWrongCA(t *testing.T) {
	t.Parallel()
	a := genDir(t, GenerateOptions{Client: "app"})
	b := genDir(t, GenerateOptions{Client: "app"})

	// Server pair from another CA: the key matches, the chain does not.
	copyFile(t, filepath.Join(b, ServerFile), filepath.Join(a, ServerFile))
	copyFile(t, filepath.Join(b, ServerKeyFile), filepath.Join(a, ServerKeyFile))
	r := CheckDir(a, CheckOptions{Hosts: DefaultHosts})
	wantOnly(t, r, "server.chain=fail")
	wantCheck(t, r, "server.chain", Fail, "unknown authority")
	noSecrets(t, r, a)

	// ca.crt from another CA (same name): both leaves fail.
	a2 := genDir(t, GenerateOptions{Client: "app"})
	copyFile(t, filepath.Join(b, CAFile), filepath.Join(a2, CAFile))
	wantOnly(t, CheckDir(a2, CheckOptions{}), "server.chain=fail", "client.app.chain=fail")

	// A leaf in place of ca.crt.
	a3 := genDir(t, GenerateOptions{})
	copyFile(t, filepath.Join(a3, ServerFile), filepath.Join(a3, CAFile))
	wantCheck(t, CheckDir(a3, CheckOptions{}), "ca.is-ca", Fail, CAFile)

	// The client certificate in place of server.crt: wrong purpose.
	a4 := genDir(t, GenerateOptions{Client: "app"})
	copyFile(t, filepath.Join(a4, appCrt), filepath.Join(a4, ServerFile))
	copyFile(t, filepath.Join(a4, appKey), filepath.Join(a4, ServerKeyFile))
	r = CheckDir(a4, CheckOptions{})
	wantCheck(t, r, "server.chain", Fail)
	wantCheck(t, r, "server.hosts", Fail, "no host")
}

func TestCheckMissingFiles(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	empty := t.TempDir()
	for _, dir := range []string{missing, empty} {
		r := CheckDir(dir, CheckOptions{})
		if r.OK {
			t.Errorf("%s: OK", dir)
		}
		wantCheck(t, r, "ca.file", Fail, "redsafe certs --dir "+dir)
		wantCheck(t, r, "server.file", Fail, "redsafe certs --dir "+dir)
		wantCheck(t, r, "permissions.server.key", Fail)
		if r.Certificates == nil || len(r.Certificates) != 0 {
			t.Errorf("Certificates = %#v, want empty", r.Certificates)
		}
		j, _ := json.Marshal(r)
		if !strings.Contains(string(j), `"certificates":[]`) {
			t.Errorf("JSON %s: certificates is not an empty array", j)
		}
	}

	// Only ca.crt missing.
	dir := genDir(t, GenerateOptions{})
	os.Remove(filepath.Join(dir, CAFile))
	r := CheckDir(dir, CheckOptions{})
	wantOnly(t, r, "ca.file=fail")
}

// weakLeaf replaces server.crt/server.key in dir with a certificate built
// directly with x509.CreateCertificate, signed by the directory's CA.
func weakLeaf(t *testing.T, dir string, key crypto.Signer, alg x509.SignatureAlgorithm) {
	t.Helper()
	ca, err := LoadAuthority(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), DNSNames: []string{"redis", "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(200 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, SignatureAlgorithm: alg,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := EncodeKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCert(filepath.Join(dir, ServerFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		t.Fatal(err)
	}
	if err := WriteKey(filepath.Join(dir, ServerKeyFile), keyPEM); err != nil {
		t.Fatal(err)
	}
}

func TestCheckWeakCertificates(t *testing.T) {
	t.Parallel()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	// Control: the same construction with SHA-256 and P-256 passes, so the
	// failures below come from the algorithm and the key size alone.
	dir := genDir(t, GenerateOptions{})
	weakLeaf(t, dir, ecKey, x509.ECDSAWithSHA256)
	expectNoProblems(t, CheckDir(dir, CheckOptions{Hosts: []string{"redis"}}))

	// SHA-1 signature on the server certificate.
	dir = genDir(t, GenerateOptions{})
	weakLeaf(t, dir, ecKey, x509.ECDSAWithSHA1)
	r := CheckDir(dir, CheckOptions{Hosts: []string{"redis"}})
	wantCheck(t, r, "server.signature", Fail, "SHA1", "SHA-256")
	wantCheck(t, r, "server.key", OK)
	noSecrets(t, r, dir)

	// RSA 1024 server key, SHA-256 signature by the (ECDSA) CA: the chain
	// verifies, so only the key-strength check can catch it.
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dir = genDir(t, GenerateOptions{})
	weakLeaf(t, dir, rsa1024, x509.ECDSAWithSHA256)
	r = CheckDir(dir, CheckOptions{Hosts: []string{"redis"}})
	wantOnly(t, r, "server.key-strength=fail")
	wantCheck(t, r, "server.key-strength", Fail, "1024")
	noSecrets(t, r, dir)

	// A CA re-signed with SHA-1 (same key, name and key ID). Go does not
	// check a root's self-signature, so the chain still verifies; the
	// signature check must still refuse it.
	dir = genDir(t, GenerateOptions{})
	ca, err := LoadAuthority(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	tmpl := &x509.Certificate{
		SerialNumber: c.SerialNumber, Subject: c.Subject, NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true, KeyUsage: c.KeyUsage,
		SubjectKeyId: c.SubjectKeyId, SignatureAlgorithm: x509.ECDSAWithSHA1,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, ca.Key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	WriteCert(filepath.Join(dir, CAFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	r = CheckDir(dir, CheckOptions{})
	wantOnly(t, r, "ca.signature=fail")
	wantCheck(t, r, "ca.signature", Fail, CAFile, "SHA1")
	noSecrets(t, r, dir)
}

func TestCheckReportJSON(t *testing.T) {
	t.Parallel()
	dir := genDir(t, GenerateOptions{Client: "app"})
	os.Chmod(filepath.Join(dir, appKey), 0o644)
	r := CheckDir(dir, CheckOptions{Hosts: []string{"redis"}})
	j, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Top   map[string]json.RawMessage
		Check []map[string]any
		Cert  []map[string]any
	}
	if err := json.Unmarshal(j, &doc.Top); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(doc.Top)); !slices.Equal(got, []string{"certificates", "checks", "dir", "ok"}) {
		t.Errorf("top-level fields %v", got)
	}
	if string(doc.Top["ok"]) != "false" {
		t.Errorf(`"ok" = %s, want false (client.key is 0644)`, doc.Top["ok"])
	}
	json.Unmarshal(doc.Top["checks"], &doc.Check)
	json.Unmarshal(doc.Top["certificates"], &doc.Cert)
	if len(doc.Check) != len(r.Checks) || len(doc.Cert) != 3 {
		t.Fatalf("%d checks, %d certificates", len(doc.Check), len(doc.Cert))
	}
	var sawFail bool
	for _, c := range doc.Check {
		if got := slices.Sorted(maps.Keys(c)); !slices.Equal(got, []string{"detail", "name", "status"}) {
			t.Errorf("check fields %v", got)
		}
		if c["name"] == "permissions.app.key" && c["status"] == "fail" {
			sawFail = true
		}
		if s := c["status"]; s != "ok" && s != "warn" && s != "fail" {
			t.Errorf("status %v", s)
		}
	}
	if !sawFail {
		t.Errorf(`no {"name":"permissions.app.key","status":"fail"} in %s`, j)
	}
	for _, c := range doc.Cert {
		want := []string{"days_left", "file", "key_type", "not_after", "signature", "subject"}
		if c["file"] == ServerFile {
			want = append(want, "hosts")
			slices.Sort(want)
		}
		if got := slices.Sorted(maps.Keys(c)); !slices.Equal(got, want) {
			t.Errorf("%v fields %v, want %v", c["file"], got, want)
		}
		if d, ok := c["days_left"].(float64); !ok || d < 364 {
			t.Errorf("%v days_left = %v", c["file"], c["days_left"])
		}
		if _, err := time.Parse(time.RFC3339, c["not_after"].(string)); err != nil {
			t.Errorf("not_after: %v", err)
		}
	}
	noSecrets(t, r, dir)
}
