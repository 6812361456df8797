# The commands people type. Every target sets up what it needs on first use:
# a virtualenv in .venv with the locked Python packages, and node_modules via npm ci.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.webnets-installed
JS_STAMP := node_modules/.webnets-installed

MODELS := alexnet googlenet resnet squeezenet simple_rnn lstm gru dqn text_cnn
FASHION_MNIST := /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz

.PHONY: help setup system test fuzz convert import verify layers readme docs lock clean export export-all list data vendor demo publish bench coverage js js-package wasm

help:
	@echo "make export MODEL=squeezenet       train (or load the checkpoint), convert, verify -> web_demo/models/"
	@echo "make export-all                    the same for every zoo model (nine)"
	@echo "make list                          the zoo with parameter counts and metrics"
	@echo "make demo                          serve web_demo/ on localhost (COOP/COEP: threaded WASM), print its URL"
	@echo "make test                          run the test suite (installs everything on first use)"
	@echo "make fuzz                          1,000 mutated files per input kind through every reader (FUZZ_ARGS=...)"
	@echo "make convert SRC=m.keras OUT=dir   convert a Keras model to TF.js and check it in TF.js"
	@echo "make import SRC=dir OUT=m.keras   a TF.js layers model (dir or URL) back to a verified Keras 3 file"
	@echo "make verify DIR=dir                re-run the TF.js parity check of an exported model"
	@echo "make layers                        list the supported Keras layers"
	@echo "make coverage                      convert the coverage corpus (every keras.applications model), update docs/coverage.md"
	@echo "make docs                          build the documentation site into site/ (mkdocs --strict)"
	@echo "make js                            build the JS package (js/dist/) and the scripts exports carry, from js/src/"
	@echo "make js-package                    the installable tarball: js/dist/webnets-<version>.tgz (npm pack)"
	@echo "make wasm                          rebuild webnets' WebAssembly kernels (js/wasm/, clang --target=wasm32)"
	@echo "make publish DEST=s3://b/p VERSION=1.0.0   upload web_demo/models to a CDN origin (ARGS=--dry-run)"
	@echo "make bench                         sizes, accuracy, export time, browser latency -> bench/results.* (ARGS=--quick)"

$(PY_STAMP): requirements.lock requirements-hub.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -r requirements-hub.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(JS_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

VENDOR := web_demo/vendor/tf.min.js

setup: system $(PY_STAMP) $(JS_STAMP) $(VENDOR)

# TF.js for the page, copied from node_modules (the page never uses an outside CDN).
$(VENDOR): $(JS_STAMP) web_demo/vendor.mjs $(shell find js/src -name '*.js' 2>/dev/null)
	node web_demo/vendor.mjs

vendor: $(VENDOR)

# The webnets JS package (js/): esbuild bundles js/src/ into js/dist/ (ES module, classic script, types)
# and rebuilds exporter/runtime/webnets-layers.js and webnets-tokenizers.js, which exports carry;
# tests/test_js_build.py checks that the committed copies are what js/src/ builds.
js: $(JS_STAMP)
	node js/build.mjs

js-package: js
	cd js && npm pack --pack-destination dist

# webnets' WebAssembly kernels (js/wasm/kernels.c) with Debian's clang + lld (`make system` installs them):
# rebuilds js/wasm/*.wasm and the embedding module js/src/kernels/wasm-binary.js; then `make js`.
wasm: system
	node js/wasm/build.mjs

DEMO_PORT ?= 8000
# Cross-origin isolated (COOP/COEP headers, exporter/browser/serve.py), so TF.js runs threaded WASM;
# opening web_demo/index.html from disk works too, with single-threaded WASM.
demo: setup
	$(PY) -m exporter serve web_demo --port $(DEMO_PORT)

# Offline copy of Fashion-MNIST (Debian's dataset-fashion-mnist); with internet,
# Keras downloads it itself, so a failure here is only a warning.
data:
	@test -f $(FASHION_MNIST) || test -f $${KERAS_HOME:-$$HOME/.keras}/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; } ; } || \
	  echo "note: dataset-fashion-mnist not installed; Keras will download Fashion-MNIST"

export: setup data
	@test -n "$(MODEL)" || { echo "usage: make export MODEL=squeezenet (one of: $(MODELS))"; exit 2; }
	$(PY) -m exporter export $(MODEL) $(ARGS)

export-all: setup data
	set -e; for m in $(MODELS); do $(PY) -m exporter export $$m $(ARGS); done

# Publish the exported models as an immutable version. Credentials and the S3
# endpoint come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# AWS_ENDPOINT_URL for R2/MinIO/...), never from the command line.
PUBLISH_SRC ?= web_demo/models
DEST ?= $(WEBNETS_PUBLISH_URL)
publish: $(PY_STAMP)
	@test -n "$(DEST)" -a -n "$(VERSION)" || { echo "usage: make publish DEST=s3://bucket/prefix VERSION=1.0.0 [ARGS=--dry-run]"; exit 2; }
	$(PY) -m exporter publish "$(PUBLISH_SRC)" "$(DEST)" --version "$(VERSION)" $(ARGS)

# tf2onnx (the ONNX Runtime Web comparison) on top of the locked environment; -c keeps every
# locked pin, so it fails here rather than upgrade protobuf/numpy under TensorFlow.
BENCH_STAMP := $(VENV)/.webnets-bench-installed
$(BENCH_STAMP): bench/requirements.txt requirements.lock $(PY_STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt -c requirements.lock
	touch $@

# Writes bench/results.{json,md,png} and the README's Benchmarks section (about 25 minutes;
# ARGS=--quick or ARGS='--models squeezenet' for a look, written to $$TMPDIR/webnets-bench).
bench: setup data $(BENCH_STAMP)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { echo "make bench needs Chromium (apt-get install chromium)"; exit 1; }
	$(PY) -m bench $(ARGS)

list: $(PY_STAMP)
	$(PY) -m exporter list

# Node.js, Chromium, Firefox and the offline dataset from Debian (root with apt-get installs
# them; elsewhere it says what to install, and pytest lists the tests it had to skip).
system:
	@bash .ci/system-packages

test: setup data
	$(PY) -m pytest -q tests

# The fuzzer: 1,000 mutated files per input kind (.keras, .h5, SavedModel, exports for import/verify,
# meta.json, index.json, a Teach download); each defect's case is kept under tests/fuzz/regressions/.
# `make test` runs 40 per kind and replays the kept ones. FUZZ_ARGS='--kind keras --cases 5000 --seed 3'
FUZZ_ARGS ?= --cases 1000 --save
fuzz: setup
	$(PY) -m tests.fuzz $(FUZZ_ARGS)

convert: setup
	@test -n "$(SRC)" -a -n "$(OUT)" || { echo "usage: make convert SRC=model.keras OUT=out_dir [ARGS='--quantize uint8']"; exit 2; }
	$(PY) -m exporter convert "$(SRC)" "$(OUT)" $(ARGS)

import: setup
	@test -n "$(SRC)" -a -n "$(OUT)" || { echo "usage: make import SRC=model_dir_or_url OUT=model.keras [ARGS=--force]"; exit 2; }
	$(PY) -m exporter import "$(SRC)" "$(OUT)" $(ARGS)

verify: setup
	$(PY) -m exporter verify "$(DIR)"

layers: $(PY_STAMP)
	$(PY) -m exporter layers

# Regenerate what needs no measurement (tests/generated_docs.py): the supported-layers table of docs/layers.md,
# convert's options in docs/converting.md, and the README's summary of those pages.
readme: $(PY_STAMP)
	$(PY) -m tests.generated_docs

# The documentation site (mkdocs.yml, docs/): the generated sections first, then site/ (git-ignored);
# --strict makes a broken link or anchor an error. mkdocs comes with requirements.lock.
docs: readme
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# Convert the whole coverage corpus (every keras.applications model and the Keras 3 example
# models, tests/coverage_corpus.py), rewrite docs/coverage.md's table from what it measured, then the
# README's summary of it.
coverage: setup
	$(PY) -m tests.coverage_corpus --write-docs
	$(PY) -m tests.generated_docs

# Regenerate requirements.lock from pyproject's pins in a throw-away venv.
lock:
	rm -rf /tmp/webnets-lock && $(PYTHON) -m venv /tmp/webnets-lock
	/tmp/webnets-lock/bin/pip install --quiet -e '.[test,docs]'
	{ head -2 requirements.lock; /tmp/webnets-lock/bin/pip freeze --exclude-editable | grep -v '^webnets'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) node_modules .pytest_cache
