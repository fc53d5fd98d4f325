package serverconf

import (
	"encoding/json"
	"fmt"
	"strings"
)

// confQuote renders s as a redis.conf double-quoted string (sdssplitargs
// syntax). Inputs are validated first; quoting is the second line of
// defence, so that even a space in a path cannot split it into two
// arguments.
func confQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			b.WriteByte('\\')
			b.WriteByte(ch)
		case ch >= 0x20 && ch < 0x7f:
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, `\x%02x`, ch)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlQuote renders s as a YAML double-quoted scalar for a compose file.
// A JSON string is a valid YAML double-quoted scalar; "$" is doubled
// because compose would otherwise interpolate it as a variable.
func yamlQuote(s string) string {
	b, _ := json.Marshal(strings.ReplaceAll(s, "$", "$$")) // a string always marshals
	return string(b)
}

// shQuote renders s as one POSIX shell word.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}
