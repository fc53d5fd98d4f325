package audit

import (
	"fmt"
	"log/slog"

	"github.com/redsafe/redsafe/internal/redact"
)

// endpointView is what an endpoint prints: never the password, the user
// only when it may be shown, keys by ID and TLS as a summary.
type endpointView struct {
	Addr     string
	DB       int
	TLS      string
	Username string
	Password string
	Keys     string
}

func (e endpoint) view() endpointView {
	v := endpointView{Addr: e.addr, DB: e.db, TLS: redact.TLS(e.tls), Username: e.username, Password: redact.Secret(e.password)}
	if e.userHidden {
		v.Username = redact.Secret(e.username)
	}
	if e.sealer != nil {
		v.Keys = e.sealer.String()
	}
	return v
}

// endpoint is unexported, but formatted so that no debugging line prints
// what it holds.
func (e endpoint) String() string                { return redact.String("audit.endpoint", e.view()) }
func (e endpoint) GoString() string              { return e.String() }
func (e endpoint) Format(f fmt.State, verb rune) { redact.Format(f, verb, e.String()) }
func (e endpoint) LogValue() slog.Value          { return redact.LogValue(e.view()) }
