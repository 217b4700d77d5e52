# Two commands do all the set-up on a fresh machine:
#   make demo   installs detainers and runs the SYNTHETIC demo on SQLite
#   make test   installs detainers with test tools and runs the suite on SQLite and PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install demo serve test test-sqlite test-browser crash bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("detainers needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/detainers demo

# The dashboard on the demo database (run `make demo` first): http://127.0.0.1:8000/
serve: install
	$(BIN)/detainers serve

test: install
	./scripts/ensure-postgres
	./scripts/ensure-test-tools
	$(BIN)/pytest

# The suite on SQLite alone, for a machine without PostgreSQL.
test-sqlite: install
	./scripts/ensure-test-tools
	DETAINERS_TEST_BACKENDS=sqlite $(BIN)/pytest

# The browser tests alone (Debian's chromium through Playwright); screenshots in test-artifacts/.
test-browser: install
	./scripts/ensure-test-tools
	$(BIN)/pytest tests/browser

# Many more kill -9 points than the suite's three per operation and backend.
crash: install
	./scripts/ensure-postgres
	DETAINERS_KILL_POINTS=40 $(BIN)/pytest tests/test_crash_safety.py

bench: install
	$(BIN)/python benchmarks/import_report.py

clean:
	rm -rf $(VENV) demo-output detainers.db .pytest_cache test-artifacts
