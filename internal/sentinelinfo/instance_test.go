package sentinelinfo

import (
	"errors"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/resp"
)

func bulk(s string) resp.Value       { return resp.Value{Type: '$', Str: s} }
func arr(v ...resp.Value) resp.Value { return resp.Value{Type: '*', Elems: v} }

func entry(ip, port string, more ...string) resp.Value {
	e := arr(bulk("ip"), bulk(ip), bulk("port"), bulk(port), bulk("flags"), bulk("slave"))
	for _, s := range more {
		e.Elems = append(e.Elems, bulk(s))
	}
	return e
}

const runID = "c9b317e8b5adcdd2051e93f9b48be27eec09e79f"

// A Sentinel's report is hostile input: only a plain host:port is dialed.
func TestAddr(t *testing.T) {
	for _, c := range []struct {
		host, port, want string
	}{
		{"10.0.0.7", "26379", "10.0.0.7:26379"},
		{"::1", "6380", "[::1]:6380"},
		{"redis-1.internal", "6380", "redis-1.internal:6380"},
		{"redis_1", "65535", "redis_1:65535"},
		{"10.0.0.7", "0", ""},
		{"10.0.0.7", "65536", ""},
		{"10.0.0.7", "70000", ""},
		{"10.0.0.7", "+6380", ""},
		{"10.0.0.7", "06380", ""},
		{"10.0.0.7", "", ""},
		{"", "6380", ""},
		{"0.0.0.0", "6380", ""},
		{"::", "6380", ""},
		{"224.0.0.1", "6380", ""},
		{"ff02::1", "6380", ""},
		{"evil host", "6380", ""},
		{"a/b", "6380", ""},
		{`a\b`, "6380", ""},
		{"user@host", "6380", ""},
		{"[::1]", "6380", ""},
		{"host\r\nINFO", "6380", ""},
		{"host\x00", "6380", ""},
		{strings.Repeat("a", 253), "1", strings.Repeat("a", 253) + ":1"},
		{strings.Repeat("a", 254), "6380", ""},
	} {
		got, err := Addr(c.host, c.port)
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("Addr(%q, %q) = %q, %v; want %q", c.host, c.port, got, err, c.want)
		}
		var ae *AddrError
		if err != nil && (!errors.As(err, &ae) || ae.Host != c.host || ae.Port != c.port) {
			t.Errorf("Addr(%q, %q): error %#v does not say what was reported", c.host, c.port, err)
		}
	}
}

// What a Sentinel names is bounded and must be host:port before anything
// dials it; one bad entry refuses the reply.
func TestInstancesRefusesHostileReplies(t *testing.T) {
	got, err := Instances(arr(entry("10.0.0.2", "6380"), entry("::1", "6381", "runid", strings.ToUpper(runID), "last-ok-ping-reply", "42", "num-other-sentinels", "2")), 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("Instances = %+v, %v", got, err)
	}
	if want := (Instance{Addr: "10.0.0.2:6380", Flags: "slave", LastOKPing: -1, OtherSentinels: -1}); got[0] != want {
		t.Errorf("first instance %+v, want %+v", got[0], want)
	}
	if want := (Instance{Addr: "[::1]:6381", RunID: runID, Flags: "slave", LastOKPing: 42, OtherSentinels: 2}); got[1] != want {
		t.Errorf("second instance %+v, want %+v", got[1], want)
	}
	for name, v := range map[string]resp.Value{
		"too many":                    arr(entry("10.0.0.2", "6380"), entry("10.0.0.3", "6380"), entry("10.0.0.4", "6380")),
		"port 0":                      arr(entry("10.0.0.2", "0")),
		"port too large":              arr(entry("10.0.0.2", "70000")),
		"no host":                     arr(entry("", "6380")),
		"no address":                  arr(arr(bulk("flags"), bulk("slave"))),
		"a path":                      arr(entry("evil/x", "6380")),
		"a line break":                arr(entry("evil\r\nPING", "6380")),
		"odd fields":                  arr(arr(bulk("ip"))),
		"too many fields":             arr(entry("10.0.0.2", "6380", strings.Split(strings.Repeat("k,v,", maxFields/2), ",")[:maxFields]...)),
		"an entry that is not a list": arr(bulk("10.0.0.2:6380")),
		"not a list":                  bulk("x"),
		"a null list":                 {Type: '*', Nil: true},
		"an error":                    {Type: '-', Str: "ERR No such master with that name"},
	} {
		if got, err := Instances(v, 2); err == nil {
			t.Errorf("%s: accepted as %+v", name, got)
		}
	}
}

// A run id that is not 40 hex digits is no run id: not recorded, not used
// to find links.
func TestRunID(t *testing.T) {
	for id, want := range map[string]string{
		runID:                   runID,
		strings.ToUpper(runID):  runID,
		"":                      "",
		"not-a-run-id":          "",
		strings.Repeat("z", 40): "",
		runID[:39]:              "",
		runID + "0":             "",
		runID[:32] + "-cmd\r\n": "",
	} {
		got, ok := RunID(id)
		if got != want || ok != (want != "") {
			t.Errorf("RunID(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
	in, err := ParseInstance(entry("10.0.0.2", "6380", "runid", "not-a-run-id"))
	if err != nil || in.RunID != "" {
		t.Fatalf("an entry with a bad run id: %+v, %v", in, err)
	}
}
