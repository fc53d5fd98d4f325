package envfile

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// shells are the shells a user may source an env file with: /bin/sh, bash,
// dash, zsh (macOS's default) and busybox sh (Alpine's /bin/sh), each run
// when installed; /bin/sh must be.
func shells(t *testing.T) map[string][]string {
	t.Helper()
	found := map[string][]string{}
	seen := map[string]bool{}
	for _, argv := range [][]string{{"/bin/sh"}, {"bash"}, {"dash"}, {"zsh"}, {"busybox", "sh"}} {
		path, err := exec.LookPath(argv[0])
		if err == nil {
			path, err = filepath.EvalSymlinks(path)
		}
		if err != nil && argv[0] == "/bin/sh" {
			t.Fatal(err)
		}
		if err != nil || seen[path] {
			continue
		}
		seen[path] = true
		found[strings.Join(argv, " ")] = append([]string{path}, argv[1:]...)
	}
	return found
}

// exported sources file with `set -a; . FILE; set +a` in shell and returns
// what it exports. Shell errors are ignored: the values show their effect
// (a refused line, a file read only up to it). Nothing in the file may be
// looked up on PATH afterwards, since the file may set PATH.
func exported(t *testing.T, shell []string, dir, file string) map[string]string {
	t.Helper()
	args := append(shell[1:], "-c", `set -a; . "$1"; set +a; exec /usr/bin/env -0`, "sh", file)
	cmd := exec.Command(shell[0], args...)
	cmd.Dir, cmd.Env = dir, []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}
	out, _ := cmd.Output()
	vars := map[string]string{}
	for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		name, value, _ := strings.Cut(kv, "=")
		vars[name] = value
	}
	return vars
}

// shellVariables lists the names the installed shells know, from the shells
// themselves, plus the dynamic ones some create only when first used.
func shellVariables(t *testing.T, all map[string][]string) []string {
	t.Helper()
	names := map[string]bool{}
	for _, n := range strings.Fields("_ RANDOM SRANDOM SECONDS LINENO OPTIND OPTARG HISTCMD EPOCHSECONDS EPOCHREALTIME BASHPID BASH_ARGV0 BASH_COMMAND FUNCNAME GROUPS DIRSTACK PPID UID EUID IFS PATH HOME PWD ENV PS1 PS4 PROMPT_COMMAND") {
		names[n] = true
	}
	listers := map[string]string{
		"bash": "compgen -v", "zsh": "zmodload zsh/parameter; print -l ${(k)parameters}",
		"dash": "set", "/bin/sh": "set", "busybox sh": "set",
	}
	for label, shell := range all {
		cmd := exec.Command(shell[0], append(shell[1:], "-c", listers[label])...)
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: listing its variables: %v", label, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			name, _, _ := strings.Cut(line, "=")
			if validName(name) {
				names[name] = true
			}
		}
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	return sorted
}

// TestShellSpecialNames assigns every variable name the installed shells
// know, each to a value that runs a command if the shell evaluates it as
// arithmetic. Parse must refuse each name that any of them does not keep
// and export as written (read-only names, names the shell sets itself,
// arrays, integers, a line that stops the rest of the file being read) and
// a sourced file must run nothing.
func TestShellSpecialNames(t *testing.T) {
	all := shells(t)
	dir := t.TempDir()
	value := "a[$(touch pwned)]"
	var b strings.Builder
	var accepted []string
	// Ordinary names, the ones redsafe writes among them, must get through
	// beside the shells' own: they prove the file is read past the refused
	// names on every machine, whatever shells it has installed.
	ordinary := []string{"REDIS_URL", "REDIS_PASSWORD", "REDIS_ENCRYPTION_KEY", "REDIS_TLS_CA_CERTS", "APP_ENV", "lower_case"}
	for _, name := range append(shellVariables(t, all), ordinary...) {
		line := name + "='" + value + "'"
		if _, _, err := parseLine(line); err == nil {
			accepted = append(accepted, name)
			b.WriteString(line + "\n")
		}
	}
	b.WriteString("ZZ_LAST_LINE='read'\n")
	for _, name := range ordinary {
		if !slices.Contains(accepted, name) {
			t.Fatalf("the ordinary name %s was refused: the test would prove little", name)
		}
	}
	file := filepath.Join(dir, "names.env")
	writeFile(t, file, b.String())
	for label, shell := range all {
		got := exported(t, shell, dir, file)
		if got["ZZ_LAST_LINE"] != "read" {
			t.Errorf("%s stopped reading the file before its last line", label)
		}
		for _, name := range accepted {
			if got[name] != value {
				t.Errorf("%s: Parse accepts %s, which %s exports as %q", name, name, label, got[name])
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Fatalf("%s ran a command from a single-quoted value", label)
		}
	}
}

// TestShellReadsBareValues: every unquoted value of up to three characters
// from the bare set that Parse accepts is read back exactly by every
// installed shell (zsh expands =cmd at the start and after a colon).
func TestShellReadsBareValues(t *testing.T) {
	set := "A0_@%+=:,./-"
	var b strings.Builder
	want := map[string]string{}
	for _, x := range set {
		for _, y := range set {
			for _, z := range []string{"", "A", "="} {
				v := string(x) + string(y) + z
				if _, _, err := parseLine("V=" + v); err != nil {
					continue
				}
				name := fmt.Sprintf("V%d", len(want))
				want[name] = v
				fmt.Fprintf(&b, "%s=%s\n", name, v)
			}
		}
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "bare.env")
	writeFile(t, file, b.String())
	parsed, err := Read(file)
	if err != nil {
		t.Fatal(err)
	}
	for label, shell := range shells(t) {
		got := exported(t, shell, dir, file)
		for name, v := range want {
			if got[name] != v || parsed[name] != v {
				t.Errorf("%s: wrote %q, %s read %q, Parse read %q", name, v, label, got[name], parsed[name])
			}
		}
	}
}
