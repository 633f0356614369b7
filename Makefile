# Developer entry points. `make test` works on a fresh clone: it creates .venv and
# installs the project with its dev extras first. Extra pytest arguments: make test ARGS='-k foo'.
# The tests run in TEST_WORKERS processes (pytest-xdist, whole files to one process, each with
# its own PostgreSQL server, S3 server and browser): TEST_WORKERS=0 runs them in this one.

PYTHON ?= python3
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ARGS ?=
TEST_WORKERS ?= 2

.PHONY: venv test lint demo bench bench-full bench-compare clean distclean

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
	$(VENV_PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile $(ARGS)

lint: venv
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests
	$(VENV)/bin/mypy

demo: venv
	$(VENV)/bin/headwater demo

# Benchmarks (benchmarks/README.md). Each script appends its figures to
# benchmarks/.out/results.jsonl. `make bench`: every script in its quick mode (a few minutes);
# `make bench-full`: the full sizes. BENCH=bench_x.py runs one script only.
# `make bench-compare A=<commit> B=<commit> [ROUNDS=2] [BENCH=bench_x.py]`: both commits in
# temporary worktrees, quick runs alternately A B A B, then the medians and B/A per figure.
BENCH ?=
ROUNDS ?= 2
BENCH_SCRIPTS = $(if $(BENCH),$(addprefix benchmarks/,$(notdir $(BENCH))),$(sort $(wildcard benchmarks/bench_*.py)))

bench: venv
	@rc=0; for f in $(BENCH_SCRIPTS); do \
		echo "== $$f --quick"; \
		$(VENV_PY) $$f --quick || { echo "FAILED: $$f"; rc=1; }; \
	done; exit $$rc

bench-full: venv
	@rc=0; for f in $(BENCH_SCRIPTS); do \
		echo "== $$f"; \
		$(VENV_PY) $$f || { echo "FAILED: $$f"; rc=1; }; \
	done; exit $$rc

bench-compare: venv
	@test -n "$(A)" -a -n "$(B)" || { echo "usage: make bench-compare A=<commit> B=<commit> [ROUNDS=2] [BENCH=bench_x.py]"; exit 2; }
	$(VENV_PY) benchmarks/compare.py $(A) $(B) --rounds $(ROUNDS) $(if $(BENCH),--bench $(BENCH))

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache .hypothesis benchmarks/.out
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
