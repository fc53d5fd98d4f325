package redsafe

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// logBuffer collects JSON log records from a Cache for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var discardLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// serverOptions returns production options for s: the harness's random
// 64-character hex password meets even the production policy.
func serverOptions(s *redisserver.Server) Options {
	return Options{
		Environment:   Production,
		URL:           s.URL("", ""),
		Password:      s.Password,
		EncryptionKey: testKey,
		TLS:           TLSOptions{CAFile: s.CAFile},
		DialTimeout:   2 * time.Second,
		Logger:        discardLogger,
	}
}

func openCache(t *testing.T, o Options) *Cache {
	t.Helper()
	c, err := Open(testContext(t), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// assertNotIn fails if any secret appears in text.
func assertNotIn(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Fatalf("%s leaks a secret %q:\n%s", what, s, text)
		}
	}
}

// aclUserCache starts a server with an ACL user "app" allowed rules, and
// opens a cache as that user; it returns the user's password too.
func aclUserCache(t *testing.T, rules string) (*redisserver.Server, *Cache, string) {
	t.Helper()
	password := GeneratePassword(Production)
	s := redisserver.Start(t, redisserver.Config{Users: []redisserver.User{{Name: "app", Password: password, Rules: rules}}})
	o := serverOptions(s)
	o.Username, o.Password = "app", password
	return s, openCache(t, o), password
}
