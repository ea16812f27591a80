# inferwatch — `make demo` and `make test` work on a fresh Debian machine with Node.js.
# They install what is missing: npm packages, the build, and Debian's Prometheus,
# Alertmanager, nginx-light, Chromium and wrk (apt-get, as root or through sudo).
SHELL := /bin/bash
APT_PKGS := prometheus prometheus-alertmanager nginx-light chromium wrk
APT_BINS := prometheus promtool prometheus-alertmanager amtool nginx chromium wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps npm-deps sys-deps build test lint demo bench clean

all: build

npm-deps:
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  npm ci --no-audit --no-fund; fi

sys-deps:
	@missing=""; for b in $(APT_BINS); do command -v $$b >/dev/null 2>&1 || [ -x /usr/sbin/$$b ] || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages (missing:$$missing)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PKGS) >/dev/null \
	  || { echo "apt-get failed: install $(APT_PKGS) by hand and rerun"; exit 1; }; \
	  $(SUDO) systemctl disable --now prometheus prometheus-alertmanager nginx >/dev/null 2>&1 || true; \
	fi

deps: npm-deps sys-deps

build: npm-deps
	npx tsc
	npx tsc -p benchmarks

lint: npm-deps
	npx biome check .

# Test files are listed explicitly: Node 20 takes a directory, Node 22+ only files or globs.
test: deps build
	npx biome check .
	node --enable-source-maps --test --test-concurrency=4 $$(find dist dist-bench/benchmarks -name '*.test.js' | sort)

# The whole stack on a simulated engine until every alert has fired and resolved (about 10
# minutes; `make demo SPEED=10` for about three). Ctrl-C stops everything.
demo: deps build
	node dist/cli/bin.js up --demo $(if $(SPEED),--speed $(SPEED))

bench: deps build
	node dist-bench/benchmarks/proxy/proxy-bench.js

clean:
	rm -rf dist dist-bench
