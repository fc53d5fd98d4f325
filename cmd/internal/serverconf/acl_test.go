package serverconf

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe"
)

var hashRule = regexp.MustCompile(`(?:^| )#([0-9a-f]{64})(?: |$)`)

// TestACLFile: four users, the default one switched off, each password only
// as the SHA-256 hash of itself, never in plaintext or as a '>' rule.
func TestACLFile(t *testing.T) {
	t.Parallel()
	s := validSpec()
	s.KeyPattern = "svc:*"
	u := NewUsers(redsafe.Production)
	acl, err := ACL(s, u)
	if err != nil {
		t.Fatal(err)
	}
	text := string(acl)
	for _, x := range u.list() {
		if strings.Contains(text, x.Password) {
			t.Fatalf("the ACL file contains the plaintext password of %s", x.Name)
		}
	}
	if strings.Contains(text, ">") || strings.Contains(text, "nopass") {
		t.Fatalf("the ACL file has a plaintext password rule or nopass:\n%s", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 4 || !strings.HasSuffix(text, "\n") {
		t.Fatalf("want 4 lines, got %d:\n%s", len(lines), text)
	}
	if lines[0] != "user default off resetpass resetkeys resetchannels -@all" {
		t.Errorf("default user: %s", lines[0])
	}
	for i, x := range u.list() {
		line := lines[i+1]
		if !strings.HasPrefix(line, "user "+x.Name+" on #") {
			t.Errorf("line %d does not define %s with a hash: %s", i+2, x.Name, line)
		}
		m := hashRule.FindAllStringSubmatch(line, -1)
		sum := sha256.Sum256([]byte(x.Password))
		if len(m) != 1 || m[0][1] != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: want exactly the SHA-256 of its password, got %v", x.Name, m)
		}
	}
	if want := "user " + u.App.Name + " on #"; !strings.Contains(lines[2], " "+AppRules("svc:*")) || !strings.HasPrefix(lines[2], want) {
		t.Errorf("app line does not carry AppRules: %s", lines[2])
	}
	if !strings.HasSuffix(lines[1], " "+AdminRules) || !strings.HasSuffix(lines[3], " "+HealthRules) {
		t.Errorf("admin/health rules: %s / %s", lines[1], lines[3])
	}
}

func TestAppRules(t *testing.T) {
	t.Parallel()
	if AppRules("") != AppRules("*") {
		t.Fatal(`AppRules("") differs from AppRules("*")`)
	}
	r := AppRules("svc:*")
	fields := strings.Fields(r)
	if fields[0] != "resetkeys" || fields[1] != "~svc:*" {
		t.Fatalf("rules must reset keys, then grant only the pattern: %s", r)
	}
	// Every grant comes before every denial, so the denials win.
	lastPlus, firstMinus := -1, len(fields)
	for i, f := range fields {
		switch {
		case strings.HasPrefix(f, "+"):
			lastPlus = i
		case strings.HasPrefix(f, "-") && f != "-@all" && i < firstMinus:
			firstMinus = i
		}
	}
	if lastPlus > firstMinus {
		t.Fatalf("a grant follows a denial: %s", r)
	}
	// The file names what it refuses, even where -@all already did.
	for _, deny := range []string{"-@dangerous", "-@scripting", "-@admin", "-flushall", "-flushdb", "-keys", "-config", "-debug", "-module", "-shutdown", "-migrate"} {
		if !slices.Contains(fields, deny) {
			t.Errorf("app rules lack %s", deny)
		}
	}
	for _, f := range fields {
		if f == "~*" || f == "allkeys" || f == "+@all" || f == "allcommands" || strings.HasPrefix(f, "&") || f == "allchannels" {
			t.Fatalf("app rules grant %s: %s", f, r)
		}
	}
}

// TestUsersRefused: bad names and weak, shared or unreadable passwords are
// refused, and no error message contains any password.
func TestUsersRefused(t *testing.T) {
	t.Parallel()
	good := NewUsers(redsafe.Production)
	for _, tt := range []struct {
		name   string
		env    redsafe.Environment
		modify func(*Users)
		want   string
	}{
		{"short", redsafe.Production, func(u *Users) { u.App.Password = "Zt8Kp3vQ9wLm2Xr7Yb4Nc6Hd1Jf5Gs0" }, `password of "app"`},
		{"low entropy", redsafe.Production, func(u *Users) { u.App.Password = strings.Repeat("ab", 30) }, `password of "app"`},
		{"one character", redsafe.Production, func(u *Users) { u.Admin.Password = strings.Repeat("x", 64) }, `password of "admin"`},
		{"empty", redsafe.Testing, func(u *Users) { u.Health.Password = "" }, `password of "health"`},
		{"testing minimum", redsafe.Testing, func(u *Users) { u.App.Password = "a1B2c3D4e5" }, `password of "app"`},
		{"production password in staging is fine, staging in production not", redsafe.Production,
			func(u *Users) { u.App.Password = redsafe.GeneratePassword(redsafe.Staging) }, `password of "app"`},
		// Long and "random-looking" by the entropy estimate, yet refused by
		// the client's policy: a server must never hold a password its
		// clients refuse to send.
		{"repeated pattern", redsafe.Production, func(u *Users) { u.App.Password = strings.Repeat("aB3$eF7!", 8) }, "repeats one short pattern"},
		{"placeholder", redsafe.Production, func(u *Users) {
			u.App.Password = "ChangeMe-" + redsafe.GeneratePassword(redsafe.Production)
		}, "placeholder"},
		{"characters, not bytes", redsafe.Development, func(u *Users) {
			u.App.Password = "日本語中文한국어ÄÖÜßéèêëàâçñøå" // 22 characters, 52 bytes, 146 bits
		}, "22 characters"},
		{"newline", redsafe.Production, func(u *Users) {
			u.App.Password = redsafe.GeneratePassword(redsafe.Production) + "\nX"
		}, "newline or control character"},
		{"trailing space", redsafe.Production, func(u *Users) {
			u.App.Password = redsafe.GeneratePassword(redsafe.Production) + " "
		}, "starts or ends with a space"},
		{"shared admin and health", redsafe.Production, func(u *Users) { u.Health.Password = u.Admin.Password }, `users "admin" and "health" share a password`},
		{"name with rules", redsafe.Production, func(u *Users) { u.App.Name = "app on nopass +@all" }, "user name"},
		{"name with newline", redsafe.Production, func(u *Users) { u.App.Name = "app\nuser x" }, "user name"},
		{"name with ACL syntax", redsafe.Production, func(u *Users) { u.Health.Name = ">pw" }, "user name"},
		{"default user", redsafe.Production, func(u *Users) { u.App.Name = "default" }, `"default" is reserved`},
		{"duplicate name", redsafe.Production, func(u *Users) { u.Health.Name = "admin" }, `"admin" is used twice`},
		{"too long name", redsafe.Production, func(u *Users) { u.App.Name = strings.Repeat("a", 65) }, "user name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := good
			tt.modify(&u)
			s := validSpec()
			s.Environment = tt.env
			acl, err := ACL(s, u)
			if err == nil {
				t.Fatalf("ACL accepted:\n%s", acl)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error does not say %q: %v", tt.want, err)
			}
			for _, x := range u.list() {
				for _, secret := range []string{x.Password, strings.TrimSpace(x.Password)} {
					if len(secret) >= 8 && strings.Contains(msg, secret) {
						t.Fatalf("the error contains the password of %s: %v", x.Name, err)
					}
				}
			}
			if _, err := Deployment(s, u, ComposeOptions{}); err == nil {
				t.Error("Deployment accepted what ACL refused")
			}
		})
	}
}

// TestNewUsers: the generated users pass every environment's policy, the
// client's included, with three different passwords and default names.
func TestNewUsers(t *testing.T) {
	t.Parallel()
	for _, env := range []redsafe.Environment{redsafe.Production, redsafe.Staging, redsafe.Development, redsafe.Testing} {
		u := NewUsers(env)
		if u.Admin.Name != AdminName || u.App.Name != AppName || u.Health.Name != HealthName {
			t.Fatalf("%s: names %+v", env, u)
		}
		if u.Admin.Password == u.App.Password || u.App.Password == u.Health.Password || u.Admin.Password == u.Health.Password {
			t.Fatalf("%s: passwords are shared", env)
		}
		s := validSpec()
		s.Environment = env
		if _, err := ACL(s, u); err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		for _, x := range u.list() {
			r := redsafe.Validate(redsafe.Options{Environment: env, URL: "rediss://127.0.0.1/0", Password: x.Password, EncryptionKey: "x"})
			for _, f := range r.Errors() {
				if strings.HasPrefix(f.ID, "auth.") {
					t.Errorf("%s: the client refuses the %s password: %s", env, x.Name, f.Message)
				}
			}
		}
	}
	// Empty names get the defaults.
	u := NewUsers(redsafe.Production)
	u.Admin.Name, u.App.Name, u.Health.Name = "", "", ""
	acl, err := ACL(validSpec(), u)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"admin", "app", "health"} {
		if !strings.Contains(string(acl), "\nuser "+n+" on #") {
			t.Errorf("no user %s:\n%s", n, acl)
		}
	}
}

// TestACLOnServer checks what a real redis-server makes of the ACL file:
// ACL DRYRUN (Redis 7) asks the server itself whether a user may run a
// command, without running it.
func TestACLOnServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{KeyPattern: "svc:*"}, Users{})
	admin := s.login(t, s.Users.Admin)
	dryrun := func(user string, args ...string) string {
		t.Helper()
		reply := do(t, admin, append([]string{"ACL", "DRYRUN", user}, args...)...)
		if strings.HasPrefix(reply, "-") {
			t.Fatalf("ACL DRYRUN %s %q: %s", user, args, reply) // unknown command or syntax: the test is wrong
		}
		return reply
	}
	refused := func(user string, args ...string) {
		t.Helper()
		if reply := dryrun(user, args...); !strings.Contains(reply, "no permissions") {
			t.Errorf("%s may run %q: %s", user, args, reply)
		}
	}
	allowed := func(user string, args ...string) {
		t.Helper()
		if reply := dryrun(user, args...); reply != "+OK" {
			t.Errorf("%s may not run %q: %s", user, args, reply)
		}
	}

	app := s.Users.App.Name
	t.Run("app refused", func(t *testing.T) {
		for _, args := range [][]string{
			{"FLUSHALL"}, {"FLUSHDB"}, {"KEYS", "*"}, {"KEYS", "svc:*"},
			{"CONFIG", "GET", "maxmemory"}, {"CONFIG", "SET", "maxmemory", "0"}, {"CONFIG", "REWRITE"},
			{"DEBUG", "SLEEP", "0"}, {"MODULE", "LIST"}, {"MODULE", "LOAD", "/tmp/x.so"},
			{"SHUTDOWN"}, {"MIGRATE", "127.0.0.1", "1", "svc:1", "0", "1000"},
			{"EVAL", "return 1", "0"}, {"EVAL_RO", "return 1", "0"}, {"EVALSHA", strings.Repeat("a", 40), "0"},
			{"FCALL", "f", "0"}, {"FUNCTION", "LIST"}, {"FUNCTION", "FLUSH"}, {"SCRIPT", "FLUSH"}, {"SCRIPT", "LOAD", "return 1"},
			{"CLIENT", "KILL", "ID", "1"}, {"CLIENT", "LIST"}, {"CLIENT", "PAUSE", "1000"}, {"CLIENT", "UNPAUSE"},
			{"CLIENT", "UNBLOCK", "1"}, {"CLIENT", "NO-EVICT", "ON"},
			{"ACL", "LIST"}, {"ACL", "SETUSER", "x"}, {"ACL", "WHOAMI"},
			{"INFO"}, {"MONITOR"}, {"SLAVEOF", "NO", "ONE"}, {"REPLICAOF", "NO", "ONE"}, {"SAVE"}, {"BGSAVE"},
			{"BGREWRITEAOF"}, {"LASTSAVE"}, {"SLOWLOG", "GET"}, {"LATENCY", "LATEST"}, {"FAILOVER"}, {"SWAPDB", "0", "1"},
			{"MOVE", "svc:1", "1"}, {"RENAME", "svc:1", "svc:2"}, {"COPY", "svc:1", "svc:2"},
			{"DUMP", "svc:1"}, {"RESTORE", "svc:1", "0", "x"}, {"SORT", "svc:1"}, {"OBJECT", "ENCODING", "svc:1"},
			{"MEMORY", "USAGE", "svc:1"}, {"RANDOMKEY"}, {"DBSIZE"},
			{"INCR", "svc:1"}, {"APPEND", "svc:1", "x"}, {"SETRANGE", "svc:1", "0", "x"},
			{"SUBSCRIBE", "ch"}, {"PSUBSCRIBE", "*"}, {"PUBLISH", "ch", "x"}, {"SPUBLISH", "ch", "x"},
			{"HSET", "svc:h", "f", "v"}, {"LPUSH", "svc:l", "x"}, {"XADD", "svc:s", "*", "f", "v"},
			{"BLPOP", "svc:l", "0"},
		} {
			refused(app, args...)
		}
	})
	t.Run("app outside its key pattern", func(t *testing.T) {
		for _, args := range [][]string{
			{"GET", "other:1"}, {"SET", "other:1", "v"}, {"DEL", "other:1"}, {"UNLINK", "svc:1", "other:1"},
			{"MGET", "svc:1", "other:1"}, {"MSET", "svc:1", "v", "other:1", "v"}, {"EXISTS", "other:1"},
			{"PTTL", "other:1"}, {"EXPIRE", "other:1", "10"}, {"GETDEL", "other:1"}, {"WATCH", "other:1"},
			{"GET", "svc"}, {"GET", "SVC:1"}, {"GET", "xsvc:1"},
		} {
			refused(app, args...)
		}
	})
	t.Run("app allowed", func(t *testing.T) {
		for _, args := range [][]string{
			{"GET", "svc:1"}, {"SET", "svc:1", "v"}, {"SET", "svc:1", "v", "PX", "1000", "NX"}, {"SET", "svc:1", "v", "KEEPTTL", "GET"},
			{"SETEX", "svc:1", "10", "v"}, {"PSETEX", "svc:1", "10", "v"}, {"GETEX", "svc:1", "EX", "10"}, {"GETDEL", "svc:1"},
			{"DEL", "svc:1"}, {"UNLINK", "svc:1", "svc:2"}, {"MGET", "svc:1", "svc:2"}, {"MSET", "svc:1", "a", "svc:2", "b"},
			{"EXISTS", "svc:1"}, {"TYPE", "svc:1"}, {"TTL", "svc:1"}, {"PTTL", "svc:1"}, {"EXPIRETIME", "svc:1"}, {"PEXPIRETIME", "svc:1"},
			{"EXPIRE", "svc:1", "10"}, {"PEXPIRE", "svc:1", "10"}, {"EXPIREAT", "svc:1", "1"}, {"PEXPIREAT", "svc:1", "1"}, {"PERSIST", "svc:1"},
			{"SCAN", "0"}, {"SCAN", "0", "MATCH", "svc:*", "COUNT", "100"},
			{"WATCH", "svc:1"}, {"UNWATCH"}, {"MULTI"}, {"EXEC"}, {"DISCARD"}, {"WAIT", "1", "100"},
			{"CLIENT", "TRACKING", "ON", "OPTIN"}, {"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "svc:"}, {"CLIENT", "CACHING", "YES"},
			{"CLIENT", "ID"}, {"CLIENT", "SETNAME", "x"}, {"CLIENT", "GETNAME"}, {"CLIENT", "INFO"},
			{"HELLO", "3"}, {"PING"}, {"ECHO", "x"}, {"SELECT", "0"},
			{"UNSUBSCRIBE"}, {"PUNSUBSCRIBE"}, {"SUNSUBSCRIBE"},
		} {
			allowed(app, args...)
		}
	})
	// The denials come after the allow list, so they still hold if that
	// list ever grows by mistake: here, as far as it can grow (+@all).
	t.Run("denials win over a grown allow list", func(t *testing.T) {
		rules := strings.Fields(AppRules("svc:*"))
		i := slices.Index(rules, "-@all")
		if i < 0 {
			t.Fatalf("no -@all in %v", rules)
		}
		grown := append(append(append([]string{}, rules[:i+1]...), "+@all"), rules[i+1:]...)
		setuser := append([]string{"ACL", "SETUSER", "grown", "on", "nopass"}, grown...)
		if reply := do(t, admin, setuser...); reply != "+OK" {
			t.Fatalf("ACL SETUSER: %s", reply)
		}
		allowed("grown", "INCR", "svc:1") // +@all took effect
		for _, args := range [][]string{
			{"FLUSHALL"}, {"FLUSHDB"}, {"KEYS", "*"}, {"CONFIG", "GET", "maxmemory"}, {"DEBUG", "SLEEP", "0"},
			{"MODULE", "LIST"}, {"SHUTDOWN"}, {"MIGRATE", "127.0.0.1", "1", "svc:1", "0", "1000"},
			{"EVAL", "return 1", "0"}, {"EVALSHA", strings.Repeat("a", 40), "0"}, {"FCALL", "f", "0"},
			{"FUNCTION", "LIST"}, {"SCRIPT", "FLUSH"}, {"CLIENT", "KILL", "ID", "1"}, {"CLIENT", "LIST"},
			{"ACL", "SETUSER", "x"}, {"MONITOR"}, {"SAVE"}, {"REPLICAOF", "NO", "ONE"}, {"SORT", "svc:1"},
		} {
			refused("grown", args...)
		}
		refused("grown", "GET", "other:1") // and the key pattern still binds
		if reply := do(t, admin, "ACL", "DELUSER", "grown"); reply != ":1" {
			t.Fatalf("ACL DELUSER: %s", reply)
		}
	})
	t.Run("health", func(t *testing.T) {
		h := s.Users.Health.Name
		allowed(h, "PING")
		for _, args := range [][]string{
			{"GET", "svc:1"}, {"SET", "svc:1", "v"}, {"ECHO", "x"}, {"INFO"}, {"CLIENT", "LIST"}, {"SCAN", "0"},
			{"SUBSCRIBE", "ch"}, {"CONFIG", "GET", "port"}, {"FLUSHALL"},
		} {
			refused(h, args...)
		}
	})
	t.Run("default user", func(t *testing.T) {
		refused("default", "PING")
		refused("default", "GET", "k")
	})
	t.Run("admin", func(t *testing.T) {
		a := s.Users.Admin.Name
		for _, args := range [][]string{{"FLUSHALL"}, {"CONFIG", "GET", "port"}, {"GET", "anything"}, {"ACL", "LIST"}, {"PUBLISH", "ch", "x"}} {
			allowed(a, args...)
		}
	})

	// What the server understood, as ACL LIST shows it.
	t.Run("ACL LIST", func(t *testing.T) {
		list := do(t, admin, "ACL", "LIST")
		users := map[string]string{}
		for _, line := range strings.Split(list, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 || f[0] != "user" {
				t.Fatalf("ACL LIST line %q", line)
			}
			users[f[1]] = " " + line + " "
		}
		if len(users) != 4 {
			t.Fatalf("want 4 users:\n%s", list)
		}
		def := users["default"]
		if !strings.Contains(def, " off ") || strings.Contains(def, " on ") || strings.Contains(def, "nopass") ||
			strings.Contains(def, "#") || strings.Contains(def, "~") || strings.Contains(def, " +") {
			t.Errorf("default user: %s", def)
		}
		appLine := users[app]
		if !strings.Contains(appLine, " ~svc:* ") || strings.Contains(appLine, "~* ") || strings.Contains(appLine, " &") ||
			strings.Contains(appLine, "+@all") || strings.Contains(appLine, "allkeys") {
			t.Errorf("app user: %s", appLine)
		}
		if h := users[s.Users.Health.Name]; strings.Contains(h, "~") || strings.Contains(h, " &") || !strings.HasSuffix(h, " -@all +ping ") {
			t.Errorf("health user: %s", h)
		}
	})
}

// TestUsersOnServer uses the users for real, each on its own connection.
func TestUsersOnServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{KeyPattern: "svc:*"}, Users{})

	t.Run("no AUTH", func(t *testing.T) {
		c := s.connect(t)
		for _, args := range [][]string{{"PING"}, {"GET", "svc:1"}, {"SET", "svc:1", "v"}, {"CONFIG", "GET", "port"}, {"FLUSHALL"}} {
			if reply := do(t, c, args...); !strings.HasPrefix(reply, "-NOAUTH") {
				t.Errorf("%q without AUTH: %s", args, reply)
			}
		}
	})
	t.Run("default user is off", func(t *testing.T) {
		c := s.connect(t)
		// Not even with a real password: the default user cannot log in.
		for _, args := range [][]string{
			{"AUTH", s.Users.Admin.Password}, {"AUTH", "default", s.Users.Admin.Password}, {"AUTH", "default", ""},
			{"HELLO", "3", "AUTH", "default", s.Users.App.Password},
		} {
			if reply := do(t, c, args...); !strings.HasPrefix(reply, "-WRONGPASS") {
				t.Errorf("%s: %s", args[0], reply)
			}
		}
		if reply := do(t, c, "PING"); !strings.HasPrefix(reply, "-NOAUTH") {
			t.Errorf("PING after failed logins: %s", reply)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		c := s.connect(t)
		if reply := do(t, c, "AUTH", s.Users.App.Name, s.Users.Admin.Password); !strings.HasPrefix(reply, "-WRONGPASS") {
			t.Errorf("app with admin's password: %s", reply)
		}
		// The hash itself is not a password.
		sum := sha256.Sum256([]byte(s.Users.App.Password))
		if reply := do(t, c, "AUTH", s.Users.App.Name, hex.EncodeToString(sum[:])); !strings.HasPrefix(reply, "-WRONGPASS") {
			t.Errorf("app with its hash: %s", reply)
		}
	})
	t.Run("app", func(t *testing.T) {
		c := s.login(t, s.Users.App)
		for _, x := range []struct {
			args []string
			want string
		}{
			{[]string{"SET", "svc:1", "v", "EX", "60"}, "+OK"},
			{[]string{"GET", "svc:1"}, "v"},
			{[]string{"PTTL", "svc:1"}, ":"},
			{[]string{"SET", "other:1", "v"}, "-NOPERM"},
			{[]string{"GET", "other:1"}, "-NOPERM"},
			{[]string{"FLUSHALL"}, "-NOPERM"},
			{[]string{"FLUSHDB"}, "-NOPERM"},
			{[]string{"KEYS", "*"}, "-NOPERM"},
			{[]string{"CONFIG", "GET", "*"}, "-NOPERM"},
			{[]string{"EVAL", "return redis.call('flushall')", "0"}, "-NOPERM"},
			{[]string{"SCRIPT", "LOAD", "return 1"}, "-NOPERM"},
			{[]string{"FUNCTION", "LIST"}, "-NOPERM"},
			{[]string{"CLIENT", "LIST"}, "-NOPERM"},
			{[]string{"CLIENT", "KILL", "ID", "1"}, "-NOPERM"},
			{[]string{"SHUTDOWN", "NOSAVE"}, "-NOPERM"},
			{[]string{"DEBUG", "SLEEP", "0"}, "-"}, // enable-debug-command answers before the ACL does
			{[]string{"ACL", "SETUSER", "app", "+@all"}, "-NOPERM"},
			{[]string{"DEL", "svc:1"}, ":1"},
		} {
			if reply := do(t, c, x.args...); !strings.HasPrefix(reply, x.want) {
				t.Errorf("app %q = %q, want %s", x.args, reply, x.want)
			}
		}
		// Nothing outside the pattern was touched: the admin's key survives.
		if reply := s.admin(t, "SET", "other:keep", "x"); reply != "+OK" {
			t.Fatal(reply)
		}
		do(t, c, "FLUSHALL")
		if reply := s.admin(t, "GET", "other:keep"); reply != "x" {
			t.Fatalf("admin's key after the app's FLUSHALL: %q", reply)
		}
	})
	t.Run("health", func(t *testing.T) {
		c := s.login(t, s.Users.Health)
		if reply := do(t, c, "PING"); reply != "+PONG" {
			t.Errorf("PING: %s", reply)
		}
		for _, args := range [][]string{{"GET", "svc:1"}, {"SET", "svc:1", "v"}, {"INFO"}, {"CLIENT", "ID"}} {
			if reply := do(t, c, args...); !strings.HasPrefix(reply, "-NOPERM") {
				t.Errorf("health %q: %s", args, reply)
			}
		}
	})
	t.Run("admin cannot reach code execution", func(t *testing.T) {
		c := s.login(t, s.Users.Admin)
		for _, x := range []struct {
			args []string
			want string
		}{
			{[]string{"DEBUG", "SLEEP", "0"}, "DEBUG command not allowed"},
			{[]string{"MODULE", "LOAD", "/nonexistent/module.so"}, "MODULE command not allowed"},
			{[]string{"CONFIG", "SET", "dir", "/tmp"}, "protected config"},
			{[]string{"CONFIG", "SET", "dbfilename", "x.rdb"}, "protected config"},
			{[]string{"CONFIG", "SET", "enable-debug-command", "yes"}, "immutable config"},
			{[]string{"CONFIG", "SET", "enable-module-command", "yes"}, "immutable config"},
		} {
			if reply := do(t, c, x.args...); !strings.HasPrefix(reply, "-ERR") || !strings.Contains(reply, x.want) {
				t.Errorf("admin %q = %q, want an error about %s", x.args, reply, x.want)
			}
		}
	})
}
