package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
	"github.com/redsafe/redsafe/internal/backup"
	"github.com/redsafe/redsafe/internal/secretfile"
)

// envSpec is the content of a generated env file: the environment contract
// for one service.
type envSpec struct {
	Environment redsafe.Environment
	Host        string
	Port        int
	// Addrs are more nodes of a cluster (host:port), written as addr=
	// parameters of the URL.
	Addrs    []string
	User     string
	Password string
	// PasswordFile, when set, is written as REDIS_PASSWORD_FILE instead of
	// the password itself: the service then reads the one file that
	// `redsafe rotate-password` updates, on every new connection.
	PasswordFile string // absolute
	Key          string
	// EncryptionKeyFile, when set, is written as REDIS_ENCRYPTION_KEY_FILE
	// instead of the key itself, so that the key is kept in one file of
	// its own, as the password is.
	EncryptionKeyFile string // absolute
	CAFile            string // absolute
	CertFile          string // client certificate, optional
	KeyFile           string
	// MasterSet, when set, makes Host:Port and Addrs Sentinels, which
	// the service asks for the master of this set, logging into them as
	// SentinelUser with the password in SentinelPasswordFile.
	MasterSet            string
	SentinelUser         string
	SentinelPasswordFile string // absolute
}

func (s envSpec) password() [2]string {
	if s.PasswordFile != "" {
		return [2]string{redsafe.EnvPasswordFile, s.PasswordFile}
	}
	return [2]string{redsafe.EnvPassword, s.Password}
}

func (s envSpec) encryptionKey() [2]string {
	if s.EncryptionKeyFile != "" {
		return [2]string{redsafe.EnvEncryptionKeyFile, s.EncryptionKeyFile}
	}
	return [2]string{redsafe.EnvEncryptionKey, s.Key}
}

// vars lists the variables in the order they are written.
func (s envSpec) vars() [][2]string {
	url := "rediss://"
	if s.User != "" {
		url += s.User + "@"
	}
	url += hostPort(s.Host, s.Port) + "/0"
	var query []string
	if s.MasterSet != "" {
		query = append(query, "master_set="+s.MasterSet)
	}
	for _, a := range s.Addrs {
		query = append(query, "addr="+a)
	}
	if len(query) > 0 {
		url += "?" + strings.Join(query, "&")
	}
	minVersion := "1.2"
	if s.Environment == redsafe.Production {
		minVersion = "1.3"
	}
	v := [][2]string{
		{"ENVIRONMENT", string(s.Environment)},
		{redsafe.EnvURL, url},
		s.password(),
		s.encryptionKey(),
		{redsafe.EnvTLSCACert, s.CAFile},
		{redsafe.EnvTLSCertReqs, string(redsafe.VerifyRequired)},
		{redsafe.EnvTLSMinVersion, minVersion},
	}
	if s.CertFile != "" {
		v = append(v, [2]string{redsafe.EnvTLSCert, s.CertFile}, [2]string{redsafe.EnvTLSKey, s.KeyFile})
	}
	if s.MasterSet != "" {
		v = append(v, [2]string{redsafe.EnvSentinelUsername, s.SentinelUser}, [2]string{redsafe.EnvSentinelPasswordFile, s.SentinelPasswordFile})
	}
	return v
}

// render returns the file, refusing (before anything is written) a value
// that the env file format cannot carry, such as a host with a line break or
// a path with a quote.
func (s envSpec) render(now time.Time) ([]byte, error) {
	return envfile.Render([]string{
		fmt.Sprintf("redsafe environment for %s, written %s.", s.Environment, now.UTC().Format(time.RFC3339)),
		s.secretsNote(),
		"Load it with: set -a; . ./FILE; set +a   (or docker compose env_file, systemd EnvironmentFile)",
	}, s.vars())
}

// secretsNote is the header line that says which secrets the file holds.
func (s envSpec) secretsNote() string {
	var inline []string
	if s.PasswordFile == "" {
		inline = append(inline, "a password")
	}
	if s.EncryptionKeyFile == "" {
		inline = append(inline, "an encryption key")
	}
	if len(inline) == 0 {
		return "The password and the encryption key are in the files it names; keep it mode 0600 and out of version control all the same."
	}
	return "It holds " + strings.Join(inline, " and ") + ": keep it mode 0600 and out of version control."
}

// options returns the library options the file describes, to validate it
// before it is written. A key file that is still to be written (Key and
// EncryptionKeyFile both set) is judged by the key it will hold.
func (s envSpec) options() redsafe.Options {
	m := map[string]string{}
	for _, kv := range s.vars() {
		m[kv[0]] = kv[1]
	}
	if s.Key != "" && s.EncryptionKeyFile != "" {
		delete(m, redsafe.EnvEncryptionKeyFile)
		m[redsafe.EnvEncryptionKey] = s.Key
	}
	return redsafe.OptionsFromLookup(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

// writeSecretFile writes a file of secrets with mode 0600. An existing file
// is refused unless force, and then moved to a timestamped backup first.
// A link at path is never written through: it is refused, or moved aside
// with force, and the new file created in its place.
func writeSecretFile(path string, data []byte, force bool) (backupPath string, err error) {
	if err := refuseExisting(path, force); err != nil {
		return "", err
	}
	if backupPath, err = backup.MoveAside(path, time.Now()); err != nil {
		return "", err
	}
	return backupPath, secretfile.Create(path, data)
}

// refuseExisting is writeSecretFile's refusal of a file (or a link) at
// path without force, for checking every file a command writes before
// writing any of them.
func refuseExisting(path string, force bool) error {
	if _, err := os.Lstat(path); err == nil && !force {
		return fmt.Errorf("%s already exists; use --force to replace it (the old file is kept as a backup): %w", path, fs.ErrExist)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func hostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}
