package keyspace

import (
	"strconv"
	"testing"
)

// A key name's head is shown only when it prints as itself: a server (or
// whoever wrote the keys) cannot put a C1 control, a bidi override, a
// zero-width character or a line separator into a job's report through it.
func TestMaskKeyShowsNoInvisibleOrControlHead(t *testing.T) {
	for _, name := range []string{
		"\u202eab:x", // bidi override
		"a\u2066b:x", // bidi isolate
		"\u009b2J:x", // C1 CSI
		"a\u200bb:x", // zero-width space
		"ab\u2028:x", // line separator
		"ab\r:x",     // carriage return
		"\xffab:x",   // invalid UTF-8
	} {
		if got, want := MaskKey(name), "…("+strconv.Itoa(len(name))+" bytes)"; got != want {
			t.Errorf("MaskKey(%q) = %q, want %q", name, got, want)
		}
	}
}
