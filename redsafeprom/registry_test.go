package redsafeprom

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
)

// TestRegisteredOnlyWhereTheCallerSays: New touches no global registry,
// two sets of metrics live side by side with their own labels, and the
// names follow Prometheus conventions.
func TestRegisteredOnlyWhereTheCallerSays(t *testing.T) {
	a := New(Options{ConstLabels: prometheus.Labels{"cache": "sessions"}})
	b := New(Options{ConstLabels: prometheus.Labels{"cache": "profiles"}})
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "redsafe_") {
			t.Fatalf("%s is in the default registry", f.GetName())
		}
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(a, b)
	if err := reg.Register(New(Options{ConstLabels: prometheus.Labels{"cache": "sessions"}})); err == nil {
		t.Error("the same metrics registered twice")
	}
	problems, err := testutil.CollectAndLint(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestNoSecretInAnyLabel: after a busy session with keys that hold a
// session id and values that hold personal data, every label value in the
// registry comes from a fixed set, and none holds the key, the value or
// the password.
func TestNoSecretInAnyLabel(t *testing.T) {
	t.Parallel()
	s := redisserver.Start(t, redisserver.Config{})
	reg := prometheus.NewPedanticRegistry()
	m := New(Options{})
	reg.MustRegister(m)
	o := options(s)
	o.Observer = m
	c, err := redsafe.Open(testContext(t), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := testContext(t)
	const key, secret = "session:9f86d081884c7d65", "alice@example.com"
	c.Set(ctx, key, []byte(secret), time.Minute)
	c.Get(ctx, key)
	s.Do(t, "SET", key+"x", "not a token")
	c.Get(ctx, key+"x")
	c.GetMany(ctx, []string{key, key + "x"})

	allowed := map[string]bool{"connect": true}
	for _, v := range knownCommands {
		allowed[v] = true
	}
	for _, v := range []redsafe.ErrorClass{redsafe.ClassUndecryptable, redsafe.ClassOther, redsafe.ClassTimeout,
		redsafe.ClassUnreachable, redsafe.ClassTLS, redsafe.ClassAuth, redsafe.ClassPermission, redsafe.ClassServer, redsafe.ClassCanceled, redsafe.ClassProtocol} {
		allowed[string(v)] = true
	}
	for _, v := range replyLimits {
		allowed[v] = true
	}
	for _, v := range []redsafe.Severity{redsafe.SeverityError, redsafe.SeverityWarning, redsafe.SeverityInfo} {
		allowed[string(v)] = true
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				v := l.GetValue()
				if !allowed[v] || strings.Contains(v, key) || strings.Contains(v, secret) || strings.Contains(v, s.Password) {
					t.Errorf("%s has label %s=%q, outside the fixed set", f.GetName(), l.GetName(), v)
				}
			}
		}
	}
	if got := value(t, m.decryptFailures); got != 2 {
		t.Errorf("decrypt_failures_total = %v, want 2 (Get and GetMany of the bad value)", got)
	}
}
