package serverconf

import (
	"testing"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redact/redacttest"
)

// TestPasswordsNeverPrinted: users and secret files print their names,
// never the passwords, however they are printed; a public file shows its
// content.
func TestPasswordsNeverPrinted(t *testing.T) {
	u := NewUsers(redsafe.Production)
	secret := File{Name: "secrets/app.password", Data: []byte(u.App.Password + "\n"), Secret: true}
	public := File{Name: "redis.conf", Data: []byte("port 0\n")}
	all := []string{u.Admin.Password, u.App.Password, u.Health.Password}
	for _, c := range []redacttest.Case{
		{Name: "User", Value: u.App, Shown: "app", Secrets: []string{u.App.Password}},
		{Name: "*User", Value: &u.App, Shown: "app", Secrets: []string{u.App.Password}},
		{Name: "Users", Value: u, Shown: "health", Secrets: all},
		{Name: "secret File", Value: secret, Shown: "secrets/app.password", Secrets: []string{u.App.Password}},
		{Name: "[]File", Value: []File{public, secret}, Shown: "port 0", Secrets: []string{u.App.Password}},
	} {
		redacttest.Check(t, c)
	}
}
