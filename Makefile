# Quick start: `make run` (demo shop on the embedded default) and `make test` (the whole suite).
# `make run` needs only Python; the browser the ops dashboard's test drives is installed by `make test`.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install browser run test lint format bench bench-p1 clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

browser:
	@# Debian's Chromium + ChromeDriver for the ops dashboard's browser test (tests/ops); never a downloaded browser.
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian's chromium and chromium-driver: apt-get update -qq && apt-get install -y -qq chromium chromium-driver"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	else echo "note: /usr/bin/chromium or /usr/bin/chromedriver is missing; as root run: apt-get install chromium chromium-driver" >&2; fi

run: install
	$(BIN)/emporio serve --with-worker --demo

test: install browser
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@# P1 on PostgreSQL and on the embedded default, P5; brief runs, one JSON summary with the load average
	$(BIN)/python bench/run_all.py

bench-p1: install
	$(BIN)/python bench/p1_order_intake.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
