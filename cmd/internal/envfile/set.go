package envfile

import (
	"bytes"
	"fmt"
	"strings"
)

// Set returns data with the assignment of name replaced by name='value',
// keeping comments, order and every other line as they were, so that an
// operator's file stays theirs; when name is not assigned, the line is
// appended. data must already be in the format, and value must fit it:
// otherwise nothing is returned, so that a caller writes nothing.
func Set(data []byte, name, value string) ([]byte, error) {
	assignment, err := Assignment(name, value)
	if err != nil {
		return nil, err
	}
	if _, err := Parse(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("the file is not in the env file format: %w", err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	found := false
	for i, line := range lines {
		// Parse accepted the file, so an assignment of name starts the line
		// with exactly "name=" and occurs once.
		if strings.HasPrefix(line, name+"=") {
			lines[i], found = assignment, true
			if strings.HasSuffix(line, "\n") {
				lines[i] += "\n"
			}
		}
	}
	out := strings.Join(lines, "")
	if !found {
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += assignment + "\n"
	}
	return []byte(out), nil
}
