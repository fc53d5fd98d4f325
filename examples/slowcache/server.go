package main

import (
	"context"
	"encoding/json"
	"errors"
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
	// cacheLimit bounds each cache call. Without a deadline, rueidis retries
	// a read against a server that is down until the context ends, so a
	// request would wait forever instead of computing.
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

// compute answers from the cache, or computes and caches. The cache is an
// optimisation: when Redis is down, or a stored value is refused, the
// service computes instead of failing.
func (s *server) compute(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 0 || n > maxN {
		http.Error(w, "n must be an integer from 0 to "+strconv.Itoa(maxN), http.StatusBadRequest)
		return
	}
	key := "primes:" + strconv.Itoa(n)
	res, ok := s.cached(r.Context(), key)
	if !ok {
		s.computations.Inc()
		res = result{N: n, Primes: countPrimes(n, s.delay)}
		s.store(r.Context(), key, res)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

// cached returns the stored result for key, if there is one it can use.
func (s *server) cached(ctx context.Context, key string) (result, bool) {
	ctx, cancel := context.WithTimeout(ctx, cacheLimit)
	defer cancel()
	res, err := redsafe.GetJSON[result](ctx, s.cache, key)
	if err != nil {
		if !errors.Is(err, redsafe.ErrNotFound) {
			// The class, not the error: it is all an operator needs here.
			slog.WarnContext(ctx, "slowcache: cache read failed", "class", redsafe.ClassifyError(err))
		}
		return result{}, false
	}
	res.Cached = true
	return res, true
}

func (s *server) store(ctx context.Context, key string, res result) {
	ctx, cancel := context.WithTimeout(ctx, cacheLimit)
	defer cancel()
	if err := redsafe.SetJSON(ctx, s.cache, key, res, resultTTL); err != nil {
		slog.WarnContext(ctx, "slowcache: cache write failed", "class", redsafe.ClassifyError(err))
	}
}
