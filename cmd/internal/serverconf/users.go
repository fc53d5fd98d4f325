package serverconf

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/redsafe/redsafe"
)

// User is one ACL user and its plaintext password. The password only ever
// reaches the ACL file as a hash; operators get it from secrets/NAME.password.
type User struct{ Name, Password string }

// Users are the three users of a redsafe server:
//
//   - Admin: operations (every command and key); never give it to a service.
//   - App: the service's cache user, see AppRules.
//   - Health: PING only, for health checks; see HealthRules.
//
// Empty names default to "admin", "app" and "health".
type Users struct{ Admin, App, Health User }

// Default user names.
const (
	AdminName  = "admin"
	AppName    = "app"
	HealthName = "health"
)

// NewUsers returns the three users with fresh random passwords that meet the
// policy of env (redsafe.GeneratePassword), all different.
func NewUsers(env redsafe.Environment) Users {
	return Users{
		Admin:  User{AdminName, redsafe.GeneratePassword(env)},
		App:    User{AppName, redsafe.GeneratePassword(env)},
		Health: User{HealthName, redsafe.GeneratePassword(env)},
	}
}

func (u Users) withDefaults() Users {
	for _, d := range []struct {
		user *User
		name string
	}{{&u.Admin, AdminName}, {&u.App, AppName}, {&u.Health, HealthName}} {
		if d.user.Name == "" {
			d.user.Name = d.name
		}
	}
	return u
}

func (u Users) list() []User { return []User{u.Admin, u.App, u.Health} }

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// check refuses names that are not plain words (a space in a name would add
// ACL rules), the reserved "default", duplicates, and passwords that break
// env's policy or are shared between users: the health password sits in a
// container-readable file, so it must not also open the admin account.
func (u Users) check(env redsafe.Environment) error {
	p := redsafe.PolicyFor(env)
	var errs []error
	names := map[string]bool{}
	passwords := map[string]string{}
	for _, x := range u.list() {
		switch {
		case !userNameRE.MatchString(x.Name):
			errs = append(errs, fmt.Errorf("user name %q: use letters, digits, '.', '_' and '-' only", x.Name))
		case x.Name == "default":
			errs = append(errs, errors.New(`user name "default" is reserved: that user is always switched off`))
		case names[x.Name]:
			errs = append(errs, fmt.Errorf("user name %q is used twice", x.Name))
		}
		names[x.Name] = true
		switch problems := passwordProblems(x.Password, env); {
		case len(problems) > 0:
			// Never echo the password, only what is wrong with it.
			errs = append(errs, fmt.Errorf("the password of %q is refused by the %s policy (at least %d characters, %.0f bits): %s; generate one with `redsafe password --environment %s`",
				x.Name, env, p.MinPasswordLength, p.MinPasswordBits, strings.Join(problems, "; "), env))
		case passwords[x.Password] != "":
			errs = append(errs, fmt.Errorf("users %q and %q share a password; give each its own", passwords[x.Password], x.Name))
		}
		passwords[x.Password] = x.Name
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("serverconf: %w", err)
	}
	return nil
}

// passwordProblems is what is wrong with pw under env's policy, without the
// password itself. It applies the client's own rules (redsafe.Validate:
// length in characters, entropy, placeholders, repeated patterns), so that
// no server is configured with a password its clients refuse to send.
// Passwords also travel as one-line secret files that readers trim, so
// control characters and surrounding spaces are refused: the password read
// back would not be the one whose hash is in the ACL file.
func passwordProblems(pw string, env redsafe.Environment) []string {
	var out []string
	for _, f := range redsafe.Validate(redsafe.Options{Environment: env, Password: pw}).Errors() {
		if strings.HasPrefix(f.ID, "auth.password") {
			out = append(out, f.Message)
		}
	}
	switch {
	case strings.IndexFunc(pw, unicode.IsControl) >= 0:
		out = append(out, "the password contains a newline or control character")
	case strings.TrimSpace(pw) != pw:
		out = append(out, "the password starts or ends with a space")
	}
	return out
}
