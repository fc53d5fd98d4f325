package envfile

import (
	"strings"
	"testing"
)

func TestSet(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"replace", "# c\nA='1'\nREDIS_PASSWORD='old'\nB=2\n", "# c\nA='1'\nREDIS_PASSWORD='n3w'\nB=2\n"},
		{"export kept", "export REDIS_PASSWORD=old\n", "export REDIS_PASSWORD='n3w'\n"},
		{"append", "A=1\n", "A=1\nREDIS_PASSWORD='n3w'\n"},
		{"append without final newline", "A=1", "A=1\nREDIS_PASSWORD='n3w'\n"},
		{"prefix of another name untouched", "REDIS_PASSWORD_FILE=/x\n", "REDIS_PASSWORD_FILE=/x\nREDIS_PASSWORD='n3w'\n"},
		{"empty", "", "REDIS_PASSWORD='n3w'\n"},
	} {
		got := string(Set([]byte(tc.in), "REDIS_PASSWORD", "n3w"))
		if got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
		vars, err := Parse(strings.NewReader(got))
		if err != nil || vars["REDIS_PASSWORD"] != "n3w" {
			t.Errorf("%s: parsed back %v, %v", tc.name, vars, err)
		}
	}
	// A value with quotes and spaces reads back exactly.
	odd := `it's a "pass word"`
	vars, err := Parse(strings.NewReader(string(Set([]byte("REDIS_PASSWORD=x\n"), "REDIS_PASSWORD", odd))))
	if err != nil || vars["REDIS_PASSWORD"] != odd {
		t.Errorf("odd value read back as %q, %v", vars["REDIS_PASSWORD"], err)
	}
}
