package keyspace

import (
	"strconv"
	"strings"
	"unicode/utf8"
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
	if !utf8.ValidString(head) || strings.ContainsFunc(head, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		head = ""
	}
	return head + "…(" + strconv.Itoa(len(name)) + " bytes)"
}
