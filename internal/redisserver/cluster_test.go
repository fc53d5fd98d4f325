package redisserver

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/resp"
)

// A cluster of three TLS masters with a replica each forms, serves every
// slot, replicates over TLS, and speaks TLS only on every port.
func TestClusterForms(t *testing.T) {
	t.Parallel()
	cl := StartCluster(t, ClusterConfig{Masters: 3, Replicas: 1, Users: []User{{Name: "admin", Password: randomHex(16), Rules: "~* &* +@all"}}})
	if len(cl.Nodes) != 6 {
		t.Fatalf("%d nodes", len(cl.Nodes))
	}
	m := cl.MasterOf(t, "k")
	if r := m.Do(t, "SET", "k", "v"); r != "+OK" {
		t.Fatal(r)
	}
	for _, n := range cl.Nodes {
		info := n.Do(t, "CLUSTER", "INFO")
		if !strings.Contains(info, "cluster_known_nodes:6") || !strings.Contains(info, "cluster_size:3") {
			t.Errorf("%s: %s", n.Addr, info)
		}
		// The client port answers no plaintext, and the bus speaks TLS:
		// a handshake with the cluster's CA and a client certificate
		// (which the bus demands) completes there.
		if resp.AnswersPlaintext(n.Addr, time.Second) {
			t.Errorf("%s answers plaintext", n.Addr)
		}
		cfg := n.TLSConfig()
		cfg.Certificates = []tls.Certificate{n.clientTLSCert()}
		bus, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(n.BusPort)), cfg)
		if err != nil {
			t.Errorf("%s: the cluster bus on port %d does not speak TLS: %v", n.Addr, n.BusPort, err)
		} else {
			bus.Close()
		}
	}
	for _, r := range cl.Replicas {
		if info := r.Do(t, "INFO", "replication"); !strings.Contains(info, "role:slave") || !strings.Contains(info, "master_link_status:up") {
			t.Errorf("replica %s: %s", r.Addr, info)
		}
	}
}
