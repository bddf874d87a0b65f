# `make demo` runs the main job on the example app; `make test` installs what it needs and runs
# every gate CI runs. Both create .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COMPAT := 1.x 1.0
export COVERAGE_FILE := $(CURDIR)/.coverage

.PHONY: demo test lint typecheck pytest compat coverage wheel bench clean

$(BIN)/.installed: pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,supabase,fixit]' -r requirements/dev.txt
	touch $@

.venv-pydantic-ai-%/.installed: requirements/pydantic-ai-%.txt pyproject.toml
	$(PYTHON) -m venv .venv-pydantic-ai-$*
	.venv-pydantic-ai-$*/bin/pip install --quiet --upgrade pip
	.venv-pydantic-ai-$*/bin/pip install --quiet -e . -r requirements/pydantic-ai-$*.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python examples/demo.py

test: lint typecheck pytest compat coverage wheel

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy --strict runtime codemods lint_rules tests bench

# One pytest worker per core (pytest-xdist); coverage follows the workers and the suite's own
# subprocesses (`patch = ["subprocess"]` in pyproject.toml).
pytest: $(BIN)/.installed
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest -q -n auto

# The runtime's suite and the caller-plumbing story on the newest 1.x and on 1.0, measured into
# the same combined coverage.
compat: $(foreach version,$(COMPAT),.venv-pydantic-ai-$(version)/.installed)
	for version in $(COMPAT); do \
		.venv-pydantic-ai-$$version/bin/python -m coverage run -m pytest -q tests/runtime tests/plumbing || exit 1; \
	done

coverage: $(BIN)/.installed
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --fail-under=90

# Build the wheel, install it into a clean venv and import the three packages from elsewhere.
wheel: $(BIN)/.installed
	rm -rf dist build/wheel-check
	$(BIN)/pip wheel --quiet --no-deps --wheel-dir dist .
	$(PYTHON) -m venv build/wheel-check
	build/wheel-check/bin/pip install --quiet dist/tokentrail-*.whl
	cd build && wheel-check/bin/python -c "import tokentrail, tokentrail_codemods, tokentrail_lint; print('wheel imports:', tokentrail.__version__)"
	cd build && wheel-check/bin/tokentrail --help > /dev/null

# Speed and memory targets live here, not in timed tests; each script prints its figures.
bench: $(BIN)/.installed
	status=0; for script in runtime_overhead analysis check codemod delivery soak; do \
		echo "== bench/$$script.py"; $(BIN)/python bench/$$script.py || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) .venv-pydantic-ai-* dist build .coverage .coverage.*
