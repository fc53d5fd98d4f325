package keyname

import (
	"strconv"
	"strings"
	"testing"
)

func TestMask(t *testing.T) {
	for name, want := range map[string]string{
		"session:4f9a1c2e-secret":             "session:…(23 bytes)",
		"a@example.com":                       "a@e…(13 bytes)",
		"ab":                                  "…(2 bytes)",
		"{tenant}:x":                          "{te…(10 bytes)",
		"averyveryverylongnamespacewithnoend": "ave…(35 bytes)",
		"\x1b[31m:x":                          "…(7 bytes)",
		"héllo":                               "hél…(6 bytes)",
	} {
		if got := Mask(name); got != want {
			t.Errorf("Mask(%q) = %q, want %q", name, got, want)
		}
	}
}

// A key name's head is shown only when it prints as itself: a server (or
// whoever wrote the keys) cannot put a C1 control, a bidi override, a
// zero-width character or a line separator into a job's report through it.
func TestMaskShowsNoInvisibleOrControlHead(t *testing.T) {
	for _, name := range []string{
		"\u202eab:x", // bidi override
		"a\u2066b:x", // bidi isolate
		"\u009b2J:x", // C1 CSI
		"a\u200bb:x", // zero-width space
		"ab\u2028:x", // line separator
		"ab\r:x",     // carriage return
		"\xffab:x",   // invalid UTF-8
	} {
		if got, want := Mask(name), "…("+strconv.Itoa(len(name))+" bytes)"; got != want {
			t.Errorf("Mask(%q) = %q, want %q", name, got, want)
		}
	}
}

// The secrets audit looks for in key names (an e-mail, a JWT, a random
// session id) do not survive masking.
func TestMaskHidesSecrets(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"
	name := "u:carol@example.com:s:" + jwt + ":3f9a1c7be2d84a6f91b05c2e\n"
	got := Mask(name)
	for _, secret := range []string{"carol", "example.com", "eyJ", "3f9a1c7b", "\n"} {
		if strings.Contains(got, secret) {
			t.Errorf("Mask shows %q: %s", secret, got)
		}
	}
}
