package keyspace

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redsafe/redsafe/internal/termsafe"
)

// MaskKey shows which namespace a key is in without what identifies it
// inside that namespace, which may be a session id or an e-mail address:
// "session:…(40 bytes)". Names without a short first segment keep their
// first three characters.
func MaskKey(name string) string {
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
