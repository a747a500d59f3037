# prom developer tasks. Needs only Python 3.11+ and pip: everything else is installed into .venv.
#
#   make run    install, migrate the database, load the demo study once, serve on port 8000
#   make test   install with the dev extras (and Debian's Chromium where missing), run the test suite
#   make dev    only the installs of make test
#   make lint   ruff
#   make fuzz   schemathesis against the OpenAPI document, thousands of examples per operation
#   make clean  remove .venv and caches (the database in instance/ is kept)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test dev browser lint fuzz clean

# gunicorn's --timeout: a research export of a large study takes tens of seconds (BENCHMARKS.md).
run: $(VENV)/.installed
	$(BIN)/prom db upgrade
	$(BIN)/prom demo
	$(BIN)/gunicorn --bind 0.0.0.0:8000 --workers 2 --timeout 120 wsgi:app

# PYTEST_ARGS narrows the run, e.g. PYTEST_ARGS="tests/api tests/integration".
test: dev
	$(BIN)/pytest $(PYTEST_ARGS)

dev: $(VENV)/.installed-dev browser

# tests/browser drives the web client in Debian's Chromium through Playwright, which never
# downloads a browser of its own. Where chromium is missing it is installed with apt-get (as root,
# or through sudo without a password); where that cannot be done the browser tests skip and say so.
CHROMIUM_PACKAGES := chromium fonts-liberation
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -n "$$PROM_CHROMIUM" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "make: chromium is missing and cannot be installed here (not root, no sudo):" \
	     "tests/browser will be skipped. Install it with: apt-get install $(CHROMIUM_PACKAGES)"; \
	     exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "make: no apt-get: install Chromium and set PROM_CHROMIUM to its path;" \
	         "tests/browser will be skipped until then"; exit 0; fi; \
	echo "make: installing Debian's Chromium for tests/browser"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$SUDO apt-get install -y -q --no-install-recommends $(CHROMIUM_PACKAGES) >/dev/null 2>&1 || \
	{ $$SUDO apt-get update -q >/dev/null && \
	  $$SUDO apt-get install -y -q --no-install-recommends $(CHROMIUM_PACKAGES) >/dev/null; } || \
	echo "make: apt-get could not install chromium: tests/browser will be skipped"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check prom tests wsgi.py

# The suite runs the same test with 8 examples per operation; FUZZ_EXAMPLES=... for more.
FUZZ_EXAMPLES ?= 2000
fuzz: $(VENV)/.installed-dev
	PROM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -p no:cacheprovider --timeout=0 tests/api/test_fuzz.py

clean:
	rm -rf $(VENV) build prom.egg-info .pytest_cache .ruff_cache .hypothesis
	find prom tests -name __pycache__ -type d -prune -exec rm -rf {} +

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files: pip runs again only when pyproject.toml is newer than the last install.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@
