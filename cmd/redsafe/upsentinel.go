package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/secretfile"
	"github.com/redsafe/redsafe/internal/sentinelinfo"
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
				master, _ = sentinelinfo.Addr(sentinelField(m, "ip"), sentinelField(m, "port"))
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
	// Then every replica's link is up: until then it holds no data, and
	// a failover onto it would lose everything.
	for _, n := range l.nodes {
		if hostPort("127.0.0.1", n.port) == master {
			continue
		}
		for {
			role, err := l.adminDo(n.port, "ROLE")
			lines := strings.Split(role, "\n")
			if err == nil && len(lines) >= 4 && lines[0] == "slave" && lines[3] == "connected" && replicates(lines[1], strings.TrimPrefix(lines[2], ":"), master) {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("replica 127.0.0.1:%d did not link to the master %s (ROLE: %q): %w; its log is %s", n.port, master, strings.ReplaceAll(role, "\n", " "), ctx.Err(), rel(n.server.LogFile))
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	fmt.Fprintf(out, "the %d Sentinels see the master, its %d replica(s) and each other; the master is %s now, every replica linked\n", len(l.sentinels), l.shape.replicas, master)
	return nil
}

// awaitFailover is where the running Sentinels say the master is, ""
// when none runs. When they name a data node that is stopped while
// another runs, it waits (up to ctx) for them to fail over first: with
// persistence off, the old master would come back empty, still named the
// master, and its replicas would copy that.
func (l *local) awaitFailover(ctx context.Context, out io.Writer, stopped []localNode) (string, error) {
	isStopped := func(addr string) bool {
		return slices.ContainsFunc(stopped, func(n localNode) bool { return hostPort("127.0.0.1", n.port) == addr })
	}
	anyDataRunning := slices.ContainsFunc(l.nodes, func(n localNode) bool { return !isStopped(hostPort("127.0.0.1", n.port)) })
	said := false
	for {
		master := l.sentinelsMaster()
		if master == "" || !isStopped(master) || !anyDataRunning {
			return master, nil
		}
		if !said {
			fmt.Fprintf(out, "the Sentinels still name %s, which is stopped, as the master: waiting for them to fail over to a running replica before restarting it (it would come back empty)\n", master)
			said = true
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the Sentinels did not fail over from the stopped master %s: %w; check `redsafe status`", master, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sentinelsMaster is the master the first running Sentinel names, or "".
func (l *local) sentinelsMaster() string {
	for _, s := range l.sentinels {
		if _, running := s.server.Pid(); !running {
			continue
		}
		if reply, err := l.adminDo(s.port, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", serverconf.DefaultMasterSet); err == nil {
			if hp := strings.Split(reply, "\n"); len(hp) == 2 {
				addr, _ := sentinelinfo.Addr(hp[0], hp[1])
				return addr
			}
		}
	}
	return ""
}

// replicates reports whether a ROLE reply's master, host and port, is
// master (as sentinelinfo.Addr writes addresses).
func replicates(host, port, master string) bool {
	addr, err := sentinelinfo.Addr(host, port)
	return err == nil && addr == master
}

// rejoin makes every data node this run started that is not the master
// the Sentinels name a replica of it at once: its redis.conf may still
// say it is the master (it was stopped before the Sentinels could rewrite
// it), and until they notice, it would serve an empty keyspace as one.
func (l *local) rejoin(master string, started []localNode, out io.Writer) error {
	host, port, ok := strings.Cut(master, ":")
	if !ok {
		return nil
	}
	for _, n := range started {
		if n.server.Sentinel || hostPort("127.0.0.1", n.port) == master {
			continue
		}
		role, err := l.adminDo(n.port, "ROLE")
		if err != nil {
			return fmt.Errorf("node 127.0.0.1:%d: %w", n.port, err)
		}
		if strings.HasPrefix(role, "master") {
			if _, err := l.adminDo(n.port, "REPLICAOF", host, port); err != nil {
				return fmt.Errorf("node 127.0.0.1:%d: REPLICAOF %s: %w", n.port, master, err)
			}
			fmt.Fprintf(out, "127.0.0.1:%d came back as a master; made it a replica of %s, the master the Sentinels name\n", n.port, master)
		}
	}
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
