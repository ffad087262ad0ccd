# The two quick-start commands: `make demo` and `make test`. Each creates .venv if missing.
# .ci/run does the same steps as `make test` on a machine without make: keep the two alike.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# pyright's PyPI wrapper would otherwise ask PyPI for a newer release on every run.
export PYRIGHT_PYTHON_IGNORE_WARNINGS := 1

.PHONY: demo test test-fast ruff imports pytest-cov typecheck lint format bench clean

# constraints.txt: the versions CI tested (`pip freeze --exclude-editable` of a working venv).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kucun demo

# Everything CI checks, in this order; typecheck last.
test: ruff imports pytest-cov typecheck

# The whole suite without the slow chaos/soak/property tests (and 100 simulation seeds,
# not 300): about a minute.
test-fast: $(STAMP)
	KUCUN_SIM_SEEDS=100 $(BIN)/pytest -q -n 3 -m "not slow"

ruff: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

imports: $(STAMP)
	$(BIN)/lint-imports --no-logo --no-cache

# The whole suite with coverage (fail_under and the packages: [tool.coverage] in pyproject.toml),
# on three workers on two cores: most tests wait on real servers and subprocesses (three: 357 s
# where two took 451 s, 2026-12-02).
pytest-cov: $(STAMP)
	$(BIN)/pytest -q -n 3 --durations=15 --cov --cov-report=term:skip-covered

typecheck: $(STAMP)
	$(BIN)/pyright

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .demo .pytest_cache .ruff_cache .hypothesis .coverage .coverage.* .import_linter_cache
