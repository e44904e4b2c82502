# Two commands do all set-up on a fresh machine: `make serve` (run it) and `make test` (test it).
# The venv is rebuilt only when pyproject.toml changes; the model and the index are built on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install serve test check eval bench browser ingest clean llm-server

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch is pinned in the same pip command: any other spec pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0 -e '.[test]'
	@touch $@

install: $(STAMP)

serve: install
	$(BIN)/rag serve --host $(HOST) --port $(PORT)

ingest: install
	$(BIN)/rag ingest

# Debian's chromium (and CJK fonts, so screenshots show Chinese) for the browser tests;
# Playwright's own browser download cannot work offline.
browser:
	@{ command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk"; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# llm-server: the tests against a real llama.cpp server run in CI too (the wheel build is ~5-7 min
# on a fresh machine, then cached in ~/.cache/report-rag/wheels).
test: install browser llm-server
	$(BIN)/python -m pytest -q

check: install
	$(BIN)/ruff check ingest rag ui eval tests bench
	$(BIN)/mypy ingest rag

eval: install
	$(BIN)/rag eval

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0 -e '.[test,bench]'
	$(BIN)/python -m bench.run_all

# A real OpenAI-compatible server (llama-cpp-python[server], CPU) and Gemma 3 270M for tests/llm_real;
# the wheel is compiled once (4-7 min on 2 cores) into the user cache and reused by later installs.
llm-server: install
	VENV=$(VENV) scripts/llm_server_install.sh

clean:
	rm -rf $(VENV) build *.egg-info
