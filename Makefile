# JobWire: every entry point a developer or CI needs.
#
#   make test          install what is missing, check generated code and docs, build, run every test (Swift, Python, the browser)
#   make run           release build of jobwired, then run it on 127.0.0.1:7420 (binary) and :7480 (HTTP/JSON, SSE, the dashboard at /) with its store in ./data (RUN_ARGS adds flags)
#   make build         debug build (warnings are errors)
#   make bench-codec   release build of the codec micro-benchmark, then run it
#   make bench         JobWire side by side with the echo limit, Redis, grpc-swift and FastAPI; SUMMARY line at the end
#   make bench-quick   the same, short (under 2 minutes), to check that it still works
#   make bench-load    release build of jobwired and the load driver; GetMetadata at 1, 16 and 64 connections
#   make sanitize      every Swift test and the Python conformance suite under ThreadSanitizer, then AddressSanitizer + LeakSanitizer
#   make soak          SOAK_MINUTES (default 10) of mixed load, disconnects and a SIGKILL/restart; nothing lost, no drift, no leak
#   make fuzz          libFuzzer + ASan on the frame and request decoders, FUZZ_SECONDS (default 60) each; make test runs 3 s each
#   make crash-test    SIGKILL jobwired under concurrent writes, CRASH_ROUNDS times (default 30), checking every acknowledged write
#   make generate      regenerate Sources/CJobWireProto from proto/ (commit the result)
#   make golden        regenerate the interop fixtures with Google's protobuf
#   make wire-example  regenerate the annotated hex dump in docs/PROTOCOL.md
#   make test-python   the Python client's conformance suite against the debug jobwired and jobwire (build them first)
#   make test-python-postgres  the same suite with every server on the postgres store (a throwaway PostgreSQL)
#   make cluster-soak  CLUSTER_SOAK_MINUTES (default 5) of writes to 3 nodes on one PostgreSQL, killing the writer again and again
#   make test-hostile  the hostile-network suite (slowloris, partial frames, 10,000 idle connections, ...) against the debug jobwired
#   make check-python-proto  fail when clients/python's generated protobuf code differs from proto/
#   make check-openapi  fail when the OpenAPI document compiled into jobwired differs from docs/openapi.json
#   make test-openapi   Schemathesis against the debug jobwired's /v1/openapi.json (build it first), under a minute
#   make test-browser   the dashboard and clients/js in Debian's chromium (headless, Playwright) against the debug jobwired
#   make generate-dashboard  compile web/dashboard and clients/js/jobwire.js into jobwired (commit the result)
#   make check-dashboard     fail when the dashboard compiled into jobwired differs from web/dashboard and clients/js
#   make screenshots    regenerate docs/images/dashboard-*.png from the real page (debug build)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

SWIFT ?= swift
VENV := .venv
PYTHON := $(VENV)/bin/python
APT_PACKAGES := protobuf-c-compiler libprotobuf-c-dev libsqlite3-dev sqlite3 libssl-dev libpq-dev pkg-config python3-venv
BENCH_APT_PACKAGES := gcc make curl redis-server redis-tools nghttp2-client wrk nginx-light postgresql
## What the Python and hostile suites need: Debian's prometheus (promtool checks /metrics), openssl (throwaway CAs for the TLS
## tests) and postgresql (a throwaway server for the postgres store and the cluster tests).
TEST_APT_PACKAGES := prometheus openssl postgresql
## The browser tests' browser: Debian's chromium (Playwright drives it; its own browser downloads are never used).
BROWSER_APT_PACKAGES := chromium fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

RUN_ARGS ?=

BENCH_SECONDS ?= 10
CRASH_ROUNDS ?= 30
FUZZ_SECONDS ?= 60
OPENAPI_EXAMPLES ?= 20

.PHONY: test test-deps build run deps fuzz sanitize test-hostile soak cluster-soak test-python-postgres py-client bench-deps bench-build bench bench-quick pyenv generate check-proto golden wire-example check-docs bench-codec bench-load crash-test clean test-python check-python-proto check-openapi test-openapi \
	browser-deps test-browser generate-dashboard check-dashboard screenshots

# Installs the Debian packages named in $(1) that are missing ($(2): extra apt-get options).
define apt-install
	@missing=""; \
	for package in $(1); do \
	  dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(2) $$missing; \
	fi
endef

## Installs the Debian packages the build needs, only those that are missing.
deps:
	$(call apt-install,$(APT_PACKAGES))

## What the benchmarks add: the peers (Redis), the load tools for the gRPC and REST peers, a C compiler.
bench-deps: deps
	$(call apt-install,$(BENCH_APT_PACKAGES))

## What the tests need beyond the build: promtool.
test-deps: deps
	$(call apt-install,$(TEST_APT_PACKAGES),--no-install-recommends)

## The Python environment with the reference protobuf (scripts/golden/requirements.txt).
pyenv: $(VENV)/.installed
$(VENV)/.installed: scripts/golden/requirements.txt | deps
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --disable-pip-version-check -r scripts/golden/requirements.txt
	touch $@

generate: deps
	scripts/generate-proto

## Fails when the committed protoc-c output differs from what proto/ generates.
check-proto: deps
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	scripts/generate-proto "$$tmp"; \
	if ! diff -r "$$tmp" Sources/CJobWireProto >/dev/null; then \
	  diff -ru Sources/CJobWireProto "$$tmp" | head -40; \
	  echo "check-proto: Sources/CJobWireProto is stale; run 'make generate' and commit the result" >&2; \
	  exit 1; \
	fi; \
	echo "check-proto: generated code matches proto/"

## The Python client (clients/python): its own virtual environment, ignored by git.
PY_CLIENT := clients/python
PY_CLIENT_VENV := $(PY_CLIENT)/.venv
## Where test-python finds jobwired and jobwire: SwiftPM's debug build unless given.
JOBWIRE_BIN ?= $$($(SWIFT) build --show-bin-path)

$(PY_CLIENT_VENV)/.installed: $(PY_CLIENT)/requirements-test.txt | deps
	python3 -m venv $(PY_CLIENT_VENV)
	$(PY_CLIENT_VENV)/bin/python -m pip install -q --disable-pip-version-check -r $(PY_CLIENT)/requirements-test.txt
	touch $@

## Installs the package into its virtual environment as a user would (not editable).
py-client: $(PY_CLIENT_VENV)/.installed
	$(PY_CLIENT_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
	  --force-reinstall ./$(PY_CLIENT)
	$(PY_CLIENT_VENV)/bin/python -m pip check

## Runs the package's conformance suite against the real binaries.
test-python: py-client test-deps
	bin="$(JOBWIRE_BIN)"; cd $(PY_CLIENT) && \
	  JOBWIRED="$$bin/jobwired" JOBWIRE_CLI="$$bin/jobwire" .venv/bin/python -m pytest

## The conformance suite again with every server on the postgres store: a throwaway PostgreSQL (Debian's, run as an
## unprivileged user on a free port), a database per test (clients/python/tests/postgres_server.py).
test-python-postgres: py-client test-deps
	bin="$(JOBWIRE_BIN)"; cd $(PY_CLIENT) && \
	  JOBWIRE_TEST_STORE=postgres JOBWIRED="$$bin/jobwired" JOBWIRE_CLI="$$bin/jobwire" .venv/bin/python -m pytest

## Hostile clients beside a well-behaved one, against the real jobwired (hardening/hostile/README.md).
test-hostile: py-client test-deps
	bin="$(JOBWIRE_BIN)"; JOBWIRED="$$bin/jobwired" JOBWIRE_CLI="$$bin/jobwire" \
	  $(PY_CLIENT_VENV)/bin/python -m pytest hardening/hostile

## Fails when the committed Python protobuf code differs from what proto/ generates.
check-python-proto: pyenv
	$(PYTHON) $(PY_CLIENT)/scripts/generate --check

## Fails when Sources/JobWireHTTP/OpenAPIDocument+Generated.swift differs from what docs/openapi.json generates
## (run scripts/generate-openapi and commit the result).
check-openapi:
	scripts/generate-openapi --check

## Schemathesis against the real jobwired, on free ports: every /v1 operation of the document it serves, at most
## OPENAPI_EXAMPLES cases per operation and phase, no server errors and every response in its schema; the event
## streams and the CSV export driven by hand (scripts/schemathesis-check).
test-openapi: $(PY_CLIENT_VENV)/.installed
	bin="$(JOBWIRE_BIN)"; $(PY_CLIENT_VENV)/bin/python scripts/schemathesis-check --jobwired "$$bin/jobwired" --max-examples $(OPENAPI_EXAMPLES)

## Debian's chromium, and Playwright (web/tests/requirements.txt) in the Python client's virtual environment.
browser-deps: $(PY_CLIENT_VENV)/.browser-installed
$(PY_CLIENT_VENV)/.browser-installed: web/tests/requirements.txt $(PY_CLIENT_VENV)/.installed
	$(call apt-install,$(BROWSER_APT_PACKAGES))
	$(PY_CLIENT_VENV)/bin/python -m pip install -q --disable-pip-version-check -r web/tests/requirements.txt
	touch $@

## The dashboard in a real browser against the real jobwired: every scenario leaves a screenshot in web/tests/artifacts.
test-browser: py-client browser-deps test-deps
	bin="$(JOBWIRE_BIN)"; JOBWIRED="$$bin/jobwired" JOBWIRE_CLI="$$bin/jobwire" \
	  $(PY_CLIENT_VENV)/bin/python -m pytest web/tests

generate-dashboard:
	scripts/generate-dashboard

## Fails when Sources/JobWireHTTP/DashboardAssets/ differs from web/dashboard and clients/js/jobwire.js
## (run scripts/generate-dashboard and commit the result).
check-dashboard:
	scripts/generate-dashboard --check

## The README's pictures, taken from the real page with demo jobs (web/tests/screenshots.py).
screenshots: deps py-client browser-deps
	scripts/swift-build-strict build
	bin="$(JOBWIRE_BIN)"; JOBWIRED="$$bin/jobwired" JOBWIRE_CLI="$$bin/jobwire" \
	  $(PY_CLIENT_VENV)/bin/python web/tests/screenshots.py docs/images

golden: pyenv
	$(PYTHON) scripts/golden/make_fixtures.py

wire-example:
	$(SWIFT) build --product jobwire-wire-example
	scripts/update-doc-block docs/PROTOCOL.md wire-example "$$($(SWIFT) build --show-bin-path)/jobwire-wire-example"

## Fails when docs/PROTOCOL.md's hex dump no longer matches what the code produces.
check-docs:
	$(SWIFT) build --product jobwire-wire-example
	scripts/update-doc-block --check docs/PROTOCOL.md wire-example "$$($(SWIFT) build --show-bin-path)/jobwire-wire-example"

build: deps
	scripts/swift-build-strict build

test: deps pyenv check-proto check-python-proto check-openapi check-dashboard
	scripts/swift-build-strict build --build-tests
	scripts/check-embedding
	$(MAKE) --no-print-directory check-docs
	@# Every target in one process, as plain `swift test` runs them: I/O tests run on threads
	@# of their own (Tests/JobWireTestSupport), so none starves Swift's cooperative threads.
	JOBWIRE_PYTHON="$(CURDIR)/$(PYTHON)" JOBWIRE_REQUIRE_INTEROP=1 $(SWIFT) test --skip-build
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-python-postgres
	$(MAKE) --no-print-directory test-hostile
	$(MAKE) --no-print-directory test-openapi
	$(MAKE) --no-print-directory test-browser
	scripts/fuzz 3

## Builds jobwired in release mode and runs it in the foreground; Ctrl-C drains and stops it.
run: deps
	$(SWIFT) build -c release --product jobwired
	exec "$$($(SWIFT) build -c release --show-bin-path)/jobwired" --data-dir ./data --stream-ports 50000-50999 $(RUN_ARGS)

bench-codec: deps
	$(SWIFT) build -c release --product jobwire-bench-codec
	"$$($(SWIFT) build -c release --show-bin-path)/jobwire-bench-codec"

## CLUSTER_SOAK_MINUTES of writes to three release nodes on one throwaway PostgreSQL, the writer SIGKILLed every 15 s;
## fails on a lost acknowledged write, two nodes serving at once, or an unexplained error (hardening/soak/cluster_soak.py).
CLUSTER_SOAK_MINUTES ?= 5
cluster-soak: deps test-deps py-client
	$(SWIFT) build -c release --product jobwired
	$(PY_CLIENT_VENV)/bin/python hardening/soak/cluster_soak.py --minutes $(CLUSTER_SOAK_MINUTES) \
	  --jobwired "$$($(SWIFT) build -c release --show-bin-path)/jobwired"

## TSan, then ASan with LeakSanitizer, over every Swift test target and the Python suite (scripts/sanitize; SANITIZERS
## narrows it, e.g. SANITIZERS=thread).
SANITIZERS ?= thread address
sanitize: deps pyenv py-client
	scripts/sanitize $(SANITIZERS)

## Mixed load with injected disconnects and one SIGKILL/restart against a release jobwired for SOAK_MINUTES; fails on a
## lost acknowledged write, an unexplained error, RSS drift over 5 % or a descriptor leak (hardening/soak/README.md).
SOAK_MINUTES ?= 10
soak: deps $(PY_CLIENT_VENV)/.installed
	$(SWIFT) build -c release --product jobwired
	$(PY_CLIENT_VENV)/bin/python hardening/soak/soak.py --minutes $(SOAK_MINUTES) \
	  --jobwired "$$($(SWIFT) build -c release --show-bin-path)/jobwired"

## libFuzzer + AddressSanitizer on the frame splitter, Frame decoding and every request decoder, FUZZ_SECONDS each.
fuzz: deps
	scripts/fuzz $(FUZZ_SECONDS)

crash-test: deps
	scripts/swift-build-strict build --build-tests
	CRASH_ROUNDS=$(CRASH_ROUNDS) $(SWIFT) test --skip-build --filter "^JobWireServerTests\.CrashSafetyTests"

## Everything the side-by-side benchmarks run, in release mode: jobwired and the bench tools, the C load generator
## and echo server, the grpc-swift peer (its own package) and the FastAPI peer's virtual environment.
bench-build: bench-deps
	$(SWIFT) build -c release
	$(MAKE) --no-print-directory -C bench/loadgen
	$(SWIFT) build -c release --package-path bench/peers/grpc
	@if [ ! -f bench/peers/rest/.venv/.installed ] || [ bench/peers/rest/requirements.txt -nt bench/peers/rest/.venv/.installed ]; then \
	  python3 -m venv bench/peers/rest/.venv && \
	  bench/peers/rest/.venv/bin/pip install -q --disable-pip-version-check -r bench/peers/rest/requirements.txt && \
	  touch bench/peers/rest/.venv/.installed; \
	fi

## JobWire against the echo limit, Redis, grpc-swift and FastAPI; updates docs/BENCHMARKS.md and prints SUMMARY.
bench: bench-build
	python3 bench/run.py

## The same scenarios with short runs and small counts, to check that the benchmarks still work (under 2 minutes).
bench-quick: bench-build
	python3 bench/run.py --quick

bench-load: deps
	$(SWIFT) build -c release --product jobwired
	$(SWIFT) build -c release --product jobwire-bench-load
	for connections in 1 16 64; do \
	  "$$($(SWIFT) build -c release --show-bin-path)/jobwire-bench-load" --connections $$connections --depth 4 --seconds $(BENCH_SECONDS); \
	done

clean:
	rm -rf .build $(VENV)
