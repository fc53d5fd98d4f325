//go:build unix

package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadCA(t *testing.T, dir string) *Authority {
	t.Helper()
	ca, err := LoadAuthority(filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ParseCert(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// writePair writes an issued pair as NAME.crt and NAME.key in dir.
func writePair(t *testing.T, dir, name string, p *Pair) {
	t.Helper()
	cert, key := ClientFiles(name)
	if err := WriteCert(filepath.Join(dir, cert), p.CertPEM); err != nil {
		t.Fatal(err)
	}
	if err := WriteKey(filepath.Join(dir, key), p.KeyPEM); err != nil {
		t.Fatal(err)
	}
}

// Renew without Client reissues every client certificate in the
// directory with the server's, each keeping its names, under the
// unchanged CA; Renew with Client reissues that one only.
func TestRenewReissuesEveryClient(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{Client: "app"})
	appBefore := snapshot(t, dir)[appCrt]
	// --client api creates api.crt and leaves app.crt alone.
	if f, err := Renew(dir, GenerateOptions{Client: "api"}); err != nil {
		t.Fatal(err)
	} else if len(f.Clients) != 1 || f.Clients[0].CommonName != "api" {
		t.Fatalf("Renew with Client api wrote clients %+v", f.Clients)
	}
	if snapshot(t, dir)[appCrt] != appBefore {
		t.Fatal("Renew with Client api replaced app.crt")
	}
	// A client certificate with more names than its common name, as
	// another tool may have issued it under this CA.
	ca := loadCA(t, dir)
	tmpl, err := clientTemplate("peer", Options{})
	if err != nil {
		t.Fatal(err)
	}
	spiffe, _ := url.Parse("spiffe://redsafe.test/peer")
	tmpl.DNSNames, tmpl.IPAddresses = []string{"peer.internal"}, []net.IP{net.ParseIP("10.0.0.7")}
	tmpl.EmailAddresses, tmpl.URIs = []string{"ops@redsafe.test"}, []*url.URL{spiffe}
	peer, err := ca.issue(tmpl, Options{})
	if err != nil {
		t.Fatal(err)
	}
	writePair(t, dir, "peer", peer)

	before := snapshot(t, dir)
	old := map[string]*x509.Certificate{}
	for _, name := range []string{"api", "app", "peer"} {
		old[name] = readCert(t, filepath.Join(dir, name+".crt"))
	}
	now := time.Now().Add(time.Minute)
	f, err := Renew(dir, GenerateOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, dir)
	if after[CAFile] != before[CAFile] || after[CAKeyFile] != before[CAKeyFile] {
		t.Fatal("Renew changed ca.crt or ca.key")
	}
	var got []string
	for _, c := range f.Clients {
		got = append(got, filepath.Base(c.Cert)+" "+filepath.Base(c.Key)+" "+c.CommonName)
	}
	if want := []string{"api.crt api.key api", "app.crt app.key app", "peer.crt peer.key peer"}; !slices.Equal(got, want) {
		t.Fatalf("reissued %q, want %q", got, want)
	}
	oldCA := x509.NewCertPool()
	oldCA.AddCert(ca.Cert)
	for _, c := range f.Clients {
		name := strings.TrimSuffix(filepath.Base(c.Cert), ".crt")
		renewed := readCert(t, c.Cert)
		was := old[name]
		if renewed.SerialNumber.Cmp(was.SerialNumber) == 0 || renewed.Subject.CommonName != was.Subject.CommonName {
			t.Errorf("%s: serial %x CN %q, was %x %q; want a new serial and the same CN", name, renewed.SerialNumber, renewed.Subject.CommonName, was.SerialNumber, was.Subject.CommonName)
		}
		if !slices.Equal(renewed.DNSNames, was.DNSNames) || !slices.EqualFunc(renewed.IPAddresses, was.IPAddresses, net.IP.Equal) ||
			!slices.Equal(renewed.EmailAddresses, was.EmailAddresses) || len(renewed.URIs) != len(was.URIs) || (len(was.URIs) == 1 && renewed.URIs[0].String() != was.URIs[0].String()) {
			t.Errorf("%s: names %v %v %v %v, were %v %v %v %v", name, renewed.DNSNames, renewed.IPAddresses, renewed.EmailAddresses, renewed.URIs, was.DNSNames, was.IPAddresses, was.EmailAddresses, was.URIs)
		}
		if _, err := renewed.Verify(x509.VerifyOptions{Roots: oldCA, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("%s does not chain to the unchanged ca.crt: %v", name, err)
		}
		if days := renewed.NotAfter.Sub(now).Hours() / 24; days < 364 || days > 366 {
			t.Errorf("%s renewed for %.1f days, want 365", name, days)
		}
		if _, ok := renewed.PublicKey.(*ecdsa.PublicKey); !ok {
			t.Errorf("%s has a %T key, want the CA's ECDSA", name, renewed.PublicKey)
		}
		if _, err := tls.LoadX509KeyPair(c.Cert, c.Key); err != nil {
			t.Errorf("%s: the new key does not match the new certificate: %v", name, err)
		}
		if m := fileMode(t, c.Cert); m != CertFileMode {
			t.Errorf("%s mode %04o", c.Cert, m)
		}
		if m := fileMode(t, c.Key); m != KeyFileMode {
			t.Errorf("%s mode %04o", c.Key, m)
		}
	}
	// Each replaced file is in a backup, as it was, mode included.
	if len(f.Backups) != 8 {
		t.Fatalf("backups %v, want server's and three clients' certificates and keys", f.Backups)
	}
	for _, b := range f.Backups {
		name, _, _ := strings.Cut(filepath.Base(b), ".bak-")
		if after[filepath.Base(b)] != before[name] || after[name] == before[name] {
			t.Errorf("backup %s does not hold the old %s", b, name)
		}
	}

	// A mutual TLS handshake with the renewed app certificate against a
	// server that trusts the ca.crt from before.
	m := readMaterial(t, dir)
	srv := &tls.Config{Certificates: []tls.Certificate{m.serverTLS}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: oldCA}
	cli := &tls.Config{RootCAs: oldCA, ServerName: "127.0.0.1", Certificates: []tls.Certificate{m.clientTLS}}
	if cerr, serr := handshake(t, srv, cli); cerr != nil || serr != nil {
		t.Fatalf("mutual TLS with the renewed app.crt: client %v, server %v", cerr, serr)
	}
}

// A client certificate Renew cannot reissue under the CA is refused,
// naming it and the two ways out, before any file changes; each way out
// then lets Renew through.
func TestRenewRefusesClientsItCannotReissue(t *testing.T) {
	t.Parallel()
	other := t.TempDir()
	generate(t, other, GenerateOptions{Client: "stray"})
	corpCA, err := NewAuthority("corp CA", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		name  string // of the planted NAME.crt, NAME.key or both
		plant func(t *testing.T, dir string)
		want  string
	}{
		"signed by another redsafe CA": {
			name: "stray",
			plant: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(other, "stray.crt"), filepath.Join(dir, "stray.crt"))
				copyFile(t, filepath.Join(other, "stray.key"), filepath.Join(dir, "stray.key"))
			},
			want: `stray.crt, which another CA's key signed, not this CA's (both are named "CN=redsafe local CA,O=redsafe")`,
		},
		"signed by a CA of another name": {
			name: "corp",
			plant: func(t *testing.T, dir string) {
				p, err := corpCA.IssueClient("corp", Options{})
				if err != nil {
					t.Fatal(err)
				}
				writePair(t, dir, "corp", p)
			},
			want: `corp.crt, which "CN=corp CA" signed, not this CA`,
		},
		"a certificate without its key": {
			name: "lone",
			plant: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(dir, appCrt), filepath.Join(dir, "lone.crt"))
			},
			want: "lone.crt, which has no lone.key beside it",
		},
		"a key without its certificate": {
			name: "orphan",
			plant: func(t *testing.T, dir string) {
				copyFile(t, filepath.Join(dir, appKey), filepath.Join(dir, "orphan.key"))
			},
			want: "orphan.key, which has no orphan.crt beside it",
		},
		"not a certificate": {
			name: "junk",
			plant: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "junk.crt"), []byte("not PEM\n"), 0o644)
				copyFile(t, filepath.Join(dir, appKey), filepath.Join(dir, "junk.key"))
			},
			want: "junk.crt, which is not a certificate (certs: no CERTIFICATE PEM block found)",
		},
		"a server certificate of this CA": {
			name: "web",
			plant: func(t *testing.T, dir string) {
				p, err := loadCA(t, dir).IssueServer([]string{"web.internal"}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				writePair(t, dir, "web", p)
			},
			want: "web.crt, which is not a client certificate",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			generate(t, dir, GenerateOptions{Client: "app"})
			tc.plant(t, dir)
			planted := tc.name
			before := snapshot(t, dir)
			_, err := Renew(dir, GenerateOptions{})
			if err == nil {
				t.Fatal("Renew reissued around a client certificate it cannot renew")
			}
			for _, want := range []string{
				filepath.Join(dir, tc.want),
				"move " + planted + ".crt and " + planted + ".key out of " + dir,
				"`redsafe certs renew --dir " + dir + " --client " + planted + "`",
				"no file was changed",
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			noKeyMaterial(t, "the refusal", err.Error(), []byte(before[appKey]), []byte(before[ServerKeyFile]), []byte(before[planted+".key"]))
			sameSnapshot(t, "refused Renew", before, snapshot(t, dir))

			// The second way out: reissue it under this CA with --client.
			if _, err := Renew(dir, GenerateOptions{Client: planted}); err != nil {
				t.Fatalf("Renew with Client %s: %v", planted, err)
			}
			if c := readCert(t, filepath.Join(dir, planted+".crt")); c.Subject.CommonName != planted || !signedByAny(c, []*x509.Certificate{loadCA(t, dir).Cert}) {
				t.Fatalf("%s.crt after Renew with Client: CN %q, issuer %q", planted, c.Subject.CommonName, c.Issuer)
			}
			if _, err := Renew(dir, GenerateOptions{}); err != nil {
				t.Fatalf("Renew after the reissue: %v", err)
			}
		})
	}
}

// Every certificate Renew cannot reissue is named, not only the first;
// moving them out (the first way out) lets it through.
func TestRenewNamesEveryRefusedClient(t *testing.T) {
	t.Parallel()
	other, dir := t.TempDir(), t.TempDir()
	generate(t, other, GenerateOptions{Client: "stray"})
	generate(t, dir, GenerateOptions{Client: "app"})
	for _, name := range []string{"stray.crt", "stray.key"} {
		copyFile(t, filepath.Join(other, name), filepath.Join(dir, name))
	}
	copyFile(t, filepath.Join(dir, appCrt), filepath.Join(dir, "lone.crt"))
	_, err := Renew(dir, GenerateOptions{})
	if err == nil || !strings.Contains(err.Error(), "lone.crt, which has no lone.key") || !strings.Contains(err.Error(), "stray.crt, which another CA's key signed") {
		t.Fatalf("Renew with two certificates it cannot renew: %v", err)
	}
	for _, name := range []string{"stray.crt", "stray.key", "lone.crt"} {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(other, "moved-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Renew(dir, GenerateOptions{}); err != nil {
		t.Fatalf("Renew once they are moved out: %v", err)
	}
}

// During a CA rotation renewUnder signs with the new CA, and a client
// certificate counts as this directory's when the new CA or any CA in
// ca.crt (the bundle of both) signed it; any other is still refused.
func TestRenewUnderAcceptsTheSigningCAAndEveryCAOfTheBundle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	generate(t, dir, GenerateOptions{Client: "app"}) // app.crt: the old CA's
	oldCA := loadCA(t, dir)
	newCA, err := NewAuthority(caCommonName, Options{Organization: caOrganization, NotAfter: time.Now().Add(caValidity)})
	if err != nil {
		t.Fatal(err)
	}
	bee, err := newCA.IssueClient("bee", Options{})
	if err != nil {
		t.Fatal(err)
	}
	writePair(t, dir, "bee", bee) // bee.crt: the new CA's, not in ca.crt yet
	o := GenerateOptions{KeyType: ECDSAP256}
	f, err := renewUnder(dir, newCA, o)
	if err != nil {
		t.Fatalf("renewUnder the new CA, ca.crt the old: %v", err)
	}
	if len(f.Clients) != 2 {
		t.Fatalf("reissued %+v, want app and bee", f.Clients)
	}
	newOnly := []*x509.Certificate{newCA.Cert}
	for _, c := range f.Clients {
		if leaf := readCert(t, c.Cert); !signedByAny(leaf, newOnly) {
			t.Errorf("%s is not signed by the new CA", c.Cert)
		}
	}
	if !signedByAny(readCert(t, filepath.Join(dir, ServerFile)), newOnly) {
		t.Error("server.crt is not signed by the new CA")
	}

	// ca.crt as the bundle of a rotation; a certificate of a third CA.
	third, err := NewAuthority("third CA", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := third.IssueClient("app", Options{})
	if err != nil {
		t.Fatal(err)
	}
	writePair(t, dir, "app", p)
	if err := WriteCert(filepath.Join(dir, CAFile), append(slices.Clip(oldCA.CertPEM), newCA.CertPEM...)); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	if _, err := renewUnder(dir, oldCA, o); err == nil || !strings.Contains(err.Error(), `app.crt, which "CN=third CA" signed`) {
		t.Fatalf("renewUnder with a client of a CA outside the bundle: %v", err)
	}
	sameSnapshot(t, "refused renewUnder", before, snapshot(t, dir))
	// bee.crt is the new CA's, accepted under the old through the bundle.
	if p, err = oldCA.IssueClient("app", Options{}); err != nil {
		t.Fatal(err)
	}
	writePair(t, dir, "app", p)
	if _, err := renewUnder(dir, oldCA, o); err != nil {
		t.Fatalf("renewUnder the old CA with ca.crt the bundle: %v", err)
	}
}

func TestParseCerts(t *testing.T) {
	t.Parallel()
	a, err := NewAuthority("a", Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewAuthority("b", Options{})
	if err != nil {
		t.Fatal(err)
	}
	junk := pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1, 2, 3}})
	bundle := slices.Concat(a.CertPEM, junk, b.CertPEM)
	got, err := ParseCerts(bundle)
	if err != nil || len(got) != 2 || !got[0].Equal(a.Cert) || !got[1].Equal(b.Cert) {
		t.Fatalf("ParseCerts(a, CRL, b) = %v, %v; want a and b in order", got, err)
	}
	if first, err := ParseCert(bundle); err != nil || !first.Equal(a.Cert) {
		t.Fatalf("ParseCert reads the first: %v %v", first, err)
	}
	if got, err := ParseCerts(bytes.Repeat(a.CertPEM, 16)); err != nil || len(got) != 16 {
		t.Fatalf("16 certificates: %d, %v", len(got), err)
	}
	if _, err := ParseCerts(bytes.Repeat(a.CertPEM, 17)); err == nil || !strings.Contains(err.Error(), "more than 16") {
		t.Fatalf("17 certificates: %v", err)
	}
	if _, err := ParseCerts(junk); err == nil || !strings.Contains(err.Error(), "no CERTIFICATE") {
		t.Fatalf("no certificate: %v", err)
	}
	bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("garbage")})
	if _, err := ParseCerts(slices.Concat(a.CertPEM, bad)); err == nil || !strings.Contains(err.Error(), "certificate 2") {
		t.Fatalf("a corrupt second certificate: %v", err)
	}
}
