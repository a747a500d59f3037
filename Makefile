# prom developer tasks. Needs only Python 3.11+ and pip: everything else is installed into .venv.
#
#   make run    install, migrate the database, load the demo study once, serve on port 8000
#   make test   install with the dev extras, run the test suite
#   make lint   ruff
#   make fuzz   schemathesis against the OpenAPI document, thousands of examples per operation
#   make clean  remove .venv and caches (the database in instance/ is kept)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint fuzz clean

# gunicorn's --timeout: a research export of a large study takes tens of seconds (BENCHMARKS.md).
run: $(VENV)/.installed
	$(BIN)/prom db upgrade
	$(BIN)/prom demo
	$(BIN)/gunicorn --bind 0.0.0.0:8000 --workers 2 --timeout 120 wsgi:app

# PYTEST_ARGS narrows the run, e.g. PYTEST_ARGS="tests/api tests/integration".
test: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

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
