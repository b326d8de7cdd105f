# The README's two commands: `make demo` and `make test`. Both create the virtual environment.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= data/dora.duckdb

.PHONY: setup demo test bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/.installed

demo: setup
	@# exit code 3 = loaded with rejects: the sample has a few malformed lines on purpose
	$(BIN)/dora ingest events data/sample/events.jsonl --db $(DB) || [ $$? -eq 3 ]
	$(BIN)/dora ingest survey data/sample/survey.csv --db $(DB) -q
	$(BIN)/dora annotate import data/sample/annotations.csv --db $(DB) -q
	$(BIN)/dora metrics --grain month --db $(DB)
	mkdir -p data/export
	$(BIN)/dora export --grain quarter --db $(DB) -o data/export/sample-quarterly.csv
	@echo "Quarterly CSV written to data/export/sample-quarterly.csv"
	$(BIN)/dora compare --before-annotation "Phase 1: remove manual gates" --after-annotation "Phase 4: feature flags" --db $(DB)
	@echo "Opening the dashboard on the sample (Ctrl-C stops it)"
	$(BIN)/dora dashboard --db $(DB)

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/bench_eventlog.py
	$(BIN)/python bench/bench_github.py

clean:
	rm -rf $(VENV) $(DB) $(DB).wal data/export
