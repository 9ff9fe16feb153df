# Two commands do everything on a fresh machine:
#   make demo   - create .venv from the pinned versions (if missing) and run the main job
#   make test   - create .venv (if missing) and run the whole test suite
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 2
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: demo test lint venv bench clean

venv: $(STAMP)

# Reinstall when the pins or the package metadata change. The constraints file pins torch:
# without it pip would resolve the newest torch and pull GBs of CUDA wheels.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -c constraints.txt -e ".[all]"
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/brevetti demo $(ARGS)

test: $(STAMP) lint
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
