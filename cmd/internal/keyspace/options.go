package keyspace

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/seal"
)

// FromOptions applies the policy to opts and returns the target to work
// on as name, the database, and the sealer of its keys. For a REDIS_URL
// that names Sentinels (master_set=) the target is the master they name
// now, and it can ask them again after a failover (Target.Resolve).
// Errors name every problem and never contain a secret.
func FromOptions(ctx context.Context, opts redsafe.Options, name string, timeout time.Duration) (Target, int, *seal.Sealer, error) {
	conn, err := opts.MasterConnection(ctx)
	if err != nil {
		return Target{}, 0, nil, err
	}
	t := Target{Addr: conn.Addr, TLS: conn.TLS, NodeRoots: conn.NodeRootCAs, Username: conn.Username, Password: conn.Password, Name: name, DialTimeout: timeout}
	if opts.Credentials != nil {
		cr, err := opts.Credentials(ctx)
		if err != nil {
			return Target{}, 0, nil, fmt.Errorf("credentials: %w", err)
		}
		t.Username, t.Password = cr.Username, cr.Password
	}
	if conn.Sentinels != nil {
		t.Sentinels = conn.Sentinels.Describe()
		// Asking again as MasterConnection did: the Sentinels' password
		// file is read again, and the master verified the same way.
		t.Resolve = func(ctx context.Context) (string, *tls.Config, error) {
			c, err := opts.MasterConnection(ctx)
			if err != nil {
				return "", nil, err
			}
			return c.Addr, c.TLS, nil
		}
	}
	return t, conn.DB, conn.Sealer, nil
}
