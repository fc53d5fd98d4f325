# redsafe: `make up` starts a verified TLS-only local Redis, `make test` runs
# every test against real redis-server processes.
GO      ?= go
BIN     := bin/redsafe
FUZZTIME ?= 15s

.PHONY: all build test vet fmt-check fuzz bench up down deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/redsafe

deps:
	@scripts/ensure-deps

vet: fmt-check
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: deps vet
	$(GO) test -race -count=1 ./...

# A short, bounded fuzzing pass over every fuzz target.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzOpen$$' -fuzztime=$(FUZZTIME) ./seal/
	$(GO) test -run='^$$' -fuzz='^FuzzRoundTrip$$' -fuzztime=$(FUZZTIME) ./seal/
	$(GO) test -run='^$$' -fuzz='^FuzzRedact$$' -fuzztime=$(FUZZTIME) ./internal/redisurl/
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./internal/resp/

# Measures the codec, the end-to-end stacks, the handshakes and a CPU
# profile in one run, and regenerates docs/PERFORMANCE.md and
# docs/bench.png from them (about 7 minutes; BENCH_DURATION per stack per cell).
BENCH_DURATION ?= 1500ms
bench: deps build
	@mkdir -p docs
	$(GO) run ./internal/perfdoc -redsafe $(BIN) -duration $(BENCH_DURATION)

up: deps build
	$(BIN) up

down: build
	$(BIN) down

clean:
	rm -rf bin
