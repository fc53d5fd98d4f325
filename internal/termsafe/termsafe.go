// Package termsafe makes text that a server supplied safe to print.
//
// A Redis server under audit, or anything pretending to be one, chooses the
// bytes of its replies: error messages, CONFIG values such as dir, ACL LOG
// client addresses, certificate names. Printed raw, an ESC sequence can
// rewrite the terminal (move the cursor, hide lines, set the window title,
// on some terminals write to files), a carriage return can overwrite the
// line a finding is on, and a bidi override can make "ok" read as a
// different word. Every piece of server text that reaches stdout, stderr,
// a report or a JSON document goes through Escape first, so what is printed
// is what was sent, made visible.
package termsafe

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with everything that could control or mislead a terminal
// written out as a visible Go-style escape: control characters (C0, DEL and
// C1: "\x1b", "\r", "\n", "\u009b"), bytes that are not valid UTF-8
// ("\xff"), bidi overrides and other invisible format characters
// ("\u202e", "\u200b"), and any other rune that is not printable. Printable
// text, in any script, is kept as it is.
//
// A backslash is kept too: the result is for people to read, not to be
// parsed back, and a literal "\x1b" sent as text controls nothing.
func Escape(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII only, the common case, which
// needs no copy.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Error returns err with its message escaped, for errors whose text may
// carry server replies. errors.Is and errors.As still see err. Error(nil)
// is nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return escaped{err}
}

type escaped struct{ err error }

func (e escaped) Error() string { return Escape(e.err.Error()) }
func (e escaped) Unwrap() error { return e.err }
