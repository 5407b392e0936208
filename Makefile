# Two commands, each sets up its own environment from python3 + make alone.
#   make demo   run the main job end to end on the sample environment
#   make test   run the whole test suite on both cores (what CI runs)
#   make check  the fast inner loop: every test not marked integration (no servers, no processes)
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test check lint bench setup clean system-deps test-deps bytecode

setup: bytecode

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet 'uv>=0.5,<1'

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (or the tree is
# read-only) Python would otherwise compile Textual & co. from source at every start
# (0.5 s of the TUI's first frame, see bench/tui_first_frame.py).
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

# The workbench's own modules (an editable install): refreshed when sources changed.
bytecode: $(STAMP)
	@$(VENV)/bin/python -m compileall -q workbench

# nginx, HAProxy, openssl, curl: installed with apt when missing (same script as .ci/run);
# `make test` also wants the programs only the tests run (java, node, ssh-keygen).
system-deps:
	@bash .ci/system-deps

test-deps:
	@bash .ci/system-deps --tests

demo: bytecode system-deps
	$(VENV)/bin/python -m workbench.demo $(DEMO_ARGS)

# Both cores (pytest-xdist). Each file stays on one worker (--dist loadfile) so a module's
# lab or gateway fixture starts once; ports come from tests/testkit.py's reserved, locked
# range, so workers never share one. `make test XDIST=` runs in one process.
XDIST ?= -n 2 --dist loadfile

test: bytecode test-deps
	$(VENV)/bin/python -m pytest -q $(XDIST) $(PYTEST_ARGS)

check: bytecode
	$(VENV)/bin/python -m pytest -q -m "not integration" $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check workbench tests bench
	$(VENV)/bin/ruff format --check workbench tests bench

bench: $(STAMP)
	$(VENV)/bin/python bench/plan_scale.py

clean:
	rm -rf $(VENV) $(TOOLS) .workbench demo-out
