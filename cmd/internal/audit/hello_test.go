package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/resp"
)

// TestHelloForgedSentinelLink: a user that may publish hellos names its
// connection to the master like a Sentinel's link (CLIENT SETNAME
// sentinel-<id8>-cmd). That Sentinel's links then show two users: the
// audit reports the impersonation, naming both users and no secret, and
// takes neither for the Sentinels' own through it, so the forger is still
// reported as one who may publish to the hello channel; the Sentinels'
// real user, vouched for by the other Sentinels' links, is not.
func TestHelloForgedSentinelLink(t *testing.T) {
	t.Parallel()
	sn, o, secrets := sentinelAudit(t)
	const forgerPW = "forger-password-1234567890"
	sn.Master.Do(t, "ACL", "SETUSER", "forger", "on", ">"+forgerPW, "+publish", "+client|setname", "&"+helloChannel)
	myID := strings.TrimSpace(sn.Sentinels[0].Do(t, "SENTINEL", "MYID"))
	c, err := resp.Dial(sn.Master.Addr, sn.Master.TLSConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, cmd := range [][]string{{"AUTH", "forger", forgerPW}, {"CLIENT", "SETNAME", "sentinel-" + myID[:8] + "-cmd"}} {
		if r, err := c.Do(cmd...); err != nil || r != "+OK" {
			t.Fatalf("%s: %q, %v", cmd[0], r, err)
		}
	}

	rep := auditOK(t, o, append(secrets, forgerPW)...)
	if s := subjectsOf(rep, "sentinel.hello-publish", sevError); !slices.Equal(s, []string{sn.Master.Addr, sn.Master.Addr}) {
		t.Fatalf("sentinel.hello-publish errors about %v, want two about the master %s (the impersonation, the forger):\n%s", s, sn.Master.Addr, dump(rep))
	}
	var impersonation, forgers bool
	for _, f := range rep.Findings {
		if f.ID != "sentinel.hello-publish" || f.Severity != sevError {
			continue
		}
		switch {
		case strings.Contains(f.Message, "impersonates"):
			impersonation = true
			wantContains(t, f, "sentinel-"+myID[:8]+"-cmd", "forger and "+sn.MonitorUser)
		case strings.HasPrefix(f.Evidence, "forger may PUBLISH"):
			forgers = true
			if strings.Contains(f.Evidence, sn.MonitorUser+" may") {
				t.Errorf("the Sentinels' own user is reported: %q", f.Evidence)
			}
		}
	}
	if !impersonation || !forgers {
		t.Fatalf("impersonation reported %v, forger reported %v:\n%s", impersonation, forgers, dump(rep))
	}
}
