package verify

import (
	"strconv"
	"strings"
	"testing"
)

func TestProbeKey(t *testing.T) {
	const filler = "redsafe:verify:0123abcd"
	for _, c := range []struct{ prefix, pattern, want string }{
		{"", "", filler},
		{"", "*", filler},
		{"", "orders:*", "orders:" + filler},
		{"svc:", "orders:*", filler}, // the library prepends the prefix
		{"", "tenant-?:*:cache", "tenant-x:" + filler + ":cache"},
		{"", "a*b*", "a" + filler + "b"},
		{"", `lit\*eral:*`, "lit*eral:" + filler},
		{"", "[oO]rders:*", "orders:" + filler},
		{"", "[a-c]x:*", "ax:" + filler},
		{"", `a*\`, "a" + filler + `\`}, // Redis matches a trailing backslash literally
	} {
		got, err := probeKey(c.prefix, c.pattern, filler)
		if err != nil || got != c.want {
			t.Errorf("probeKey(%q, %q) = %q, %v; want %q", c.prefix, c.pattern, got, err, c.want)
		}
	}
	for _, pattern := range []string{"orders:current", `only\*`, "[^x]:*", `[a\]]x*`, "[a-]x*"} {
		if got, err := probeKey("", pattern, filler); err == nil || !strings.Contains(err.Error(), strconv.Quote(pattern)) {
			t.Errorf("probeKey(%q) = %q, %v; want an error naming the pattern", pattern, got, err)
		}
	}
}
