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

// slot is a CLUSTER SLOTS node entry.
func slot(host string, port int, id string) resp.Value { return arr(bulk(host), num(port), bulk(id)) }

func TestRead(t *testing.T) {
	// Who serves what is CLUSTER SLOTS's; CLUSTER SHARDS adds a replica it
	// does not list yet and the health of each node.
	slots := arr(
		arr(num(0), num(8191), slot("10.0.0.2", 7001, "idb")),
		arr(num(8192), num(16383), slot("10.0.0.1", 7000, "ida")),
	)
	shards := arr(
		arr(bulk("slots"), arr(num(0), num(8191)), bulk("nodes"), arr(shardNode("idb", "10.0.0.2", 7001, "master", "online"), shardNode("ide", "10.0.0.5", 7004, "replica", "online"))),
		arr(bulk("slots"), arr(num(8192), num(16383)), bulk("nodes"), arr(shardNode("ida", "10.0.0.1", 7000, "master", "online"))),
	)
	nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SLOTS": slots, "CLUSTER SHARDS": shards}), true, "seed")
	if err != nil || brief(nodes) != "[{10.0.0.1:7000 true} {10.0.0.2:7001 true} {10.0.0.5:7004 false}]" {
		t.Fatalf("Read = %v, %v", nodes, err)
	}
	if m := Masters(nodes); fmt.Sprint(m) != "[10.0.0.1:7000 10.0.0.2:7001]" {
		t.Fatalf("Masters = %v", m)
	}
	if u := Uncovered(nodes); len(u) != 0 {
		t.Fatalf("Uncovered = %v", u)
	}
	// Before 7.0, CLUSTER SLOTS alone; an empty host is the seed's.
	slots = arr(arr(num(0), num(16383), slot("", 6380, "id1"), slot("10.0.0.9", 6381, "id2")))
	nodes, err = Read(replies(map[string]resp.Value{"CLUSTER SLOTS": slots, "CLUSTER SHARDS": errReply("ERR unknown subcommand")}), true, "seed")
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
	refused := replies(map[string]resp.Value{"CLUSTER SLOTS": errReply("NOPERM this user has no permissions")})
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
// with a path or a line break, slots past 16383, two nodes at one address,
// endless nodes. Each is refused before anyone dials it.
func TestReadRefusesHostileReplies(t *testing.T) {
	for name, n := range map[string]resp.Value{
		"no port":      slot("10.0.0.1", 0, "a"),
		"port too big": slot("10.0.0.1", 70000, "a"),
		"path in host": slot("evil/../x", 7000, "a"),
		"line in host": slot("a\r\nb", 7000, "a"),
	} {
		if nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SLOTS": arr(arr(num(0), num(16383), n))}), true, "h"); err == nil {
			t.Errorf("%s: read as %v", name, nodes)
		}
	}
	for name, v := range map[string]resp.Value{
		"slot 16384":     arr(arr(num(0), num(16384), slot("10.0.0.1", 7000, "a"))),
		"two at one":     arr(arr(num(0), num(8191), slot("10.0.0.1", 7000, "a")), arr(num(8192), num(16383), slot("10.0.0.1", 7000, "b"))),
		"reversed range": arr(arr(num(9), num(3), slot("10.0.0.1", 7000, "a"))),
	} {
		if nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SLOTS": v}), true, "h"); err == nil {
			t.Errorf("%s: read as %v", name, nodes)
		}
	}
	// More ranges than slots: each would cost a pass over its slots.
	var ranges []resp.Value
	for range 16385 {
		ranges = append(ranges, arr(num(0), num(16383), slot("10.0.0.1", 7000, "a")))
	}
	if _, err := Read(replies(map[string]resp.Value{"CLUSTER SLOTS": arr(ranges...)}), true, "h"); err == nil || !strings.Contains(err.Error(), "more slot ranges") {
		t.Errorf("16385 ranges: %v", err)
	}
	var many []resp.Value
	for i := range MaxNodes + 1 {
		many = append(many, shardNode(fmt.Sprint("r", i), "10.0.0.1", 1+i, "replica", "online"))
	}
	v := replies(map[string]resp.Value{
		"CLUSTER SLOTS":  arr(arr(num(0), num(16383), slot("10.0.0.2", 7000, "m"))),
		"CLUSTER SHARDS": arr(arr(bulk("slots"), arr(), bulk("nodes"), arr(many...))),
	})
	if _, err := Read(v, true, "h"); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("%d nodes: %v", MaxNodes+1, err)
	}
}

func shardNode(id, ip string, tlsPort int, role, health string) resp.Value {
	return arr(bulk("id"), bulk(id), bulk("port"), num(0), bulk("tls-port"), num(tlsPort), bulk("ip"), bulk(ip), bulk("role"), bulk(role), bulk("health"), bulk(health))
}

// TestMastersAndOwners: the masters to walk are those CLUSTER SLOTS says
// serve slots, whatever CLUSTER SHARDS says of the shard's slots (Redis 7
// can give them from a failed node there); Owners is the same whatever
// port the reply names, and changes when a slot moves or a master fails
// over; a failed node's ghost at a live node's address is left out; the
// slots no master serves are named.
func TestMastersAndOwners(t *testing.T) {
	read := func(slots resp.Value, shards resp.Value) []Node {
		t.Helper()
		nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SLOTS": slots, "CLUSTER SHARDS": shards}), true, "seed")
		if err != nil {
			t.Fatal(err)
		}
		return nodes
	}
	slotsOf := func(aLast int, bMaster resp.Value, port int) resp.Value {
		return arr(arr(num(0), num(aLast), slot("10.0.0.1", port, "ida")), arr(num(aLast+1), num(16383), bMaster))
	}
	// After a failover: idc serves the slots, and the shard lists the
	// failed old master first with the slots, idc with none.
	shards := arr(arr(bulk("slots"), arr(num(8192), num(16383)), bulk("nodes"), arr(
		shardNode("idb", "10.0.0.2", 7001, "master", "failed"),
		shardNode("idc", "10.0.0.3", 7002, "master", "online"),
		shardNode("ghost", "10.0.0.3", 7002, "master", "failed"))))
	before := read(slotsOf(8191, slot("10.0.0.2", 7001, "idb"), 7000), errReply("ERR unknown subcommand"))
	after := read(slotsOf(8191, slot("10.0.0.3", 7002, "idc"), 7000), shards)
	if m := Masters(after); fmt.Sprint(m) != "[10.0.0.1:7000 10.0.0.3:7002]" {
		t.Errorf("after the failover, Masters = %v: want the one serving the slots", m)
	}
	if len(after) != 3 {
		t.Errorf("nodes %v: want the failed old master once, not its ghost", brief(after))
	}
	plain := read(slotsOf(8191, slot("10.0.0.2", 6001, "idb"), 6000), errReply("ERR unknown subcommand"))
	moved := read(slotsOf(8190, slot("10.0.0.2", 7001, "idb"), 7000), errReply("ERR unknown subcommand"))
	switch {
	case Owners(plain) != Owners(before):
		t.Error("one cluster through its plaintext ports has other owners")
	case Owners(moved) == Owners(before), Owners(after) == Owners(before):
		t.Error("Owners did not change when a slot moved or a master failed over")
	}
	part := read(arr(arr(num(0), num(99), slot("10.0.0.1", 7000, "ida")), arr(num(200), num(16383), slot("10.0.0.2", 7001, "idb"))), errReply("ERR unknown subcommand"))
	if u := Uncovered(part); fmt.Sprint(u) != "[[100 199]]" {
		t.Errorf("Uncovered = %v, want [[100 199]]", u)
	}
}
