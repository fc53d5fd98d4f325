package passrotate

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe/internal/termsafe"
)

// relinkTimeout bounds how long the replicas of a master may take to log
// in again once their links are cut: a replica retries once a second
// (Redis's replication cron).
const relinkTimeout = 15 * time.Second

// rewriteConfig saves n's configuration with CONFIG REWRITE when n runs
// from a file, so that a restart keeps the new masterauth. Redis 7.0
// writes that file with mode 0644 less its umask, and the file holds
// masterauth in clear: on a node reached over loopback whose file this
// process sees, the mode is narrowed back to 0600 at once; anywhere else
// the result says to check it.
func (n Server) rewriteConfig(r *Result) error {
	admin, err := n.admin()
	if err != nil {
		return err
	}
	defer admin.Close()
	v, err := admin.DoValue("INFO", "server")
	if err != nil {
		return fmt.Errorf("%s: INFO server: %w", n.Addr, err)
	}
	if v.IsError() {
		return fmt.Errorf("%s: INFO server: %s", n.Addr, errorCode("-"+v.Str))
	}
	path := infoFields(v.Str)["config_file"]
	if path == "" {
		r.note("%s runs without a configuration file: its masterauth is set in memory only, and a restart brings back the one it started with", n.Addr)
		return nil
	}
	if err := expectOK(admin, "CONFIG REWRITE", "CONFIG", "REWRITE"); err != nil {
		return fmt.Errorf("%s: %w: the new masterauth would not survive a restart", n.Addr, err)
	}
	host, _, _ := net.SplitHostPort(n.Addr)
	ip := net.ParseIP(host)
	fi, statErr := os.Lstat(path)
	if !(strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()) || statErr != nil || !fi.Mode().IsRegular() {
		r.step("saved", "%s: CONFIG REWRITE wrote %s", n.Addr, path)
		r.note("%s: CONFIG REWRITE writes %s with mode 0644 less the server's umask, and it holds masterauth: make sure it is 0600", n.Addr, path)
		return nil
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			r.note("%s: CONFIG REWRITE left %s with mode %04o and narrowing it failed (%v): it holds masterauth, make it 0600", n.Addr, path, fi.Mode().Perm(), err)
			return nil
		}
	}
	r.step("saved", "%s: CONFIG REWRITE wrote %s (mode 0600)", n.Addr, path)
	return nil
}

// note adds to the result's save note.
func (r *Result) note(format string, args ...any) {
	r.SaveNote = strings.TrimPrefix(r.SaveNote+"; "+termsafe.Escape(fmt.Sprintf(format, args...)), "; ")
}

// relink cuts every replica's link on its master (CLIENT KILL TYPE
// replica) and waits until each master has accepted as many PSYNCs again
// (sync_full + sync_partial_ok: each is a replica that logged in again,
// as user, with its masterauth), lists as many replicas as before, and
// every replica among nodes reports its link up.
func relink(r *Result, nodes []Server, user string) error {
	before, err := replicationOf(nodes, user)
	if err != nil {
		return err
	}
	for i, n := range nodes {
		if !before[i].master || len(before[i].replicas) == 0 {
			continue
		}
		admin, err := n.admin()
		if err != nil {
			return err
		}
		reply, err := admin.Do("CLIENT", "KILL", "TYPE", "replica")
		admin.Close()
		if err != nil {
			return fmt.Errorf("%s: CLIENT KILL TYPE replica: %w", n.Addr, err)
		}
		cut, convErr := strconv.Atoi(strings.TrimPrefix(reply, ":"))
		if convErr != nil {
			return fmt.Errorf("%s: CLIENT KILL TYPE replica: %s", n.Addr, errorCode(reply))
		}
		start := time.Now()
		for {
			now, err := replicationOf(nodes, user)
			if err == nil {
				if err = relinked(nodes, before[i], now[i], cut, now); err == nil {
					r.step("replicas", "%s: %d replica link(s) cut, and logged in again as %s within %s", n.Addr, cut, user, time.Since(start).Round(100*time.Millisecond))
					break
				}
			}
			if time.Since(start) > relinkTimeout {
				return fmt.Errorf("the replicas of %s did not re-link within %s: %w", n.Addr, relinkTimeout, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return nil
}

// relinked checks a master's replicas after cut of their links were cut.
func relinked(nodes []Server, before, after replication, cut int, all []replication) error {
	if after.syncs < before.syncs+cut {
		return fmt.Errorf("%d of %d replica(s) synced again", after.syncs-before.syncs, cut)
	}
	if len(after.replicas) < len(before.replicas) {
		return fmt.Errorf("%d of %d replica(s) are connected", len(after.replicas), len(before.replicas))
	}
	for j, st := range all {
		if !st.master && !st.linkUp {
			return fmt.Errorf("replica %s: master_link_status is not up", nodes[j].Addr)
		}
	}
	return nil
}
