package redsafe

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// checkPasswordFile validates Options.PasswordFile: it must be the only
// source of the password, readable, private, and hold a password that meets
// the policy now. Each later read is checked again when a connection is made.
func (s *settings) checkPasswordFile(o Options, r *Report) {
	if s.password != "" || o.Credentials != nil {
		r.add("auth.password-conflict", SeverityError, "keep the password in one place: unset "+EnvPassword+" (and the password in "+EnvURL+") or "+EnvPasswordFile,
			"%s is set, and so is another source of the password", EnvPasswordFile)
		return
	}
	password, err := readPasswordFile(o.PasswordFile)
	if err != nil {
		r.add("auth.password-file", SeverityError, "create it with `redsafe password --environment "+string(s.policy.Environment)+" > FILE; chmod 600 FILE`, or fix "+EnvPasswordFile,
			"%v", err)
		return
	}
	if fi, err := os.Stat(o.PasswordFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
		r.add("auth.password-file-mode", SeverityWarning, "run `chmod 600 "+o.PasswordFile+"`",
			"%s has mode %04o: other users on the host can read the password", o.PasswordFile, fi.Mode().Perm())
	}
	s.password = password
	r.Findings = append(r.Findings, passwordFindings(password, s.policy)...)
}

// readPasswordFile returns the first line of path, without its line ending.
// The error never contains the file's content.
func readPasswordFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s (%s): %w", EnvPasswordFile, path, unwrapPathError(err))
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s (%s) is empty", EnvPasswordFile, path)
	}
	return line, nil
}

// passwordFileCredentials reads the password file for every new connection.
func passwordFileCredentials(path, username string) func(context.Context) (Credentials, error) {
	return func(context.Context) (Credentials, error) {
		password, err := readPasswordFile(path)
		if err != nil {
			return Credentials{}, err
		}
		return Credentials{Username: username, Password: password}, nil
	}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
