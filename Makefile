# Two commands matter: `make run` (real Anki with the add-on, throwaway profile) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements-dev.txt requirements-bundle.txt | cksum | cut -d' ' -f1)

.PHONY: test run bench package test-llm test-oldest clean

$(STAMP): requirements-dev.txt requirements-bundle.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

run: $(STAMP)
	$(PY) tools/run_anki.py $(if $(filter 1,$(HEADLESS)),--headless) $(if $(filter 1,$(FRESH)),--fresh)

clean:
	rm -rf $(VENV) .pytest_cache build dist *.ankiaddon
