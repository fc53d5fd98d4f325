package envfile

import (
	"errors"
	"fmt"
)

// CheckValue reports whether Assignment can write value for name. Writers
// call it on every input before they write anything. The error names the
// variable, never the value.
func CheckValue(name, value string) error {
	if !validName(name) {
		return fmt.Errorf("%q cannot be assigned in an env file: a name is letters, digits and _, not starting with a digit", name)
	}
	if err := checkName(name); err != nil {
		return fmt.Errorf("%s cannot be assigned in an env file: %w", name, err)
	}
	if len(name)+len(value)+3 > maxLine {
		return fmt.Errorf("%s is longer than an env file line may be (%d bytes)", name, maxLine)
	}
	for i := 0; i < len(value); i++ {
		var what string
		switch c := value[i]; {
		case c == '\n' || c == '\r':
			what = "a line break"
		case c < 0x20 || c == 0x7f:
			what = "a control character"
		case c > 0x7e:
			what = "a non-ASCII character"
		case c == '\'':
			what = "a single quote (')"
		case c == '\\':
			what = `a backslash (\)`
		default:
			continue
		}
		return fmt.Errorf("%s holds %s, which an env file cannot carry so that sh, docker compose and systemd read the same value (printable ASCII except ' and \\; README, \"Env files\")", name, what)
	}
	return nil
}

// Assignment returns the line NAME='value' (without its newline), which
// Parse, sh, compose and systemd all read back as exactly value.
func Assignment(name, value string) (string, error) {
	if err := CheckValue(name, value); err != nil {
		return "", err
	}
	return name + "='" + value + "'", nil
}

// Render returns a complete env file: the comment lines (without their #),
// then one assignment per pair, in order. Nothing is returned unless every
// line is in the format.
func Render(comments []string, vars [][2]string) ([]byte, error) {
	var b []byte
	for _, c := range comments {
		line := "# " + c
		if _, _, err := parseLine(line); err != nil {
			return nil, fmt.Errorf("comment: %w", err)
		}
		b = append(append(b, line...), '\n')
	}
	seen := map[string]bool{}
	for _, kv := range vars {
		line, err := Assignment(kv[0], kv[1])
		if err != nil {
			return nil, err
		}
		if seen[kv[0]] {
			return nil, errors.New(kv[0] + " is written twice")
		}
		seen[kv[0]] = true
		b = append(append(b, line...), '\n')
	}
	return b, nil
}
