# Stockade developer tasks. `make demo` and `make test` work on a fresh machine (they create .venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit docs docs-check deploy deploy-check bench install clean krew

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Scan the bundled demo application set: a table on the terminal and an HTML report in out/.
# Exit code 1 (findings) is the expected outcome for the demo, so it does not fail the target.
demo: $(STAMP)
	@mkdir -p out
	$(BIN)/stockade scan examples/demo --exceptions examples/demo/exceptions.yaml || [ $$? -eq 1 ]
	$(BIN)/stockade scan examples/demo --exceptions examples/demo/exceptions.yaml \
		--format html --output out/demo-report.html || [ $$? -eq 1 ]
	@echo "HTML report: out/demo-report.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks plugins
	$(BIN)/ruff format --check src tests benchmarks plugins
	$(BIN)/lint-imports --no-cache --no-logo

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck unit

docs: $(STAMP)
	$(BIN)/stockade rules docs docs/rules

docs-check: $(STAMP)
	$(BIN)/stockade rules docs docs/rules --check

# The in-cluster manifests of `stockade watch` as a kustomize base (generated from stockade.watch.deploy).
deploy: $(STAMP)
	$(BIN)/stockade deploy kustomize deploy

deploy-check: $(STAMP)
	$(BIN)/stockade deploy kustomize deploy --check

# The krew archive (the launcher of plugins/krew) and its sha256 in plugins/stockade.yaml.
krew: $(STAMP)
	$(BIN)/python plugins/krew_archive.py

# Checkov (the peer) is installed by bench_scan.py into its own virtualenv under benchmarks/.work.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scan.py
	$(BIN)/python benchmarks/bench_parse.py
	$(BIN)/python benchmarks/bench_pss.py
	$(BIN)/python benchmarks/bench_rbac.py
	$(BIN)/python benchmarks/bench_cluster.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_tables.py

clean:
	rm -rf $(VENV) out build *.egg-info
