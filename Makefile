# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

.PHONY: demo test lint typecheck docs bench clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Core install: what a user gets from `pip install garrison-ml`.
# The C pickle walker is compiled at install time (hatch_build.py), so its source is a prerequisite.
$(VENV)/.core: $(BIN)/activate pyproject.toml hatch_build.py src/garrison/supplychain/_walk.c
	$(PY) -m pip install -q -e .
	touch $@

# Test install: torch is pinned to the CPU build that is on local disk.
$(VENV)/.test: $(VENV)/.core
	@# The dashboard's browser tests drive Debian's Chromium.
	test -x /usr/bin/chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[test,dev]'
	touch $@

demo: $(VENV)/.core
	$(PY) examples/make_samples.py samples
	@echo
	@echo "$$ garrison scan samples/"
	@$(BIN)/garrison scan samples/ ; rc=$$?; \
	  if [ $$rc -eq 1 ]; then echo "(exit 1: findings at or above 'high', as expected for the malicious samples)"; \
	  elif [ $$rc -ne 0 ]; then exit $$rc; fi

test: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks examples fuzz
	$(BIN)/mypy src
	KERAS_BACKEND=torch HF_HUB_OFFLINE=1 $(BIN)/pytest -q -n 2 --dist loadfile

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks examples fuzz
	$(BIN)/ruff format --check src tests benchmarks examples fuzz

typecheck: $(VENV)/.test
	$(BIN)/mypy src

docs: $(VENV)/.core
	$(PY) -c "from garrison.rules import rules_markdown; print(rules_markdown(), end='')" > docs/rules.md

bench: $(VENV)/.test
	KERAS_BACKEND=torch $(PY) benchmarks/supplychain.py
	$(PY) benchmarks/gateway.py
	$(PY) benchmarks/posture.py

clean:
	rm -rf samples .pytest_cache .mypy_cache .ruff_cache build dist
