package redsafe

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

type healthResponse struct {
	code   int
	header http.Header
	body   string
	status string
	reason string
	took   time.Duration
}

func getHealth(t *testing.T, h http.Handler, method string) healthResponse {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(testContext(t), method, srv.URL+"/health", nil)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := healthResponse{code: resp.StatusCode, header: resp.Header, body: string(body), took: time.Since(start)}
	if method == http.MethodGet && r.code != http.StatusMethodNotAllowed {
		var doc map[string]string
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("health body %q is not JSON: %v", body, err)
		}
		r.status, r.reason = doc["status"], doc["reason"]
	}
	return r
}

func TestHealthHandler(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	h := c.HealthHandler(time.Second)

	r := getHealth(t, h, http.MethodGet)
	if r.code != http.StatusOK || r.body != `{"status":"ok"}`+"\n" {
		t.Fatalf("healthy: %d %q", r.code, r.body)
	}
	if ct, cc := r.header.Get("Content-Type"), r.header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
	}
	if r := getHealth(t, h, http.MethodPost); r.code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", r.code)
	}

	s.Stop()
	r = getHealth(t, h, http.MethodGet)
	if r.code != http.StatusServiceUnavailable || r.status != "unavailable" ||
		(r.reason != string(ClassUnreachable) && r.reason != string(ClassTimeout)) {
		t.Fatalf("stopped server: %d %q", r.code, r.body)
	}
	if r.took > 3*time.Second {
		t.Errorf("the check took %v with a 1s timeout", r.took)
	}
	assertNotIn(t, "health body", r.body, s.Password, s.Addr, "rediss")
}

// TestHealthAuthRefused: a password changed on the server is found at the
// next connection, and reported as auth without either password.
func TestHealthAuthRefused(t *testing.T) {
	t.Parallel()
	s, c, password := aclUserCache(t, "~* +@all -@dangerous")
	h := c.HealthHandler(time.Second)
	if r := getHealth(t, h, http.MethodGet); r.code != http.StatusOK {
		t.Fatalf("before the change: %d %q", r.code, r.body)
	}

	rotated := GeneratePassword(Production)
	if got := s.Do(t, "ACL", "SETUSER", "app", "resetpass", ">"+rotated); got != "+OK" {
		t.Fatalf("ACL SETUSER: %s", got)
	}
	s.Do(t, "CLIENT", "KILL", "USER", "app")
	r := getHealth(t, h, http.MethodGet)
	if r.code != http.StatusServiceUnavailable || r.reason != string(ClassAuth) {
		t.Fatalf("after the password changed: %d %q, want 503 auth", r.code, r.body)
	}
	assertNotIn(t, "health body", r.body, password, rotated)
}

// TestHealthTimeout: a server that stops answering fails the check within
// its deadline.
func TestHealthTimeout(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	h := c.HealthHandler(300 * time.Millisecond)

	if err := syscall.Kill(s.Pid(), syscall.SIGSTOP); err != nil {
		t.Skipf("cannot pause redis-server: %v", err)
	}
	t.Cleanup(func() { syscall.Kill(s.Pid(), syscall.SIGCONT) }) // before Stop, which runs later
	r := getHealth(t, h, http.MethodGet)
	if r.code != http.StatusServiceUnavailable || r.reason != string(ClassTimeout) {
		t.Fatalf("paused server: %d %q, want 503 timeout", r.code, r.body)
	}
	if r.took > 2*time.Second {
		t.Errorf("the check took %v with a 300ms timeout", r.took)
	}
}
