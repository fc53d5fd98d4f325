// Command slowcache is an example service: it caches a deliberately slow
// computation in Redis through redsafe, and serves its health and metrics.
//
//	set -a; . ./.redsafe/.env.secure; set +a   # after `make up`
//	go run ./examples/slowcache -addr 127.0.0.1:8080
//	curl '127.0.0.1:8080/compute?n=100000'     # slow the first time, then cached
//	curl 127.0.0.1:8080/health
//	curl 127.0.0.1:8080/metrics
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/redsafeprom"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string) error {
	reg := prometheus.NewRegistry() // the service's own: nothing goes to the global one
	cache, err := openCache(ctx, reg)
	if err != nil {
		return err // every configuration problem with its fix, or why the server cannot be used
	}
	defer cache.Close()

	srv := &http.Server{Addr: addr, Handler: newServer(cache, reg), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("slowcache: listening on %s", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openCache opens the cache as redsafe.OpenFromEnv does, from the
// environment contract, with its metrics registered in reg.
func openCache(ctx context.Context, reg prometheus.Registerer) (*redsafe.Cache, error) {
	metrics := redsafeprom.New(redsafeprom.Options{})
	if err := reg.Register(metrics); err != nil {
		return nil, err
	}
	o := redsafe.OptionsFromEnv()
	o.Observer = metrics
	if o.CommandTimeout == 0 { // unless the service chose its own
		o.CommandTimeout = cacheLimit
	}
	return redsafe.Open(ctx, o)
}
