# Habits. `make ask Q="…"` and `make test` set up everything they need on a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
NPROC := $(shell nproc 2>/dev/null || echo 2)
MODEL_FILES := models/SmolLM2-135M-Instruct.Q4_1.gguf models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \
  models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
MODEL_STAMPS := $(addsuffix .sha256,$(MODEL_FILES))
LLAMA_VERSION := 0.3.36
LLAMA_TIER ?= auto
export RAG_LLAMA_TIER := $(LLAMA_TIER)
LLAMA_KEY := $(shell $(PY) scripts/llama_build.py key --version $(LLAMA_VERSION))
LLAMA_STAMP := $(VENV)/.llama-$(LLAMA_KEY)
SMOKE_STAMP := $(VENV)/.smoke-$(LLAMA_KEY)
CORPUS := corpus/afghanistan-counterterrorism-mei-2024.txt
INDEX := .rag/index/CURRENT
Q ?= Who leads ISKP?
REPLICAS ?= 2
STACK_PORT ?= 8080

.PHONY: install rebuild-llama smoke models index ask chat test test-fast lint serve stack stack-down stack-status haproxy chromium screenshots eval eval-clapnq eval-squad eval-conversations eval-contradictions planted eval-planted calibrate bench clean help

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

# llama-cpp-python is built once per CPU-flag set into a wheelhouse keyed by them
# (scripts/llama_build.py: explicit flags, AMX off, never -march=native) and installed from there
# only, so pip's cache cannot bring back a wheel built with other flags.
$(LLAMA_STAMP): scripts/llama_build.py
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@wheels=$$($(PY) scripts/llama_build.py wheel --python $(BIN)/python --version $(LLAMA_VERSION)) && \
	  $(BIN)/pip install -q --no-index --no-deps --force-reinstall --find-links "$$wheels" \
	    llama-cpp-python==$(LLAMA_VERSION)
	@rm -f $(VENV)/.llama-* $(VENV)/.smoke-* && touch $@

$(BIN)/.installed: pyproject.toml $(LLAMA_STAMP)
	$(BIN)/pip install -q -e ".[dev]"
	@touch $@

install: $(BIN)/.installed ## create .venv and install (idempotent)

rebuild-llama: ## rebuild llama-cpp-python for this CPU (LLAMA_TIER=auto|avx2|avx512)
	rm -rf "$$($(PY) scripts/llama_build.py dir --version $(LLAMA_VERSION))" $(VENV)/.llama-* $(VENV)/.smoke-*
	$(MAKE) $(SMOKE_STAMP)

$(MODEL_STAMPS) &: $(BIN)/.installed rag/generation/models.json
	$(BIN)/python -m rag.generation.models fetch qwen1.5b smollm2 qwen0.5b

models: $(MODEL_STAMPS) ## assemble and verify the model files in models/

# A multi-token decode in a child process: a llama.cpp build this CPU cannot run stops here with
# the fix, not later as a bare "Segmentation fault" in `rag ask`.
$(SMOKE_STAMP): $(LLAMA_STAMP) $(MODEL_STAMPS)
	$(BIN)/python -m rag.generation.selfcheck $(MODEL_FILES)
	@touch $@

smoke: $(SMOKE_STAMP) ## check that llama.cpp runs on this CPU (a multi-token decode)

$(INDEX): $(MODEL_STAMPS) $(CORPUS)
	$(BIN)/rag ingest $(CORPUS)

index: $(INDEX) ## build the default index (.rag/index)

ask: $(INDEX) $(SMOKE_STAMP) ## answer Q="…" from the default index
	$(BIN)/rag ask "$(Q)"

chat: $(INDEX) $(SMOKE_STAMP) ## multi-turn questions in the terminal
	$(BIN)/rag chat

serve: $(INDEX) $(SMOKE_STAMP) ## the chat page and the API on http://127.0.0.1:8000 (HOST=, PORT=)
	$(BIN)/rag serve --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

# The scaled design on this machine (api/stack.py): PostgreSQL + pgvector on TCP, a model server,
# REPLICAS × `rag serve` and HAProxy on 127.0.0.1:$(STACK_PORT), under supervisord; files, data
# and logs in .stack/. MODEL=smollm2 for a quick try (default qwen1.5b).
stack: $(SMOKE_STAMP) haproxy ## start the stack (REPLICAS=2 STACK_PORT=8080 MODEL=qwen1.5b); ready when it returns
	$(BIN)/rag stack up --replicas $(REPLICAS) --port $(STACK_PORT) --model $(or $(MODEL),qwen1.5b)

stack-down: ## stop everything `make stack` started (the data in .stack/ stays)
	$(BIN)/rag stack down

stack-status: ## the stack's processes, addresses and logs
	$(BIN)/rag stack status

haproxy: ## HAProxy for `make stack`; it and docker-compose (v1, compose.yaml's check) for the tests
	@(command -v haproxy && command -v docker-compose) >/dev/null || \
	  (apt-get update -q && apt-get install -y -q haproxy docker-compose)

chromium: ## headless Chromium for the browser test
	@command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)

test: $(SMOKE_STAMP) chromium haproxy ## the whole test suite (real models, real files, a real browser)
	$(BIN)/python -m pytest -q

test-fast: $(SMOKE_STAMP) chromium haproxy ## tests without the 1.5B end-to-end tests
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(BIN)/.installed ## ruff + mypy
	$(BIN)/ruff check rag embeddings api eval tests bench scripts
	$(BIN)/mypy rag embeddings api bench

screenshots: $(SMOKE_STAMP) chromium ## retake docs/screenshots/chat-{desktop,phone}.png (browser test)
	RAG_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q tests/api/test_page_features.py -k screenshots

eval: $(SMOKE_STAMP) ## score the seed question set -> eval/runs/seed/report.{json,md,html}
	$(BIN)/rag eval --set seed --out eval/runs/seed

eval-clapnq: $(SMOKE_STAMP) ## 200 ClapNQ dev questions (100 answerable + 100 unanswerable)
	$(BIN)/rag eval --set clapnq --limit 200 --out eval/runs/clapnq

eval-squad: $(SMOKE_STAMP) ## SQuAD 2.0, three articles, report half -> eval/runs/squad2-report
	$(BIN)/rag eval --set squad2 --split report --out eval/runs/squad2-report

eval-conversations: $(SMOKE_STAMP) ## multi-turn set, report half (38 conversations, ~10 min) -> eval/runs/conversations-report
	$(BIN)/rag eval --set conversations --split report --out eval/runs/conversations-report

eval-contradictions: $(SMOKE_STAMP) ## two passages disagree: both sides shown or declined? report half (36 questions, ~3 min) -> eval/runs/contradictions-report
	$(BIN)/python -m eval.contradictions --split report --out eval/runs/contradictions-report

planted: $(BIN)/.installed ## refit the planted-instruction classifier (rag/ingest/planted.npz) on the fit halves, ~30 s
	$(BIN)/python -m eval.planted fit

eval-planted: $(BIN)/.installed ## the classifier and the rules on both halves (precision, recall, seed essay) -> eval/runs/planted.json
	mkdir -p eval/runs && $(BIN)/python -m eval.planted report > eval/runs/planted.json

calibrate: $(BIN)/.installed ## fit rag/calibrations/$(MODEL).json (MODEL=qwen1.5b: stored replies, no model; another: records them first, ~25 min for qwen0.5b; MODEL=server: RAG_LLM_URL)
	$(BIN)/python -m eval.calibrate model $(or $(MODEL),qwen1.5b)

bench: $(SMOKE_STAMP) ## benchmarks -> bench/results/, table in docs/performance.md (ARGS="--only index")
	$(BIN)/python -m bench.run $(ARGS)

clean: ## remove the default index (models and venv stay)
	rm -rf .rag
