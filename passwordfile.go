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
	f := secretFile{variable: EnvPasswordFile, path: o.PasswordFile, id: "auth.password-file",
		fix: "create it with `redsafe password --environment " + string(s.policy.Environment) + " > FILE; chmod 600 FILE`, or fix " + EnvPasswordFile}
	password, ok := f.read(s.policy, secretfile.ReadLine, r)
	if !ok {
		return
	}
	s.password = password
	r.Findings = append(r.Findings, passwordFindings(password, s.policy)...)
}

// secretFile is a file of secrets that a variable names (a password, a
// key, a list of keys), and how its problems are reported: id for a file
// that cannot be read or holds something else than it should, id+"-mode"
// for one others could read or replace.
type secretFile struct {
	variable string // the variable or option naming it
	path     string
	id       string
	fix      string // how to make a good one
}

// read returns the file's content, read by read (secretfile.ReadLine, or
// readWhole for a list) with the checks of readSecret. Every problem is a
// finding, which names the variable and the path, never the content: an
// exposed file is an error under a policy with PrivateSecretFiles and a
// warning otherwise. ok is false when the content is unusable.
func (f secretFile) read(p Policy, read func(string, secretfile.Options) (string, error), r *Report) (content string, ok bool) {
	var exposed []*secretfile.ExposedError
	content, err := readSecret(f.path, f.variable, p, func(e *secretfile.ExposedError) { exposed = append(exposed, e) }, read)
	var e *secretfile.ExposedError
	if errors.As(err, &e) {
		r.add(f.id+"-mode", SeverityError, exposedFix(e), "%s: %s %s (refused in %s)", f.variable, e.Path, e.Problem, p.Environment)
		return "", false
	}
	if err != nil {
		r.add(f.id, SeverityError, f.fix, "%v", err)
		return "", false
	}
	for _, e := range exposed {
		r.add(f.id+"-mode", SeverityWarning, exposedFix(e), "%s: %s %s (refused in production and staging)", f.variable, e.Path, e.Problem)
	}
	return content, true
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
// reader of secret files (secretfile.ReadLine) with the checks of
// readSecret. The error never contains the file's content.
func readPasswordFile(path, variable string, p Policy, tolerate func(*secretfile.ExposedError)) (string, error) {
	return readSecret(path, variable, p, tolerate, secretfile.ReadLine)
}

// readSecret reads the secret file path that variable names with read,
// which checks on the opened file that it is owned by this user or root,
// not readable by others, and in a directory nobody else can write to.
// Links are followed: Kubernetes secret volumes are links into a
// root-owned ..data directory. Under a policy without PrivateSecretFiles an
// exposure goes to tolerate (nil: ignored) instead of failing. The error
// names variable and path, never the file's content.
func readSecret(path, variable string, p Policy, tolerate func(*secretfile.ExposedError), read func(string, secretfile.Options) (string, error)) (string, error) {
	o := secretfile.Named
	if !p.PrivateSecretFiles {
		o.Tolerate = func(e *secretfile.ExposedError) {
			if tolerate != nil {
				tolerate(e)
			}
		}
	}
	content, err := read(path, o)
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "", fmt.Errorf("cannot read %s (%s): %w", variable, path, pe.Err)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", variable, err)
	}
	return content, nil
}

// readWhole reads a secret file that may hold more than one line (a list
// of keys), with the checks of secretfile.Read.
func readWhole(path string, o secretfile.Options) (string, error) {
	data, err := secretfile.Read(path, o)
	defer clear(data)
	return string(data), err
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
