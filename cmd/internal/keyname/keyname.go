// Package keyname masks Redis key names for reports and logs.
//
// Key names are not encrypted: they often carry a session id, a token or
// an e-mail address, and whoever wrote the keys (or a server under audit)
// chooses their bytes. Every job and report that shows a key name shows it
// through Mask, so there is one rule for what of a name may be printed.
package keyname

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redsafe/redsafe/internal/termsafe"
)

// Mask shows which namespace a key is in without what identifies it
// inside that namespace: "session:…(40 bytes)". Names without a short
// first segment keep their first three characters. The result is safe to
// print: it holds no control, bidi or invisible characters.
func Mask(name string) string {
	head := ""
	if i := strings.IndexAny(name, ":/|{"); i > 0 && i <= 24 {
		head = name[:i+1]
	} else {
		for i := range name {
			if utf8.RuneCountInString(name[:i]) == 3 {
				head = name[:i]
				break
			}
		}
	}
	// A head that a terminal could act on or that would read as other
	// text (controls, C1, bidi, zero-width, invalid UTF-8) is not shown.
	if termsafe.Escape(head) != head {
		head = ""
	}
	return head + "…(" + strconv.Itoa(len(name)) + " bytes)"
}
