package main

import (
	"strings"
	"testing"
	"time"
)

// TestCertWarning: status warns under 30 days and once expired, with the
// command that renews, and says nothing before.
func TestCertWarning(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	if w := certWarning(now.Add(200*24*time.Hour), now, ".redsafe"); w != "" {
		t.Errorf("200 days left: %q", w)
	}
	if w := certWarning(now.Add(12*24*time.Hour+time.Hour), now, ".redsafe"); !strings.Contains(w, "expires in 12 days") || !strings.Contains(w, "redsafe certs renew --dir .redsafe/certs") {
		t.Errorf("12 days left: %q", w)
	}
	if w := certWarning(now.Add(-time.Hour), now, ".redsafe"); !strings.Contains(w, "has expired") {
		t.Errorf("expired: %q", w)
	}
}
