# The two commands: `make run` serves the app on SQLite with demo data; `make test` runs the tests.
# `make lint` runs ruff and mypy (it installs the `dev` extra first).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app registry
PORT   ?= 5000
HOST   ?= 127.0.0.1
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint install translations db bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required") if sys.version_info < (3, 11) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# the lint tools, apart from $(STAMP) so that `make test` does not need them
$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(DEV_STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	@$(BIN)/python -m registry.i18n compile

db: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty

# Links in mail point where `make run` serves, unless BASE_URL is set
run: db
	BASE_URL="$${BASE_URL:-http://$(HOST):$(PORT)}" $(FLASK) run --host $(HOST) --port $(PORT)

# In parallel: one pytest-xdist worker per core, each with its own PostgreSQL, Redis, Chromium
# and folders (tests/workers.py); PYTEST_ARGS='-n 0' runs everything in one process (--pdb).
test: install
	$(BIN)/python -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check registry tests bench config.py migrations
	$(BIN)/mypy registry

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance/registry.db .pytest_cache
