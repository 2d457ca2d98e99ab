# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
PYTEST_ARGS ?= -n auto
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app

.PHONY: run test lint format bench install install-dev system-deps clean

run: install ## Set up, migrate, load demo data if empty, serve on http://127.0.0.1:5000
	$(FLASK) db upgrade
	$(FLASK) cxalign demo --if-empty
	$(FLASK) run --host 127.0.0.1 --port 5000

test: install-dev system-deps ## Run the whole test suite (TEST_DATABASE_URL=postgresql://... for PostgreSQL)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-dev ## Print the benchmark figures
	$(BIN)/python benchmarks/run_all.py

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

system-deps: ## Chromium, poppler and fonts for browser and PDF tests (installs them when root)
	@scripts/system-deps

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
