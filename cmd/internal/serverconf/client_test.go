package serverconf

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/seal"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// appURL is the URL a service is given: the app user, no password.
func (s *testServer) appURL() string {
	u := url.URL{Scheme: "rediss", User: url.User(s.Users.App.Name), Host: s.Addr, Path: "/0"}
	return u.String()
}

// TestLibraryAsAppUser: the redsafe library, with the production policy,
// works as the app user on the production server, and its key prefix is
// what confines it to the key pattern.
func TestLibraryAsAppUser(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{Environment: redsafe.Production, KeyPattern: "svc:*"}, Users{})
	key := seal.GenerateKey().Encode()
	open := func(prefix string) *redsafe.Cache {
		t.Helper()
		o := opts(s, key)
		o.KeyPrefix = prefix
		c, err := redsafe.Open(testContext(t), o)
		if err != nil {
			t.Fatalf("Open as %s: %v", s.Users.App.Name, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	c := open("svc:")
	ctx := testContext(t)
	secret := []byte("card 4111-1111-1111-1111")
	if err := c.Set(ctx, "order:1", secret, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "order:1")
	if err != nil || string(got) != string(secret) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if ttl, err := c.TTL(ctx, "order:1"); err != nil || ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL = %v, %v", ttl, err)
	}
	if err := c.SetMany(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("2")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if m, err := c.GetMany(ctx, []string{"a", "b", "missing"}); err != nil || len(m) != 2 || string(m["b"]) != "2" {
		t.Fatalf("GetMany = %q, %v", m, err)
	}
	if n, err := c.Delete(ctx, "a", "b"); err != nil || n != 2 {
		t.Fatalf("Delete = %d, %v", n, err)
	}
	raw := s.admin(t, "GET", "svc:order:1")
	if strings.Contains(raw, "4111") || !strings.HasPrefix(raw, "gAAAAA") {
		t.Fatalf("stored value is not a Fernet token: %q", raw)
	}

	// Without the prefix the same user reaches nothing outside svc:*.
	bare := open("")
	err = bare.Set(ctx, "order:1", secret, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("Set outside the key pattern: %v", err)
	}
	if _, err := bare.Get(ctx, "svc:order:1"); err != nil {
		t.Fatalf("Get inside the pattern without a prefix: %v", err)
	}

	// Another user's password does not open the app user.
	o := opts(s, key)
	o.Password = s.Users.Health.Password
	if c, err := redsafe.Open(ctx, o); err == nil {
		c.Close()
		t.Fatal("the app user logged in with the health password")
	} else if !errors.Is(err, redsafe.ErrWrongPassword) {
		t.Fatalf("Open with the wrong password: %v", err)
	}
	// The health user logs in (HELLO, PING) but cannot use the cache.
	o = opts(s, key)
	o.URL = strings.Replace(o.URL, "//"+s.Users.App.Name+"@", "//"+s.Users.Health.Name+"@", 1)
	o.Password = s.Users.Health.Password
	h, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatalf("Open as %s: %v", s.Users.Health.Name, err)
	}
	defer h.Close()
	if err := h.Set(ctx, "svc:x", []byte("x"), time.Minute); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("health Set: %v", err)
	}
	if _, err := h.Get(ctx, "svc:order:1"); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Errorf("health Get: %v", err)
	}
}

// opts are production options for the app user on s.
func opts(s *testServer, key string) redsafe.Options {
	return redsafe.Options{
		Environment:   redsafe.Production,
		URL:           s.appURL(),
		Password:      s.Users.App.Password,
		EncryptionKey: key,
		TLS:           redsafe.TLSOptions{CAFile: s.Spec.CAFile()},
		DialTimeout:   2 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// TestClientSideCachingAsAppUser: rueidis with client-side caching on
// (CLIENT TRACKING ON OPTIN, then CLIENT CACHING YES + MULTI/PTTL/GET/EXEC
// for every DoCache) works as the app user, and the server's invalidation
// reaches the client when another connection changes the key.
func TestClientSideCachingAsAppUser(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{Environment: redsafe.Production, KeyPattern: "svc:*"}, Users{})
	client, err := rueidis.NewClient(rueidis.ClientOption{
		InitAddress:       []string{s.Addr},
		TLSConfig:         s.tlsConfig(),
		Username:          s.Users.App.Name,
		Password:          s.Users.App.Password,
		ForceSingleClient: true,
		Dialer:            net.Dialer{Timeout: 2 * time.Second},
		ConnWriteTimeout:  5 * time.Second,
	})
	if err != nil {
		t.Fatalf("rueidis with client-side caching as %s: %v", s.Users.App.Name, err)
	}
	t.Cleanup(client.Close)
	ctx := testContext(t)
	if err := client.Do(ctx, client.B().Set().Key("svc:cached").Value("v1").Build()).Error(); err != nil {
		t.Fatal(err)
	}
	get := func() (string, bool) {
		t.Helper()
		r := client.DoCache(ctx, client.B().Get().Key("svc:cached").Cache(), time.Minute)
		v, err := r.ToString()
		if err != nil {
			t.Fatalf("DoCache GET: %v", err)
		}
		return v, r.IsCacheHit()
	}
	if v, hit := get(); v != "v1" || hit {
		t.Fatalf("first DoCache = %q, hit %v", v, hit)
	}
	if v, hit := get(); v != "v1" || !hit {
		t.Fatalf("second DoCache = %q, hit %v; want a cache hit", v, hit)
	}
	// The tracking is real: the server tells the client, and the cached
	// value (one minute TTL) is dropped well before it would expire.
	if reply := s.admin(t, "SET", "svc:cached", "v2"); reply != "+OK" {
		t.Fatal(reply)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		v, _ := get()
		if v == "v2" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q 2 s after another client changed the key: no invalidation arrived", v)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Cached reads outside the pattern are refused like any other.
	err = client.DoCache(ctx, client.B().Get().Key("other:1").Cache(), time.Minute).Error()
	var re *rueidis.RedisError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("DoCache outside the key pattern: %v", err)
	}
}

// TestLibraryLocalCacheAsAppUser: redsafe's LocalCache works as the app
// user (its ACL allows CLIENT TRACKING), and another client's write
// reaches it as an invalidation well before the local TTL.
func TestLibraryLocalCacheAsAppUser(t *testing.T) {
	t.Parallel()
	s := startServer(t, Spec{Environment: redsafe.Production, KeyPattern: "svc:*"}, Users{})
	o := opts(s, seal.GenerateKey().Encode())
	o.KeyPrefix = "svc:"
	o.LocalCache = redsafe.LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour}
	ctx := testContext(t)
	c, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatalf("Open with LocalCache as %s: %v", s.Users.App.Name, err)
	}
	t.Cleanup(func() { c.Close() })
	o.LocalCache = redsafe.LocalCacheOptions{}
	writer, err := redsafe.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Close() })
	if err := writer.Set(ctx, "k", []byte("v1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second read is served locally
		if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v1" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	if err := writer.Set(ctx, "k", []byte("v2"), time.Minute); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		v, err := c.Get(ctx, "k")
		if err == nil && string(v) == "v2" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %q, %v 2 s after another client's write: no invalidation reached the local cache", v, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
