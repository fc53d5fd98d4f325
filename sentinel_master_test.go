package redsafe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestMasterConnection: for a master_set URL, MasterConnection asks the
// Sentinels (as the Sentinels' user) for the master and returns the
// Connection to it, verified against the name the Sentinel gave, with the
// application's credentials; a Sentinel that is down is skipped; the
// wrong Sentinel password names no master; nothing prints the password.
func TestMasterConnection(t *testing.T) {
	t.Parallel()
	sn := startSentinel(t)
	ctx := testContext(t)
	o := sentinelOptions(sn)
	if _, err := o.Connection(); !errors.Is(err, ErrSentinelConnection) {
		t.Fatalf("Connection() = %v, want ErrSentinelConnection", err)
	}
	conn, err := o.MasterConnection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if conn.Addr != sn.Master.Addr || conn.Username != "app" || conn.Password != sentinelAppPassword || conn.Sentinels == nil {
		t.Fatalf("MasterConnection = %s as %q (sentinels %v), want %s as app", conn.Addr, conn.Username, conn.Sentinels, sn.Master.Addr)
	}
	if conn.TLS == nil || conn.TLS.ServerName != "127.0.0.1" {
		t.Fatalf("the master's TLS config verifies %v, want 127.0.0.1", conn.TLS)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("sentinels", "value", *conn.Sentinels, "pointer", conn.Sentinels)
	asJSON, _ := json.Marshal(conn.Sentinels)
	for _, out := range []string{fmt.Sprintf("%v", conn.Sentinels), fmt.Sprintf("%+v", *conn.Sentinels), fmt.Sprintf("%#v", *conn.Sentinels),
		fmt.Sprintf("%s", conn.Sentinels), fmt.Sprintf("%v", *conn), logged.String(), string(asJSON)} {
		if strings.Contains(out, sentinelClientPassword) || strings.Contains(out, sentinelAppPassword) || !strings.Contains(out, "127.0.0.1") {
			t.Fatalf("Sentinels print a password, or nothing useful: %s", out)
		}
	}

	v, err := conn.Sentinels.View(ctx, false)
	if err != nil || v.Master != sn.Master.Addr || len(v.Replicas) != 1 || v.Replicas[0] != sn.Replicas[0].Addr || len(v.Sentinels) != 2 {
		t.Fatalf("View = %+v, %v; want master %s, replica %s, 2 other Sentinels", v, err, sn.Master.Addr, sn.Replicas[0].Addr)
	}

	// The first Sentinel named is down (a closed port): the next answers.
	down := o
	down.URL = strings.Replace(sentinelURL(sn, "app"), sn.Sentinels[0].Addr, "127.0.0.1:1", 1)
	if conn, err := down.MasterConnection(ctx); err != nil || conn.Addr != sn.Master.Addr {
		t.Fatalf("with the first Sentinel down: %v, %v", conn, err)
	}

	wrong := o
	wrong.Sentinel.Password = GeneratePassword(Production)
	_, err = wrong.MasterConnection(ctx)
	if !errors.Is(err, ErrNoMaster) || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong Sentinel password: %v, want ErrNoMaster naming WRONGPASS", err)
	}
	if strings.Contains(err.Error(), wrong.Sentinel.Password) {
		t.Fatalf("the error holds the password: %v", err)
	}
}
