package envfile

import "strings"

// Set returns data with every assignment of name replaced by name=value
// (quoted with Quote), keeping comments, order and every other line as they
// were, so that an operator's file stays theirs. When name is not assigned,
// the line is appended.
func Set(data []byte, name, value string) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	assignment := name + "=" + Quote(value)
	found := false
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		export := strings.HasPrefix(trimmed, "export ")
		n, _, ok := strings.Cut(strings.TrimPrefix(trimmed, "export "), "=")
		if !ok || strings.TrimSpace(n) != name {
			continue
		}
		newLine := assignment
		if export {
			newLine = "export " + assignment
		}
		if strings.HasSuffix(line, "\n") {
			newLine += "\n"
		}
		lines[i], found = newLine, true
	}
	out := strings.Join(lines, "")
	if !found {
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += assignment + "\n"
	}
	return []byte(out)
}
