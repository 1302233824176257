# make run   - set up .venv and run the main job on the built-in data (train, then explain)
# make test  - set up .venv, lint (ruff) and run the test suite
# make test-min - set up .venv-min with every dependency at its declared floor (constraints-min.txt), run the fast tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENV_MIN ?= .venv-min
MIN_STAMP := $(VENV_MIN)/.installed

.PHONY: setup run test test-min bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,cluster,design,profile]'
	touch $(STAMP)

# Each `make run` writes a new folder: nothing from an earlier run is overwritten.
RUN_DIR := runs/default-$(shell date +%Y%m%d-%H%M%S)

run: setup
	$(BIN)/seqcnn train --out $(RUN_DIR)
	$(BIN)/seqcnn explain $(RUN_DIR)

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q --numprocesses auto --maxprocesses 4 --dist loadfile  # a file stays on one worker, in order (the tutorial pages build on each other); one torch thread per worker (tests/conftest.py)

# The floors' torch is PyPI's CUDA build (about 2.8 GB with its nvidia wheels; constraints-min.txt says why).
# A fresh venv each time the pins change, so no newer release stays behind from an earlier install.
$(MIN_STAMP): pyproject.toml constraints-min.txt
	rm -rf $(VENV_MIN)
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --quiet -c constraints-min.txt -e '.[test,cluster,design,profile]'
	touch $(MIN_STAMP)

test-min: $(MIN_STAMP)
	$(VENV_MIN)/bin/python -m pytest -q -m "not slow" --numprocesses auto --maxprocesses 4 --dist loadfile

clean:
	rm -rf $(VENV) $(VENV_MIN)
