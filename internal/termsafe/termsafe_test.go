package termsafe

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain ASCII is kept", "addr=10.0.0.7:51234 dir /var/lib/redis", "addr=10.0.0.7:51234 dir /var/lib/redis"},
		{"printable Unicode is kept", "données — 東京 …", "données — 東京 …"},
		{"a backslash is kept", `C:\redis`, `C:\redis`},
		{"CSI sequence", "\x1b[2J\x1b[Hok", `\x1b[2J\x1b[Hok`},
		{"OSC title with BEL", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"carriage return overwrites a line", "evil\rok    ", `evil\rok    `},
		{"newline forges a line", "x\nOK: all checks passed", `x\nOK: all checks passed`},
		{"tab", "a\tb", `a\tb`},
		{"NUL and DEL", "a\x00b\x7f", `a\x00b\x7f`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"bidi override", "ok\u202eliaf", `ok\u202eliaf`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"zero-width space", "pass\u200bword", `pass\u200bword`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"invalid UTF-8", "a\xff\xc3b", `a\xff\xc3b`},
		{"private use, astral", "\U000F0000", `\U000f0000`},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Escape(tc.in); got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Every output is valid UTF-8 of printable runes only, and escaping twice
// changes nothing, so text escaped at two layers prints the same.
func TestEscapeOutputIsPrintableAndStable(t *testing.T) {
	var all strings.Builder
	for r := rune(0); r < 0x3000; r++ {
		all.WriteRune(r)
	}
	all.WriteString("\xff\xfe\xed\xa0\x80") // invalid bytes and a surrogate
	out := Escape(all.String())
	if !utf8.ValidString(out) {
		t.Fatal("output is not valid UTF-8")
	}
	for _, r := range out {
		if !unicode.IsPrint(r) {
			t.Fatalf("output holds %U, which is not printable", r)
		}
	}
	if again := Escape(out); again != out {
		t.Error("Escape is not idempotent")
	}
}

func TestError(t *testing.T) {
	if Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
	inner := &fs.PathError{Op: "open", Path: "/x\x1b[31m", Err: fs.ErrNotExist}
	err := Error(inner)
	if got, want := err.Error(), `open /x\x1b[31m: file does not exist`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is no longer sees the wrapped error")
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe != inner {
		t.Error("errors.As no longer finds the wrapped error")
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("\x1b[2J\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		for _, r := range out {
			if !unicode.IsPrint(r) {
				t.Fatalf("Escape(%q) holds %U", s, r)
			}
		}
		if Escape(out) != out {
			t.Fatalf("Escape(%q) is not stable", s)
		}
	})
}
