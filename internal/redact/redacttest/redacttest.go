// Package redacttest checks that a value holding secrets prints none of
// them, however it is printed: every fmt verb, alone and nested in a struct,
// a pointer, a slice and a map, JSON, and slog's text and JSON handlers.
package redacttest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Verbs are the fmt verbs a log line or a debugging print may use.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%o", "%b", "%e", "%c", "%U", "%t",
	"%10.4v", "%-60s", "%+q", "%# x", "%T"}

// Chunks are the pieces of secrets that must not appear: each whole, and
// every 8-character run of it, as text and in hex, so that a shortened or
// hex-encoded echo is caught too.
func Chunks(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, s)
		for i := 0; i+8 <= len(s); i += 4 {
			h := hex.EncodeToString([]byte(s[i : i+8]))
			out = append(out, s[i:i+8], h, strings.ToUpper(h))
		}
	}
	return out
}

// Case is a value holding secrets, and a harmless field of it that its
// printed form must show, so that printing nothing does not pass.
type Case struct {
	Name    string
	Value   any
	Shown   string
	Secrets []string
	// NoJSON: the type is unexported and never marshalled; JSON shows none
	// of it, so Shown is not expected there.
	NoJSON bool
}

// Check prints c.Value every way and fails if a secret appears, or if a
// form that prints the value's text lacks c.Shown.
func Check(t *testing.T, c Case) {
	t.Helper()
	chunks := Chunks(c.Secrets...)
	check := func(how, out string, wantShown bool) {
		t.Helper()
		for _, s := range chunks {
			if strings.Contains(out, s) {
				t.Fatalf("%s: %s prints a secret (%q): %s", c.Name, how, s, out)
			}
		}
		if wantShown && !strings.Contains(out, c.Shown) {
			t.Errorf("%s: %s does not show %q: %s", c.Name, how, c.Shown, out)
		}
	}
	for where, v := range map[string]any{
		"as is":   c.Value,
		"struct":  struct{ Config any }{c.Value},
		"*struct": &struct{ Config any }{c.Value},
		"slice":   []any{c.Value, c.Value},
		"map":     map[string]any{"config": c.Value},
	} {
		for _, verb := range Verbs {
			check(verb+" "+where, fmt.Sprintf(verb, v), verb != "%T")
		}
		check("%p "+where, fmt.Sprintf("%p", &v), false)
		check("Sprint "+where, fmt.Sprint(v), true)
		check("Sprintln "+where, fmt.Sprintln(v), true)
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: json of %s: %v", c.Name, where, err)
		}
		check("json "+where, string(b), !c.NoJSON)
		for hname, h := range map[string]func(*bytes.Buffer) slog.Handler{
			"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			log := slog.New(h(&buf))
			log.Info("config", slog.Any("value", v))
			log.Info("config", "value", v)
			log.Info("config", slog.Group("g", slog.Any("value", v)))
			// slog's JSON handler marshals a nested value itself.
			check("slog "+hname+" "+where, buf.String(), !(c.NoJSON && hname == "json" && where != "as is"))
		}
	}
}
