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

func TestRead(t *testing.T) {
	shards := arr(
		arr(bulk("slots"), arr(num(0), num(8191)), bulk("nodes"), arr(node("10.0.0.2", 0, 7001, "master"), node("10.0.0.5", 0, 7004, "replica"))),
		arr(bulk("slots"), arr(num(8192), num(16383)), bulk("nodes"), arr(node("10.0.0.1", 0, 7000, "master"))),
	)
	nodes, err := Read(replies(map[string]resp.Value{"CLUSTER SHARDS": shards}), true, "seed")
	if err != nil || fmt.Sprint(nodes) != "[{10.0.0.1:7000 true} {10.0.0.2:7001 true} {10.0.0.5:7004 false}]" {
		t.Fatalf("Read(SHARDS) = %v, %v", nodes, err)
	}
	if m := Masters(nodes); fmt.Sprint(m) != "[10.0.0.1:7000 10.0.0.2:7001]" {
		t.Fatalf("Masters = %v", m)
	}
	// Before 7.0: CLUSTER SLOTS, the master first in each range; an empty
	// host is the seed's.
	slots := arr(arr(num(0), num(16383), arr(bulk(""), num(6380), bulk("id1")), arr(bulk("10.0.0.9"), num(6381), bulk("id2"))))
	nodes, err = Read(replies(map[string]resp.Value{"CLUSTER SHARDS": errReply("ERR unknown subcommand"), "CLUSTER SLOTS": slots}), true, "seed")
	if err != nil || fmt.Sprint(nodes) != "[{10.0.0.9:6381 false} {seed:6380 true}]" {
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
