package resp_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/internal/resp"
)

func TestDoValueKeepsStructure(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{Plaintext: true, NoAuth: true})
	c, err := resp.DialTimeout(s.Addr, nil, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cmd := range [][]string{{"SET", "a", "line 1\nline 2"}, {"SET", "b", ""}} {
		if v, err := c.DoValue(cmd...); err != nil || v.Type != '+' || v.Str != "OK" {
			t.Fatalf("%v: %+v %v", cmd, v, err)
		}
	}
	v, err := c.DoValue("MGET", "a", "b", "missing")
	if err != nil || v.Type != '*' || len(v.Elems) != 3 {
		t.Fatalf("MGET: %+v %v", v, err)
	}
	if v.Elems[0].Str != "line 1\nline 2" || v.Elems[1].Str != "" || v.Elems[1].Nil || !v.Elems[2].Nil {
		t.Errorf("MGET elements: %+v", v.Elems)
	}
	// Do renders the same reply as text, one element per line.
	if got, _ := c.Do("MGET", "a", "b", "missing"); got != "line 1\nline 2\n\n(nil)" {
		t.Errorf("Do MGET = %q", got)
	}
	// Nested arrays (SCAN: cursor and keys) and errors.
	v, err = c.DoValue("SCAN", "0", "COUNT", "100")
	if err != nil || len(v.Elems) != 2 || v.Elems[0].Str != "0" {
		t.Fatalf("SCAN: %+v %v", v, err)
	}
	var keys []string
	for _, k := range v.Elems[1].Elems {
		keys = append(keys, k.Str)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("SCAN keys %q", keys)
	}
	if v, err := c.DoValue("NOSUCHCOMMAND"); err != nil || !v.IsError() || v.String()[:4] != "-ERR" {
		t.Errorf("unknown command: %+v %v", v, err)
	}
	if got, _ := c.Do("LRANGE", "nothing", "0", "-1"); got != "(empty array)" {
		t.Errorf("empty array = %q", got)
	}
}

func TestAnswersPlaintext(t *testing.T) {
	t.Parallel()
	plain := redisserver.Start(t, redisserver.Config{Plaintext: true})
	tlsOnly := redisserver.Start(t, redisserver.Config{})
	if !resp.AnswersPlaintext(plain.Addr, time.Second) {
		t.Error("a plaintext server does not answer plaintext")
	}
	if resp.AnswersPlaintext(tlsOnly.Addr, time.Second) {
		t.Error("a TLS port answers plaintext")
	}
}

// TestPipelineOneWrite: replies come back in order, an error reply among
// them, and the server saw the commands as separate ones.
func TestPipelineOneWrite(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	c, err := resp.DialTimeout(s.Addr, s.TLSConfig(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vs, err := c.Pipeline([]string{"PING"}, []string{"AUTH", "default", "wrong-password"}, []string{"AUTH", s.Password}, []string{"ECHO", "a\r\nb"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 || vs[0].Type != '-' || !strings.HasPrefix(vs[0].Str, "NOAUTH") ||
		vs[1].Type != '-' || !strings.HasPrefix(vs[1].Str, "WRONGPASS") ||
		vs[2].Str != "OK" || vs[3].Str != "a\r\nb" {
		t.Fatalf("replies: %+v", vs)
	}
}

// TestFirstWord: a reply quoted in a message keeps its error code and loses
// the text after it, which can echo a password.
func TestFirstWord(t *testing.T) {
	for reply, want := range map[string]string{
		"-WRONGPASS invalid username-password pair or user is disabled.":   "-WRONGPASS",
		"-ERR unknown command 'AUTH', with args beginning with: 'hunter2'": "-ERR",
		"-NOPERM\r\nhunter2": "-NOPERM",
		"+PONG":              "+PONG",
		"":                   "",
	} {
		if got := resp.FirstWord(reply); got != want {
			t.Errorf("FirstWord(%q) = %q, want %q", reply, got, want)
		}
	}
}
