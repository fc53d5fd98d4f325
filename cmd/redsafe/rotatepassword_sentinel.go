package main

import (
	"errors"
	"fmt"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/passrotate"
	"github.com/redsafe/redsafe/cmd/internal/topology"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// rotation is what a step runs on: the processes the user lives on, and
// how each step changes them.
type rotation struct {
	what   string // what is rotated, for the output
	nodes  []passrotate.Server
	add    func(user, current, next string) (*passrotate.Result, error)
	remove func(user, keep string) (*passrotate.Result, error)
	// sentinels is set for a Sentinel deployment: --status covers its
	// every process.
	sentinels   *passrotate.SentinelDeployment
	onSentinels bool
	replication bool // the user replicas log into their master as
}

// plainRotation is a single server's or a cluster's: every node, masters
// and replicas, since ACLs are per node.
func plainRotation(srv passrotate.Server, user string) (*rotation, error) {
	nodes, err := srv.Nodes()
	if err != nil {
		return nil, err
	}
	return dataRotation(nodes, user)
}

// rotationOn changes the user on every one of nodes, each in turn.
func rotationOn(what string, nodes []passrotate.Server) *rotation {
	return &rotation{what: what, nodes: nodes,
		add:    func(u, cur, next string) (*passrotate.Result, error) { return passrotate.AddAll(nodes, u, cur, next) },
		remove: func(u, keep string) (*passrotate.Result, error) { return passrotate.RemoveOthersAll(nodes, u, keep) },
	}
}

// dataRotation changes a user of the data nodes on every one of them and,
// when it is the user replicas log into their master as
// (passrotate.ReplicatesAs), every node's masterauth too.
func dataRotation(nodes []passrotate.Server, user string) (*rotation, error) {
	r := rotationOn("the data nodes", nodes)
	replication, err := passrotate.ReplicatesAs(nodes, user)
	if err != nil || !replication {
		return r, err
	}
	r.what = "the data nodes and every node's masterauth"
	r.add = func(u, cur, next string) (*passrotate.Result, error) {
		return passrotate.AddReplication(nodes, u, cur, next)
	}
	r.remove = func(u, keep string) (*passrotate.Result, error) {
		return passrotate.RemoveOthersReplication(nodes, u, keep)
	}
	r.replication = true
	return r, nil
}

// sentinelRotation finds every data node and Sentinel of the deployment
// from the Sentinels the URL names, and picks what the user is:
//   - a user of the Sentinels (onSentinels): ACL SETUSER on every Sentinel;
//   - the user the Sentinels log into the data nodes as (found on the
//     master, MonitorLinks): every data node, then every Sentinel's
//     auth-pass;
//   - the user replicas log into their master as (ReplicatesAs): every
//     data node, then every node's masterauth;
//   - any other data user (the application's): every data node, after
//     proving, before anything is removed, that no Sentinel logs in as it.
//
// The operations user itself, with its current password, is rotated on
// the data nodes and the Sentinels at once: one --admin-password-file
// logs into both (redsafe up --sentinel gives them the same admin), and
// rotated on one side only, the other would refuse the file --add
// rewrote, and every later status or rotation with it.
func sentinelRotation(master passrotate.Server, conn *redsafe.Connection, user, current string, onSentinels, removing bool) (*rotation, error) {
	sn := conn.Sentinels
	seeds := make([]passrotate.Server, len(sn.Addrs))
	for i, a := range sn.Addrs {
		// Verified as the cluster's nodes are: against the host each is
		// reached by, with the CA file alone.
		seeds[i] = passrotate.Server{Addr: a, TLS: topology.TLSFor(sn.TLS, conn.NodeRootCAs, sn.Addrs[0], a), NodeRoots: conn.NodeRootCAs,
			AdminUser: master.AdminUser, AdminPassword: master.AdminPassword, Sentinel: true}
	}
	d, err := passrotate.FindSentinelDeployment(master, seeds, sn.MasterSet)
	if err != nil {
		return nil, err
	}
	var r *rotation
	monitor := false
	if onSentinels {
		if err := d.CheckNotPeerUser(user); err != nil {
			return nil, err
		}
		r = rotationOn("the Sentinels", d.Sentinels)
	} else {
		if monitor, err = d.SentinelsLogInAs(user, removing); err != nil {
			return nil, err
		}
		if r, err = dataRotation(d.Data, user); err != nil {
			return nil, err
		}
		if monitor && r.replication {
			return nil, fmt.Errorf("%s is both the user the Sentinels log into the data nodes as and the one replicas log into their master as: give each role its own user (sentinel auth-user, masteruser) before rotating either", user)
		}
		if monitor {
			r.what = "the data nodes and every Sentinel's auth-pass"
			r.add, r.remove = d.AddMonitor, d.RemoveOthersMonitor
		}
	}
	if user == master.AdminUser && current == master.AdminPassword {
		// Both sides take this password: FindSentinelDeployment logged
		// into the Sentinels with it, and every step logs into the data
		// nodes with it.
		if monitor || r.replication {
			return nil, fmt.Errorf("%s is the operations user and the Sentinels or the replicas log into the data nodes as it: give each role its own user before rotating it", user)
		}
		r = rotationOn("the data nodes and the Sentinels (the operations user "+user+" and its password are shared by both)", append(append([]passrotate.Server{}, d.Data...), d.Sentinels...))
	}
	r.sentinels, r.onSentinels = d, onSentinels
	return r, nil
}

// sentinelPasswordDestination is where the service reads the Sentinels'
// password: REDIS_SENTINEL_PASSWORD_FILE, or REDIS_SENTINEL_PASSWORD in
// the env file.
func sentinelPasswordDestination(opts redsafe.Options, envFile string) (passwordFile, error) {
	switch {
	case opts.Sentinel.PasswordFile != "":
		return passwordFile{path: opts.Sentinel.PasswordFile}, nil
	case envFile != "":
		return passwordFile{path: envFile, variable: redsafe.EnvSentinelPassword}, nil
	}
	return passwordFile{}, errors.New("--add must write the new password where the service reads it: pass its --env-file, or set " + redsafe.EnvSentinelPasswordFile)
}

// sentinelStatus prints every process of the deployment. It returns
// false when one of them did not answer.
func sentinelStatus(c *cli, r *rotation, user string, asJSON bool) (*passrotate.Result, bool) {
	nodes := r.sentinels.Status(user, r.onSentinels)
	res := &passrotate.Result{User: user, Nodes: nodes}
	ok := true
	for _, n := range nodes {
		res.Passwords = max(res.Passwords, n.Passwords)
		ok = ok && n.Error == ""
		if asJSON {
			continue
		}
		line := fmt.Sprintf("  %-8s %s:", n.Role, n.Addr)
		if n.Role != "sentinel" || r.onSentinels {
			line += fmt.Sprintf(" %d password(s)", n.Passwords)
		}
		if n.Role == "sentinel" {
			line += fmt.Sprintf(" master flags %s, logs in as %s", orUnknown(n.MasterFlags), orUnknown(n.LogsInAs))
		}
		if n.Error != "" {
			line += "; error: " + n.Error
		}
		fmt.Fprintln(c.stdout, termsafe.Escape(line))
	}
	return res, ok
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
