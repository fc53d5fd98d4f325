package serverconf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"go.yaml.in/yaml/v3"
)

// composeFile is the part of the compose schema the deployment uses.
// Decoding with KnownFields refuses anything else, so a key such as ports,
// privileged, network_mode, cap_add or environment cannot slip in.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
	Networks map[string]struct {
		Name     string `yaml:"name"`
		Internal bool   `yaml:"internal"`
	} `yaml:"networks"`
	Secrets map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

type composeService struct {
	Image       string   `yaml:"image"`
	User        string   `yaml:"user"`
	Command     []string `yaml:"command"`
	ReadOnly    bool     `yaml:"read_only"`
	Tmpfs       []string `yaml:"tmpfs"`
	CapDrop     []string `yaml:"cap_drop"`
	SecurityOpt []string `yaml:"security_opt"`
	PidsLimit   int      `yaml:"pids_limit"`
	Volumes     []struct {
		Type     string `yaml:"type"`
		Source   string `yaml:"source"`
		Target   string `yaml:"target"`
		ReadOnly bool   `yaml:"read_only"`
	} `yaml:"volumes"`
	Secrets     []string `yaml:"secrets"`
	Networks    []string `yaml:"networks"`
	Healthcheck struct {
		Test        []string `yaml:"test"`
		Interval    string   `yaml:"interval"`
		Timeout     string   `yaml:"timeout"`
		Retries     int      `yaml:"retries"`
		StartPeriod string   `yaml:"start_period"`
	} `yaml:"healthcheck"`
	Restart string `yaml:"restart"`
}

func parseCompose(t *testing.T, data []byte) composeFile {
	t.Helper()
	var f composeFile
	d := yaml.NewDecoder(bytes.NewReader(data))
	d.KnownFields(true)
	if err := d.Decode(&f); err != nil {
		t.Fatalf("compose file: %v\n%s", err, data)
	}
	// And generically: the redis service has no ports of any kind.
	var generic map[string]map[string]map[string]any
	if err := yaml.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	for name, svc := range generic["services"] {
		for _, k := range []string{"ports", "expose", "network_mode", "privileged", "cap_add", "environment", "env_file", "devices", "pid", "ipc"} {
			if _, ok := svc[k]; ok {
				t.Errorf("service %s has %s", name, k)
			}
		}
	}
	return f
}

// deployment renders a production deployment and returns its files by name.
func deployment(t *testing.T, s Spec, u Users, o ComposeOptions) map[string][]byte {
	t.Helper()
	files, err := Deployment(s, u, o)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, f := range files {
		if _, dup := m[f.Name]; dup {
			t.Fatalf("%s twice", f.Name)
		}
		m[f.Name] = f.Data
	}
	return m
}

func TestComposeDeployment(t *testing.T) {
	t.Parallel()
	u := NewUsers(redsafe.Production)
	spec := Spec{Port: 6390, KeyPattern: "svc:*", Bind: []string{"127.0.0.1"}}
	files := deployment(t, spec, u, ComposeOptions{})
	compose := files[ComposeFileName]
	f := parseCompose(t, compose)

	if len(f.Services) != 1 {
		t.Fatalf("services: %v", f.Services)
	}
	svc, ok := f.Services["redis"]
	if !ok {
		t.Fatalf("no redis service")
	}
	t.Run("image pinned", func(t *testing.T) {
		if svc.Image != DefaultImage || strings.HasSuffix(svc.Image, ":latest") || !strings.Contains(svc.Image, ":") {
			t.Errorf("image %q", svc.Image)
		}
		if !regexp.MustCompile(`:\d+\.\d+\.\d+`).MatchString(DefaultImage) {
			t.Errorf("DefaultImage %s is not a patch release", DefaultImage)
		}
	})
	t.Run("not root", func(t *testing.T) {
		uid, _, _ := strings.Cut(svc.User, ":")
		if svc.User != DefaultContainerUser || strings.Trim(uid, "0") == "" || uid == "root" {
			t.Errorf("user %q", svc.User)
		}
	})
	t.Run("hardening", func(t *testing.T) {
		if !svc.ReadOnly || strings.Join(svc.CapDrop, ",") != "ALL" || strings.Join(svc.SecurityOpt, ",") != "no-new-privileges:true" || svc.PidsLimit <= 0 {
			t.Errorf("read_only %v, cap_drop %v, security_opt %v, pids_limit %d", svc.ReadOnly, svc.CapDrop, svc.SecurityOpt, svc.PidsLimit)
		}
		if svc.Restart != "unless-stopped" {
			t.Errorf("restart %q", svc.Restart)
		}
		if len(svc.Tmpfs) != 1 {
			t.Fatalf("tmpfs %v", svc.Tmpfs)
		}
		mnt, opts, _ := strings.Cut(svc.Tmpfs[0], ":")
		if mnt != ContainerDataDir {
			t.Errorf("tmpfs at %q", mnt)
		}
		for _, o := range []string{"noexec", "nosuid", "nodev", "mode=0700", "uid=999", "gid=1000", "size=16m"} {
			if !strings.Contains(","+opts+",", ","+o+",") {
				t.Errorf("tmpfs options %q lack %s", opts, o)
			}
		}
	})
	t.Run("network internal, nothing published", func(t *testing.T) {
		if strings.Join(svc.Networks, ",") != "redis-internal" {
			t.Fatalf("networks %v", svc.Networks)
		}
		n, ok := f.Networks["redis-internal"]
		if !ok || !n.Internal || n.Name != "redis-internal" || len(f.Networks) != 1 {
			t.Errorf("networks %+v", f.Networks)
		}
	})
	t.Run("read-only mounts of the deployment's files", func(t *testing.T) {
		targets := map[string]string{}
		for _, v := range svc.Volumes {
			if v.Type != "bind" || !v.ReadOnly {
				t.Errorf("volume %+v is not a read-only bind mount", v)
			}
			targets[v.Target] = v.Source
		}
		want := map[string]string{
			ContainerConfFile: "./" + ConfFileName, ContainerACLFile: "./" + ACLFileName,
			"/tls/ca.crt": "./certs/ca.crt", "/tls/server.crt": "./certs/server.crt", "/tls/server.key": "./certs/server.key",
		}
		// The CA's private key can issue certificates: it never enters the container.
		for target, source := range targets {
			if strings.Contains(target, "ca.key") || strings.Contains(source, "ca.key") || source == "./"+CertsDirName {
				t.Errorf("%s is mounted from %s: the CA key would be inside the container", target, source)
			}
		}
		if len(targets) != len(want) {
			t.Errorf("volumes %v", targets)
		}
		for target, source := range want {
			if targets[target] != source {
				t.Errorf("%s mounted from %q, want %q", target, targets[target], source)
			}
		}
		// The sources are files the deployment writes (certs/ comes from
		// `redsafe certs`), and redis.conf only names paths inside the
		// mounts or the tmpfs.
		for _, name := range []string{ConfFileName, ACLFileName} {
			if files[name] == nil {
				t.Errorf("the deployment does not write %s", name)
			}
		}
		conf := files[ConfFileName]
		for _, line := range []string{
			`aclfile "` + ContainerACLFile + `"`, `tls-cert-file "/tls/server.crt"`, `tls-key-file "/tls/server.key"`,
			`tls-ca-cert-file "/tls/ca.crt"`, `dir "/data"`, `logfile ""`, "daemonize no", "tls-port 6390", "bind 127.0.0.1",
		} {
			if !hasLine(conf, line) {
				t.Errorf("the deployment's redis.conf lacks %q", line)
			}
		}
		if strings.Contains(string(conf), "pidfile") {
			t.Error("the deployment's redis.conf sets a pid file")
		}
		if want := []string{"redis-server", ContainerConfFile, "--bind", "0.0.0.0", "-::*"}; strings.Join(svc.Command, " ") != strings.Join(want, " ") {
			t.Errorf("command %q", svc.Command)
		}
	})
	t.Run("health check without a password", func(t *testing.T) {
		hc := svc.Healthcheck
		if len(hc.Test) != 2 || hc.Test[0] != "CMD-SHELL" {
			t.Fatalf("test %q", hc.Test)
		}
		cmd := hc.Test[1]
		// "$$" is compose's escape for "$": the shell sees $(cat ...).
		if !strings.HasPrefix(cmd, `REDISCLI_AUTH="$$(cat '/run/secrets/`+HealthSecret+`')" redis-cli --tls `) {
			t.Errorf("health check does not take the password from the secret: %s", cmd)
		}
		if strings.Contains(strings.ReplaceAll(cmd, "$$", ""), "$") {
			t.Errorf("health check has a $ that compose would interpolate: %s", cmd)
		}
		for _, bad := range []string{" -a ", "--pass", "--askpass", " AUTH ", "-u ", "redis://", "rediss://"} {
			if strings.Contains(cmd, bad) {
				t.Errorf("health check passes credentials with %q: %s", bad, cmd)
			}
		}
		for _, want := range []string{"--user health ", "--cacert '/tls/ca.crt'", "-h 127.0.0.1 ", "-p 6390 ", "--no-auth-warning PING", "| grep -q PONG"} {
			if !strings.Contains(cmd, want) {
				t.Errorf("health check lacks %q: %s", want, cmd)
			}
		}
		if want := strings.ReplaceAll(HealthCommand(ContainerSpec(spec), ComposeOptions{}), "$", "$$"); cmd != want {
			t.Errorf("health check\n%s\nis not HealthCommand\n%s", cmd, want)
		}
		if strings.Join(svc.Secrets, ",") != HealthSecret {
			t.Errorf("secrets %v", svc.Secrets)
		}
		sec, ok := f.Secrets[HealthSecret]
		if !ok || sec.File != "./"+SecretFileName(u.Health.Name) || len(f.Secrets) != 1 {
			t.Errorf("secrets %+v", f.Secrets)
		}
		if got := files[SecretFileName(u.Health.Name)]; string(got) != u.Health.Password+"\n" {
			t.Errorf("the health secret file holds %d bytes, not the health password", len(got))
		}
	})
	t.Run("no secret in the public files", func(t *testing.T) {
		for _, name := range []string{ComposeFileName, ConfFileName} {
			for _, x := range u.list() {
				sum := sha256.Sum256([]byte(x.Password))
				for _, secret := range []string{x.Password, hex.EncodeToString(sum[:])} {
					if bytes.Contains(files[name], []byte(secret)) {
						t.Errorf("%s contains the password or hash of %s", name, x.Name)
					}
				}
			}
		}
	})
}

// TestDeploymentFiles: what Deployment returns, and which files are secret.
func TestDeploymentFiles(t *testing.T) {
	t.Parallel()
	u := NewUsers(redsafe.Staging)
	u.Health.Name = "probe"
	files, err := Deployment(Spec{Environment: redsafe.Staging}, u, ComposeOptions{HealthUser: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		ConfFileName: false, ComposeFileName: false, ACLFileName: true,
		"secrets/admin.password": true, "secrets/app.password": true, "secrets/probe.password": true,
	}
	if len(files) != len(want) {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		secret, ok := want[f.Name]
		if !ok || secret != f.Secret {
			t.Errorf("%s: secret %v", f.Name, f.Secret)
		}
		if f.Secret != (f.Name == ACLFileName || strings.HasPrefix(f.Name, "secrets/")) {
			t.Errorf("%s: secret %v", f.Name, f.Secret)
		}
		if strings.HasSuffix(f.Name, ".password") && bytes.Count(f.Data, []byte("\n")) != 1 {
			t.Errorf("%s is not one line", f.Name)
		}
		if f.Name == ComposeFileName {
			// The health check uses the health user's real name.
			if !strings.Contains(string(f.Data), "--user probe ") || !strings.Contains(string(f.Data), `"./secrets/probe.password"`) {
				t.Errorf("compose does not use the health user probe:\n%s", f.Data)
			}
			if strings.Contains(string(f.Data), "ignored") {
				t.Error("compose uses ComposeOptions.HealthUser over the real health user")
			}
		}
		if f.Name == ConfFileName && !hasLine(f.Data, `tls-protocols "TLSv1.2 TLSv1.3"`) {
			t.Error("the staging redis.conf is not TLS 1.2+")
		}
	}
}

func TestComposeOptions(t *testing.T) {
	t.Parallel()
	spec := ContainerSpec(validSpec())
	digest := "redis@sha256:" + strings.Repeat("ab", 32)
	for _, o := range []ComposeOptions{
		{Image: "redis:7.4.6"}, {Image: digest}, {Image: "registry.example.com:5000/team/redis:7.4.6-alpine"},
		{Image: "redis:latest@sha256:" + strings.Repeat("0f", 32)},
		{User: "1000"}, {User: "1000:1000"}, {User: "10:0"},
		{Service: "cache", Network: "backend.internal"}, {Listen: []string{"10.0.0.2"}}, {DataSize: "64m"},
	} {
		b, err := Compose(spec, o)
		if err != nil {
			t.Errorf("%+v refused: %v", o, err)
			continue
		}
		parseCompose(t, b)
	}

	b, err := Compose(spec, ComposeOptions{Service: "cache", Network: "backend", User: "1234:5678", Listen: []string{"10.0.0.2"}, DataSize: "1g"})
	if err != nil {
		t.Fatal(err)
	}
	f := parseCompose(t, b)
	svc := f.Services["cache"]
	if svc.User != "1234:5678" || !strings.Contains(svc.Tmpfs[0], ",uid=1234,gid=5678") || !strings.Contains(svc.Tmpfs[0], "size=1g") ||
		!f.Networks["backend"].Internal || strings.Join(svc.Command[2:], " ") != "--bind 10.0.0.2" ||
		!strings.Contains(svc.Healthcheck.Test[1], "-h 10.0.0.2 ") {
		t.Errorf("options not applied:\n%s", b)
	}
}

// TestComposeRefused: unpinned images, root, and anything that would be
// more than a name are refused, and so is a Spec with host-only settings.
func TestComposeRefused(t *testing.T) {
	t.Parallel()
	spec := ContainerSpec(validSpec())
	for _, tt := range []struct {
		o    ComposeOptions
		want string
	}{
		{ComposeOptions{Image: "redis"}, "is not pinned"},
		{ComposeOptions{Image: "redis:latest"}, "is not pinned"},
		{ComposeOptions{Image: "redis:alpine"}, "is not pinned"},
		{ComposeOptions{Image: "redis:bookworm"}, "is not pinned"},
		{ComposeOptions{Image: "redis:7"}, "is not pinned"},
		{ComposeOptions{Image: "redis:7.4"}, "is not pinned"},
		{ComposeOptions{Image: "redis:7-alpine"}, "is not pinned"},
		{ComposeOptions{Image: "localhost:5000/redis"}, "is not pinned"},
		{ComposeOptions{Image: "Redis:7.4.6"}, "is not pinned"},
		{ComposeOptions{Image: "redis:7.4.6\n    privileged: true"}, "is not pinned"},
		{ComposeOptions{Image: "redis@sha256:abc"}, "is not pinned"},
		{ComposeOptions{User: "0"}, "must not run as root"},
		{ComposeOptions{User: "0:0"}, "must not run as root"},
		{ComposeOptions{User: "0:1000"}, "must not run as root"},
		{ComposeOptions{User: "00"}, "must not run as root"},
		{ComposeOptions{User: "000:1000"}, "must not run as root"},
		{ComposeOptions{User: "root"}, "must be numeric"},
		{ComposeOptions{User: "redis"}, "must be numeric"},
		{ComposeOptions{User: "-1"}, "must be numeric"},
		{ComposeOptions{User: "1000:"}, "must be numeric"},
		{ComposeOptions{User: "1000\nprivileged: true"}, "must be numeric"},
		{ComposeOptions{Service: "Redis"}, `name "Redis"`},
		{ComposeOptions{Service: "redis:\n    privileged: true"}, "name"},
		{ComposeOptions{Network: "host"}, "predefined"},
		{ComposeOptions{Network: "bridge"}, "predefined"},
		{ComposeOptions{Network: "none"}, "predefined"},
		{ComposeOptions{Network: "a b"}, `name "a b"`},
		{ComposeOptions{Listen: []string{}}, "at least one address"},
		{ComposeOptions{Listen: []string{"redis"}}, "not an IP address"},
		{ComposeOptions{DataSize: "0"}, "data size"},
		{ComposeOptions{DataSize: "16 m"}, "data size"},
		{ComposeOptions{DataSize: "16m,exec"}, "data size"},
		{ComposeOptions{HealthUser: "health -a x"}, "health user"},
	} {
		b, err := Compose(spec, tt.o)
		if err == nil {
			t.Errorf("%+v accepted:\n%s", tt.o, b)
			continue
		}
		if !strings.HasPrefix(err.Error(), "serverconf: ") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: error %q does not say %q", tt.o, err, tt.want)
		}
		if tt.o.HealthUser != "" {
			continue // Deployment sets it from Users
		}
		if _, err := Deployment(validSpec(), NewUsers(redsafe.Production), tt.o); err == nil {
			t.Errorf("%+v: Deployment accepted it", tt.o)
		}
	}

	for name, s := range map[string]Spec{
		"host spec with a pid file": func() Spec { s := spec; s.PidFile = "/run/redis.pid"; return s }(),
		"host spec with a log file": func() Spec { s := spec; s.LogFile = "/var/log/redis.log"; return s }(),
		"invalid spec":              func() Spec { s := spec; s.KeyPattern = "* +@all"; return s }(),
		"tmpfs options in DataDir":  func() Spec { s := spec; s.DataDir = "/data:exec"; return s }(),
		"tmpfs option list in path": func() Spec { s := spec; s.DataDir = "/data,exec"; return s }(),
	} {
		if b, err := Compose(s, ComposeOptions{}); err == nil {
			t.Errorf("%s: accepted\n%s", name, b)
		}
	}
}

func TestHealthCommandText(t *testing.T) {
	t.Parallel()
	// The zero values render what Compose renders by default.
	got := HealthCommand(Spec{TLSDir: ContainerTLSDir}, ComposeOptions{})
	want := `REDISCLI_AUTH="$(cat '/run/secrets/redis_health_password')" redis-cli --tls --cacert '/tls/ca.crt' ` +
		`--user health -h 127.0.0.1 -p 6380 --no-auth-warning PING | grep -q PONG`
	if got != want {
		t.Errorf("HealthCommand(zero values) =\n%s\nwant\n%s", got, want)
	}
	got = HealthCommand(Spec{TLSDir: "/tls", MutualTLS: true, Port: 7000}, ComposeOptions{Listen: []string{"-::*"}, HealthUser: "probe"})
	for _, w := range []string{"--cert '/tls/client.crt' --key '/tls/client.key'", "--user probe -h ::1 -p 7000 "} {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %s", got, w)
		}
	}
	if got := HealthCommand(Spec{TLSDir: "/it's here"}, ComposeOptions{}); !strings.Contains(got, `--cacert '/it'\''s here/ca.crt'`) {
		t.Errorf("CA path not shell-quoted: %s", got)
	}
	for _, tt := range []struct {
		listen []string
		want   string
	}{
		{[]string{"0.0.0.0", "-::*"}, "127.0.0.1"}, {[]string{"*"}, "127.0.0.1"}, {[]string{"-127.0.0.1"}, "127.0.0.1"},
		{[]string{"::"}, "::1"}, {[]string{"10.1.2.3", "::1"}, "::1"}, {[]string{"-10.1.2.3"}, "10.1.2.3"}, {nil, "127.0.0.1"}, {[]string{}, "127.0.0.1"},
	} {
		if got := (ComposeOptions{Listen: tt.listen}).healthHost(); got != tt.want {
			t.Errorf("healthHost(%q) = %s, want %s", tt.listen, got, tt.want)
		}
	}
}

// TestHealthCommandOnServer runs the health check's shell command against
// a real server, with the secret file where docker would mount it moved to
// a temporary file: it passes with the health password and fails without.
func TestHealthCommandOnServer(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-cli not installed (required in CI)")
		}
		t.Skip("redis-cli not installed")
	}
	for _, mutual := range []bool{false, true} {
		t.Run(map[bool]string{false: "password", true: "mutual TLS"}[mutual], func(t *testing.T) {
			t.Parallel()
			s := startServer(t, Spec{MutualTLS: mutual}, Users{})
			run := func(password string) error {
				secret := filepath.Join(t.TempDir(), "health secret")
				if err := os.WriteFile(secret, []byte(password+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := HealthCommand(s.Spec, ComposeOptions{HealthUser: s.Users.Health.Name})
				cmd = strings.Replace(cmd, shQuote(path.Join("/run/secrets", HealthSecret)), shQuote(secret), 1)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				c := exec.CommandContext(ctx, "sh", "-c", cmd)
				c.Env = append(os.Environ(), "REDISCLI_AUTH=") // nothing inherited
				out, err := c.CombinedOutput()
				if strings.Contains(string(out), password) {
					t.Errorf("the health check printed the password: %s", out)
				}
				return err
			}
			if err := run(s.Users.Health.Password); err != nil {
				t.Fatalf("health check failed against a healthy server: %v", err)
			}
			if err := run(s.Users.App.Password); err == nil {
				t.Fatal("health check passed with the wrong password")
			}
			s.stop()
			if err := run(s.Users.Health.Password); err == nil {
				t.Fatal("health check passed with the server stopped")
			}
		})
	}
}
