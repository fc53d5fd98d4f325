package audit

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"
)

// The expiry finding's fix is the path without a restart: renew under the
// same CA, then reload, or CONFIG SET for a certificate from elsewhere.
func TestCertExpiryFixNeedsNoRestart(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for name, leaf := range map[string]*x509.Certificate{
		"in 10 days": {NotBefore: now.Add(-time.Hour), NotAfter: now.Add(10 * 24 * time.Hour)},
		"expired":    {NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)},
	} {
		f, ok := CertExpiry(leaf, now)
		if !ok {
			t.Fatalf("%s: no tls.cert-expiry finding", name)
		}
		for _, want := range []string{"`redsafe certs renew`", "`redsafe certs reload`", "without a restart", "CONFIG SET tls-cert-file and tls-key-file", "monitor its expiry"} {
			if !strings.Contains(f.Fix, want) {
				t.Errorf("%s: fix lacks %q: %s", name, want, f.Fix)
			}
		}
		if strings.Contains(f.Fix, "restart Redis") {
			t.Errorf("%s: fix still says to restart Redis: %s", name, f.Fix)
		}
	}
}
