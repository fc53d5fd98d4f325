package certreload

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// ClientCertAccepted presents cert at addr, a port where the node demands
// a client certificate (a cluster's bus, or tls-auth-clients), and reports
// whether the node accepted it: which CAs a node trusts for its clients
// and peers can be seen only so. The node's own certificate is verified
// with tlsConfig as usual.
//
// With TLS 1.3 a client finishes its handshake before the server has
// judged the client's certificate, so a refusal arrives as an alert on
// the first read. An accepted client gets nothing to read: the node waits
// for it to speak, so a read that times out means accepted.
func ClientCertAccepted(addr string, tlsConfig *tls.Config, cert tls.Certificate, timeout time.Duration) (bool, error) {
	cfg := &tls.Config{}
	if tlsConfig != nil {
		cfg = tlsConfig.Clone()
	}
	cfg.ClientSessionCache = nil // a resumed session would skip the client certificate
	cfg.Certificates = []tls.Certificate{cert}
	cfg.GetClientCertificate = nil
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: timeout}, "tcp", addr, cfg)
	if err != nil {
		if refusedByPeer(err) {
			return false, nil
		}
		return false, fmt.Errorf("a TLS handshake with %s: %w", addr, err)
	}
	defer conn.Close()
	if st := conn.ConnectionState(); st.DidResume {
		return false, fmt.Errorf("the handshake with %s resumed a session", addr)
	}
	conn.SetReadDeadline(time.Now().Add(min(timeout, 500*time.Millisecond)))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	switch {
	case err == nil, errors.As(err, &ne) && ne.Timeout():
		return true, nil
	case refusedByPeer(err), errors.Is(err, io.EOF):
		return false, nil
	}
	return false, fmt.Errorf("reading from %s: %w", addr, err)
}

// refusedByPeer reports whether err is a TLS alert the peer sent, such as
// "unknown certificate authority" or "bad certificate". crypto/tls does
// not export the alerts it receives; their text is stable.
func refusedByPeer(err error) bool {
	return strings.Contains(err.Error(), "remote error: tls:")
}
