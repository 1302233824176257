# make run   - set up .venv and run the main job on the built-in data (train, then explain)
# make test  - set up .venv, lint (ruff) and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Each `make run` writes a new folder: nothing from an earlier run is overwritten.
RUN_DIR := runs/default-$(shell date +%Y%m%d-%H%M%S)

run: setup
	$(BIN)/seqcnn train --out $(RUN_DIR)
	$(BIN)/seqcnn explain $(RUN_DIR)

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --numprocesses auto --maxprocesses 4 --dist loadfile  # a file stays on one worker, in order (the tutorial pages build on each other); one torch thread per worker (tests/conftest.py)

clean:
	rm -rf $(VENV)
