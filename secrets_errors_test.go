package redsafe

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/hostile"
	"github.com/redsafe/redsafe/internal/redact/redacttest"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// textForms print an error's text (the others may print it in hex, or its
// structure).
var textForms = map[string]bool{"Error": true, "%v": true, "%+v": true, "%s": true, "%q": true, "%-60s": true, "%+q": true,
	"slog text": true, "slog json": true}

// errorForms is every way an error is commonly printed.
func errorForms(err error) map[string]string {
	forms := map[string]string{"Error": err.Error()}
	for _, verb := range redacttest.Verbs {
		forms[verb] = fmt.Sprintf(verb, err)
	}
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Error("get failed", "err", err, slog.Any("wrapped", struct{ Err error }{err}))
		forms[name] = buf.String()
	}
	return forms
}

// TestErrorsNameKeysByDigest: the errors of Get, GetMany and GetJSON name a
// refused key by the digest the log uses, never the key (which may be a
// session id), under every verb; the key is only behind DecryptError.Key.
func TestErrorsNameKeysByDigest(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	for _, local := range []bool{false, true} {
		var logs logBuffer
		o := serverOptions(s)
		o.KeyPrefix = fmt.Sprintf("svc%v:", local)
		o.Logger = logs.logger()
		if local {
			o.LocalCache = LocalCacheOptions{MaxBytes: 1 << 20}
		}
		c := openCache(t, o)
		ctx := testContext(t)
		const sessionID = "a41f9c0e7b2d46e8"
		key := "session:" + sessionID
		digest := keyDigest(o.KeyPrefix + key)
		other := seal.New(seal.GenerateKey()).Seal(nil, []byte(`{"user":7}`))
		s.Do(t, "SET", o.KeyPrefix+key, string(other))

		check := func(op string, err error) {
			t.Helper()
			if err == nil {
				t.Fatalf("local=%v %s: no error", local, op)
			}
			for form, text := range errorForms(err) {
				if strings.Contains(text, sessionID) || strings.Contains(strings.ToLower(text), hex.EncodeToString([]byte(sessionID))) {
					t.Errorf("local=%v %s: %s shows the key: %s", local, op, form, text)
				}
				if textForms[form] && !strings.Contains(text, "sha256:"+digest) {
					t.Errorf("local=%v %s: %s does not name sha256:%s: %s", local, op, form, digest, text)
				}
			}
		}
		_, err := c.Get(ctx, key)
		check("Get", err)
		var de *DecryptError
		if !errors.As(err, &de) || !errors.Is(err, ErrUndecryptable) || !errors.Is(err, seal.ErrAuthentication) {
			t.Fatalf("local=%v Get = %v, want a *DecryptError", local, err)
		}
		if de.Key() != key || de.KeyDigest() != digest {
			t.Errorf("local=%v Key() = %q, KeyDigest() = %q; want %q, %q", local, de.Key(), de.KeyDigest(), key, digest)
		}
		// The digest is the one the log wrote for this refusal.
		if !strings.Contains(logs.String(), `"key_sha256":"`+digest+`"`) {
			t.Errorf("local=%v log lacks key_sha256 %s:\n%s", local, digest, logs.String())
		}

		c.Set(ctx, "good", []byte("fine"), time.Minute)
		values, err := c.GetMany(ctx, []string{"good", key, "missing"})
		check("GetMany", err)
		if !errors.As(err, &de) || de.Key() != key || len(values) != 1 {
			t.Errorf("local=%v GetMany = %q, %v", local, values, err)
		}

		_, err = GetJSON[map[string]int](ctx, c, key)
		check("GetJSON of a refused value", err)
		if err := c.Set(ctx, key, []byte("not json"), time.Minute); err != nil {
			t.Fatal(err)
		}
		_, err = GetJSON[map[string]int](ctx, c, key)
		check("GetJSON of a value that is not JSON", err)
		var syntax *json.SyntaxError
		if !errors.As(err, &syntax) {
			t.Errorf("local=%v GetJSON error %v does not wrap the JSON error", local, err)
		}
		check("SetJSON", SetJSON(ctx, c, key, make(chan int), time.Minute))
		assertNotIn(t, "logs", logs.String(), sessionID)
	}
}

// TestServerEchoOfPasswordCut: a server that quotes a command's arguments
// in its error reply (as Redis does for an unknown command: "with args
// beginning with:", cut at 128 characters) must not make Open print the
// password it was sent, whole or cut short, in its *ConnectError or its
// log; the rest of the server's words stay, and the password that a
// Credentials function returns is cut too.
func TestServerEchoOfPasswordCut(t *testing.T) {
	t.Parallel()
	echo := func(limit int) hostile.Attack {
		return hostile.Replies(func(cmd []string, _ int) []byte {
			switch strings.ToUpper(cmd[0]) {
			case "HELLO", "AUTH":
				args := "'" + strings.Join(cmd[1:], "' '") + "'"
				if len(args) > limit {
					args = args[:limit]
				}
				return []byte("-ERR unknown command '" + cmd[0] + "', with args beginning with: " + args + "\r\n")
			}
			return nil
		})
	}
	for _, tc := range []struct {
		name    string
		limit   int
		dynamic bool
	}{{"whole", 1 << 10, false}, {"cut short", 30, false}, {"credentials function", 1 << 10, true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, hostile.Config{Plaintext: true, Attack: echo(tc.limit)})
			var logs logBuffer
			o := Options{Environment: Testing, URL: "redis://" + s.Addr, Username: "app", Password: testPassword,
				EncryptionKey: testKey, DialTimeout: 2 * time.Second, Logger: logs.logger()}
			if tc.dynamic {
				o.Password = ""
				o.Credentials = func(context.Context) (Credentials, error) {
					return Credentials{Username: "app", Password: testPassword}, nil
				}
			}
			_, err := Open(testContext(t), o)
			var ce *ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("Open = %v, want a *ConnectError", err)
			}
			if !strings.Contains(err.Error(), "unknown command") {
				t.Errorf("the server's words are gone: %v", err)
			}
			text := logs.String()
			for form, s := range errorForms(err) {
				text += "\n" + form + ": " + s
			}
			// The echo holds 'app' ' and then at least 12 characters of the password.
			assertNoChunk(t, "Open's error and log", text, testPassword[:12])
			assertNoChunk(t, "Open's error and log", text, testPassword)
		})
	}
}

// TestReconnectEchoOfPasswordCut: after Open, a lost connection is
// redialed and authenticated under the next command; a server that then
// quotes AUTH's arguments in its error must not put the password into the
// error of Get (or of any other method, which share the same path).
func TestReconnectEchoOfPasswordCut(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	s := hostile.Start(t, hostile.Config{Plaintext: true, Attack: func(st *hostile.Stream) {
		first := conns.Add(1) == 1
		hostile.Replies(func(cmd []string, _ int) []byte {
			switch name := strings.ToUpper(cmd[0]); {
			case first && name == "GET":
				return []byte("$-1\r\n+OK\r\n") // a reply to no command: the connection is closed
			case !first && (name == "HELLO" || name == "AUTH"):
				return []byte("-ERR unknown command '" + cmd[0] + "', with args beginning with: '" + strings.Join(cmd[1:], "' '") + "'\r\n")
			}
			return nil
		})(st)
	}})
	o := Options{Environment: Testing, URL: "redis://" + s.Addr, Username: "app", Password: testPassword,
		EncryptionKey: testKey, DialTimeout: 2 * time.Second, Logger: discardLogger}
	c := openCache(t, o)
	ctx := testContext(t)
	c.Get(ctx, "k") // answered, then the connection is closed
	var echoed bool
	for i := 0; i < 3; i++ {
		_, err := c.Get(ctx, "k")
		if err == nil || err == ErrNotFound {
			continue
		}
		echoed = echoed || strings.Contains(err.Error(), "unknown command")
		for form, text := range errorForms(err) {
			assertNoChunk(t, "Get's error under "+form, text, testPassword[:12])
		}
	}
	if !echoed {
		t.Fatal("no Get met the server's echo: the test proves nothing")
	}
	if err := c.Health(ctx); err != nil {
		assertNoChunk(t, "Health's error", err.Error(), testPassword[:12])
	}
}

// TestGetJSONErrorsLeaveTheValueOut: encoding/json quotes what it could not
// decode; GetJSON's error says where and what kind, and still matches the
// decoder's error types.
func TestGetJSONErrorsLeaveTheValueOut(t *testing.T) {
	t.Parallel()
	c := openCache(t, serverOptions(redisserver.Start(t, redisserver.Config{})))
	ctx := context.Background()
	for _, tc := range []struct {
		stored, secret, want string
		decode               func() error
	}{
		{`{"pulse": 73, "diagnosis": "s3cr3t-diagnosis"}`, "s3cr3t-diagnosis", "a JSON string at byte", func() error {
			_, err := GetJSON[struct{ Diagnosis int }](ctx, c, "j")
			var typ *json.UnmarshalTypeError
			if !errors.As(err, &typ) {
				return fmt.Errorf("not an *json.UnmarshalTypeError: %v", err)
			}
			return err
		}},
		{`{"pulse": 7341s3cr3t}`, "7341s3cr3t", "invalid JSON at byte", func() error {
			_, err := GetJSON[map[string]int](ctx, c, "j")
			var syn *json.SyntaxError
			if !errors.As(err, &syn) {
				return fmt.Errorf("not a *json.SyntaxError: %v", err)
			}
			return err
		}},
		{`{"n": 987654321987654321987}`, "987654321987654321987", "a JSON number at byte", func() error {
			_, err := GetJSON[struct{ N int8 }](ctx, c, "j")
			return err
		}},
	} {
		if err := c.Set(ctx, "j", []byte(tc.stored), time.Minute); err != nil {
			t.Fatal(err)
		}
		err := tc.decode()
		for _, text := range []string{fmt.Sprint(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%q", err)} {
			if err == nil || !strings.Contains(text, tc.want) || strings.Contains(text, tc.secret) || strings.Contains(text, "s3cr3t") {
				t.Errorf("GetJSON of %s: %s", tc.stored, text)
			}
		}
	}
}
