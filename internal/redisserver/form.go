package redisserver

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// Node is one redis-server to make part of a cluster: its client address
// (an IP and port: CLUSTER MEET takes no host names), its cluster bus
// port, and a way to run a command on it as an admin.
type Node struct {
	Addr    string
	BusPort int
	Do      func(args ...string) (string, error)
}

// FormCluster makes nodes one Redis Cluster: the first masters nodes share
// the 16384 slots evenly, every node is introduced to the first, the rest
// become replicas of the masters in turn, and it returns once every node
// reports cluster_state:ok with all slots served and every replica's link
// to its master is up, or ctx ends. It is the one way both the test
// harness and `redsafe up --cluster` form a cluster.
func FormCluster(ctx context.Context, nodes []Node, masters int) error {
	if masters < 1 || masters > len(nodes) {
		return fmt.Errorf("%d masters of %d nodes", masters, len(nodes))
	}
	per := 16384 / masters
	for i, m := range nodes[:masters] {
		first, last := i*per, (i+1)*per-1
		if i == masters-1 {
			last = 16383
		}
		if err := expectOK(m, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last)); err != nil {
			return err
		}
	}
	seedHost, seedPort, err := net.SplitHostPort(nodes[0].Addr)
	if err != nil {
		return err
	}
	for _, n := range nodes[1:] {
		if err := expectOK(n, "CLUSTER", "MEET", seedHost, seedPort, strconv.Itoa(nodes[0].BusPort)); err != nil {
			return err
		}
	}
	if err := settle(ctx, nodes, func(n Node) (bool, string, error) {
		v, err := n.Do("CLUSTER", "NODES")
		known := strings.Count(strings.TrimSpace(v), "\n") + 1
		return known == len(nodes) && !strings.Contains(v, "handshake") && !strings.Contains(v, "noaddr"), v, err
	}); err != nil {
		return err
	}
	for i, r := range nodes[masters:] {
		id, err := nodes[i%masters].Do("CLUSTER", "MYID")
		if err != nil {
			return err
		}
		// A node learns through gossip that the id is a master: until then
		// REPLICATE is refused, so ask again.
		if err := settle(ctx, []Node{r}, func(n Node) (bool, string, error) {
			v, err := n.Do("CLUSTER", "REPLICATE", strings.TrimPrefix(id, "+"))
			return v == "+OK", v, err
		}); err != nil {
			return err
		}
	}
	replicas := nodes[masters:]
	return settle(ctx, nodes, func(n Node) (bool, string, error) {
		v, err := n.Do("CLUSTER", "INFO")
		if err != nil || !strings.Contains(v, "cluster_state:ok") || !strings.Contains(v, "cluster_slots_ok:16384") {
			return false, v, err
		}
		for _, r := range replicas {
			if r.Addr == n.Addr {
				v, err := n.Do("INFO", "replication")
				return strings.Contains(v, "master_link_status:up"), v, err
			}
		}
		return true, v, nil
	})
}

func expectOK(n Node, args ...string) error {
	v, err := n.Do(args...)
	if err == nil && v != "+OK" {
		err = fmt.Errorf("%s", strings.TrimPrefix(firstLine(v), "-"))
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", strings.Join(args[:2], " "), n.Addr, err)
	}
	return nil
}

// settle polls ok on every node until it holds for all of them at once,
// or ctx ends; the error then says what the first laggard reported.
func settle(ctx context.Context, nodes []Node, ok func(Node) (bool, string, error)) error {
	for {
		var lag, state string
		var lastErr error
		for _, n := range nodes {
			good, s, err := ok(n)
			if !good {
				lag, state, lastErr = n.Addr, s, err
				break
			}
		}
		if lag == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("the cluster did not settle: %s: %w", lag, lastErr)
			}
			return fmt.Errorf("the cluster did not settle: %s reports %s", lag, firstWords(state, 12))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// firstWords is s cut to n words, for an error that quotes a server.
func firstWords(s string, n int) string {
	w := strings.Fields(s)
	if len(w) > n {
		w = append(w[:n], "...")
	}
	return strings.Join(w, " ")
}
