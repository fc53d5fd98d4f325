package redsafe

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/redsafe/redsafe/internal/secretfile"
)

// checkPasswordFile validates Options.PasswordFile: it must be the only
// source of the password, readable, private, and hold one line with a
// password that meets the policy now. Each later read is checked again when
// a connection is made.
func (s *config) checkPasswordFile(o Options, r *Report) {
	if s.password != "" || o.Credentials != nil {
		r.add("auth.password-conflict", SeverityError, "keep the password in one place: unset "+EnvPassword+" (and the password in "+EnvURL+") or "+EnvPasswordFile,
			"%s is set, and so is another source of the password", EnvPasswordFile)
		return
	}
	var exposed []*secretfile.ExposedError
	password, err := readPasswordFile(o.PasswordFile, EnvPasswordFile, s.policy, func(e *secretfile.ExposedError) { exposed = append(exposed, e) })
	var e *secretfile.ExposedError
	if errors.As(err, &e) {
		r.add("auth.password-file-mode", SeverityError, exposedFix(e), "%s %s (refused in %s)", e.Path, e.Problem, s.policy.Environment)
		return
	}
	if err != nil {
		r.add("auth.password-file", SeverityError, "create it with `redsafe password --environment "+string(s.policy.Environment)+" > FILE; chmod 600 FILE`, or fix "+EnvPasswordFile,
			"%v", err)
		return
	}
	for _, e := range exposed {
		r.add("auth.password-file-mode", SeverityWarning, exposedFix(e), "%s %s (refused in production and staging)", e.Path, e.Problem)
	}
	s.password = password
	r.Findings = append(r.Findings, passwordFindings(password, s.policy)...)
}

func exposedFix(e *secretfile.ExposedError) string {
	if e.Repairable {
		// A Kubernetes secret volume cannot be chmod'ed: its mode is set
		// where it is mounted.
		return e.Fix + "; in Kubernetes, mount the secret with defaultMode 0440 and the pod's fsGroup (0400 when it runs as root)"
	}
	return e.Fix
}

// readPasswordFile returns the password in path: one line, read by the one
// reader of secret files (secretfile.ReadLine), which checks on the opened
// file that it is owned by this user or root, not readable by others, and
// in a directory nobody else can write to. Links are followed: Kubernetes
// secret volumes are links into a root-owned ..data directory. Under a
// policy without PrivateSecretFiles an exposure goes to tolerate (nil:
// ignored) instead of failing. The error never contains the file's content.
func readPasswordFile(path, variable string, p Policy, tolerate func(*secretfile.ExposedError)) (string, error) {
	o := secretfile.Named
	if !p.PrivateSecretFiles {
		o.Tolerate = func(e *secretfile.ExposedError) {
			if tolerate != nil {
				tolerate(e)
			}
		}
	}
	line, err := secretfile.ReadLine(path, o)
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "", fmt.Errorf("cannot read %s (%s): %w", variable, path, pe.Err)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", variable, err)
	}
	return line, nil
}

// passwordFileCredentials reads the password file for every new connection,
// with the same checks as Validate.
func passwordFileCredentials(path, username string, p Policy) func(context.Context) (Credentials, error) {
	return func(context.Context) (Credentials, error) {
		password, err := readPasswordFile(path, EnvPasswordFile, p, nil)
		if err != nil {
			return Credentials{}, err
		}
		return Credentials{Username: username, Password: password}, nil
	}
}
