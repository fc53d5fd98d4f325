// Package keyspacetest starts servers and fills and reads them in bulk for
// the tests of the keyspace jobs.
package keyspacetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// AppPassword is the app user's password on servers from Start.
const AppPassword = "app-password-for-tests-0123456789"

// Server is a redis-server with the app user of `redsafe conf`
// (serverconf.AppRules: no Lua, no DUMP/RESTORE), next to the default user,
// which may do anything.
type Server struct {
	*redisserver.Server
	Admin keyspace.Target // the default user
	App   keyspace.Target // the app user
}

// Start starts a TLS server, or a plaintext one.
func Start(t testing.TB, plaintext bool) *Server {
	t.Helper()
	srv := redisserver.Start(t, redisserver.Config{
		Plaintext: plaintext,
		Users:     []redisserver.User{{Name: serverconf.AppName, Password: AppPassword, Rules: serverconf.AppRules("*")}},
	})
	s := &Server{Server: srv}
	s.Admin = keyspace.Target{Addr: srv.Addr, TLS: srv.TLSConfig(), Password: srv.Password, Name: "test-admin"}
	s.App = keyspace.Target{Addr: srv.Addr, TLS: srv.TLSConfig(), Username: serverconf.AppName, Password: AppPassword, Name: "test-app"}
	return s
}

// Dial connects to db as target and closes the client when the test ends.
func Dial(t testing.TB, target keyspace.Target, db int) rueidis.Client {
	t.Helper()
	c, err := target.Dial(db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Context is a context that ends with the test, or after a minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Entry is one string key: its value and its absolute expiry in Unix
// milliseconds (0: none).
type Entry struct {
	Key, Value string
	Deadline   int64
}

const chunk = 5000

// Put writes entries, pipelined.
func Put(t testing.TB, c rueidis.Client, entries []Entry) {
	t.Helper()
	ctx := Context(t)
	for len(entries) > 0 {
		n := min(len(entries), chunk)
		cmds := make(rueidis.Commands, n)
		for i, e := range entries[:n] {
			set := c.B().Set().Key(e.Key).Value(e.Value)
			if e.Deadline > 0 {
				cmds[i] = set.PxatMillisecondsTimestamp(e.Deadline).Build()
			} else {
				cmds[i] = set.Build()
			}
		}
		for _, r := range c.DoMulti(ctx, cmds...) {
			if err := r.Error(); err != nil {
				t.Fatal(err)
			}
		}
		entries = entries[n:]
	}
}

// Read returns what keys hold: their values, and absolute expiries in
// Unix milliseconds (-1: none). A key without a string value is absent
// from the map. It reads with GET, key by key, so that it works on a
// cluster client too, where MGET may not cross slots.
func Read(t testing.TB, c rueidis.Client, keys []string) map[string]Entry {
	t.Helper()
	ctx := Context(t)
	out := make(map[string]Entry, len(keys))
	for len(keys) > 0 {
		n := min(len(keys), chunk)
		var cmds rueidis.Commands
		for _, k := range keys[:n] {
			cmds = append(cmds, c.B().Get().Key(k).Build(), c.B().Pexpiretime().Key(k).Build())
		}
		res := c.DoMulti(ctx, cmds...)
		for i, k := range keys[:n] {
			v, err := res[2*i].ToString()
			if err != nil {
				if rueidis.IsRedisNil(err) || strings.HasPrefix(err.Error(), "WRONGTYPE") {
					continue
				}
				t.Fatal(err)
			}
			d, err := res[2*i+1].AsInt64()
			if err != nil {
				t.Fatal(err)
			}
			out[k] = Entry{Key: k, Value: v, Deadline: d}
		}
		keys = keys[n:]
	}
	return out
}

// Do runs one command and fails the test on an error reply.
func Do(t testing.TB, c rueidis.Client, args ...string) rueidis.RedisResult {
	t.Helper()
	r := c.Do(Context(t), c.B().Arbitrary(args...).Build())
	if err := r.Error(); err != nil && !rueidis.IsRedisNil(err) {
		t.Fatalf("%v: %v", args, err)
	}
	return r
}

// Cluster is a three-master Redis Cluster with the users the jobs run as.
type Cluster struct {
	*redisserver.Cluster
	Admin keyspace.Target // "~* &* +@all", at the first master
	App   keyspace.Target // the app user of `redsafe conf`, at the second
	// Nodes are the masters and Owners who serves which slots, as
	// keyspace.Target.Cluster reads them.
	Nodes  []string
	Owners string
}

// StartCluster starts a cluster (redisserver.StartCluster), stopped when
// the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	adminPW, appPW := redsafe.GeneratePassword(redsafe.Production), redsafe.GeneratePassword(redsafe.Production)
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 3, Users: []redisserver.User{
		{Name: "admin", Password: adminPW, Rules: "~* &* +@all"},
		{Name: serverconf.AppName, Password: appPW, Rules: serverconf.AppRules("*")},
	}})
	c := &Cluster{Cluster: cl,
		Admin: keyspace.Target{Addr: cl.Masters[0].Addr, TLS: cl.Masters[0].TLSConfig(), Username: "admin", Password: adminPW},
		App:   keyspace.Target{Addr: cl.Masters[1].Addr, TLS: cl.Masters[1].TLSConfig(), Username: serverconf.AppName, Password: appPW},
	}
	view, err := c.App.Cluster()
	if err != nil || view == nil || len(view.Masters) != 3 {
		t.Fatalf("Cluster = %+v, %v", view, err)
	}
	c.Nodes, c.Owners = view.Masters, view.Owners
	return c
}
