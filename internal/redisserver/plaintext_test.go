package redisserver

import (
	"strings"
	"testing"
)

func TestPlaintextServer(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{Plaintext: true})
	if s.TLSConfig() != nil || !strings.HasPrefix(s.URL("", ""), "redis://") {
		t.Errorf("plaintext server: TLSConfig %v URL %s", s.TLSConfig(), s.URL("", ""))
	}
	if got := last(t)(raw(t, s.Addr, nil, cmd("AUTH", s.Password), cmd("PING"))); got != "+PONG" {
		t.Errorf("plain PING = %q", got)
	}
	if got := s.Do(t, "CONFIG", "GET", "tls-port"); got != "tls-port\n0" {
		t.Errorf("tls-port = %q", got)
	}
}

func TestExtraPlaintextPort(t *testing.T) {
	t.Parallel()
	s := Start(t, Config{ExtraPlaintextPort: true})
	if s.PlaintextAddr == "" || s.PlaintextAddr == s.Addr {
		t.Fatalf("PlaintextAddr = %q", s.PlaintextAddr)
	}
	if got := last(t)(raw(t, s.PlaintextAddr, nil, cmd("AUTH", s.Password), cmd("PING"))); got != "+PONG" {
		t.Errorf("PING on plaintext port = %q", got)
	}
	if got := last(t)(raw(t, s.Addr, s.TLSConfig(), cmd("AUTH", s.Password), cmd("PING"))); got != "+PONG" {
		t.Errorf("PING on TLS port = %q", got)
	}
}
