package main

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/certs"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/secretfile"
)

// upGuard decides what `up` may adopt from its directory. Everything up
// reuses (passwords, the encryption key, .env.secure, the configuration
// and TLS files redis-server reads) must have been written by this user
// and be readable or replaceable by nobody else: otherwise another user
// who could write to the directory would choose the secrets. With
// --fix-permissions, modes of files and directories this user owns are
// narrowed instead; another user's file is never adopted.
type upGuard struct {
	fix  bool
	note func(format string, args ...any)
}

// dir checks a directory up creates files in and adopts files from.
func (g upGuard) dir(path string) error {
	fixed, err := secretfile.CheckPrivateDir(path, g.fix)
	if fixed {
		g.note("narrowed %s to mode 0700 (--fix-permissions)", rel(path))
	}
	return g.explain(err)
}

// subdir checks certs/ and secrets/ as dir does, and refuses a link there:
// a link would have up create and adopt secrets wherever it points.
func (g upGuard) subdir(path string) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link; up keeps its secrets and certificates only in real directories inside its own: remove the link (`rm %s`) to have them created", path, path)
	}
	return g.dir(path)
}

// inPlace checks, before up reads or writes anything, the files it reuses
// and the ones redis-server reads or writes in the directory: none may be
// a link, and each must be this user's with a private enough mode.
func (g upGuard) inPlace(srv redisserver.Dir, confSecret bool, aclFile, envFile, certDir string) error {
	for _, f := range []struct {
		path   string
		secret bool
	}{
		{srv.Conf, confSecret}, {aclFile, true}, {envFile, true}, {srv.PidFile, false}, {srv.LogFile, false},
		{filepath.Join(srv.Dir, "nodes.conf"), false},
		{filepath.Join(certDir, serverconf.ClientCertFileName), false}, {filepath.Join(certDir, serverconf.ClientKeyFileName), true},
		{filepath.Join(certDir, certs.CAFile), false}, {filepath.Join(certDir, certs.ServerFile), false},
		{filepath.Join(certDir, certs.CAKeyFile), true}, {filepath.Join(certDir, certs.ServerKeyFile), true},
	} {
		fixed, err := secretfile.CheckInPlace(f.path, f.secret, g.fix)
		if err != nil {
			return g.explain(err)
		}
		if fixed {
			g.note("narrowed the mode of %s (--fix-permissions)", rel(f.path))
		}
	}
	return nil
}

func (g upGuard) options() secretfile.Options {
	o := secretfile.Owned
	o.Repair = g.fix
	o.Repaired = func(path string, old fs.FileMode) {
		g.note("narrowed %s from mode %04o to 0600 (--fix-permissions)", rel(path), old)
	}
	return o
}

// readLine reads one of up's one-line secrets.
func (g upGuard) readLine(path string) (string, error) {
	s, err := secretfile.ReadLine(path, g.options())
	var fe *secretfile.FormatError
	if errors.As(err, &fe) {
		return "", fmt.Errorf("%w; remove it to have a new one generated", err)
	}
	return s, g.explain(err)
}

// envFile reads up's .env.secure, which holds the encryption key.
func (g upGuard) envFile(path string) (map[string]string, error) {
	data, err := secretfile.Read(path, g.options())
	if err != nil {
		return nil, g.explain(err)
	}
	defer clear(data)
	return envfile.Parse(bytes.NewReader(data))
}

// explain adds the flag that repairs a mode problem.
func (g upGuard) explain(err error) error {
	var e *secretfile.ExposedError
	if errors.As(err, &e) && e.Repairable && !g.fix {
		return fmt.Errorf("%w (or rerun with --fix-permissions)", err)
	}
	return err
}
