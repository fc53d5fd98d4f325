package passrotate

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe/internal/resp"
)

// The replication user is the one replicas log into their master as
// (masteruser and masterauth in each node's configuration, which redsafe
// up --cluster and --sentinel write on every node, masters included, so
// that a promoted replica's old master can follow it). Its password lives
// in two places on every node: the ACL, which the rotation changes
// everywhere, and masterauth, which a replica sends on its next sync.
// Removing the old password while a masterauth still holds it leaves that
// replica out at its next reconnection (Unable to AUTH to MASTER).

// replication is one data node's replication, as CONFIG GET and INFO
// show it.
type replication struct {
	masterUser string
	master     bool
	linkUp     bool     // a replica's master_link_status:up
	replicas   []string // a master's replicas, host:port as it lists them
	syncs      int      // a master's sync_full + sync_partial_ok: every accepted PSYNC
	linkedAs   bool     // a replica connection of this node logs in as the user asked about
}

// readReplication reads n's replication, and whether one of its replica
// connections logs in as user.
func (n Server) readReplication(admin *resp.Conn, user string) (replication, error) {
	vs, err := admin.Pipeline([]string{"CONFIG", "GET", "masteruser"}, []string{"INFO", "replication"}, []string{"INFO", "stats"},
		[]string{"CLIENT", "LIST", "TYPE", "replica"})
	if err != nil {
		return replication{}, fmt.Errorf("%s: %w", n.Addr, err)
	}
	for _, v := range vs {
		if v.IsError() {
			return replication{}, fmt.Errorf("%s: %s; the operations user needs CONFIG, INFO and CLIENT LIST to tell who replicates as %s", n.Addr, errorCode("-"+v.Str), user)
		}
	}
	var r replication
	if len(vs[0].Elems) == 2 {
		r.masterUser = vs[0].Elems[1].Str
	}
	info := infoFields(vs[1].Str + "\n" + vs[2].Str)
	r.master = info["role"] == "master"
	r.linkUp = info["master_link_status"] == "up"
	for i := 0; ; i++ {
		f, ok := info["slave"+strconv.Itoa(i)]
		if !ok {
			break
		}
		kv := map[string]string{}
		for p := range strings.SplitSeq(f, ",") {
			if k, v, ok := strings.Cut(p, "="); ok {
				kv[k] = v
			}
		}
		r.replicas = append(r.replicas, net.JoinHostPort(kv["ip"], kv["port"]))
	}
	full, _ := strconv.Atoi(info["sync_full"])
	partial, _ := strconv.Atoi(info["sync_partial_ok"])
	r.syncs = full + partial
	for line := range strings.SplitSeq(vs[3].Str, "\n") {
		if slices.Contains(strings.Fields(line), "user="+user) {
			r.linkedAs = true
		}
	}
	return r, nil
}

// infoFields reads INFO's name:value lines.
func infoFields(info string) map[string]string {
	m := map[string]string{}
	for line := range strings.SplitSeq(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && !strings.HasPrefix(k, "#") {
			m[k] = v
		}
	}
	return m
}

// replicationOf reads every node's replication, asking each as the admin.
func replicationOf(nodes []Server, user string) ([]replication, error) {
	out := make([]replication, len(nodes))
	for i, n := range nodes {
		admin, err := n.admin()
		if err != nil {
			return nil, err
		}
		out[i], err = n.readReplication(admin, user)
		admin.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReplicatesAs reports whether user is the one replicas log into their
// master as: a node's masteruser, or the user a node's replica connections
// are logged in as. A node that does not answer is skipped (every step of
// the rotation fails on it anyway); one that refuses to say is an error. It refuses a user whose replicas are
// not among nodes (a single master's replicas, which nothing here finds):
// their masterauth could not be changed, and removing the old password
// would cut them off.
func ReplicatesAs(nodes []Server, user string) (bool, error) {
	found := false
	var missing []string
	for _, n := range nodes {
		admin, err := n.admin()
		if err != nil {
			continue
		}
		r, err := n.readReplication(admin, user)
		admin.Close()
		if err != nil {
			return false, err // refused: not knowing could cut the replicas off
		}
		found = found || r.masterUser == user || r.linkedAs
		for _, a := range r.replicas {
			if !slices.ContainsFunc(nodes, func(n Server) bool { return n.Addr == a }) {
				missing = append(missing, a)
			}
		}
	}
	if found && len(missing) > 0 {
		return true, fmt.Errorf("%s is the user replicas log into their master as, and the replicas %s are not among the nodes found (a cluster's, or those the Sentinels report): their masterauth cannot be changed from here; rotate it by hand on every node (ACL SETUSER %s >NEW, CONFIG SET masterauth NEW and CONFIG REWRITE on each, then remove the old password once every replica has re-linked)", user, strings.Join(missing, ", "), user)
	}
	return found, nil
}

// AddReplication rotates the replication user: next is added on every
// node and proven to log in on each (AddAll), then made the masterauth of
// every node whose masteruser is user (saved with CONFIG REWRITE), and
// every replica is made to log in again (its link cut on its master) and
// proven linked. A failure sets every masterauth changed back to current:
// the old password keeps working everywhere either way.
func AddReplication(nodes []Server, user, current, next string) (*Result, error) {
	r, err := AddAll(nodes, user, current, next)
	if err != nil {
		return nil, err
	}
	if err := setMasterAuth(r, nodes, user, next, current); err != nil {
		return nil, fmt.Errorf("%w; the new password is on every node; run --add again once the cause is fixed", err)
	}
	return r, nil
}

// RemoveOthersReplication removes the replication user's other passwords
// on every node, only once keep logs in on every node, every node whose
// masteruser is user has keep as its masterauth (it is set there, as
// --add does) and every replica has re-linked with it. Afterwards every
// replica is made to log in again, with keep the only password left, and
// proven linked.
func RemoveOthersReplication(nodes []Server, user, keep string) (*Result, error) {
	if err := loginEverywhere(nodes, user, keep); err != nil {
		return nil, fmt.Errorf("refusing to remove the other passwords anywhere: %w; run `redsafe rotate-password --add` first", err)
	}
	r := &Result{User: user}
	if err := setMasterAuth(r, nodes, user, keep, ""); err != nil {
		return nil, fmt.Errorf("refusing to remove the other passwords anywhere: %w", err)
	}
	removed, err := RemoveOthersAll(nodes, user, keep)
	if err != nil {
		return nil, err
	}
	removed.Steps = append(r.Steps, removed.Steps...)
	removed.SaveNote = strings.TrimPrefix(r.SaveNote+"; "+removed.SaveNote, "; ")
	if err := relink(removed, nodes, user); err != nil {
		return nil, fmt.Errorf("the old passwords were removed, but %w: check the replica's log (Unable to AUTH to MASTER) and its masterauth", err)
	}
	return removed, nil
}

// setMasterAuth makes password the masterauth of every node whose
// masteruser is user, proves it with CONFIG GET, saves it (rewriteConfig),
// and then proves every replica re-links (relink). On failure the nodes
// changed are set back to rollback, when given.
func setMasterAuth(r *Result, nodes []Server, user, password, rollback string) error {
	var changed []Server
	undo := func(err error) error {
		if rollback == "" || len(changed) == 0 {
			return err
		}
		for _, n := range changed {
			if e := n.configSetMasterAuth(rollback); e != nil {
				return fmt.Errorf("%w; setting %s's masterauth back failed too: %v", err, n.Addr, e)
			}
			n.rewriteConfig(&Result{}) // best effort: the new password logs in too, and --remove-old sets masterauth again
		}
		return fmt.Errorf("%w; masterauth was set back to the current password on %d node(s)", err, len(changed))
	}
	states, err := replicationOf(nodes, user)
	if err != nil {
		return err
	}
	for i, n := range nodes {
		if states[i].masterUser != user {
			continue
		}
		if err := n.configSetMasterAuth(password); err != nil {
			return undo(err)
		}
		changed = append(changed, n)
		r.step("masterauth", "%s: masterauth set and read back for %s", n.Addr, user)
		if err := n.rewriteConfig(r); err != nil {
			return undo(err)
		}
	}
	if err := relink(r, nodes, user); err != nil {
		return undo(err)
	}
	return nil
}

// configSetMasterAuth sets n's masterauth and reads it back. The value
// read is compared here, never shown.
func (n Server) configSetMasterAuth(password string) error {
	admin, err := n.admin()
	if err != nil {
		return err
	}
	defer admin.Close()
	if err := expectOK(admin, "CONFIG SET masterauth (password)", "CONFIG", "SET", "masterauth", password); err != nil {
		return fmt.Errorf("%s: %w", n.Addr, err)
	}
	v, err := admin.DoValue("CONFIG", "GET", "masterauth")
	if err != nil {
		return fmt.Errorf("%s: CONFIG GET masterauth: %w", n.Addr, err)
	}
	if v.IsError() || len(v.Elems) != 2 || v.Elems[1].Str != password {
		return fmt.Errorf("%s: CONFIG GET masterauth does not show the password just set", n.Addr)
	}
	return nil
}
