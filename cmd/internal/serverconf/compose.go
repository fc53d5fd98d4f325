package serverconf

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// DefaultImage is pinned to a patch release, never a moving tag, so that a
// deployment is reproducible and an upgrade is a reviewed change. 7.4.6 is
// the first 7.4 release with the fixes for the 2025 Lua CVEs (CVE-2025-49844
// "RediShell", -46817, -46818, -46819). Bump it to the newest 7.4.x patch
// when you deploy, and consider pinning the digest (redis:7.4.x-alpine@sha256:...).
const DefaultImage = "redis:7.4.6-alpine"

// DefaultContainerUser is the redis user of the official alpine image. The
// conf command uses the operator's own uid:gid instead, so the server can
// read the 0600 key, ACL and secret files it mounts.
const DefaultContainerUser = "999:1000"

// DefaultListen is what the server binds inside its container: every
// address, because other containers reach it over the network. The
// isolation boundary is the internal network (no route off the host, no
// published port), not the bind address.
var DefaultListen = []string{"0.0.0.0", "-::*"}

// ComposeOptions adjusts the compose deployment. The zero value is valid.
type ComposeOptions struct {
	Image   string   // pinned image tag or digest; "" => DefaultImage
	Service string   // service name, also the host name clients use; "" => "redis"
	Network string   // internal network; "" => "redis-internal"
	User    string   // "UID[:GID]" the server runs as (never 0); "" => DefaultContainerUser
	Listen  []string // bind addresses inside the container; nil => DefaultListen
	// DataSize bounds the tmpfs at /data; nothing is persisted there, the
	// limit only stops a misconfiguration from filling memory; "" => "16m".
	DataSize string
	// HealthUser is the ACL user of the health check; "" => "health".
	HealthUser string
}

var (
	userRE  = regexp.MustCompile(`^([0-9]+)(?::([0-9]+))?$`)
	nameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)
	sizeRE  = regexp.MustCompile(`^[1-9][0-9]*[kmg]?$`)
	imageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$`)
	// A tag is pinned when it names a patch release (7.4.6, 7.4.6-alpine);
	// "7", "7.4" and "7-alpine" move with every release.
	imageTagRE = regexp.MustCompile(`:v?[0-9]+\.[0-9]+\.[0-9]+([._-][A-Za-z0-9._-]*)?$`)
)

func (o ComposeOptions) normalize() (ComposeOptions, error) {
	if o.Image == "" {
		o.Image = DefaultImage
	}
	if o.Service == "" {
		o.Service = "redis"
	}
	if o.Network == "" {
		o.Network = "redis-internal"
	}
	if o.User == "" {
		o.User = DefaultContainerUser
	}
	if o.Listen == nil {
		o.Listen = DefaultListen
	}
	if o.DataSize == "" {
		o.DataSize = "16m"
	}
	if o.HealthUser == "" {
		o.HealthUser = HealthName
	}
	var errs []error
	if !imageRE.MatchString(o.Image) || !(strings.Contains(o.Image, "@sha256:") || imageTagRE.MatchString(o.Image)) {
		errs = append(errs, fmt.Errorf("image %q is not pinned: name a version tag such as %s, or a digest", o.Image, DefaultImage))
	}
	if m := userRE.FindStringSubmatch(o.User); m == nil {
		errs = append(errs, fmt.Errorf("user %q must be numeric UID or UID:GID", o.User))
	} else if strings.Trim(m[1], "0") == "" {
		// Numerically, not textually: docker runs "00" or "000:1000" as root too.
		errs = append(errs, errors.New("the server must not run as root (user 0); use the uid that owns the deployment files"))
	}
	for _, n := range []string{o.Service, o.Network} {
		if !nameRE.MatchString(n) {
			errs = append(errs, fmt.Errorf("name %q: use lower-case letters, digits, '.', '_' and '-'", n))
		}
	}
	switch o.Network {
	case "bridge", "host", "none":
		// Docker's predefined networks exist already: compose would attach
		// the server to them (or fail) instead of creating an internal one.
		errs = append(errs, fmt.Errorf("network %q is one of docker's predefined networks, not an internal one; choose another name", o.Network))
	}
	if len(o.Listen) == 0 {
		errs = append(errs, errors.New("Listen needs at least one address"))
	}
	for _, b := range o.Listen {
		if err := checkBind(b); err != nil {
			errs = append(errs, err)
		}
	}
	if !sizeRE.MatchString(o.DataSize) {
		errs = append(errs, fmt.Errorf("data size %q must look like 16m", o.DataSize))
	}
	if !userNameRE.MatchString(o.HealthUser) {
		errs = append(errs, fmt.Errorf("health user %q is not a plain name", o.HealthUser))
	}
	return o, errors.Join(errs...)
}

// healthHost is the address the in-container health check dials: loopback
// when the server listens on every address, otherwise the first address.
func (o ComposeOptions) healthHost() string {
	if len(o.Listen) == 0 {
		return "127.0.0.1"
	}
	for _, b := range o.Listen {
		switch a := strings.TrimPrefix(b, "-"); a {
		case "*", "0.0.0.0", "127.0.0.1":
			return "127.0.0.1"
		case "::*", "::", "::1":
			return "::1"
		}
	}
	return strings.TrimPrefix(o.Listen[0], "-")
}

// HealthCommand is the shell command of the compose health check. It proves
// that TLS, the CA and ACL authentication work, without writing to the
// keyspace (the health user can only PING) and without the password on a
// command line, where `ps` would show it: redis-cli reads REDISCLI_AUTH from
// its environment, which only the same uid can read. redis-cli exits 0 even
// on an error reply, hence the grep for PONG.
func HealthCommand(s Spec, o ComposeOptions) string {
	// The defaults of Compose, so that the zero values render the command
	// Compose would (normalize fills them in even when it reports an error).
	s, _ = s.normalize()
	o, _ = o.normalize()
	args := []string{"redis-cli", "--tls", "--cacert", shQuote(s.CAFile())}
	if s.MutualTLS {
		args = append(args, "--cert", shQuote(path.Join(s.TLSDir, ClientCertFileName)),
			"--key", shQuote(path.Join(s.TLSDir, ClientKeyFileName)))
	}
	args = append(args, "--user", o.HealthUser, "-h", o.healthHost(), "-p", fmt.Sprint(s.Port),
		"--no-auth-warning", "PING")
	return `REDISCLI_AUTH="$(cat ` + shQuote("/run/secrets/"+HealthSecret) + `)" ` +
		strings.Join(args, " ") + " | grep -q PONG"
}

// Compose renders docker-compose.secure.yml. s must use container paths
// (see ContainerSpec): it is the same Spec that rendered redis.conf.
func Compose(s Spec, o ComposeOptions) ([]byte, error) {
	s, err := s.normalize()
	if err != nil {
		return nil, err
	}
	if s.PidFile != "" || s.LogFile != "" {
		return nil, errors.New("serverconf: in a container redis must log to stdout and keep no pid file; use ContainerSpec")
	}
	if strings.ContainsAny(s.DataDir, ":,") {
		// The tmpfs entry is "PATH:OPTIONS": a ':' or ',' in the path would
		// change the mount options (e.g. drop noexec) instead of naming a path.
		return nil, fmt.Errorf("serverconf: DataDir %q contains ':' or ',', which the tmpfs mount cannot express; use ContainerSpec", s.DataDir)
	}
	if o, err = o.normalize(); err != nil {
		return nil, fmt.Errorf("serverconf: %w", err)
	}
	m := userRE.FindStringSubmatch(o.User)
	tmpfsOwner := "uid=" + m[1]
	if m[2] != "" {
		tmpfsOwner += ",gid=" + m[2]
	}
	q := yamlQuote
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("  ", indent) + fmt.Sprintf(format, args...) + "\n")
	}
	list := func(items ...string) string {
		for i := range items {
			items[i] = q(items[i])
		}
		return "[" + strings.Join(items, ", ") + "]"
	}
	mount := func(source, target string) {
		w(3, "- type: bind")
		w(4, "source: %s", q(source))
		w(4, "target: %s", q(target))
		w(4, "read_only: true")
	}

	w(0, "# %s, written by `redsafe conf` (environment: %s).", ComposeFileName, s.Environment)
	w(0, "#")
	w(0, "# A TLS-only Redis that only containers on the internal network %q can", o.Network)
	w(0, "# reach: no port is published on the host and the network has no route")
	w(0, "# out. Attach your service to that network and connect to")
	w(0, "# rediss://app@%s:%d/0 with the password from secrets/app.password.", o.Service, s.Port)
	w(0, "#")
	w(0, "# The TLS material comes from ./certs; create it first with")
	w(0, "#   redsafe certs --dir certs --hosts %s,localhost,127.0.0.1", o.Service)
	w(0, "services:")
	w(1, "%s:", o.Service)
	w(2, "image: %s", q(o.Image))
	w(2, "# Not root: the uid that owns the 0600 key, ACL and secret files below,")
	w(2, "# so that nobody else on the host needs to be able to read them.")
	w(2, "user: %s", q(o.User))
	w(2, "# redis.conf binds loopback only, which would make the server unreachable")
	w(2, "# for other containers. The exposure is widened here, next to the")
	w(2, "# internal network that bounds it, so that the config file on its own")
	w(2, "# fails closed wherever else it is used.")
	w(2, "command: %s", list(append([]string{"redis-server", ContainerConfFile, "--bind"}, o.Listen...)...))
	w(2, "read_only: true")
	w(2, "# Persistence is off (see redis.conf): /data is a private tmpfs.")
	w(2, "tmpfs:")
	w(3, "- %s", q(fmt.Sprintf("%s:rw,noexec,nosuid,nodev,size=%s,mode=0700,%s", s.DataDir, o.DataSize, tmpfsOwner)))
	w(2, "cap_drop: %s", list("ALL"))
	w(2, "security_opt: %s", list("no-new-privileges:true"))
	w(2, "pids_limit: 64")
	w(2, "volumes:")
	mount("./"+ConfFileName, ContainerConfFile)
	mount("./"+ACLFileName, s.ACLFile)
	// The TLS files one by one, never the whole certs directory: it also
	// holds ca.key, which can issue certificates and has no business inside
	// the server's container.
	tlsFiles := []string{CAFileName, ServerCertFileName, ServerKeyFileName}
	if s.MutualTLS {
		// The health check presents a client certificate.
		tlsFiles = append(tlsFiles, ClientCertFileName, ClientKeyFileName)
	}
	for _, name := range tlsFiles {
		mount("./"+CertsDirName+"/"+name, path.Join(s.TLSDir, name))
	}
	w(2, "secrets:")
	w(3, "- %s", q(HealthSecret))
	w(2, "networks:")
	w(3, "- %s", q(o.Network))
	w(2, "# Authenticates as the PING-only health user over TLS: proves the")
	w(2, "# certificates and ACLs work, writes nothing, and keeps the password")
	w(2, "# off every command line (redis-cli reads REDISCLI_AUTH).")
	w(2, "healthcheck:")
	w(3, "test: %s", list("CMD-SHELL", HealthCommand(s, o)))
	w(3, "interval: %s", q("10s"))
	w(3, "timeout: %s", q("5s"))
	w(3, "retries: 5")
	w(3, "start_period: %s", q("10s"))
	w(2, "restart: %s", q("unless-stopped"))
	w(0, "networks:")
	w(1, "%s:", o.Network)
	w(2, "# internal: containers on it reach each other, nothing else, and")
	w(2, "# compose publishes no ports for it.")
	w(2, "name: %s", q(o.Network))
	w(2, "internal: true")
	w(0, "secrets:")
	w(1, "%s:", HealthSecret)
	w(2, "file: %s", q("./"+SecretFileName(o.HealthUser)))
	return []byte(b.String()), nil
}
