package redsafe

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/redsafe/redsafe/internal/redisserver"
)

// getCalls is how many GETs a server has run (INFO commandstats).
func getCalls(t *testing.T, s *redisserver.Server) int {
	t.Helper()
	m := regexp.MustCompile(`cmdstat_get:calls=(\d+)`).FindStringSubmatch(s.Do(t, "INFO", "commandstats"))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestSentinelReadFromReplicas: with ReadFromReplicas, Gets are served by
// the replica and writes by the master; without it the replica serves
// none. With LocalCache too, the replica's tracking drops the local copy
// when replication brings a write from another client.
func TestSentinelReadFromReplicas(t *testing.T) {
	t.Parallel()
	sn := startSentinel(t)
	ctx := testContext(t)
	master, replica := sn.Master, sn.Replicas[0]
	writer := openCache(t, sentinelOptions(sn))
	ro := sentinelOptions(sn)
	ro.ReadFromReplicas = true
	reader := openCache(t, ro)

	if err := writer.Set(ctx, "rr", []byte("v1"), time.Minute); err != nil {
		t.Fatal(err)
	}
	masterGets, replicaGets := getCalls(t, master), getCalls(t, replica)
	for range 5 {
		if _, err := writer.Get(ctx, "rr"); err != nil {
			t.Fatal(err)
		}
	}
	if n := getCalls(t, replica) - replicaGets; n != 0 {
		t.Errorf("without ReadFromReplicas the replica served %d GETs", n)
	}
	if n := getCalls(t, master) - masterGets; n != 5 {
		t.Errorf("without ReadFromReplicas the master served %d of 5 GETs", n)
	}

	masterGets, replicaGets = getCalls(t, master), getCalls(t, replica)
	// A replica may be behind: a read can miss a write at first.
	waitUntil(t, 5*time.Second, "the replica to serve v1", func() bool {
		got, err := reader.Get(ctx, "rr")
		return err == nil && string(got) == "v1"
	})
	for range 5 {
		if _, err := reader.Get(ctx, "rr"); err != nil {
			t.Fatal(err)
		}
	}
	if n := getCalls(t, replica) - replicaGets; n < 6 {
		t.Errorf("with ReadFromReplicas the replica served %d GETs, want at least 6", n)
	}
	if n := getCalls(t, master) - masterGets; n != 0 {
		t.Errorf("with ReadFromReplicas the master served %d GETs", n)
	}
	// Writes still go to the master: a replica would refuse them
	// (READONLY), and SetWait's WAIT must be asked of the master.
	if err := reader.Set(ctx, "rr2", []byte("w"), time.Minute); err != nil {
		t.Fatalf("Set with ReadFromReplicas: %v", err)
	}
	if n, err := reader.SetWait(ctx, "rr3", []byte("w"), time.Minute, 1, time.Second); err != nil || n != 1 {
		t.Fatalf("SetWait with ReadFromReplicas = %d, %v", n, err)
	}

	lo := sentinelOptions(sn)
	lo.ReadFromReplicas = true
	lo.LocalCache = LocalCacheOptions{MaxBytes: 1 << 20, TTL: time.Hour}
	local := openCache(t, lo)
	for range 2 {
		if got, err := local.Get(ctx, "rr"); err != nil || string(got) != "v1" {
			t.Fatalf("Get = %q, %v", got, err)
		}
	}
	if st := local.LocalCacheStats(); st.Hits == 0 {
		t.Fatalf("no local hit: %+v", st)
	}
	replicaGets = getCalls(t, replica)
	if err := writer.Set(ctx, "rr", []byte("v2"), time.Minute); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*time.Second, "the local copy to follow a write replicated to the replica", func() bool {
		got, err := local.Get(ctx, "rr")
		return err == nil && string(got) == "v2"
	})
	if getCalls(t, replica) == replicaGets {
		t.Error("the local cache's refill did not read the replica")
	}
}

func TestReadFromReplicasOnOneServerWarns(t *testing.T) {
	o := validOptions(Production)
	o.ReadFromReplicas = true
	r := Validate(o)
	if !r.has("replicas.single-server") || !r.OK() {
		t.Errorf("ReadFromReplicas on one server: %+v", r.Findings)
	}
	for _, url := range []string{"rediss://app@s1:26379/0?master_set=cache", "rediss://app@n1:6380/0?addr=n2:6380"} {
		o.URL = url
		if Validate(o).has("replicas.single-server") {
			t.Errorf("%s: warned about one server", url)
		}
	}
}
