package sentinelinfo

import (
	"maps"
	"slices"
	"testing"
)

// Only the links named after a known Sentinel's run id count, and every
// user they log in as is returned, so that a forged name shows up.
func TestLinkUsers(t *testing.T) {
	const other = "0123456789abcdef0123456789abcdef01234567"
	list := "id=1 addr=10.0.0.5:41000 name=sentinel-c9b317e8-cmd age=3 db=0 user=sentinel-monitor\n" +
		"id=2 addr=10.0.0.5:41002 name=sentinel-c9b317e8-pubsub age=3 db=0 user=sentinel-monitor\r\n" +
		"id=3 addr=10.0.0.9:41004 name=sentinel-c9b317e8-cmd age=1 db=0 user=app\n" + // a forged name
		"id=4 addr=10.0.0.6:41006 name=sentinel-deadbeef-cmd age=3 db=0 user=stranger\n" + // not a known Sentinel
		"id=5 addr=10.0.0.6:41008 name=sentinel-01234567-other age=3 db=0 user=wrongkind\n" +
		"id=6 addr=10.0.0.6:41010 name=sentinel-01234567-cmd age=3 db=0 user=\n" +
		"id=7 addr=10.0.0.6:41012 name=app age=3 db=0 user=sentinel-monitor\n" +
		"\n"
	got := LinkUsers(list, []string{runID, other, "not-a-run-id", runID})
	want := map[string][]string{runID: {"app", "sentinel-monitor"}}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("LinkUsers = %v, want %v", got, want)
	}
	if got := LinkUsers(list, nil); len(got) != 0 {
		t.Fatalf("LinkUsers with no run ids = %v", got)
	}
}

// A run id whose links show two users vouches for neither; one that shows
// one user vouches for it, even when that user is also on a forged id.
func TestOwnUsers(t *testing.T) {
	const other = "0123456789abcdef0123456789abcdef01234567"
	own, forged := OwnUsers(map[string][]string{runID: {"forger", "sentinel"}, other: {"sentinel"}, "empty": nil})
	if want := map[string]bool{"sentinel": true}; !maps.Equal(own, want) {
		t.Fatalf("own = %v, want %v", own, want)
	}
	if want := map[string][]string{runID: {"forger", "sentinel"}}; !maps.EqualFunc(forged, want, slices.Equal) {
		t.Fatalf("forged = %v, want %v", forged, want)
	}
	if own, _ := OwnUsers(map[string][]string{runID: {"forger", "sentinel"}}); len(own) != 0 {
		t.Fatalf("own = %v from a forged id alone", own)
	}
}
