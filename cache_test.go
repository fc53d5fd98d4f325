package redsafe

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

func TestCacheOperations(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	ctx := testContext(t)

	if _, err := c.Get(ctx, "missing"); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrUndecryptable) {
		t.Fatalf("Get(missing) = %v, want only ErrNotFound", err)
	}
	if _, err := c.TTL(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("TTL(missing) = %v", err)
	}
	if ok, err := c.Exists(ctx, "missing"); ok || err != nil {
		t.Fatalf("Exists(missing) = %v, %v", ok, err)
	}

	for _, v := range [][]byte{{}, {0}, []byte(strings.Repeat("x", 100_000))} {
		if err := c.Set(ctx, "k", v, time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := c.Get(ctx, "k")
		if err != nil || string(got) != string(v) {
			t.Fatalf("round trip of %d bytes: got %d bytes, %v", len(v), len(got), err)
		}
	}
	if ttl, err := c.TTL(ctx, "k"); err != nil || ttl <= 58*time.Second || ttl > time.Minute {
		t.Fatalf("TTL = %v, %v; want about 1m", ttl, err)
	}
	if err := c.Set(ctx, "forever", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if ttl, err := c.TTL(ctx, "forever"); ttl != NoExpiry || err != nil {
		t.Fatalf("TTL(no expiry) = %v, %v", ttl, err)
	}
	if err := c.Set(ctx, "k", []byte("v"), -time.Second); err == nil {
		t.Fatal("negative TTL accepted")
	}
	// Sub-millisecond TTLs round up rather than failing or living forever.
	if err := c.Set(ctx, "brief", []byte("v"), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := c.Get(ctx, "brief"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a 1µs entry is still there: %v", err)
	}
	if ok, _ := c.Exists(ctx, "k"); !ok {
		t.Fatal("Exists(k) = false")
	}
	if n, err := c.Delete(ctx, "k", "forever", "missing"); n != 2 || err != nil {
		t.Fatalf("Delete = %d, %v; want 2", n, err)
	}
	if ok, _ := c.Exists(ctx, "k"); ok {
		t.Fatal("k survived Delete")
	}
}

func TestKeyPrefix(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	o := serverOptions(s)
	o.KeyPrefix = "svc:"
	c := openCache(t, o)
	ctx := testContext(t)
	if err := c.Set(ctx, "a", []byte("1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := s.Do(t, "EXISTS", "svc:a"); got != ":1" {
		t.Fatalf("EXISTS svc:a = %s", got)
	}
	if got := s.Do(t, "EXISTS", "a"); got != ":0" {
		t.Fatalf("EXISTS a = %s: the prefix was not applied", got)
	}
	if n, _ := c.Delete(ctx, "a"); n != 1 {
		t.Fatalf("Delete with prefix removed %d", n)
	}
}

// TestUndecryptableValues: whatever sits in Redis that fails authentication
// is refused with a typed error, counted, logged without the key, and left
// where it is. It is never returned as plaintext.
func TestUndecryptableValues(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	var logs logBuffer
	o := serverOptions(s)
	o.Logger = logs.logger()
	c := openCache(t, o)
	ctx := testContext(t)

	if err := c.Set(ctx, "good", []byte("fine"), time.Minute); err != nil {
		t.Fatal(err)
	}
	token := s.Do(t, "GET", "good")
	tampered := []byte(token)
	tampered[len(tampered)/2] ^= 1 // still base64, wrong MAC or wrong block
	otherKey := seal.New(seal.GenerateKey()).Seal(nil, []byte("sealed elsewhere"))

	cases := map[string]struct {
		raw  string
		want error
	}{
		"session:plaintext": {"legacy plaintext value", seal.ErrMalformed},
		"session:pickle":    {"\x80\x04\x95\x10\x00\x00\x00", seal.ErrMalformed},
		"session:tampered":  {string(tampered), seal.ErrInvalidToken},
		"session:otherkey":  {string(otherKey), seal.ErrAuthentication},
		"session:empty":     {"", seal.ErrMalformed},
	}
	for key, tc := range cases {
		s.Do(t, "SET", key, tc.raw)
		v, err := c.Get(ctx, key)
		var de *DecryptError
		if v != nil || !errors.As(err, &de) || !errors.Is(err, ErrUndecryptable) || !errors.Is(err, tc.want) || errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) = %q, %v; want a DecryptError matching %v", key, v, err, tc.want)
		}
		if got := s.Do(t, "GET", key); got != tc.raw {
			t.Errorf("%s was changed or deleted: %q", key, got)
		}
	}
	if st := c.Stats(); st.DecryptFailures != uint64(len(cases)) {
		t.Errorf("DecryptFailures = %d, want %d", st.DecryptFailures, len(cases))
	}
	out := logs.String()
	if n := strings.Count(out, `"msg":"redsafe: stored value refused"`); n != len(cases) {
		t.Errorf("%d refusal records, want %d", n, len(cases))
	}
	assertNotIn(t, "logs", out, "session:", "legacy plaintext", testKey)

	// GetMany returns what is good and names what is not.
	values, err := c.GetMany(ctx, []string{"good", "session:tampered", "missing"})
	var de *DecryptError
	if !errors.Is(err, ErrUndecryptable) || !errors.As(err, &de) || de.Key() != "session:tampered" ||
		!strings.Contains(err.Error(), "sha256:"+keyDigest("session:tampered")) || strings.Contains(err.Error(), "session:") {
		t.Fatalf("GetMany error = %v", err)
	}
	if len(values) != 1 || string(values["good"]) != "fine" {
		t.Fatalf("GetMany values = %q", values)
	}
}

func TestKeyRotationReads(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	ctx := testContext(t)
	oldKey := testKey
	old := openCache(t, serverOptions(s))
	if err := old.Set(ctx, "k", []byte("written under the old key"), time.Minute); err != nil {
		t.Fatal(err)
	}

	o := serverOptions(s)
	o.EncryptionKey = seal.GenerateKey().Encode()
	withoutOld := openCache(t, o)
	if _, err := withoutOld.Get(ctx, "k"); !errors.Is(err, seal.ErrAuthentication) {
		t.Fatalf("new key alone opened an old value: %v", err)
	}

	o.PreviousEncryptionKeys = []string{oldKey}
	rotated := openCache(t, o)
	if v, err := rotated.Get(ctx, "k"); err != nil || string(v) != "written under the old key" {
		t.Fatalf("Get with the previous key = %q, %v", v, err)
	}
	if err := rotated.Set(ctx, "k2", []byte("new"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.Get(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	if st := rotated.Stats(); st.PreviousKeyReads != 1 || st.DecryptFailures != 0 {
		t.Fatalf("stats %+v; want one previous-key read", st)
	}
	// New writes use the new key: the old cache cannot read them.
	if _, err := old.Get(ctx, "k2"); !errors.Is(err, seal.ErrAuthentication) {
		t.Fatalf("the old key opened a value written after rotation: %v", err)
	}
}

func TestTokenTTL(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	now := time.Now()
	o := serverOptions(s)
	o.TokenTTL = time.Hour
	o.Clock = func() time.Time { return now }
	c := openCache(t, o)
	ctx := testContext(t)
	if err := c.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	now = now.Add(59 * time.Minute)
	if _, err := c.Get(ctx, "k"); err != nil {
		t.Fatalf("within TokenTTL: %v", err)
	}
	now = now.Add(2 * time.Minute)
	if _, err := c.Get(ctx, "k"); !errors.Is(err, seal.ErrExpired) || !errors.Is(err, ErrUndecryptable) {
		t.Fatalf("past TokenTTL: %v", err)
	}
}

func TestBatchAndJSON(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c := openCache(t, serverOptions(s))
	ctx := testContext(t)

	items := map[string][]byte{}
	for i := range 50 {
		items[string(rune('a'+i%26))+strings.Repeat("x", i)] = []byte(strings.Repeat("v", i))
	}
	if err := c.SetMany(ctx, items, time.Minute); err != nil {
		t.Fatal(err)
	}
	keys := []string{"absent"}
	for k := range items {
		keys = append(keys, k)
	}
	got, err := c.GetMany(ctx, keys)
	if err != nil || len(got) != len(items) {
		t.Fatalf("GetMany: %d values, %v", len(got), err)
	}
	for k, v := range items {
		if string(got[k]) != string(v) {
			t.Fatalf("GetMany[%s] = %q, want %q", k, got[k], v)
		}
	}
	if ttl, _ := c.TTL(ctx, keys[1]); ttl <= 0 {
		t.Fatalf("SetMany did not set the TTL: %v", ttl)
	}

	type session struct {
		User  int      `json:"user"`
		Roles []string `json:"roles"`
	}
	in := session{User: 7, Roles: []string{"admin"}}
	if err := SetJSON(ctx, c, "session:7", in, time.Minute); err != nil {
		t.Fatal(err)
	}
	out, err := GetJSON[session](ctx, c, "session:7")
	if err != nil || out.User != 7 || len(out.Roles) != 1 || out.Roles[0] != "admin" {
		t.Fatalf("GetJSON = %+v, %v", out, err)
	}
	if _, err := GetJSON[int](ctx, c, "session:7"); err == nil {
		t.Fatal("GetJSON[int] decoded an object")
	}
	if _, err := GetJSON[session](ctx, c, "absent"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetJSON(absent) = %v", err)
	}
	if raw := s.Do(t, "GET", "session:7"); strings.Contains(raw, "admin") {
		t.Fatal("JSON stored in clear")
	}
}
