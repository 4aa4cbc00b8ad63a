# Habits. `make ask Q="…"` and `make test` set up everything they need on a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
NPROC := $(shell nproc 2>/dev/null || echo 2)
MODEL_STAMPS := models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf.sha256 models/SmolLM2-135M-Instruct.Q4_1.gguf.sha256
CORPUS := corpus/afghanistan-counterterrorism-mei-2024.txt
INDEX := .rag/index/CURRENT
Q ?= Who leads ISKP?

.PHONY: install models index ask chat test test-fast lint serve chromium screenshots eval eval-clapnq bench clean help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || echo ">> building llama-cpp-python from source with $(NPROC) cores (about 8 min on 2 cores; cached afterwards)"
	CMAKE_BUILD_PARALLEL_LEVEL=$(NPROC) MAKEFLAGS=-j$(NPROC) $(BIN)/pip install -q -e ".[dev]"
	@touch $@

install: $(BIN)/.installed ## create .venv and install (idempotent)

$(MODEL_STAMPS) &: $(BIN)/.installed models/manifest.json
	$(BIN)/python -m rag.models fetch qwen1.5b smollm2

models: $(MODEL_STAMPS) ## assemble and verify the model files in models/

$(INDEX): $(MODEL_STAMPS) $(CORPUS)
	$(BIN)/rag ingest $(CORPUS)

index: $(INDEX) ## build the default index (.rag/index)

ask: $(INDEX) ## answer Q="…" from the default index
	$(BIN)/rag ask "$(Q)"

chat: $(INDEX) ## multi-turn questions in the terminal
	$(BIN)/rag chat

serve: $(INDEX) ## the chat page and the API on http://127.0.0.1:8000 (HOST=, PORT=)
	$(BIN)/rag serve --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

chromium: ## headless Chromium for the browser test
	@command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)

test: $(MODEL_STAMPS) chromium ## the whole test suite (real models, real files, a real browser)
	$(BIN)/python -m pytest -q

test-fast: $(MODEL_STAMPS) chromium ## tests without the 1.5B end-to-end tests
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(BIN)/.installed ## ruff + mypy
	$(BIN)/ruff check rag embeddings api eval tests bench
	$(BIN)/mypy rag embeddings api bench

screenshots: $(MODEL_STAMPS) chromium ## retake docs/screenshots/chat-{desktop,phone}.png (browser test)
	RAG_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/api/test_page_features.py -k screenshots

eval: $(MODEL_STAMPS) ## score the seed question set -> eval/runs/seed/report.{json,md,html}
	$(BIN)/rag eval --set seed --out eval/runs/seed

eval-clapnq: $(MODEL_STAMPS) ## 200 ClapNQ dev questions (100 answerable + 100 unanswerable)
	$(BIN)/rag eval --set clapnq --limit 200 --out eval/runs/clapnq

bench: $(MODEL_STAMPS) ## benchmarks -> bench/results/, table in docs/performance.md (ARGS="--only index")
	$(BIN)/python -m bench.run $(ARGS)

clean: ## remove the default index (models and venv stay)
	rm -rf .rag
