package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redsafe/redsafe"
)

const (
	maxN        = 10_000_000 // bounds the sieve's memory
	resultTTL   = time.Hour
	healthLimit = 2 * time.Second
	// cacheLimit bounds each cache command (Options.CommandTimeout, set in
	// openCache), so that with Redis down a request soon computes instead;
	// it does not bound the computation FetchJSON runs between its read and
	// its write, as a deadline on the request's context would.
	cacheLimit = 500 * time.Millisecond
)

// server serves /compute, /health and /metrics.
type server struct {
	cache        *redsafe.Cache
	delay        time.Duration // of each computation
	computations prometheus.Counter
	mux          *http.ServeMux
}

// result is what is cached, and what /compute answers.
type result struct {
	N      int  `json:"n"`
	Primes int  `json:"primes"`
	Cached bool `json:"cached"`
}

func newServer(cache *redsafe.Cache, reg *prometheus.Registry) *server {
	s := &server{
		cache: cache,
		delay: computeDelay,
		computations: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "slowcache_computations_total", Help: "Computations run because the cache did not have the result.",
		}),
		mux: http.NewServeMux(),
	}
	reg.MustRegister(s.computations)
	s.mux.HandleFunc("GET /compute", s.compute)
	s.mux.Handle("GET /health", cache.HealthHandler(healthLimit))
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// compute answers from the cache, or computes and caches, with
// redsafe.FetchJSON: concurrent requests for one n share one computation.
// The cache is an optimisation: when Redis is down, or a stored value is
// refused, FetchJSON returns the error without computing (so an outage
// does not turn into a stampede here), and the service computes for this
// request itself instead of failing.
func (s *server) compute(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 || n > maxN {
		http.Error(w, "n must be an integer from 0 to "+strconv.Itoa(maxN), http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	computed := false
	res, err := redsafe.FetchJSON(ctx, s.cache, "primes:"+strconv.Itoa(n), resultTTL, func(context.Context) (result, error) {
		computed = true
		return s.run(n), nil
	})
	switch {
	case err != nil:
		// The class, not the error: it is all an operator needs here.
		slog.WarnContext(ctx, "slowcache: cache unavailable, computing without it", "class", redsafe.ClassifyError(err))
		res = s.run(n)
	case !computed:
		res.Cached = true // stored earlier, or computed by a concurrent request
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// run computes the result for n, counting the computation.
func (s *server) run(n int) result {
	s.computations.Inc()
	return result{N: n, Primes: countPrimes(n, s.delay)}
}
