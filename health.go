package redsafe

import (
	"context"
	"net/http"
	"time"
)

// defaultHealthTimeout bounds a health check when HealthHandler is given
// no timeout: under the usual few-second probe timeouts of orchestrators.
const defaultHealthTimeout = 2 * time.Second

// Health answers whether the cache's server can be used: it sends PING on
// the cache's connection within ctx. A connection is authenticated before it
// carries any command, and a lost one is redialed, handshaken and
// authenticated first, so a PONG proves TLS and AUTH as well as the server.
func (c *Cache) Health(ctx context.Context) (err error) {
	start := c.begin()
	defer func() { err = c.opError(err); c.done(CommandPing, start, err) }()
	err = c.do(ctx, c.client.B().Ping().Build()).Error()
	if ClassifyError(err) == ClassUnreachable && ctx.Err() == nil {
		// A connection the server dropped (a restart, a killed client)
		// fails the first command on it; the retry redials and
		// authenticates, and so tells the server's real state.
		err = c.do(ctx, c.client.B().Ping().Build()).Error()
	}
	return err
}

// HealthHandler serves a health check for load balancers and orchestrators:
// 200 with {"status":"ok"} when a PING through Health succeeds within
// timeout (default 2s when timeout <= 0), otherwise 503 with
// {"status":"unavailable","reason":"..."}. The reason is an ErrorClass
// (timeout, unreachable, tls, auth, ...), never an error message, so it
// cannot reveal a password, a URL or an address to whoever can reach the
// endpoint. Responses are never cached.
func (c *Cache) HealthHandler(timeout time.Duration) http.Handler {
	if timeout <= 0 {
		timeout = defaultHealthTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "no-store") // a cached "ok" would hide an outage
		h.Set("X-Content-Type-Options", "nosniff")
		if err := c.Health(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			// The class is one of a fixed set of plain words: no escaping needed.
			w.Write([]byte(`{"status":"unavailable","reason":"` + string(ClassifyError(err)) + `"}` + "\n"))
			return
		}
		w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
}
