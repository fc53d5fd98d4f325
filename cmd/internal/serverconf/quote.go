package serverconf

import (
	"encoding/json"
	"strings"
)

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
