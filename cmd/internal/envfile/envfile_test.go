package envfile

import (
	"strings"
	"testing"
)

func TestParseAcceptsTheFormat(t *testing.T) {
	in := "# comment, with 'quotes' and $(no effect)\n" +
		"\n" +
		"REDIS_URL=rediss://app@h:6380/0\n" +
		"REDIS_PASSWORD='p@ss:w%rd #not a comment $(not run) `not run` $HOME \"dq\" ;x'\n" +
		"REDIS_ENCRYPTION_KEY=Jx9Y3nHy0lVxD5M_Vh1q8bKZQq3oXb2A9sJ8f1GQm6E=\n" +
		"EMPTY=\n" +
		"QUOTED_EMPTY=''\n" +
		"LAST='no final newline'"
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"REDIS_URL":            "rediss://app@h:6380/0",
		"REDIS_PASSWORD":       "p@ss:w%rd #not a comment $(not run) `not run` $HOME \"dq\" ;x",
		"REDIS_ENCRYPTION_KEY": "Jx9Y3nHy0lVxD5M_Vh1q8bKZQq3oXb2A9sJ8f1GQm6E=",
		"EMPTY":                "",
		"QUOTED_EMPTY":         "",
		"LAST":                 "no final newline",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d vars %v, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

// TestParseRefusesWhatParsersReadDifferently: every line here is read one
// way by sh, another by docker compose or systemd (or runs a command when
// sourced). Each is refused with its line number, the variable's name when
// it has a valid one, and never the value (every value holds "s3cr3t").
func TestParseRefusesWhatParsersReadDifferently(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     string // "line 2 (P)" or "line 2:"
		why      string
	}{
		{"command substitution", "A=1\nP=s3cr3t$(touch X)\n", "line 2 (P)", "unquoted value may hold only"},
		{"line too long", "A=1\nP='" + strings.Repeat("s3cr3t", 2000) + "'\n", "line 2:", "longer than 8192 bytes"},
		{"semicolon", "P=s3cr3t;touch X\n", "line 1 (P)", "unquoted value may hold only"},
		{"backticks", "P=s3cr3t`id`\n", "line 1 (P)", "unquoted value may hold only"},
		{"parameter expansion", "P=s3cr3t$HOME\n", "line 1 (P)", "unquoted value may hold only"},
		{"space runs a command", "P=s3cr3t extra\n", "line 1 (P)", "unquoted value may hold only"},
		{"tilde expansion", "P=~/s3cr3t\n", "line 1 (P)", "unquoted value may hold only"},
		{"hash", "P=s3cr3t#x\n", "line 1 (P)", "unquoted value may hold only"},
		{"newline inside quotes", "P='s3cr3t\nX=1'\n", "line 1 (P)", "no closing single quote"},
		{"CRLF unquoted", "P=s3cr3t\r\n", "line 1 (P)", "carriage return"},
		{"CRLF quoted", "A='1'\r\nP='s3cr3t'\r\n", "line 1 (A)", "carriage return"},
		{"duplicate", "P='s3cr3t'\nA=1\nP='s3cr3t2'\n", "line 3 (P)", "already set on line 1"},
		{"quote inside", "P='s3cr3t's'\n", "line 1 (P)", "text after the closing quote"},
		{"escaped quote inside", "P='s3cr3t\\'s'\n", "line 1 (P)", "text after the closing quote"},
		{"backslash before the closing quote", "P='s3cr3t\\'\n", "line 1 (P)", "backslash"},
		{"trailing spaces unquoted", "P=s3cr3t  \n", "line 1 (P)", "trailing whitespace"},
		{"trailing spaces quoted", "P='s3cr3t' \n", "line 1 (P)", "trailing whitespace"},
		{"export prefix", "export P='s3cr3t'\n", "line 1:", "export"},
		{"double quotes", "P=\"s3cr3t\"\n", "line 1 (P)", "double quotes"},
		{"leading whitespace", "  P='s3cr3t'\n", "line 1:", "whitespace before the name"},
		{"space before =", "P ='s3cr3t'\n", "line 1:", "want NAME=VALUE"},
		{"space after =", "P= 's3cr3t'\n", "line 1 (P)", "unquoted value may hold only"},
		{"unterminated", "P='s3cr3t\n", "line 1 (P)", "no closing single quote"},
		{"tab", "P='s3cr3t\tx'\n", "line 1 (P)", "a tab"},
		{"non-ASCII", "P='s3cr3t\u00e9'\n", "line 1 (P)", "non-ASCII"},
		{"NUL, where systemd stops reading", "P='s3cr3t\x00'\n", "line 1 (P)", "control character"},
		{"byte order mark", "\ufeffP='s3cr3t'\n", "line 1:", "want NAME=VALUE"},
		{"comment continued by systemd", "# note \\\nP='s3cr3t'\n", "line 1:", "comment ends with a backslash"},
		{"semicolon comment (systemd only)", ";P='s3cr3t'\n", "line 1:", "want NAME=VALUE"},
		{"a value alone", "s3cr3t\n", "line 1:", "want NAME=VALUE"},
		{"name starting with a digit", "1P='s3cr3t'\n", "line 1:", "want NAME=VALUE"},
		{"read-only in bash", "UID='s3cr3t'\n", "line 1 (UID)", "read-only"},
		{"arithmetic in bash runs a command, even single-quoted", "RANDOM='a[$(touch s3cr3t)]'\n", "line 1 (RANDOM)", "evaluated as arithmetic"},
		{"set by the shell itself", "_='s3cr3t'\n", "line 1 (_)", "keeps for itself"},
		{"dash stops reading the file", "OPTIND='s3cr3t'\nA=1\n", "line 1 (OPTIND)", "keeps for itself"},
		{"a prompt the shell runs", "PROMPT_COMMAND='touch s3cr3t'\n", "line 1 (PROMPT_COMMAND)", "a prompt it runs"},
		{"bash's namespace", "BASH_ENV='s3cr3t'\n", "line 1 (BASH_ENV)", "keeps for itself"},
		{"zsh's array tied to PATH", "path='s3cr3t'\n", "line 1 (path)", "keeps for itself"},
		{"zsh read-only, stops the file", "status='s3cr3t'\n", "line 1 (status)", "keeps for itself"},
		{"export without a space (older compose strips it)", "exportREDIS_URL='s3cr3t'\n", "line 1 (exportREDIS_URL)", "starting with `export`"},
		{"zsh =cmd expansion", "P==s3cr3t\n", "line 1 (P)", "zsh expands"},
		{"zsh :=cmd expansion", "P=s3cr3t:=ls\n", "line 1 (P)", "zsh expands"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tc.in)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.line) || !strings.Contains(msg, tc.why) {
				t.Errorf("error %q, want %q … %q", msg, tc.line, tc.why)
			}
			if strings.Contains(msg, "s3cr3t") {
				t.Errorf("error %q quotes the value", msg)
			}
		})
	}
}

func TestReadNamesTheFile(t *testing.T) {
	path := t.TempDir() + "/bad.env"
	writeFile(t, path, "A=1\nREDIS_PASSWORD=s3cr3t;id\n")
	_, err := Read(path)
	if err == nil || !strings.Contains(err.Error(), path+": line 2 (REDIS_PASSWORD)") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("Read: %v", err)
	}
}

// TestWritersRefuseWhatTheFormatCannotCarry: a writer is told before it
// writes, and the error names the variable, not the value.
func TestWritersRefuseWhatTheFormatCannotCarry(t *testing.T) {
	for _, tc := range []struct{ value, why string }{
		{"s3cr3t\nX=1", "a line break"}, // env --host $'localhost\nX=1'
		{"s3cr3t\r", "a line break"},
		{"it's s3cr3t", "a single quote"},
		{`s3cr3t\`, "a backslash"},
		{"s3cr3t\tx", "a control character"},
		{"s3cr3t\u00e9", "a non-ASCII character"},
	} {
		for what, err := range map[string]error{
			"CheckValue": CheckValue("REDIS_PASSWORD", tc.value),
			"Assignment": second(Assignment("REDIS_PASSWORD", tc.value)),
			"Render":     second(Render(nil, [][2]string{{"A", "1"}, {"REDIS_PASSWORD", tc.value}})),
		} {
			if err == nil || !strings.Contains(err.Error(), "REDIS_PASSWORD holds "+tc.why) || strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("%s(%q): %v", what, tc.value, err)
			}
		}
	}
	if _, err := Render(nil, [][2]string{{"A", "1"}, {"A", "2"}}); err == nil {
		t.Error("Render wrote a variable twice")
	}
	if _, err := Render([]string{`ends with \`}, nil); err == nil {
		t.Error("Render wrote a comment that systemd continues")
	}
	if _, err := Assignment("export A", "1"); err == nil {
		t.Error("Assignment accepted an invalid name")
	}
	for _, name := range []string{"RANDOM", "_", "exportA", "BASH_ENV", "PS1"} {
		if _, err := Assignment(name, "1"); err == nil || !strings.HasPrefix(err.Error(), name+" cannot be assigned") {
			t.Errorf("Assignment(%s): %v", name, err)
		}
	}
}

func TestRenderRoundTrip(t *testing.T) {
	vars := [][2]string{{"EMPTY", ""}}
	for i, v := range formatValues() {
		vars = append(vars, [2]string{"V" + string(rune('A'+i%26)) + strings.Repeat("_", i/26), v})
	}
	data, err := Render([]string{"a comment"}, vars)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range vars {
		if got[kv[0]] != kv[1] {
			t.Errorf("%s: wrote %q, read back %q", kv[0], kv[1], got[kv[0]])
		}
	}
}

func second[T any](_ T, err error) error { return err }

// A value too long for one line is refused by the writers too, so that
// nothing redsafe writes is refused when read back.
func TestWritersRefuseLongValues(t *testing.T) {
	long := strings.Repeat("s3cr3t", 2000)
	if err := CheckValue("REDIS_PASSWORD", long); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("CheckValue of a %d-byte value: %v", len(long), err)
	}
	fits := strings.Repeat("a", maxLine-len("REDIS_PASSWORD=''"))
	line, err := Assignment("REDIS_PASSWORD", fits)
	if err != nil {
		t.Fatal(err)
	}
	if vars, err := Parse(strings.NewReader(line + "\n")); err != nil || vars["REDIS_PASSWORD"] != fits {
		t.Fatalf("a value of the longest length does not read back: %v", err)
	}
}
