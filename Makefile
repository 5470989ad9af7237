# Two commands do everything on a fresh machine:
#   make demo   set up .venv, fetch the offline data and models, run the offline study end to end
#   make test   set up .venv and run the test suite
# Both are idempotent: the venv is rebuilt only when pyproject.toml changes; caches live in
# $(MOLLIA_HOME) (default ~/.cache/mollia).

PYTHON ?= python3
VENV ?= .venv
# CPU wheel on this platform. GPU users: make TORCH_SPEC="torch==2.13.0" TORCH_INDEX=https://download.pytorch.org/whl/cu126
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
EXTRAS ?= dev,slurm
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.mollia-installed

.PHONY: venv demo test test-slurm book lab clean-venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet "$(TORCH_SPEC)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(VPY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

demo: venv
	$(VENV)/bin/mollia demo

test: venv
	$(VPY) -m pytest -q

# the SLURM tests on a real cluster: starts a single-node one (scripts/slurm_local.sh) if none answers,
# stops it after; skips, saying why, where SLURM is not installed
test-slurm: venv
	PY=$(VPY) scripts/test_slurm.sh

# The notebooks as a static site (no kernel, no network at view time): the executed copies that
# `make demo` left in results/demo/, the committed evidence's tables and figures, the README's results.
BOOK ?= build/book
book: venv
	$(VPY) -m mollia.study.book --results results/demo --tables results/tables --figures figures --out $(BOOK)
	@echo "open $(BOOK)/index.html"

# JupyterLab on this venv with its own kernel ("Python 3 (mollia)"), opening notebook 00.
# Extra arguments for jupyter lab: make lab LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
lab: venv
	$(VPY) scripts/lab.py $(LAB_ARGS)

clean-venv:
	rm -rf $(VENV)
