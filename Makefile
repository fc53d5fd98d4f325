# redsafe: `make up` starts a verified TLS-only local Redis, `make test` runs
# every test against real redis-server processes.
GO      ?= go
BIN     := bin/redsafe
FUZZTIME ?= 15s

# The modules of this repository: the library (root and seal), the
# Prometheus integration, the CLI with its operator packages and benchmark
# peers, and the examples. Each is built, vetted and tested on its own.
MODULES := . redsafeprom cmd examples

.PHONY: all build test vet fmt-check fuzz bench up down deps clean

all: build

build:
	cd cmd && $(GO) build -o ../$(BIN) ./redsafe

deps:
	@scripts/ensure-deps

vet: fmt-check
	@set -e; for m in $(MODULES); do echo "go vet ($$m)"; (cd $$m && $(GO) vet ./...); done

fmt-check:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go' 2>/dev/null | while read -r f; do [ -f "$$f" ] && echo "$$f"; done || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

test: deps vet
	@scripts/check-consumer
	@set -e; for m in $(MODULES); do echo "go test ($$m)"; (cd $$m && $(GO) test -race -count=1 ./...); done

# A short, bounded fuzzing pass over every fuzz target.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzOpen$$' -fuzztime=$(FUZZTIME) ./seal/
	$(GO) test -run='^$$' -fuzz='^FuzzRoundTrip$$' -fuzztime=$(FUZZTIME) ./seal/
	$(GO) test -run='^$$' -fuzz='^FuzzOpenFor$$' -fuzztime=$(FUZZTIME) ./seal/
	$(GO) test -run='^$$' -fuzz='^FuzzSealForRoundTrip$$' -fuzztime=$(FUZZTIME) ./seal/
	$(GO) test -run='^$$' -fuzz='^FuzzRedact$$' -fuzztime=$(FUZZTIME) ./internal/redisurl/
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(FUZZTIME) ./internal/resp/
	$(GO) test -run='^$$' -fuzz='^FuzzEscape$$' -fuzztime=$(FUZZTIME) ./internal/termsafe/
	cd cmd && $(GO) test -run='^$$' -fuzz='^FuzzFernetGoAgreement$$' -fuzztime=$(FUZZTIME) ./internal/bench/

# Measures the codec, the end-to-end stacks, the handshakes and a CPU
# profile in one run, then the cells of the end-to-end targets once more,
# longer and in more rounds, and regenerates docs/PERFORMANCE.md and
# docs/bench.png from them: about 11 minutes (8.5 for the matrix at
# BENCH_DURATION per stack per cell, 2.3 for the targets' pass at
# BENCH_TARGET_DURATION per stack per cell).
BENCH_DURATION ?= 1500ms
BENCH_TARGET_DURATION ?= 8s
bench: deps build
	@mkdir -p docs
	cd cmd && $(GO) run ./perfdoc -redsafe ../$(BIN) -out ../docs/PERFORMANCE.md -png ../docs/bench.png -duration $(BENCH_DURATION) -target-duration $(BENCH_TARGET_DURATION)

up: deps build
	$(BIN) up

down: build
	$(BIN) down

clean:
	rm -rf bin
