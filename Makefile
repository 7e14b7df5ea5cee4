# Seed Studio: the two commands of the quick start are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench venv clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is pinned to the CPU wheel that lies on this machine's disk (see pyproject.toml); ray
	# (the --engine ray batch) so that its tests run in CI too (tests marked ray skip without it).
	$(BIN)/python -m pip install --quiet -e '.[train,dev,ray]'
	touch $(STAMP)

venv: $(STAMP)

# On Linux, first check the system libraries Qt's X11 plugin needs (prints the apt-get line).
run: $(STAMP)
	@sh scripts/check-qt-libs.sh $(BIN)/python
	$(BIN)/seed-studio assets/samples/astronaut.png

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_remove.py
	$(BIN)/python benchmarks/bench_batch.py

clean:
	rm -rf $(VENV) .pytest_cache
