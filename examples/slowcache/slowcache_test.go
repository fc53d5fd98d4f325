package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/redisserver"
	"github.com/redsafe/redsafe/seal"
)

// TestService runs the example in-process against a real TLS redis-server,
// configured through the environment contract in production: caching,
// /health while Redis is up and after it stops, and /metrics that move.
func TestService(t *testing.T) {
	s := redisserver.Start(t, redisserver.Config{})
	t.Setenv("ENVIRONMENT", "production")
	t.Setenv(redsafe.EnvURL, s.URL("", ""))
	t.Setenv(redsafe.EnvPassword, s.Password)
	t.Setenv(redsafe.EnvEncryptionKey, seal.GenerateKey().Encode())
	t.Setenv(redsafe.EnvTLSCACert, s.CAFile)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reg := prometheus.NewRegistry()
	cache, err := openCache(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	srv := newServer(cache, reg)
	srv.delay = 100 * time.Millisecond
	ts := httptest.NewServer(srv)
	defer ts.Close()
	before := scrape(t, ts.URL)

	start := time.Now()
	if got := compute(t, ts.URL, 100); got != (result{N: 100, Primes: 25}) {
		t.Fatalf("first /compute = %+v, want 25 primes, computed", got)
	}
	if took := time.Since(start); took < srv.delay || testutil.ToFloat64(srv.computations) != 1 {
		t.Fatalf("first /compute took %v and ran %v computations: not the slow path", took, testutil.ToFloat64(srv.computations))
	}
	if got := compute(t, ts.URL, 100); got != (result{N: 100, Primes: 25, Cached: true}) {
		t.Fatalf("second /compute = %+v, want it from the cache", got)
	}
	if n := testutil.ToFloat64(srv.computations); n != 1 {
		t.Fatalf("the second /compute computed again: %v computations", n)
	}
	if code, body := get(t, ts.URL+"/health"); code != http.StatusOK || body != `{"status":"ok"}`+"\n" {
		t.Fatalf("/health = %d %q", code, body)
	}

	after := scrape(t, ts.URL)
	// FetchJSON's miss is a Get, a second Get (a concurrent Fetch may have
	// stored the key in between) and a Set; its hit is one Get.
	moved := map[string]float64{
		`redsafe_operations_total{command="get"}`:        3,
		`redsafe_operations_total{command="set"}`:        1,
		`redsafe_operations_total{command="ping"}`:       1,
		`redsafe_operation_seconds_count{command="get"}`: 3,
		`redsafe_encrypt_seconds_count`:                  1,
		`redsafe_decrypt_seconds_count`:                  1,
	}
	for series, want := range moved {
		if got := after[series] - before[series]; got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	for series, want := range map[string]float64{
		`redsafe_decrypt_failures_total`:                0,
		`redsafe_insecure_override`:                     0,
		`redsafe_validation_findings{severity="error"}`: 0,
	} {
		if got, ok := after[series]; !ok || got != want {
			t.Errorf("%s = %v (exported: %v), want %v", series, got, ok, want)
		}
	}
	// rueidis may open a connection per pipeline wire: one or more.
	if ready, handshakes := after[`redsafe_connect_ready_seconds_count`], after[`redsafe_tls_handshake_seconds_count`]; ready < 1 || handshakes != ready {
		t.Errorf("%v connections ready, %v TLS handshakes: want one or more of each, as many", ready, handshakes)
	}
	if days := after["redsafe_server_cert_expiry_days"]; days < 300 {
		t.Errorf("redsafe_server_cert_expiry_days = %v, want the test certificate's year or so", days)
	}

	// Redis goes away: /health says so without a secret, /compute still
	// answers by computing, and the failures are counted.
	s.Stop()
	code, body := get(t, ts.URL+"/health")
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(body, `{"status":"unavailable","reason":"`) {
		t.Fatalf("/health with Redis stopped = %d %q", code, body)
	}
	for _, secret := range []string{s.Password, s.Addr, "rediss"} {
		if strings.Contains(body, secret) {
			t.Fatalf("/health reveals %q: %s", secret, body)
		}
	}
	if got := compute(t, ts.URL, 10); got != (result{N: 10, Primes: 4}) {
		t.Fatalf("/compute with Redis stopped = %+v", got)
	}
	down := scrape(t, ts.URL)
	// FetchJSON's failed Get ends it: no Set is tried against a server
	// that did not answer.
	if failed := sumWithPrefix(down, `redsafe_errors_total{class=`); failed < 2 {
		t.Errorf("redsafe_errors_total sums to %v after a failed health check and get", failed)
	}
}

func compute(t *testing.T, base string, n int) result {
	t.Helper()
	code, body := get(t, base+"/compute?n="+strconv.Itoa(n))
	var r result
	if code != http.StatusOK || json.Unmarshal([]byte(body), &r) != nil {
		t.Fatalf("/compute?n=%d = %d %q", n, code, body)
	}
	return r
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// scrape reads /metrics as Prometheus does, into one value per series:
// `name{label="value",...}`, with histograms as name_count.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics = %d", code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			sort.Strings(labels)
			suffix := ""
			if len(labels) > 0 {
				suffix = "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetHistogram() != nil:
				out[name+"_count"+suffix] = float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				out[name+suffix] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[name+suffix] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func sumWithPrefix(series map[string]float64, prefix string) float64 {
	var sum float64
	for k, v := range series {
		if strings.HasPrefix(k, prefix) {
			sum += v
		}
	}
	return sum
}
