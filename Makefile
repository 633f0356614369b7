# Developer entry points. `make test` works on a fresh clone: it creates .venv and
# installs the project with its dev extras first. Extra pytest arguments: make test ARGS='-k foo'.

PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: venv test lint demo bench clean distclean

venv: $(STAMP)

# bin/activate is written last by `python -m venv`, so a half-created venv (e.g. when
# python3-venv/ensurepip is missing) is not mistaken for a good one.
$(VENV)/bin/activate:
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(VENV)/bin/activate
	$(VENV_PY) -m pip install -e '.[dev]'
	touch $@

test: venv
	$(VENV_PY) -m pytest -q $(ARGS)

lint: venv
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

demo: venv
	$(VENV)/bin/headwater demo

bench: venv
	@set -e; for f in $(sort $(wildcard benchmarks/bench_*.py)); do \
		echo "== $$f"; \
		$(VENV_PY) $$f; \
	done

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis benchmarks/.out
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
