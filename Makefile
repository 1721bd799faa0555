# Two commands: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test fuzz bench setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# `validation demo` exits 1 when a check finds something red: a finding, not a failure of the demo.
demo: $(STAMP)
	@$(BIN)/validation demo || { code=$$?; [ $$code -eq 1 ] && echo "(exit 1: red findings; open the packs above)" >&2 || exit $$code; }

test: $(STAMP)
	$(BIN)/python -m pytest -q

# the command-line contract under over 2,000 fuzzed specs and data (tests/fuzz; `make test` runs 25 of them),
# about 20 minutes: prints the examples run, their exit codes, the time taken and every distinct violation
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz --hypothesis-show-statistics

# timings and peak memory at 100k and 1M rows, compared with the committed bench/results.json (the
# reference), which it then updates: commit it with a change that moves the figures on purpose
bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) demo reports/*/ reports/registry.sqlite* params/german_credit_pd.yaml params/trading_desk_var.yaml test-artifacts
