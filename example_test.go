package redsafe_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/redsafe/redsafe"
)

// A service opens its cache from the environment contract. An unsafe
// configuration fails here, with every problem and its fix.
func Example() {
	ctx := context.Background()
	cache, err := redsafe.OpenFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()

	if err := cache.Set(ctx, "session:42", []byte(`{"user":7}`), time.Hour); err != nil {
		log.Fatal(err)
	}
	value, err := cache.Get(ctx, "session:42")
	switch {
	case errors.Is(err, redsafe.ErrNotFound):
		// a miss
	case err != nil:
		log.Fatal(err) // includes values that fail authentication
	}
	_ = value
}

// Fetch is the cache-aside pattern: the value if it is stored, or load's
// result, stored for the next caller. Concurrent Fetches of one key in
// this process share one load.
func ExampleCache_Fetch() {
	ctx := context.Background()
	cache, err := redsafe.OpenFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()

	report, err := cache.Fetch(ctx, "report:2026-12", time.Hour, func(ctx context.Context) ([]byte, error) {
		return []byte("expensive to build"), nil // e.g. a slow query
	})
	if err != nil {
		log.Fatal(err) // load's error, Redis's, or a value that failed authentication
	}
	_ = report
}

// FetchJSON is Fetch for a typed value, stored as JSON.
func ExampleFetchJSON() {
	ctx := context.Background()
	cache, err := redsafe.OpenFromEnv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()

	type profile struct {
		Name string `json:"name"`
	}
	p, err := redsafe.FetchJSON(ctx, cache, "profile:7", time.Hour, func(ctx context.Context) (profile, error) {
		return profile{Name: "Ada"}, nil // e.g. from the database
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = p
}
