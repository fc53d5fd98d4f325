package secretfile

import (
	"bytes"
	"fmt"
)

// FormatError is a secret file whose content is not one line. It describes
// the content and never quotes it.
type FormatError struct {
	Path    string
	Problem string
}

func (e *FormatError) Error() string {
	return e.Path + " " + e.Problem + "; a password or key file holds exactly one line (one trailing newline is allowed)"
}

// ReadLine reads a secret file that holds one line, a password or a key,
// with Read, and returns the line without its line ending. Anything else is
// refused: an empty file, a second line, a control character or NUL, a
// leading or trailing space (which editors and shells lose), a byte order
// mark.
func ReadLine(path string, o Options) (string, error) {
	data, err := Read(path, o)
	if err != nil {
		return "", err
	}
	defer clear(data)
	line, problem := oneLine(data)
	if problem != "" {
		return "", &FormatError{Path: path, Problem: problem}
	}
	return line, nil
}

func oneLine(b []byte) (string, string) {
	switch {
	case len(b) >= 2 && b[len(b)-2] == '\r' && b[len(b)-1] == '\n':
		b = b[:len(b)-2]
	case len(b) >= 1 && b[len(b)-1] == '\n':
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", "is empty"
	}
	// Windows editors save UTF-8 with a byte order mark; shells and
	// REDIS_PASSWORD_FILE readers elsewhere keep it in the password.
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		return "", "starts with a UTF-8 byte order mark (EF BB BF): save it without one"
	}
	for _, c := range b {
		switch {
		case c == '\n' || c == '\r':
			return "", "has more than one line"
		case c == 0:
			return "", "contains a NUL byte"
		case c < 0x20 || c == 0x7f:
			return "", fmt.Sprintf("contains a control character (0x%02x)", c)
		}
	}
	if b[0] == ' ' || b[len(b)-1] == ' ' {
		return "", "starts or ends with a space"
	}
	return string(b), ""
}
