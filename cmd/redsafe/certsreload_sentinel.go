package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/certreload"
	"github.com/redsafe/redsafe/cmd/internal/topology"
)

// sentinelFindTimeout bounds asking the Sentinels for the deployment:
// every Sentinel the URL names may be tried in turn, twice (the master,
// then the whole view).
const sentinelFindTimeout = 30 * time.Second

// sentinelEnvTargets are the processes of the Sentinel deployment a
// service's REDIS_URL names (master_set=), found as the service finds
// them: the master the Sentinels name (MasterConnection), the replicas
// they report (SENTINEL REPLICAS) and the Sentinels, the URL's and those
// they report (SENTINEL SENTINELS), each address checked by sentinelinfo
// in View. The data nodes come replicas first and the master last:
// ReloadAll stops at the first that does not reload, so a renewal that
// fails leaves the master untouched.
//
// What a Sentinel reports is trusted no more than the Sentinel: the admin
// password goes to each data node it names, so every node, and every
// Sentinel asked or probed here, is verified against the deployment's CA
// file alone (Connection.NodeRootCAs), with the server name the service
// would use (its host, unless REDIS_TLS_SERVER_NAME names one for all). A
// host with some public CA's certificate gets nothing. MasterConnection
// itself asks the URL's Sentinels with the service's own settings, and
// with the Sentinels' password only, exactly as the service does at Open.
func sentinelEnvTargets(opts redsafe.Options) (*reloadTargets, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sentinelFindTimeout)
	defer cancel()
	conn, err := opts.MasterConnection(ctx)
	if err != nil {
		return nil, fmt.Errorf("asking the Sentinels REDIS_URL names for the master: %w", err)
	}
	if conn.TLS == nil || conn.Sentinels == nil {
		return nil, errors.New("REDIS_URL is not rediss://: there is no certificate to reload")
	}
	sn := *conn.Sentinels
	sn.TLS = ownCAOnly(sn.TLS, conn.NodeRootCAs)
	view, err := sn.View(ctx, opts.TLS.ServerName != "")
	if err != nil {
		how := ""
		if conn.NodeRootCAs != nil {
			how = ", each verified against the CA file alone"
		}
		return nil, fmt.Errorf("asking the Sentinels for the replicas and the other Sentinels%s: %w", how, err)
	}
	if view.Master != conn.Addr {
		// The order below would not put the master last.
		return nil, fmt.Errorf("the Sentinels named %s, then %s as the master: a failover is under way; run certs reload again once it is over", conn.Addr, view.Master)
	}
	master := ownCAOnly(conn.TLS, conn.NodeRootCAs)
	t := &reloadTargets{masterSet: sn.MasterSet}
	for _, r := range view.Replicas {
		if r != conn.Addr && !slices.ContainsFunc(t.nodes, func(n certreload.Node) bool { return n.Addr == r }) {
			t.nodes = append(t.nodes, certreload.Node{Addr: r, TLS: topology.TLSFor(master, conn.NodeRootCAs, conn.Addr, r)})
		}
	}
	t.nodes = append(t.nodes, certreload.Node{Addr: conn.Addr, TLS: master})
	for _, a := range slices.Concat(sn.Addrs, view.Sentinels) {
		if !slices.ContainsFunc(t.sentinels, func(s sentinelTarget) bool { return s.node.Addr == a }) {
			t.sentinels = append(t.sentinels, sentinelTarget{node: certreload.Node{Addr: a, TLS: topology.TLSFor(sn.TLS, nil, sn.Addrs[0], a)}})
		}
	}
	return t, nil
}

// ownCAOnly is cfg verifying against roots alone (the CA file; nil keeps
// cfg's, when the service has none and names the server instead), without
// the session cache it shares with the configuration: a session resumed
// from a handshake verified with the system roots would skip this check.
func ownCAOnly(cfg *tls.Config, roots *x509.CertPool) *tls.Config {
	if cfg == nil {
		return nil
	}
	c := cfg.Clone()
	if roots != nil {
		c.RootCAs = roots
	}
	c.ClientSessionCache = nil
	return c
}
