package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/secretfile"
)

// upRenewDays is when `up` renews the server certificate of a directory it
// starts: the point where `certs check` and `status` start to warn.
const upRenewDays = certWarnDays

// renewIfExpiring renews the server certificate of an `up` directory under
// the same CA when it expires within upRenewDays, and every client
// certificate in certs/ with it, as `certs renew` does (a cluster's
// client.crt, which the nodes present on the bus, among them), then
// installs them on the running servers as `redsafe certs reload` does, so
// no client sees an expired certificate and none needs a restart. It
// returns the exit status of the reload, or 0 when nothing was due.
func (l *local) renewIfExpiring(c *cli, dir string, out io.Writer) int {
	certDir := filepath.Join(dir, "certs")
	pem, err := secretfile.ReadPublic(filepath.Join(certDir, certs.ServerFile), 1<<20, false)
	if err != nil {
		return 0 // verify says what is wrong with it
	}
	cert, err := certs.ParseCert(pem)
	if err != nil || time.Until(cert.NotAfter) > upRenewDays*24*time.Hour {
		return 0
	}
	// The hosts and key type of the current certificates.
	files, err := certs.Renew(certDir, certs.GenerateOptions{})
	if err != nil {
		c.errorf("up: renewing the server certificate, which expires %s: %v", cert.NotAfter.UTC().Format("2006-01-02"), err)
		return 1
	}
	fmt.Fprintf(out, "the server certificate expires %s, within %d days: renewed it under the same CA (old files in %d backups); installing it without a restart:\n",
		cert.NotAfter.UTC().Format("2006-01-02"), upRenewDays, len(files.Backups))
	return runCertsReload(c, certsCmd, []string{"--dir", dir, "--admin-password-file", filepath.Join(dir, "secrets", l.users.Admin.Name+".password")})
}
