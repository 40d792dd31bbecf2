# gostack — developer tasks. Run `make` or `make help` to list them.
#
#   make lab                      # JupyterLab on the kit, at notebooks/00-welcome.ipynb
#   make lab LAB_ARGS=--no-browser
#   make lab-ko                   # the Korean edition (한국어판): notebooks/ko/, JupyterLab in Korean
#   make test PYTEST_ARGS="-k stack -x"

PYTHON ?= python3
VENV ?= .venv
LAB_ARGS ?=
PYTEST_ARGS ?=

VENV_PY := $(VENV)/bin/python
PIP := $(VENV_PY) -m pip
BENCHES := $(sort $(wildcard benchmarks/bench_*.py))

.DEFAULT_GOAL := help
.PHONY: help venv lab lab-ko test e2e tour notebooks exercises translations messages lint bench \
	clean distclean

help: ## Show this list of targets
	@echo "Usage: make <target> [PYTHON=python3] [VENV=.venv] [LAB_ARGS=...] [PYTEST_ARGS=...]"
	@echo
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

# --- environment -------------------------------------------------------------

$(VENV_PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

venv: $(VENV_PY) ## Create the virtual environment (VENV, default .venv) if it is missing

# Stamp files: reinstall only when pyproject.toml changes (or the venv is new). The `ko` extra
# is the Korean edition's: a Hangul font for figures and JupyterLab's Korean language pack.
$(VENV)/.stamp-go: pyproject.toml | $(VENV_PY)
	$(PIP) install -e ".[go,ko]"
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(VENV_PY)
	$(PIP) install -e ".[test,go,ko]"
	touch $@

# --- tasks -------------------------------------------------------------------

# The command line lives in gostack/lab.py (the browser tests start JupyterLab with it too):
# the kit's folder as root, so links between lessons, exercises and README work; lesson 00
# opens first; --allow-root when run as root.
# `make lab LANG=ko` (or a Korean locale) opens the Korean edition, as `make lab-ko` does.
lab: $(VENV)/.stamp-go ## Open the course in JupyterLab, at lesson 00 (extra options: LAB_ARGS=...)
	-$(VENV_PY) -m gostack.oscost build
	$(VENV_PY) -m gostack.lab $(if $(filter ko%,$(LANG)),--lang ko) $(LAB_ARGS)

lab-ko: $(VENV)/.stamp-go ## The Korean edition (한국어판): notebooks/ko/00-welcome.ipynb, JupyterLab in Korean
	-$(VENV_PY) -m gostack.oscost build
	$(VENV_PY) -m gostack.lab --lang ko $(LAB_ARGS)

NBVAL := --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider
# pytest collects a folder's subfolders too: notebooks/ takes in notebooks/ko/ (the Korean
# edition), solutions/ solutions/ko/ and exercises/ exercises/ko/. Name no ko/ folder here, or
# its notebooks run twice.
NOTEBOOK_DIRS := $(sort $(dir $(wildcard notebooks/*.ipynb solutions/*.ipynb)))
EXERCISES := $(wildcard exercises/*.ipynb exercises/ko/*.ipynb)

test: $(VENV)/.stamp-test ## Lint, run the test suite, and validate the notebooks with nbval (PYTEST_ARGS=...)
	$(VENV)/bin/ruff check gostack tests benchmarks scripts
	$(VENV_PY) -m gostack.oscost build
	$(VENV_PY) -m pytest $(PYTEST_ARGS) tests $(if $(NOTEBOOK_DIRS),--nbval $(NBVAL) $(NOTEBOOK_DIRS))
	$(if $(EXERCISES),$(VENV_PY) -m pytest --nbval $(NBVAL) exercises)

e2e: $(VENV)/.stamp-test ## Run only the browser tests: lessons and an exercise in JupyterLab, in headless Chromium (the Korean edition too)
	$(VENV_PY) -m pytest $(PYTEST_ARGS) tests/e2e tests/test_korean_browser.py

tour: $(VENV)/.stamp-test ## Regenerate the README tour screenshots in docs/tour/ (needs Chromium)
	$(VENV_PY) scripts/tour.py

notebooks: $(VENV)/.stamp-test ## Re-execute every lesson and solution in place, clean them, regenerate links
	$(VENV_PY) -m gostack.oscost build
	$(VENV_PY) -m gostack.nbtools run $(wildcard notebooks/*.ipynb solutions/*.ipynb)
	$(VENV_PY) scripts/make_exercises.py
	$(VENV_PY) -m gostack.course
	$(VENV_PY) scripts/translate_notebooks.py update
	$(VENV_PY) scripts/translate_notebooks.py build

# Then the Korean edition follows: its catalogs get the changed cells (fuzzy), and exercises/ko/
# and solutions/ko/ are rebuilt and executed (an untranslated cell stays English until translated).
exercises: $(VENV)/.stamp-test ## Regenerate exercises/ from solutions/, execute both, regenerate links
	$(VENV_PY) scripts/make_exercises.py
	$(VENV_PY) -m gostack.course
	$(VENV_PY) scripts/translate_notebooks.py update exercises/*.ipynb solutions/*.ipynb
	$(VENV_PY) scripts/translate_notebooks.py build exercises/*.ipynb solutions/*.ipynb

# The Korean edition: i18n/ko/<folder>/<stem>.po (one entry per markdown cell) -> notebooks/ko/,
# exercises/ko/, solutions/ko/ (scripts/translate_notebooks.py says how). A cell whose English
# changed is marked fuzzy and `make test` fails until a translator updates it.
translations: $(VENV)/.stamp-test ## Korean edition: update i18n/ko/*.po from the English notebooks, build and execute the ko/ notebooks
	$(VENV_PY) scripts/translate_notebooks.py messages
	$(VENV_PY) scripts/translate_notebooks.py update
	$(VENV_PY) scripts/translate_notebooks.py build
	$(VENV_PY) scripts/translate_notebooks.py readme

messages: $(VENV)/.stamp-test ## Extract gostack's own messages into gostack/locale/ko/.../gostack.po (Babel) and compile the .mo
	$(VENV_PY) scripts/translate_notebooks.py messages

lint: $(VENV)/.stamp-test ## Lint gostack, tests, benchmarks and scripts with ruff
	$(VENV)/bin/ruff check gostack tests benchmarks scripts

bench: $(VENV)/.stamp-go ## Run every benchmarks/bench_*.py
	@if [ -z "$(BENCHES)" ]; then echo "no benchmarks/bench_*.py found"; fi
	@set -e; for b in $(BENCHES); do echo "== $$b"; $(VENV_PY) $$b; done

clean: ## Remove build artefacts and caches (keeps the virtual environment)
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis test-artifacts
	find . -path ./$(VENV) -prune -o -path ./.git -prune -o \
		\( -name __pycache__ -o -name .ipynb_checkpoints -o -name '*.egg-info' \) \
		-type d -prune -exec rm -rf {} +

distclean: clean ## Like clean, and also remove the virtual environment
	rm -rf $(VENV)
