package envfile

import (
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"replace", "# c\nA='1'\nREDIS_PASSWORD='old'\nB=2\n", "# c\nA='1'\nREDIS_PASSWORD='n3w'\nB=2\n"},
		{"replace bare, last line without newline", "REDIS_PASSWORD=old", "REDIS_PASSWORD='n3w'"},
		{"append", "A=1\n", "A=1\nREDIS_PASSWORD='n3w'\n"},
		{"append without final newline", "A=1", "A=1\nREDIS_PASSWORD='n3w'\n"},
		{"prefix of another name untouched", "REDIS_PASSWORD_FILE=/x\n", "REDIS_PASSWORD_FILE=/x\nREDIS_PASSWORD='n3w'\n"},
		{"empty", "", "REDIS_PASSWORD='n3w'\n"},
	} {
		got, err := Set([]byte(tc.in), "REDIS_PASSWORD", "n3w")
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %q, %v, want %q", tc.name, got, err, tc.want)
		}
		vars, err := Parse(strings.NewReader(string(got)))
		if err != nil || vars["REDIS_PASSWORD"] != "n3w" {
			t.Errorf("%s: parsed back %v, %v", tc.name, vars, err)
		}
	}
	// A value with spaces and shell syntax reads back exactly.
	odd := `a "pass word" $(id) #x`
	out, err := Set([]byte("REDIS_PASSWORD=x\n"), "REDIS_PASSWORD", odd)
	vars, perr := Parse(strings.NewReader(string(out)))
	if err != nil || perr != nil || vars["REDIS_PASSWORD"] != odd {
		t.Errorf("odd value read back as %q, %v, %v", vars["REDIS_PASSWORD"], err, perr)
	}
}

// TestSetRefuses: rotate-password must not write a file that the services
// then read differently, so Set returns nothing for a value the format
// cannot carry, or for a file already outside it.
func TestSetRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, value, why string }{
		{"quote in the value", "REDIS_PASSWORD='old'\n", "it's-n3w", "single quote"},
		{"two lines", "REDIS_PASSWORD='old'\n", "n3w\nX=1", "line break"},
		{"export in the file", "export REDIS_PASSWORD=old\n", "n3w", "line 1"},
		{"duplicate in the file", "REDIS_PASSWORD=a\nREDIS_PASSWORD=b\n", "n3w", "line 2 (REDIS_PASSWORD)"},
		{"CRLF file", "A=1\r\nREDIS_PASSWORD=old\r\n", "n3w", "carriage return"},
	} {
		out, err := Set([]byte(tc.in), "REDIS_PASSWORD", tc.value)
		if err == nil || out != nil || !strings.Contains(err.Error(), tc.why) || strings.Contains(err.Error(), "n3w") {
			t.Errorf("%s: got %q, %v", tc.name, out, err)
		}
	}
}
