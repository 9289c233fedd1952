# Two set-up commands on a fresh machine (see README):
#   make demo   - simulate -> (train -> generate ->) evaluate -> report on the embedded simulator
#   make test   - lint + the full test suite
# Each creates .venv and installs calovq with the pinned versions of constraints.txt.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.calovq-installed
DEMO_OUT ?= demo_output

.PHONY: demo test lint venv clean bench

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/calovq demo --out $(DEMO_OUT) --overwrite

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/calovq bench simulate --dataset 2 -n 2000

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
