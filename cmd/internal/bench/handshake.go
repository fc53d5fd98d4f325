package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"slices"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/resp"
)

// Handshake is the cost of a new connection: TCP connect, the TLS
// handshake, AUTH and a PING answered, the two sent in one write.
type Handshake struct {
	Cert     string  `json:"cert"` // the server certificate's key: ecdsa-p256, rsa-4096, ...
	Mode     string  `json:"mode"` // full, or resumed (TLS session resumption)
	TLS      string  `json:"tls"`
	Samples  int     `json:"samples"`
	Resumed  int     `json:"resumed"` // samples whose TLS session was resumed
	MedianUS float64 `json:"median_us"`
	P90US    float64 `json:"p90_us"`
}

// HandshakeTarget is a server to connect to, as the options say.
type HandshakeTarget struct {
	Options redsafe.Options
	// Cert names the server's key type; empty: read it from the server's
	// certificate.
	Cert string
}

// MaxHandshakes bounds the samples of each measurement.
const MaxHandshakes = 1000

// MeasureHandshakes connects n times with full handshakes and n times
// resuming a TLS session, one connection at a time.
func MeasureHandshakes(ctx context.Context, t HandshakeTarget, n int) ([]Handshake, error) {
	conn, err := t.Options.Connection()
	if err != nil {
		return nil, err
	}
	if conn.TLS == nil {
		return nil, nil // nothing to measure without TLS
	}
	n = min(n, MaxHandshakes)
	var out []Handshake
	for _, mode := range []string{"full", "resumed"} {
		cfg := conn.TLS.Clone()
		cfg.ClientSessionCache = nil
		if mode == "resumed" {
			cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			if _, _, err := connectOnce(conn, cfg); err != nil { // for a ticket
				return out, err
			}
		}
		h := Handshake{Cert: t.Cert, Mode: mode, Samples: n}
		var times []time.Duration
		for range n {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			d, st, err := connectOnce(conn, cfg)
			if err != nil {
				return out, fmt.Errorf("%s handshake: %w", mode, err)
			}
			times = append(times, d)
			if st.DidResume {
				h.Resumed++
			}
			h.TLS = tls.VersionName(st.Version)
			if h.Cert == "" && len(st.PeerCertificates) > 0 {
				h.Cert = keyName(st.PeerCertificates[0].PublicKey)
			}
		}
		slices.Sort(times)
		h.MedianUS = us(times[len(times)/2])
		h.P90US = us(times[(len(times)*9+9)/10-1]) // nearest rank
		out = append(out, h)
	}
	return out, nil
}

// connectOnce times one connection from dial to PONG.
func connectOnce(conn *redsafe.Connection, cfg *tls.Config) (time.Duration, tls.ConnectionState, error) {
	start := time.Now()
	c, err := resp.DialTimeout(conn.Addr, cfg, dialTimeout)
	if err != nil {
		return 0, tls.ConnectionState{}, err
	}
	defer c.Close()
	auth := []string{"AUTH", conn.Password}
	if conn.Username != "" {
		auth = []string{"AUTH", conn.Username, conn.Password}
	}
	// In one write, as rueidis sends its HELLO with AUTH and the rest of
	// its set-up: the connection is usable after one round trip.
	r, err := c.Pipeline(auth, []string{"PING"})
	if err != nil {
		return 0, tls.ConnectionState{}, fmt.Errorf("AUTH and PING: %w", err)
	}
	if r[0].Type != '+' || r[0].Str != "OK" {
		return 0, tls.ConnectionState{}, fmt.Errorf("AUTH: %s", resp.FirstWord(r[0].String()))
	}
	if r[1].Type != '+' || r[1].Str != "PONG" {
		return 0, tls.ConnectionState{}, fmt.Errorf("PING: %s", resp.FirstWord(r[1].String()))
	}
	d := time.Since(start)
	var st tls.ConnectionState
	if tc, ok := c.Conn.(*tls.Conn); ok {
		st = tc.ConnectionState()
	}
	return d, st, nil
}

// keyName names a certificate's key the way `redsafe certs --key-type`
// does.
func keyName(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return fmt.Sprintf("ecdsa-p%d", k.Curve.Params().BitSize)
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa-%d", k.N.BitLen())
	case ed25519.PublicKey:
		return "ed25519"
	}
	return fmt.Sprintf("%T", pub)
}
