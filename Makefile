# Pantau — run `make help` for the targets.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS := -s -w \
  -X github.com/pantau-noc/pantau/internal/buildinfo.Version=$(VERSION) \
  -X github.com/pantau-noc/pantau/internal/buildinfo.Revision=$(REVISION) \
  -X github.com/pantau-noc/pantau/internal/buildinfo.BuildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
export CGO_ENABLED := 0
BIN := bin
FUZZTIME ?= 10s
BENCHTIME ?= 3s
BENCHCOUNT ?= 5
# Code generators for the plugin contract, pinned; protoc is Debian's.
PROTOC_GEN_GO := google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC := google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
PROTO := plugins/sdk/proto/pantau/probe/v1/probe.proto
# The plugin SDK is its own module (a third-party plugin requires only it):
# ./... from the root does not reach it, so each target runs it explicitly.
SDK := plugins/sdk
# Probe plugins built and shipped with the agent.
PLUGINS := http dns tcp
# Packages: nfpm as a tool, pinned (not a module dependency); the package
# version is Debian and RPM compatible (deploy/nfpm/version.sh); package
# file times are the commit's.
NFPM := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
PKG_VERSION ?= $(shell deploy/nfpm/version.sh)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)

.PHONY: help deps deps-bench build generate generate-check test test-unit test-integration cross dist bench bench-e2e bench-agent fuzz lint lint-metrics demo clean package dashboards screenshots

help: ## show the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

deps: ## install test dependencies (Debian packages, Go modules), idempotently
	@.ci/install-deps
	@$(GO) mod download && cd $(SDK) && $(GO) mod download

deps-bench: ## install benchmark peers too (victoria-metrics, influxdb)
	@.ci/install-deps --bench
	@$(GO) mod download

build: ## build static binaries into bin/, the bundled plugins into bin/plugins/ with their SHA256SUMS
	@mkdir -p $(BIN)/plugins
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./collector/cmd/pantau-collector ./agent/cmd/pantau-agent
	@for p in $(PLUGINS); do \
	  $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/pantau-plugin-$$p ./plugins/$$p || exit 1; done
	@cd $(BIN)/plugins && sha256sum $(addprefix pantau-plugin-,$(PLUGINS)) > SHA256SUMS && cat SHA256SUMS

generate: ## regenerate plugins/sdk/probev1 from the proto (make deps installs protoc)
	@GOBIN=$(CURDIR)/.bin $(GO) install $(PROTOC_GEN_GO) && GOBIN=$(CURDIR)/.bin $(GO) install $(PROTOC_GEN_GO_GRPC)
	PATH=$(CURDIR)/.bin:$$PATH protoc --proto_path=plugins/sdk/proto \
	  --go_out=. --go_opt=module=github.com/pantau-noc/pantau \
	  --go-grpc_out=. --go-grpc_opt=module=github.com/pantau-noc/pantau $(PROTO)

dashboards: ## regenerate the Grafana dashboards' JSON (dashboards/*.json) from dashboards/*.go
	$(GO) run ./dashboards/gen

generate-check: ## fail when plugins/sdk/probev1 differs from what the proto generates
	@GOBIN=$(CURDIR)/.bin $(GO) install $(PROTOC_GEN_GO) && GOBIN=$(CURDIR)/.bin $(GO) install $(PROTOC_GEN_GO_GRPC)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  PATH=$(CURDIR)/.bin:$$PATH protoc --proto_path=plugins/sdk/proto \
	    --go_out=$$tmp --go_opt=module=github.com/pantau-noc/pantau \
	    --go-grpc_out=$$tmp --go-grpc_opt=module=github.com/pantau-noc/pantau $(PROTO) && \
	  if ! diff -r $$tmp/plugins/sdk/probev1 plugins/sdk/probev1; then \
	    echo "plugins/sdk/probev1 is not what $(PROTO) generates: run make generate"; exit 1; fi

# The packages that wait longest on real time start first: go test runs
# the packages it is given in that order, two at a time on two cores, and
# e2e/ (about 3 minutes of lab outages) would otherwise start last.
SLOW_FIRST := ./e2e/ ./collector/ ./deploy/

# On CI the suite runs in WIT (TZ=Asia/Jayapura): the machine's day, the
# UTC day and a WIB Pemda's day differ (.ci/clock; it can also set the
# clock near midnight for a manual check, never from make).
CLOCK := $(if $(filter true,$(CI)),.ci/clock,)

test: deps ## the full suite: format, vet, generated code, unit and integration tests with -race, fuzz seeds, cross-compile check
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd $(SDK) && $(GO) vet ./...
	$(MAKE) --no-print-directory generate-check
	CGO_ENABLED=1 $(CLOCK) $(GO) test -race -count=1 -timeout 30m $(SLOW_FIRST) ./...
	cd $(SDK) && CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory cross

test-unit: ## fast tests only (-short skips the integration tests)
	$(GO) test -short -count=1 ./...
	cd $(SDK) && $(GO) test -short -count=1 ./...

test-integration: deps ## integration tests only (real processes: kill -9, promtool, InfluxDB client)
	$(GO) test -count=1 -run Integration -timeout 30m ./...

cross: ## static (CGO_ENABLED=0) cross-compile of every package for linux/arm64 and linux/armv7
	@set -e; for t in arm64: arm:7; do \
	  arch=$${t%%:*}; arm=$${t#*:}; echo "GOOS=linux GOARCH=$$arch $${arm:+GOARM=$$arm }go build ./..."; \
	  GOOS=linux GOARCH=$$arch GOARM=$$arm $(GO) build ./... ; \
	  (cd $(SDK) && GOOS=linux GOARCH=$$arch GOARM=$$arm $(GO) build ./...) ; \
	done

dist: ## release binaries for linux/amd64, arm64, armv7 into dist/
	@set -e; mkdir -p dist; for t in amd64: arm64: arm:7; do \
	  arch=$${t%%:*}; arm=$${t#*:}; suffix=$$arch$${arm:+v$$arm}; \
	  for cmd in pantau-collector pantau-agent; do \
	    GOOS=linux GOARCH=$$arch GOARM=$$arm $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/$$cmd-linux-$$suffix ./$${cmd#pantau-}/cmd/$$cmd; \
	  done; \
	  mkdir -p dist/plugins-linux-$$suffix; \
	  for p in $(PLUGINS); do \
	    GOOS=linux GOARCH=$$arch GOARM=$$arm $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/plugins-linux-$$suffix/pantau-plugin-$$p ./plugins/$$p; \
	  done; \
	  (cd dist/plugins-linux-$$suffix && sha256sum pantau-plugin-* > SHA256SUMS); \
	done; ls -lR dist

package: dist ## .deb and .rpm of pantau-agent and pantau-collector for amd64, arm64, armv7 (armhf, armv7hl) into dist/ (deploy/nfpm)
	@set -e; for t in amd64:amd64 arm64:arm64 arm7:armv7; do \
	  arch=$${t%%:*}; suffix=$${t#*:}; \
	  for pkg in pantau-agent pantau-collector; do for fmt in deb rpm; do \
	    PANTAU_VERSION='$(PKG_VERSION)' PANTAU_ARCH=$$arch PANTAU_DIST=dist PANTAU_PLATFORM=linux-$$suffix \
	    SOURCE_DATE_EPOCH='$(SOURCE_DATE_EPOCH)' $(GO) run $(NFPM) package --config deploy/nfpm/$$pkg.yaml --packager $$fmt --target dist/; \
	  done; done; \
	done; ls -l dist/*.deb dist/*.rpm

bench: deps-bench ## Go benchmarks plus the end-to-end peer comparison (see docs/benchmarks.md)
	$(GO) test -run XXX -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./internal/... ./collector/...
	$(MAKE) --no-print-directory bench-e2e bench-agent

bench-agent: deps-bench ## agent: 1,000 ICMP targets vs pro-bing Pingers and blackbox-exporter, full load (1,000 ICMP + 200 SNMP, also with 50 of them MikroTik radios), 24 h backlog drain, a week's backlog over VSAT (root)
	$(GO) test -run XXX -bench 'Targets1000' -benchtime 10x -count 3 ./agent/internal/icmp/
	$(GO) test -run XXX -bench 'ICMPPeers|BacklogDrain24h' -benchtime 1x -count 3 -timeout 60m ./agent/
	$(GO) test -run XXX -bench 'BacklogDrainVSAT' -benchtime 1x -count 3 -timeout 60m ./agent/
	$(GO) test -run XXX -bench 'AgentFullLoad' -benchtime 1x -count 5 -timeout 60m ./agent/

bench-e2e: build ## end-to-end ingest: 8 writers, 5,000-line gzip batches, vs victoria-metrics and influxdb
	$(GO) run ./collector/cmd/pantau-loadgen compare --collector $(BIN)/pantau-collector

fuzz: ## run every fuzz target for FUZZTIME (default 10s) each
	@set -e; for mod in . $(SDK); do (cd $$mod && for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run XXX -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done); done

lint: ## gofmt, go vet, staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	cd $(SDK) && $(GO) vet ./... && $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

lint-metrics: deps ## promtool check metrics over the collector's /metrics
	$(GO) test -count=1 -run 'TestIntegrationMetricsLint' ./collector/

screenshots: deps ## PNGs of the web UI's pages into docs/ui/ (the browser tests in headless Chromium; see docs/ui/README.md)
	@mkdir -p docs/ui && stamp=$$(mktemp) && trap 'rm -f "$$stamp"' EXIT; \
	  echo "PANTAU_SCREENSHOTS=$(CURDIR)/docs/ui $(GO) test -count=1 -timeout 20m -run TestBrowser ./collector/"; \
	  PANTAU_SCREENSHOTS=$(CURDIR)/docs/ui $(GO) test -count=1 -timeout 20m -run 'TestBrowser' ./collector/; rc=$$?; \
	  echo "screenshots written to docs/ui/:"; find docs/ui -name '*.png' -newer "$$stamp" | sort | xargs -r ls -l; exit $$rc

demo: deps build ## build and run the demo on 127.0.0.1:9810: a collector, simulated sites, and a real agent polling simulated routers and services
	$(BIN)/pantau-collector demo

clean: ## remove build output
	rm -rf $(BIN) dist
