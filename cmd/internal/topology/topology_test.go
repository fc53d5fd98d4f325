package topology

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/resp"
)

func bulk(s string) resp.Value       { return resp.Value{Type: '$', Str: s} }
func num(n int) resp.Value           { return resp.Value{Type: ':', Str: fmt.Sprint(n)} }
func arr(v ...resp.Value) resp.Value { return resp.Value{Type: '*', Elems: v} }
func errReply(s string) resp.Value   { return resp.Value{Type: '-', Str: s} }

func node(ip string, port, tlsPort int, role string) resp.Value {
	return arr(bulk("id"), bulk("x"), bulk("port"), num(port), bulk("tls-port"), num(tlsPort), bulk("ip"), bulk(ip), bulk("role"), bulk(role))
}

func replies(m map[string]resp.Value) func(args ...string) (resp.Value, error) {
	return func(args ...string) (resp.Value, error) {
		if v, ok := m[strings.Join(args, " ")]; ok {
			return v, nil
		}
		return errReply("ERR unknown command"), nil
	}
}

// brief is nodes as addresses and roles.
func brief(nodes []Node) string {
	type ar struct {
		Addr   string
		Master bool
	}
	var out []ar
	for _, n := range nodes {
		out = append(out, ar{n.Addr, n.Master})
	}
	return fmt.Sprint(out)
}

func TestRead(t *testing.T) {
	shards := arr(
		arr(bulk("slots"), arr(num(0), num(8191)), bulk("nodes"), arr(node("10.0.0.2", 0, 7001, "master"), node("10.0.0.5", 0, 7004, "replica"))),
		arr(bulk("slots"), arr(num(8192), num(16383)), bulk("nodes"), arr(node("10.0.0.1", 0, 7000, "master"))),
	)
	nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SHARDS": shards}), true, "seed")
	if err != nil || brief(nodes) != "[{10.0.0.1:7000 true} {10.0.0.2:7001 true} {10.0.0.5:7004 false}]" {
		t.Fatalf("Read(SHARDS) = %v, %v", nodes, err)
	}
	if m := Masters(nodes); fmt.Sprint(m) != "[10.0.0.1:7000 10.0.0.2:7001]" {
		t.Fatalf("Masters = %v", m)
	}
	// Before 7.0: CLUSTER SLOTS, the master first in each range; an empty
	// host is the seed's.
	slots := arr(arr(num(0), num(16383), arr(bulk(""), num(6380), bulk("id1")), arr(bulk("10.0.0.9"), num(6381), bulk("id2"))))
	nodes, err = Read(replies(map[string]resp.Value{"CLUSTER SHARDS": errReply("ERR unknown subcommand"), "CLUSTER SLOTS": slots}), true, "seed")
	if err != nil || brief(nodes) != "[{10.0.0.9:6381 false} {seed:6380 true}]" {
		t.Fatalf("Read(SLOTS) = %v, %v", nodes, err)
	}
	// Not a cluster node.
	if nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SLOTS": errReply("ERR This instance has cluster support disabled")}), true, "h"); nodes != nil || err != nil {
		t.Fatalf("a single server: %v, %v", nodes, err)
	}
	// A server that refuses to say (NOPERM, a renamed command) is not
	// taken for a single server: acting on one node of a cluster as if it
	// were the whole deployment is how a rotation misses the others.
	refused := replies(map[string]resp.Value{"CLUSTER SHARDS": errReply("NOPERM this user has no permissions"), "CLUSTER SLOTS": errReply("NOPERM this user has no permissions")})
	var re *RefusedError
	if nodes, err := Read(refused, true, "h"); !errors.As(err, &re) || re.Reply != "NOPERM" || nodes != nil {
		t.Fatalf("refused: %v, %v; want a *RefusedError", nodes, err)
	}
	// A broken connection is an error.
	broken := func(...string) (resp.Value, error) { return resp.Value{}, errors.New("EOF") }
	if _, err := Read(broken, true, "h"); err == nil {
		t.Fatal("a broken connection read as a topology")
	}
}

// What a hostile node may announce: no port, a port out of range, a host
// with a path or a line break, endless nodes. Each is refused before
// anyone dials it.
func TestReadRefusesHostileReplies(t *testing.T) {
	for name, n := range map[string]resp.Value{
		"no port":      node("10.0.0.1", 0, 0, "master"),
		"port too big": node("10.0.0.1", 0, 70000, "master"),
		"path in host": node("evil/../x", 0, 7000, "master"),
		"line in host": node("a\r\nb", 0, 7000, "master"),
	} {
		shards := arr(arr(bulk("slots"), arr(), bulk("nodes"), arr(n)))
		if nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SHARDS": shards}), true, "h"); err == nil {
			t.Errorf("%s: read as %v", name, nodes)
		}
	}
	var many []resp.Value
	for i := range MaxNodes + 1 {
		many = append(many, node("10.0.0.1", 0, 1+i, "replica"))
	}
	shards := arr(arr(bulk("slots"), arr(), bulk("nodes"), arr(many...)))
	if _, err := Read(replies(map[string]resp.Value{"CLUSTER SHARDS": shards}), true, "h"); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("%d nodes: %v", MaxNodes+1, err)
	}
}

func shardNode(id, ip string, tlsPort int, role, health string) resp.Value {
	return arr(bulk("id"), bulk(id), bulk("port"), num(0), bulk("tls-port"), num(tlsPort), bulk("ip"), bulk(ip), bulk("role"), bulk(role), bulk("health"), bulk(health))
}

// TestMastersAndOwners: the masters to walk are those that serve slots
// and are not failed; Owners is the same for one cluster read through
// CLUSTER SHARDS or CLUSTER SLOTS, whatever the ports, and changes when a
// slot moves or a master fails over.
func TestMastersAndOwners(t *testing.T) {
	shards := func(aSlots []resp.Value, bMaster string) resp.Value {
		return arr(
			arr(bulk("slots"), arr(aSlots...), bulk("nodes"), arr(shardNode("ida", "10.0.0.1", 7000, "master", "online"))),
			arr(bulk("slots"), arr(num(8192), num(16383)), bulk("nodes"), arr(
				// Failed over, the old master is still listed as one.
				shardNode("idb", "10.0.0.2", 7001, "master", map[bool]string{true: "online", false: "failed"}[bMaster == "idb"]),
				shardNode("idc", "10.0.0.3", 7002, map[bool]string{true: "master", false: "replica"}[bMaster == "idc"], "online"))),
			// A master without slots (all moved away).
			arr(bulk("slots"), arr(), bulk("nodes"), arr(shardNode("idd", "10.0.0.4", 7003, "master", "online"))),
		)
	}
	read := func(v resp.Value) []Node {
		t.Helper()
		nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SHARDS": v}), true, "seed")
		if err != nil {
			t.Fatal(err)
		}
		return nodes
	}
	before := read(shards([]resp.Value{num(0), num(8191)}, "idb"))
	if m := Masters(before); fmt.Sprint(m) != "[10.0.0.1:7000 10.0.0.2:7001]" {
		t.Errorf("Masters = %v: want those serving slots", m)
	}
	// The same cluster through CLUSTER SLOTS, its plaintext ports.
	slots := arr(
		arr(num(0), num(8191), arr(bulk("10.0.0.1"), num(6000), bulk("ida"))),
		arr(num(8192), num(16383), arr(bulk("10.0.0.2"), num(6001), bulk("idb")), arr(bulk("10.0.0.3"), num(6002), bulk("idc"))),
	)
	viaSlots, err := Read(replies(map[string]resp.Value{"CLUSTER SHARDS": errReply("ERR unknown subcommand"), "CLUSTER SLOTS": slots}), false, "seed")
	if err != nil {
		t.Fatal(err)
	}
	if Owners(viaSlots) != Owners(before) {
		t.Errorf("one cluster, two owners: %s through CLUSTER SLOTS, %s through CLUSTER SHARDS", Owners(viaSlots), Owners(before))
	}
	moved := read(shards([]resp.Value{num(0), num(8190)}, "idb"))
	failedOver := read(shards([]resp.Value{num(0), num(8191)}, "idc"))
	if Owners(moved) == Owners(before) || Owners(failedOver) == Owners(before) {
		t.Error("Owners did not change when a slot moved or a master failed over")
	}
	if m := Masters(failedOver); fmt.Sprint(m) != "[10.0.0.1:7000 10.0.0.3:7002]" {
		t.Errorf("after a failover, Masters = %v: the failed one must go", m)
	}
	// Slot ranges out of bounds are refused.
	bad := arr(arr(bulk("slots"), arr(num(0), num(16384)), bulk("nodes"), arr(shardNode("ida", "10.0.0.1", 7000, "master", "online"))))
	if _, err := Read(replies(map[string]resp.Value{"CLUSTER SHARDS": bad}), true, "seed"); err == nil {
		t.Error("a range past slot 16383 was accepted")
	}
}
