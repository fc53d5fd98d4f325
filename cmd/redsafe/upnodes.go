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

	"github.com/redsafe/redsafe/internal/redisserver"
)

// upShape is what --cluster, --sentinel and --replicas ask for: masters 0
// and no sentinel is one server.
type upShape struct {
	masters, replicas int
	sentinel          bool // one master, its replicas and upSentinels Sentinels
}

// upSentinels is how many Sentinels --sentinel starts: the fewest that
// still agree on a failover when one of them is down.
const upSentinels = 3

// sentinelPortOffset puts the Sentinels on PORT+20000, ...: 26380 for the
// default 6380, as Redis's own 26379 mirrors 6379.
const sentinelPortOffset = 20000

// nodes is how many data nodes (redis-server processes that hold data)
// the shape runs.
func (s upShape) nodes() int {
	switch {
	case s.sentinel:
		return 1 + s.replicas
	case s.masters == 0:
		return 1
	}
	return s.masters * (1 + s.replicas)
}

// many reports whether the data nodes live under nodes/, one directory
// each, rather than at the top of the directory.
func (s upShape) many() bool { return s.masters > 0 || s.sentinel }

func (s upShape) String() string {
	r := fmt.Sprintf("%d replicas", s.replicas)
	if s.replicas == 1 {
		r = "1 replica"
	}
	switch {
	case s.sentinel:
		return fmt.Sprintf("a master with %s, watched by %d Sentinels", r, upSentinels)
	case s.masters == 0:
		return "one server"
	}
	return fmt.Sprintf("%d masters with %s each", s.masters, r)
}

// layout finds the nodes of the directory: the server at its top, or one
// directory per node under nodes/, named by its port. A directory set up
// for one shape is not silently reused for another.
func (l *local) layout(top redisserver.Dir, nodesDir string, port int, guard upGuard) error {
	_, topErr := os.Lstat(top.Conf)
	_, nodesErr := os.Lstat(nodesDir)
	_, sentinelsErr := os.Lstat(filepath.Join(top.Dir, "sentinels"))
	switch {
	case l.shape.many() && topErr == nil:
		return fmt.Errorf("%s holds a single server (%s); use another --dir for a %s", top.Dir, filepath.Base(top.Conf), map[bool]string{true: "Sentinel deployment", false: "cluster"}[l.shape.sentinel])
	case !l.shape.sentinel && sentinelsErr == nil:
		return fmt.Errorf("%s holds a Sentinel deployment (sentinels/); start it with `redsafe up --sentinel --dir %s`, or use another --dir", top.Dir, top.Dir)
	case l.shape.sentinel && nodesErr == nil && sentinelsErr != nil:
		return fmt.Errorf("%s holds a cluster (nodes/); start it with `redsafe up --cluster N --dir %s`, or use another --dir", top.Dir, top.Dir)
	case !l.shape.many() && nodesErr == nil:
		return fmt.Errorf("%s holds a cluster (nodes/); start it with `redsafe up --cluster N --dir %s`, or use another --dir", top.Dir, top.Dir)
	case !l.shape.many():
		l.nodes = []localNode{{server: top, port: port}}
		return nil
	}
	if err := os.MkdirAll(nodesDir, 0o700); err != nil {
		return err
	}
	if err := guard.subdir(nodesDir); err != nil {
		return err
	}
	if existing, err := os.ReadDir(nodesDir); err == nil && len(existing) > 0 && len(existing) != l.shape.nodes() {
		return fmt.Errorf("%s holds %d nodes, not the %d of %s; run `redsafe down --dir %s` and remove the directory to change the shape", nodesDir, len(existing), l.shape.nodes(), l.shape, top.Dir)
	}
	for i := range l.shape.nodes() {
		p := port + i
		d, err := redisserver.In(filepath.Join(nodesDir, strconv.Itoa(p)))
		if err != nil {
			return err
		}
		if err := l.adopt(&d, guard, i == 0, nodesDir, top.Dir); err != nil {
			return err
		}
		l.nodes = append(l.nodes, localNode{server: d, port: p})
	}
	if !l.shape.sentinel {
		return nil
	}
	sentinelsDir := filepath.Join(top.Dir, "sentinels")
	if err := os.MkdirAll(sentinelsDir, 0o700); err != nil {
		return err
	}
	if err := guard.subdir(sentinelsDir); err != nil {
		return err
	}
	for i := range upSentinels {
		p := port + sentinelPortOffset + i
		d, err := redisserver.SentinelIn(filepath.Join(sentinelsDir, strconv.Itoa(p)))
		if err != nil {
			return err
		}
		if err := l.adopt(&d, guard, i == 0, sentinelsDir, top.Dir); err != nil {
			return err
		}
		l.sentinels = append(l.sentinels, localNode{server: d, port: p})
	}
	return nil
}

// adopt creates the directory of one process of a deployment, or checks
// the one that is there: first is the one on the lowest port, whose
// directory names the ports the deployment was set up for.
func (l *local) adopt(d *redisserver.Dir, guard upGuard, first bool, parent, top string) error {
	if _, err := os.Lstat(d.Dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(d.Dir, 0o700); err != nil {
			return err
		}
	} else if _, err := os.Lstat(d.Conf); errors.Is(err, fs.ErrNotExist) && first {
		// Processes exist under other ports.
		return fmt.Errorf("%s is set up for other ports; run `redsafe down --dir %s` and remove the directory to change the port", parent, top)
	}
	return guard.subdir(d.Dir)
}

// masters are the nodes that serve slots: the first shape.masters ones
// (the only one of a single server).
func (l *local) masters() []localNode {
	if l.shape.sentinel {
		return l.nodes[:1] // at setup; the Sentinels may have moved it since
	}
	if l.shape.masters == 0 {
		return l.nodes
	}
	return l.nodes[:l.shape.masters]
}

// start starts every node that is not running, and forms the cluster if
// its nodes have not been formed yet. When it fails (a node, the forming,
// Ctrl-C, the timeout), the nodes it started are stopped again: up leaves
// no half-started deployment running.
func (l *local) start(ctx context.Context, out io.Writer) (err error) {
	var stopped []localNode
	for _, n := range append(slices.Clone(l.nodes), l.sentinels...) { // the data nodes first: the Sentinels watch them
		if _, running := n.server.Pid(); !running {
			stopped = append(stopped, n)
		}
	}
	switch {
	case l.shape.sentinel && len(stopped) == 0:
		fmt.Fprintf(out, "all %d data nodes (127.0.0.1:%d-%d) and %d Sentinels (127.0.0.1:%d-%d) are running; verifying them\n",
			len(l.nodes), l.nodes[0].port, l.nodes[len(l.nodes)-1].port, len(l.sentinels), l.sentinels[0].port, l.sentinels[len(l.sentinels)-1].port)
	case l.shape.sentinel:
		fmt.Fprintf(out, "starting %d of %d processes (TLS only): data nodes on 127.0.0.1:%d-%d, Sentinels on 127.0.0.1:%d-%d\n",
			len(stopped), len(l.nodes)+len(l.sentinels), l.nodes[0].port, l.nodes[len(l.nodes)-1].port, l.sentinels[0].port, l.sentinels[len(l.sentinels)-1].port)
	case len(stopped) == 0 && len(l.nodes) == 1:
		pid, _ := l.nodes[0].server.Pid()
		fmt.Fprintf(out, "redis-server is already running (pid %d) on 127.0.0.1:%d; verifying it\n", pid, l.nodes[0].port)
	case len(stopped) == 0:
		fmt.Fprintf(out, "all %d redis-server nodes are running on 127.0.0.1:%d-%d; verifying them\n", len(l.nodes), l.nodes[0].port, l.nodes[len(l.nodes)-1].port)
	case len(l.nodes) == 1:
		fmt.Fprintf(out, "starting redis-server on 127.0.0.1:%d (TLS only)\n", l.nodes[0].port)
	default:
		fmt.Fprintf(out, "starting %d redis-server nodes on 127.0.0.1:%d-%d (TLS only; cluster bus on %d-%d)\n",
			len(stopped), l.nodes[0].port, l.nodes[len(l.nodes)-1].port, l.nodes[0].port+10000, l.nodes[len(l.nodes)-1].port+10000)
	}
	var started []localNode
	defer func() {
		if err == nil {
			return
		}
		stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, n := range started {
			n.server.Stop(stop)
		}
		if len(started) > 0 {
			fmt.Fprintf(out, "stopped the %d redis-server process(es) this run started\n", len(started))
		}
	}()
	master := ""
	if l.shape.sentinel {
		if master, err = l.awaitFailover(ctx, out, stopped); err != nil {
			return err
		}
	}
	for _, n := range stopped {
		p, err := n.server.Start(ctx, l.ready(n.port))
		if err != nil {
			return fmt.Errorf("node 127.0.0.1:%d: %w", n.port, err)
		}
		started = append(started, n)
		if len(l.nodes) == 1 {
			fmt.Fprintf(out, "redis-server is running (pid %d), logging to %s\n", p.Pid(), n.server.LogFile)
		}
	}
	if l.shape.sentinel {
		if err := l.rejoin(master, started, out); err != nil {
			return err
		}
		return l.watched(ctx, out)
	}
	if l.shape.masters == 0 {
		return nil
	}
	formed, err := l.formed(ctx)
	if err != nil || formed {
		return err
	}
	nodes := make([]redisserver.Node, len(l.nodes))
	for i, n := range l.nodes {
		port := n.port
		nodes[i] = redisserver.Node{Addr: hostPort("127.0.0.1", port), BusPort: port + 10000,
			Do: func(args ...string) (string, error) { return l.adminDo(port, args...) }}
	}
	if err := redisserver.FormCluster(ctx, nodes, l.shape.masters); err != nil {
		return err
	}
	fmt.Fprintf(out, "formed a cluster of %s; logs in %s\n", l.shape, rel(filepath.Dir(l.nodes[0].server.Dir)))
	return nil
}

// formed reports whether the nodes are one cluster already, waiting (up to
// ctx) for a restarted cluster, whose nodes know each other from their
// nodes.conf, to report cluster_state:ok again; it refuses a cluster that
// was formed only in part.
func (l *local) formed(ctx context.Context) (bool, error) {
	for {
		info, err := l.adminDo(l.nodes[0].port, "CLUSTER", "INFO")
		if err != nil {
			return false, err
		}
		field := func(name string) string { return strings.TrimPrefix(firstField(info, name), name+":") }
		known := field("cluster_known_nodes")
		switch {
		case field("cluster_state") == "ok" && known == strconv.Itoa(len(l.nodes)) && field("cluster_size") == strconv.Itoa(l.shape.masters):
			// Formed, unless the forming stopped before the replicas were
			// attached: they would stay empty masters.
			nodes, err := l.adminDo(l.nodes[0].port, "CLUSTER", "NODES")
			if err != nil {
				return false, err
			}
			if replicas := strings.Count(nodes, " slave ") + strings.Count(nodes, ",slave "); replicas != l.shape.masters*l.shape.replicas {
				return false, fmt.Errorf("the cluster in %s has %d replicas, not the %d of --replicas %d: its forming was interrupted; run `redsafe down --dir DIR`, remove DIR/nodes and run up again",
					rel(filepath.Dir(l.nodes[0].server.Dir)), replicas, l.shape.masters*l.shape.replicas, l.shape.replicas)
			}
			return true, nil
		case field("cluster_slots_assigned") == "0" && known == "1":
			return false, nil
		case known != strconv.Itoa(len(l.nodes)):
			return false, fmt.Errorf("the nodes in %s are not one cluster of %d nodes (CLUSTER INFO on 127.0.0.1:%d: %s, %s); run `redsafe down --dir DIR`, remove DIR/nodes and run up again",
				rel(filepath.Dir(l.nodes[0].server.Dir)), len(l.nodes), l.nodes[0].port, firstField(info, "cluster_state"), firstField(info, "cluster_known_nodes"))
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("the restarted cluster did not become healthy (%s on 127.0.0.1:%d): %w", firstField(info, "cluster_state"), l.nodes[0].port, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// firstField is the "name:value" line of an INFO reply.
func firstField(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if strings.HasPrefix(line, name+":") {
			return strings.TrimSpace(line)
		}
	}
	return name + " unknown"
}

// upServers are the redis-server directories of an `up` directory: the
// one at its top, or the Sentinels under sentinels/ and then each node
// under nodes/, each in port order (down stops the Sentinels first, so
// that they do not fail over while the data nodes stop).
func upServers(dir string) ([]redisserver.Dir, error) {
	top, err := redisserver.In(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Lstat(filepath.Join(top.Dir, "nodes")); errors.Is(err, fs.ErrNotExist) {
		return []redisserver.Dir{top}, nil
	}
	sentinels, err := portDirs(filepath.Join(top.Dir, "sentinels"), redisserver.SentinelIn)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	nodes, err := portDirs(filepath.Join(top.Dir, "nodes"), redisserver.In)
	return append(sentinels, nodes...), err
}

// portDirs are the process directories under parent, named by their
// ports, in port order. Only directories are taken, never links.
func portDirs(parent string, in func(string) (redisserver.Dir, error)) ([]redisserver.Dir, error) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, e := range entries {
		if p, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() && p > 0 && p < 65536 {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	var dirs []redisserver.Dir
	for _, p := range ports {
		d, err := in(filepath.Join(parent, strconv.Itoa(p)))
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}
