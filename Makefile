# Two commands do all the set-up on a fresh machine:
#   make demo   installs detainers and runs the SYNTHETIC demo on SQLite
#   make test   installs detainers with test tools and runs the suite on SQLite and PostgreSQL
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: install demo serve test test-sqlite test-browser crash bench bench-5m bench-quick fuzz clean

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

# The benchmark suite (benchmarks/run.py): 100k and 1M detainers on SQLite and PostgreSQL, under 30 minutes;
# prints a table and rewrites benchmarks/RESULTS.md from the latest run of each size (--merge: a 5M run's rows
# stay). bench-5m: 5M detainers (five 1M parts imported one after another into one database; a 5M-row LESA csv)
# on both backends, about an hour, merged into RESULTS.md with the 100k/1M rows. bench-quick: 100k only, short
# API runs.
bench: install
	./scripts/ensure-postgres
	./scripts/ensure-bench-tools
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py --size 100k --size 1M --merge

bench-5m: install
	./scripts/ensure-postgres
	./scripts/ensure-bench-tools
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py --size 5M --merge

bench-quick: install
	./scripts/ensure-postgres
	./scripts/ensure-bench-tools
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python benchmarks/run.py --quick --size 100k

# The long fuzz run: FUZZ_EXAMPLES per target in tests/fuzz (2,000 by default, about 15 minutes; the heavy
# targets run a tenth; `make fuzz FUZZ_EXAMPLES=20000` runs for hours), then atheris for 5 minutes per harness
# when it is installed. The brief run (100 per target) is part of `make test`.
FUZZ_EXAMPLES ?= 2000
fuzz: install
	DETAINERS_FUZZ=long DETAINERS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz --hypothesis-show-statistics
	@if $(BIN)/python -c 'import atheris' 2>/dev/null; then \
		for h in fuzz/atheris_*.py; do $(BIN)/python $$h -max_total_time=300 -artifact_prefix=fuzz/ || exit 1; done; \
	else echo "atheris is not installed ($(BIN)/pip install atheris): coverage-guided harnesses skipped"; fi

clean:
	rm -rf $(VENV) demo-output detainers.db .pytest_cache test-artifacts
