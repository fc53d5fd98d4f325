package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/secretfile"
)

// `up --sentinel`: a TLS-only master and its replicas under nodes/, and
// upSentinels Sentinels under sentinels/, each its own process.

// sentinelUsers are the users a Sentinel deployment adds to the data
// nodes' (the monitor user, on the data nodes) and the Sentinels' own
// (the client user the service logs in as, the peer user they log into
// each other as). The admin user is the data nodes' admin on the
// Sentinels too.
type sentinelUsers struct {
	monitor, client, peer serverconf.User
}

// loadOrCreate reads the users' passwords from secrets/, or creates them.
func (u *sentinelUsers) loadOrCreate(guard upGuard, secrets string, env redsafe.Environment) (created bool, err error) {
	for _, p := range []struct {
		user *serverconf.User
		name string
	}{{&u.monitor, serverconf.SentinelMonitorName}, {&u.client, serverconf.SentinelClientName}, {&u.peer, serverconf.SentinelPeerName}} {
		pw, made, err := loadOrCreate(guard, filepath.Join(secrets, p.name+".password"), func() string { return redsafe.GeneratePassword(env) })
		if err != nil {
			return false, err
		}
		*p.user, created = serverconf.User{Name: p.name, Password: pw}, created || made
	}
	return created, nil
}

// envSpec points s at the Sentinels: the service asks them for the master.
func (u *sentinelUsers) envSpec(s *envSpec, sentinels []localNode, secrets string) {
	s.Port, s.Addrs = sentinels[0].port, nil
	for _, n := range sentinels[1:] {
		s.Addrs = append(s.Addrs, hostPort("127.0.0.1", n.port))
	}
	s.MasterSet = serverconf.DefaultMasterSet
	s.SentinelUser = u.client.Name
	s.SentinelPasswordFile = filepath.Join(secrets, u.client.Name+".password")
}

// writeSentinelConfs writes each Sentinel's sentinel.conf that is missing
// (0600: it holds the monitor user's password). One that exists is the
// Sentinel's own by now, rewritten with what it learned: it is kept.
func (l *local) writeSentinelConfs(env redsafe.Environment, certDir string, note func(string, ...any)) error {
	wrote := 0
	for _, n := range l.sentinels {
		if _, err := os.Lstat(n.server.Conf); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		conf, err := serverconf.SentinelConf(serverconf.SentinelSpec{
			Environment: env, Port: n.port, TLSDir: certDir,
			DataDir: n.server.Dir, PidFile: n.server.PidFile, LogFile: n.server.LogFile,
			MasterSet: serverconf.DefaultMasterSet, Master: hostPort("127.0.0.1", l.nodes[0].port),
			Monitor: l.sentinel.monitor, Peer: l.sentinel.peer, Admin: l.users.Admin, Client: l.sentinel.client,
		})
		if err != nil {
			return err
		}
		if err := secretfile.Create(n.server.Conf, conf); err != nil {
			return err
		}
		wrote++
	}
	if wrote > 0 {
		note("created %s: %d Sentinels, TLS only on ports %d-%d, down-after-milliseconds %d, quorum 2",
			rel(filepath.Dir(l.sentinels[0].server.Dir)), wrote, l.sentinels[0].port, l.sentinels[len(l.sentinels)-1].port, serverconf.DefaultDownAfter.Milliseconds())
	}
	return nil
}

// watched waits (up to ctx) until every Sentinel knows the master, its
// replicas and the other Sentinels, and says which node is the master
// now: after a failover it is no longer the one on the first port.
func (l *local) watched(ctx context.Context, out io.Writer) error {
	wantReplicas := "num-slaves\n" + strconv.Itoa(l.shape.replicas)
	wantPeers := "num-other-sentinels\n" + strconv.Itoa(len(l.sentinels)-1)
	var master, last string
	for _, s := range l.sentinels {
		for {
			m, err := l.adminDo(s.port, "SENTINEL", "MASTER", serverconf.DefaultMasterSet)
			if err == nil && strings.Contains(m, wantReplicas) && strings.Contains(m, wantPeers) && !strings.Contains(m, "s_down") {
				master = sentinelField(m, "ip") + ":" + sentinelField(m, "port")
				break
			}
			last = fmt.Sprint(err)
			if err == nil {
				last = fmt.Sprintf("%s of %d replicas, %s of %d other Sentinels, flags %s", sentinelField(m, "num-slaves"), l.shape.replicas,
					sentinelField(m, "num-other-sentinels"), len(l.sentinels)-1, sentinelField(m, "flags"))
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("Sentinel 127.0.0.1:%d does not see the whole deployment (%s): %w; its log is %s", s.port, last, ctx.Err(), rel(s.server.LogFile))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	fmt.Fprintf(out, "the %d Sentinels see the master, its %d replica(s) and each other; the master is %s now\n", len(l.sentinels), l.shape.replicas, master)
	return nil
}

// sentinelField is the value after name in a SENTINEL MASTER reply, which
// alternates names and values one per line.
func sentinelField(reply, name string) string {
	lines := strings.Split(reply, "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		if lines[i] == name {
			return lines[i+1]
		}
	}
	return "?"
}
