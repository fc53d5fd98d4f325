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
