package verify

import (
	"fmt"
	"testing"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestProbeKeyIsInsideThePatternForRedis: whatever key probeKey chooses
// inside a pattern, Redis itself (ACL DRYRUN, with the pattern as the
// user's only ~key rule) lets the user write it. Patterns whose escapes
// and classes probeKey cannot follow must be refused instead of giving a
// key outside the pattern.
func TestProbeKeyIsInsideThePatternForRedis(t *testing.T) {
	t.Parallel()
	const filler = "redsafe:verify:0123abcd"
	s := redisserver.Start(t, redisserver.Config{Plaintext: true})
	checked := 0
	for i, pattern := range []string{
		"orders:*", "tenant-?:*:cache", "a*b*", `lit\*eral:*`, "[oO]rders:*", "[a-c]x:*", "[z-a]x:*",
		`a*\`, `[a\]]*`, `[a\]]x*`, `[\]a]*`, "[a-]x*", "[ab-]x*", "[-a]x*", "[-]x*", `x\`, "{a,b}:*", "*[*", "[]]*",
	} {
		key, err := probeKey("", pattern, filler)
		if err != nil {
			continue // refused: the probe writes nothing
		}
		checked++
		user := fmt.Sprintf("probe%d", i)
		s.Do(t, "ACL", "SETUSER", user, "reset", "on", "nopass", "~"+pattern, "+set")
		if got := s.Do(t, "ACL", "DRYRUN", user, "SET", key, "v"); got != "+OK" {
			t.Errorf("probeKey(%q) = %q, which Redis does not let the user write: %s", pattern, key, got)
		}
	}
	if checked < 10 {
		t.Errorf("only %d patterns gave a key: the test checks too little", checked)
	}
}
