package bench

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/serverconf"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// TestRunOnCluster: the bench runs against a three-master cluster, as the
// app user: plaintext and redsafe (Fernet and sealed) reach every master (no MOVED, no
// CROSSSLOT in the batch workload or the cleanup), go-redis+fernet-go is
// left out with a note, and no key is left behind.
func TestRunOnCluster(t *testing.T) {
	t.Parallel()
	password := redsafe.GeneratePassword(redsafe.Production)
	cl := redisserver.StartCluster(t, redisserver.ClusterConfig{Masters: 3, Users: []redisserver.User{
		{Name: "admin", Password: redsafe.GeneratePassword(redsafe.Production), Rules: "~* &* +@all"},
		{Name: "app", Password: password, Rules: serverconf.AppRules("*")},
	}})
	var progress bytes.Buffer
	results, err := Run(context.Background(), Config{
		Options: redsafe.Options{
			Environment: redsafe.Production, URL: cl.URL("app"), Password: password,
			EncryptionKey: seal.GenerateKey().Encode(), TLS: redsafe.TLSOptions{CAFile: cl.CAFile},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		},
		Sizes: []int{100}, Callers: []int{4}, Workloads: []string{"setget", "batch"},
		Duration: 200 * time.Millisecond, Prefix: "bench-test:", Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range results {
		seen[r.Stack]++
		if r.Errors > 0 || r.OpsPerSec <= 0 {
			t.Errorf("%s %s: %d errors, %.0f ops/s", r.Workload, r.Stack, r.Errors, r.OpsPerSec)
		}
	}
	if seen[StackPlaintext] != 2 || seen[StackRedsafe] != 2 || seen[StackSealed] != 2 || seen[StackGoRedis] != 0 {
		t.Errorf("stacks run: %v", seen)
	}
	if !strings.Contains(progress.String(), "go-redis+fernet-go is left out on a Redis Cluster") {
		t.Errorf("no note about go-redis in:\n%s", progress.String())
	}
	for _, m := range cl.Masters {
		if r := m.Do(t, "DBSIZE"); r != ":0" {
			t.Errorf("%s holds %s keys after the run", m.Addr, r)
		}
	}
}
