package serverconf

import (
	"github.com/redsafe/redsafe/internal/redisserver"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestConfQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                    `""`,
		"/srv/redis data":     `"/srv/redis data"`,
		`a"b`:                 `"a\"b"`,
		`a\b`:                 `"a\\b"`,
		"a\nport 6379":        `"a\x0aport 6379"`,
		"tab\there\r\x00\x7f": `"tab\x09here\x0d\x00\x7f"`,
		"é":                   `"\xc3\xa9"`,
	} {
		if got := redisserver.ConfQuote(in); got != want {
			t.Errorf("redisserver.ConfQuote(%q) = %s, want %s", in, got, want)
		}
		// One line, always: nothing can start a new directive.
		if got := redisserver.ConfQuote(in); strings.ContainsAny(got, "\n\r") {
			t.Errorf("redisserver.ConfQuote(%q) spans lines", in)
		}
	}
}

// TestYAMLQuote: a quoted value parses back to itself, with "$" doubled for
// compose (which turns "$$" back into "$"), and never adds keys.
func TestYAMLQuote(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"plain", "", "a: b", "- x", "#comment", `"quoted"`, "'single'", "new\nline: true", "tab\t", "${HOME}", "$$", "é ✓", "\x00\x1f", "{a: 1}", "[1, 2]", "*anchor", "&ref", "!!binary x",
	} {
		var m map[string]any
		doc := "key: " + yamlQuote(in) + "\n"
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Errorf("yamlQuote(%q) = %s: %v", in, yamlQuote(in), err)
			continue
		}
		if len(m) != 1 || m["key"] != strings.ReplaceAll(in, "$", "$$") {
			t.Errorf("yamlQuote(%q) parses to %#v", in, m)
		}
	}
}

func TestShQuote(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, in := range []string{"plain", "", "it's", "''", "$(id)", "`id`", "a b\tc", "new\nline", `back\slash`, "; rm -rf /", "*"} {
		out, err := exec.Command(sh, "-c", "printf %s "+shQuote(in)).Output()
		if err != nil || string(out) != in {
			t.Errorf("shQuote(%q) = %s: sh printed %q, %v", in, shQuote(in), out, err)
		}
	}
}
