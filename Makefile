# One command each on a fresh machine with python3, make and the package registries:
#   make test   - set up .venv (first time only) and run the whole test suite
#   make demo   - set up .venv and run the shipped models on the sample images (report.html)
#   make demo-train - the training tour on built-in phantom data
#   make models - retrain and package the shipped models (Resources/Models) from ../shared/data
#   make web    - the web app on http://127.0.0.1:8080 (the sample image open; Ctrl-C stops it)
#   make reliability - the long reliability / security runs (results/reliability.json)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_output

.PHONY: test demo demo-train models venv clean help reliability web

help:
	@echo "make test   - create .venv if missing, install pinned dependencies, run pytest"
	@echo "make demo   - same set-up, then the shipped models on the sample images (./$(DEMO_OUT)/report.html)"
	@echo "make demo-train - the training tour on phantom data (./demo_train_output)"
	@echo "make models - retrain and package the shipped models from ../shared/data (~1 h on 2 CPU cores; resumable)"
	@echo "make web    - start the web app on http://127.0.0.1:8080 (BreastUSAIWeb; Ctrl-C stops it)"
	@echo "make reliability - fuzz 2500 files, 20 training kills, hostile models / datasets, privacy, load"
	@echo "make clean  - remove .venv, caches and demo output"

venv: $(STAMP)

# torch first: the exact pin takes the local CPU wheel; everything after it is
# constrained to that torch so pip never swaps in a multi-GB CUDA build.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/python -m BreastUSAITraining demo --out $(DEMO_OUT)

demo-train: $(STAMP)
	$(BIN)/python -m BreastUSAITraining demo-train --out demo_train_output

web: $(STAMP)
	$(BIN)/python -m BreastUSAIWeb

models: $(STAMP)
	$(BIN)/python tools/release_models.py

reliability: $(STAMP)
	$(BIN)/python benchmarks/reliability.py
	$(BIN)/python benchmarks/render_readme_tables.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) demo_train_output .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
