# Quick start: `make demo` runs the service with a demo feed; `make test` runs every test.
# `make docs` regenerates what is generated and committed: metrics docs, rules, dashboards.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
WITH_TRANSFORMER := $(VENV)/.installed-transformer
# A CPU build of PyTorch (pip takes it from a local find-links where the machine has one),
# installed first, so the 'transformer' extra's torch range adds no CUDA packages.
TORCH ?= torch==2.13.0

TOOLS := promtool amtool prometheus chromium stunnel4 openssl
WITH_TRAIN := $(VENV)/.installed-train
# The project's training data directory (docs/sentiment.md): read to train, never shipped.
SENTIMENT_TRAIN_DATA ?= ../shared/data/sentiment-train

.PHONY: demo test lint unit integration fuzz docs screenshot rules tools clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/smm-pulse up --demo

# The tests also cover the optional transformer scorer, so they install its extra.
$(WITH_TRANSFORMER): $(INSTALLED)
	$(BIN)/pip install --quiet '$(TORCH)'
	$(BIN)/pip install --quiet -e '.[dev,transformer]'
	touch $@

test: lint tools $(WITH_TRANSFORMER)
	$(BIN)/python -m pytest

# Prometheus and Alertmanager tools for the alert tests, chromium for the live page's
# browser test (Playwright drives it; no browser download), stunnel and openssl for the
# Kafka TLS tests (a TLS endpoint with a throwaway CA), from Debian's packages.
tools:
	@for tool in $(TOOLS); do command -v $$tool >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends prometheus prometheus-alertmanager chromium \
				stunnel4 openssl; \
		else \
			echo "install prometheus, prometheus-alertmanager, chromium, stunnel4 and openssl" \
				"(Debian packages)"; \
			exit 1; \
		fi; \
	fi

$(WITH_TRAIN): $(INSTALLED)
	$(BIN)/pip install --quiet -e '.[dev,train]'
	touch $@

# Retrain the shipped sentiment model (smm_pulse/sentiment/data/sentiment_model.npz) on one
# core: the same data gives the same weights. About five minutes.
.PHONY: train-sentiment
train-sentiment: $(WITH_TRAIN)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m smm_pulse.sentiment.training.train \
		--data $(SENTIMENT_TRAIN_DATA)

# The import contracts are checked on the package as installed (agents/, streams/ and
# dashboards/ inside smm_pulse), built into .lint/ without touching the venv.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	rm -rf .lint
	$(BIN)/pip install --quiet --no-deps --target .lint .
	cd .lint && ../$(BIN)/lint-imports ../pyproject.toml

unit: $(WITH_TRANSFORMER)
	$(BIN)/python -m pytest tests/unit

# The ingest's fuzz test far longer than the suite runs it (300 messages there).
FUZZ_EXAMPLES ?= 20000
fuzz: $(INSTALLED)
	SMM_PULSE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/unit/agents/test_ingest_fuzz.py

integration: $(WITH_TRANSFORMER)
	$(BIN)/python -m pytest tests/integration

docs: $(INSTALLED)
	$(BIN)/python -m smm_pulse.kpi.docs > docs/metrics.md
	$(BIN)/python -m smm_pulse.config_docs > docs/configuration.md
	$(BIN)/smm-pulse rules --config deploy/smm.yaml > deploy/rules.yml
	$(BIN)/smm-pulse dashboards --config deploy/smm.yaml --out dashboards/json

# The live page's screenshot in docs/, from the browser test (needs make tools).
screenshot: $(WITH_TRANSFORMER)
	SMM_PULSE_SCREENSHOT=docs $(BIN)/python -m pytest -q tests/integration/test_live_page.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
