package envfile

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// formatValues are values the format carries, chosen to break any reader
// that is not literal: shell syntax that would run or expand, compose's
// inline comments and ${VAR}, systemd's trailing-whitespace trim, and what
// redsafe itself writes (generated passwords, Fernet keys in both base64
// alphabets, URLs with @ % [::1], paths with spaces).
func formatValues() []string {
	var printable strings.Builder
	for c := byte(0x20); c <= 0x7e; c++ {
		if c != '\'' && c != '\\' {
			printable.WriteByte(c)
		}
	}
	return []string{
		"$(touch pwned-subst)", ";touch pwned-semicolon", "`touch pwned-backtick`", "$HOME", "${HOME}",
		"pw extra", "pw;touch pwned-2 #", " leading and trailing  ", "#not a comment", "a #b", `"dq"`,
		"~", "~/x:~/y", "*", "[a-z]?", "{a,b}", "!!", "$$", "&|<>()", "-n", "x=y=z", "%41%", "@",
		"Zt8@Kp:3%vQ9wLm2Xr7Yb4Nc6Hd1", "Jx9Y3nHy0lVxD5M_Vh1q8bKZQq3oXb2A9sJ8f1GQm6E=", "Jx9Y3nHy0lVxD5M+Vh1q8bKZQq3oXb2A9sJ8f1GQm6E=",
		"rediss://app@[::1]:6380/0", "rediss://app:p%40ss@redis.internal:6380/0", "/srv/my certs/ca.crt",
		printable.String(),
	}
}

// TestShellReadsWhatParseReads sources a file written by Render with the
// real /bin/sh and each other shell installed (see shells), as the README
// says (set -a; . FILE; set +a), and compares every value byte for byte
// with what Parse reads. It also checks the bare (unquoted) form, and that
// nothing in the values ran.
//
// docker compose and systemd are compared by their parser rules (see the
// package comment); where systemd's environment.d generator is installed
// it is run too: it uses the same parser as EnvironmentFile= but also
// expands $VAR and drops empty values, so those values are left out there.
func TestShellReadsWhatParseReads(t *testing.T) {
	bare := []string{"", "rediss://app@redis.internal:6380/0", "Jx9Y3nHy0lVxD5M_Vh1q8bKZQq3oXb2A9sJ8f1GQm6E=", "/a/b.c", "a,b:c+d%41=", bareChars}
	var vars [][2]string
	for i, v := range formatValues() {
		vars = append(vars, [2]string{fmt.Sprintf("Q%d", i), v})
	}
	quoted, err := Render([]string{"written by the test; $(touch pwned-comment)"}, vars)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(quoted)
	for i, v := range bare {
		fmt.Fprintf(&b, "B%d=%s\n", i, v)
		vars = append(vars, [2]string{fmt.Sprintf("B%d", i), v})
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "test.env")
	writeFile(t, file, b.String())

	parsed, err := Read(file)
	if err != nil {
		t.Fatal(err)
	}
	for label, shell := range shells(t) {
		t.Run(label, func(t *testing.T) {
			got := source(t, shell, dir, file, vars)
			for i, kv := range vars {
				if got[i] != kv[1] || parsed[kv[0]] != kv[1] {
					t.Errorf("%s: wrote %q, %s read %q, Parse read %q", kv[0], kv[1], label, got[i], parsed[kv[0]])
				}
			}
			if pwned, _ := filepath.Glob(filepath.Join(dir, "pwned*")); len(pwned) > 0 {
				t.Errorf("sourcing the file ran a command: %v", pwned)
			}
		})
	}
	t.Run("systemd-environment-d-generator", func(t *testing.T) {
		gen := "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator"
		if _, err := os.Stat(gen); err != nil {
			t.Skip("systemd's environment.d generator is not installed")
		}
		confDir := filepath.Join(t.TempDir(), "environment.d")
		if err := os.MkdirAll(confDir, 0o700); err != nil {
			t.Fatal(err)
		}
		var kept [][2]string
		for _, kv := range vars {
			if kv[1] != "" && !strings.Contains(kv[1], "$") {
				kept = append(kept, kv)
			}
		}
		data, err := Render(nil, kept)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(confDir, "10-test.conf"), string(data))
		cmd := exec.Command(gen)
		cmd.Env = []string{"XDG_CONFIG_HOME=" + filepath.Dir(confDir), "HOME=" + dir}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("%s: %v %s", gen, err, stderr.String())
		}
		// It prints NAME=value, or NAME="value" with \ escapes for \ " $ `.
		got := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			name, value, _ := strings.Cut(line, "=")
			if strings.HasPrefix(value, `"`) && strings.HasSuffix(value, `"`) {
				var u strings.Builder
				for i := 1; i < len(value)-1; i++ {
					if value[i] == '\\' && i+1 < len(value)-1 {
						i++
					}
					u.WriteByte(value[i])
				}
				value = u.String()
			}
			got[name] = value
		}
		for _, kv := range kept {
			if got[kv[0]] != kv[1] {
				t.Errorf("%s: wrote %q, systemd read %q", kv[0], kv[1], got[kv[0]])
			}
		}
	})
}

// source runs `set -a; . FILE; set +a` in shell (a command line), in dir, with an empty
// environment, and returns the values of vars' names as the shell has them.
func source(t *testing.T, shell []string, dir, file string, vars [][2]string) []string {
	t.Helper()
	script := `set -a; . "$1"; set +a; printf '%s\0'`
	for _, kv := range vars {
		script += ` "$` + kv[0] + `"`
	}
	cmd := exec.Command(shell[0], append(shell[1:], "-c", script, "sh", file)...)
	cmd.Dir, cmd.Env = dir, []string{"HOME=/home/not-expanded", "PATH=/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v %s", shell, err, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(vars) {
		t.Fatalf("%s printed %d values, want %d", shell, len(got), len(vars))
	}
	return got
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
