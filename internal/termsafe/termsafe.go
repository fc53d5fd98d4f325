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
// ("\u202e", "\u200b"), letters and marks drawn as nothing ("\u3164",
// "\ufe0f"), and any other rune that is not printable. Printable text, in
// any script, is kept as it is.
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
		case unicode.IsPrint(r) && !unicode.Is(blank, r):
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

// blank is the default-ignorable code points that unicode.IsPrint counts
// as printable (letters and marks) though terminals draw nothing for them:
// Hangul fillers, the combining grapheme joiner, Khmer and Mongolian
// invisible marks, variation selectors. A run of them hides text as well
// as a zero-width space does.
var blank = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x034f, Hi: 0x034f, Stride: 1},
		{Lo: 0x115f, Hi: 0x1160, Stride: 1},
		{Lo: 0x17b4, Hi: 0x17b5, Stride: 1},
		{Lo: 0x180b, Hi: 0x180f, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xfe00, Hi: 0xfe0f, Stride: 1},
		{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0xe0100, Hi: 0xe01ef, Stride: 1},
	},
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
