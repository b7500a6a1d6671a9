# Phoenix — build, test and run everything from here.
# Every tool a target needs is installed by the target itself into ./bin.

SHELL        := /bin/bash
GO           ?= go
ROOT         := $(abspath .)
BIN          := $(ROOT)/bin
OCB_VERSION  := v0.160.0
OCB          := $(BIN)/ocb-$(OCB_VERSION)

VERSION ?= $(shell git describe --tags --exact-match 2>/dev/null || echo 0.1.0-dev)
COMMIT  ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
DATE_COMPACT := $(subst -,,$(subst :,,$(DATE)))
BUILDINFO := github.com/phoenix-otel/phoenix/internal/buildinfo
LDFLAGS := -s -w -X $(BUILDINFO).Version=$(VERSION) -X $(BUILDINFO).Commit=$(COMMIT) -X $(BUILDINFO).Date=$(DATE)

# OCB writes dist.version into the collector's BuildInfo as a literal, so the
# version, commit and date reach `phoenix-otelcol --version` as semver build
# metadata (dist.version is overridden through the environment); the same
# values go through ldflags into internal/buildinfo for the Phoenix components.
OTELCOL_VERSION := $(VERSION)+$(COMMIT).$(DATE_COMPACT)

export PHOENIX_OTELCOL := $(BIN)/phoenix-otelcol

.PHONY: all build console console-test otelcol test acceptance vet bench bench-scale catalog-docs run clean dist test-deploy mutation

all: build

$(OCB):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)
	mv $(BIN)/builder $(OCB)

## otelcol: build bin/phoenix-otelcol with the Collector Builder (installs the builder first)
otelcol: $(OCB)
	@mkdir -p build
	env 'dist.version=$(OTELCOL_VERSION)' $(OCB) --config builder-config.yaml --ldflags '$(LDFLAGS)'
	@mkdir -p $(BIN)
	@# Copy then rename, so a collector that is running keeps its old binary.
	cp build/phoenix-otelcol/phoenix-otelcol $(BIN)/.phoenix-otelcol.new
	mv -f $(BIN)/.phoenix-otelcol.new $(BIN)/phoenix-otelcol
	@$(BIN)/phoenix-otelcol --version

## console: the web console (console/): npm ci when the lockfile changed, then the Vite build
## into opamp-server/console/dist/app, which phoenix-server embeds
CONSOLE_STAMP := console/node_modules/.phoenix-npm-ci
$(CONSOLE_STAMP): console/package-lock.json console/package.json
	cd console && npm ci --no-audit --no-fund
	@touch $@

console: $(CONSOLE_STAMP)
	cd console && npm run build

## console-test: the console's vitest unit tests (the browser tests are Go tests in console/e2e)
console-test: $(CONSOLE_STAMP)
	cd console && npm test

## build: every binary (the console first: phoenix-server embeds it)
build: otelcol console
	@mkdir -p $(BIN)
	@for cmd in $$(ls -d */cmd/* cmd/* 2>/dev/null | grep -v -e '^cmd/phoenix-otelcol$$' -e '^deploy/'); do \
		if ls $$cmd/*.go >/dev/null 2>&1; then \
			echo "go build $$cmd"; \
			$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/$$(basename $$cmd) ./$$cmd || exit 1; \
		fi; \
	done

vet:
	$(GO) vet ./...

## test: vet and the race-enabled test suite over everything (builds the collector first)
test: build vet console-test
	$(GO) test -race -count=1 -timeout 30m ./...

## acceptance: the acceptance suite AT-P01..AT-P13 against real processes and a real
## Prometheus (acceptance/README.md); writes acceptance/report/report.{md,json}.
## FAULT=AT-Pxx injects that test's deliberate fault (the run must fail it).
acceptance: build
	PHOENIX_ACCEPTANCE=1 PHOENIX_ACCEPTANCE_FAULT=$(FAULT) $(GO) test -count=1 -timeout 25m ./acceptance/

## fuzz: every fuzz target for FUZZTIME each (their committed corpora run in make
## test too): the own-metrics ingest's decoder (untrusted bytes from agents).
## Add a target as <package>:<FuzzName>.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./opamp-server/otlpingest:FuzzDecode ./pipelines:FuzzParams
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "go test -fuzz $$name -fuzztime $(FUZZTIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

## bench: the benchmarks (go test -bench) of every package, with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 60m ./... | tee bench.out

## bench-scale: phoenix-server with 1,000 simulated OpAMP agents (see benchmarks/README.md)
bench-scale:
	$(GO) test -run '^$$' -bench OpAMPScale -benchtime 1x -timeout 30m ./benchmarks/opamp-scale/ -agents 1000

## bench-overhead: each catalog template's CPU and RSS beside the scraper floors, on real processes (see benchmarks/README.md)
OVERHEAD_PROCS    ?= 100,500,2000
OVERHEAD_DURATION ?= 4m
bench-overhead: otelcol
	$(GO) test -run TestOverhead -count=1 -timeout 120m ./benchmarks/overhead/ -procs $(OVERHEAD_PROCS) -duration $(OVERHEAD_DURATION) -write

## catalog-docs: measure every catalog template in the built collector and regenerate pipelines/README.md
catalog-docs: otelcol
	$(GO) test ./pipelines -run TestMeasure -count=1 -update-measurements
	$(GO) run ./pipelines/cmd/catalogdocs

## dist: release artifacts in dist/: static linux/amd64 and linux/arm64 binaries (the
## collector cross-built from OCB's generated sources), .deb and .rpm of phoenix-agent
## (with phoenix-otelcol) and phoenix-server, SHA256SUMS (see deploy/README.md);
## `make dist DIST_ARCHES=amd64` builds one architecture only
DIST       := $(ROOT)/dist
DIST_ARCHES := amd64 arm64
dist: $(OCB)
	@mkdir -p build $(DIST)
	sed 's#output_path: ./build/phoenix-otelcol#output_path: ./build/dist-otelcol#' builder-config.yaml > build/dist-builder-config.yaml
	env 'dist.version=$(OTELCOL_VERSION)' $(OCB) --config build/dist-builder-config.yaml --skip-compilation
	@for arch in $(DIST_ARCHES); do \
		mkdir -p $(DIST)/linux_$$arch; \
		for cmd in agent/cmd/phoenix-agent opamp-server/cmd/phoenix-server cli/cmd/phoenix; do \
			echo "go build $$cmd linux/$$arch"; \
			CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/linux_$$arch/$$(basename $$cmd) ./$$cmd || exit 1; \
		done; \
		echo "go build phoenix-otelcol linux/$$arch"; \
		(cd build/dist-otelcol && CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/linux_$$arch/phoenix-otelcol .) || exit 1; \
	done
	cd deploy && $(GO) run ./cmd/phoenix-dist -dist $(DIST) -deploy . -version $(VERSION) -arches "$(DIST_ARCHES)"

## test-deploy: the packaging tests (deploy/ is its own Go module: nfpm stays out of the
## collector's dependency graph); the install test needs `make build` first
test-deploy:
	cd deploy && $(GO) test -count=1 -timeout 20m ./...

## mutation: gremlins mutation testing, one package at a time (slow: see docs/testing.md)
GREMLINS_VERSION := v0.6.0
$(BIN)/gremlins-$(GREMLINS_VERSION):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)
	mv $(BIN)/gremlins $@
mutation: $(BIN)/gremlins-$(GREMLINS_VERSION)
	GREMLINS=$(BIN)/gremlins-$(GREMLINS_VERSION) scripts/mutation.sh

## run: the main job (see README)
run: build
	@scripts/run-local.sh

clean:
	rm -rf $(BIN) build data dist opamp-server/console/dist/app console/node_modules
