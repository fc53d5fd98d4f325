package verify

import (
	"fmt"
	"strings"
)

// probeKey is the key data.encrypted writes through the library and then
// deletes, named inside the space the application user may write: under
// Options.KeyPrefix when one is set (the library prepends it to every key,
// so filler is returned as it is), else inside pattern, the ACL key
// pattern the user is confined to (`redsafe conf --key-pattern`), else
// filler alone. filler holds a random nonce, so the key is new.
//
// The pattern's first `*` becomes filler; a pattern without one names
// fixed keys, which the probe must not overwrite, and is refused.
func probeKey(prefix, pattern, filler string) (string, error) {
	if prefix != "" || pattern == "" || pattern == "*" {
		return filler, nil
	}
	var b strings.Builder
	star := false
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			if !star {
				b.WriteString(filler)
				star = true
			}
		case '?':
			b.WriteByte('x')
		case '\\':
			if i+1 < len(pattern) {
				i++
			}
			b.WriteByte(pattern[i]) // a trailing backslash matches itself
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			class := ""
			if end >= 0 {
				class = pattern[i+1 : i+1+end]
			}
			// Redis reads an escape in a class, and a `-` before its `]`
			// as a range up to that `]`: the class then ends elsewhere.
			if class == "" || class[0] == '^' || strings.ContainsRune(class, '\\') ||
				len(class) > 1 && class[len(class)-1] == '-' {
				return "", fmt.Errorf("cannot choose a probe key inside the key pattern %q: it has a character class verify does not expand", pattern)
			}
			b.WriteByte(class[0]) // the first member, or the start of a range
			i += 1 + end
		default:
			b.WriteByte(c)
		}
	}
	if !star {
		return "", fmt.Errorf("the key pattern %q has no `*`: every key it allows may already be in use, and the probe writes and deletes one", pattern)
	}
	return b.String(), nil
}

// noPermFix says what to set when the server refuses the probe key.
func noPermFix(prefix, pattern string) string {
	if prefix == "" && pattern == "" {
		return "the user is confined to a key pattern: pass it, e.g. `redsafe verify --key-pattern 'orders:*'` (the --key-pattern given to `redsafe conf`, the ~pattern of its ACL rule)"
	}
	return "pass the key pattern of the user's ACL rule (~pattern in users.acl) with --key-pattern"
}
