# Two commands for a newcomer: `make demo` and `make test`. Everything else is what they depend on.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON310 = $(shell scripts/find-python310)
UV := .tools/bin/uv
UV_VERSION := 0.13.8
SPACY_PIPELINE := build/spacy/en_throughcare
PATTERNS := build/ruler_patterns.jsonl
ENTITY_DATA := build/nlu/entities.yml
MODEL := models/throughcare.tar.gz
# The components the trained model holds (config.yml); the channel and the tracker store are not part of it.
MODEL_COMPONENTS := rasa_components/tfidf_intent_classifier.py rasa_components/normaliser.py
NLU_SOURCES := $(shell find data -name '*.yml') $(MODEL_COMPONENTS) domain.yml config.yml
KNOWLEDGE := $(shell find knowledge -name '*.yml')
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: help setup demo test check chaos serve production bot dashboard demo-dashboard lint lock db model validate clean nlu-eval

help:
	@echo "make demo    set everything up and chat with the assistant (demo data, SQLite)"
	@echo "make test    set everything up and run the whole test suite"
	@echo "make check   ruff, the format check and every test that does not start Rasa (no model needed)"
	@echo "make serve   run the action server (5055) and Rasa's REST channel (5005) on DATABASE_URL (README: Settings)"
	@echo "make production  N Rasa and M action servers behind HAProxy, the dashboard and the gateway, under supervisord"
	@echo "make bot     run the Telegram gateway (set TELEGRAM_BOT_TOKEN; see the README)"
	@echo "make dashboard  run the managers' dashboard on 8050 on DATABASE_URL"
	@echo "make demo-dashboard  the dashboard on the demo data, with a sign-in link for the demo manager"
	@echo "make chaos   kill and restart servers, PostgreSQL and Redis under the production stack (minutes)"
	@echo "make nlu-eval  train if needed, score the NLU on the held-out set, update docs/benchmarks.md"
	@echo "make lint    ruff;  make lock  recompile the lock files"

$(UV):
	@test -n "$(PYTHON310)"
	$(PYTHON310) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# An environment is rebuilt only when its lock file changes; the stamp records the last sync.
.venv/.synced: requirements/app.lock pyproject.toml | $(UV)
	@test -x .venv/bin/python || $(UV) venv --quiet --python $(PYTHON310) .venv
	VIRTUAL_ENV=.venv $(UV) pip sync --quiet --compile-bytecode requirements/app.lock
	VIRTUAL_ENV=.venv $(UV) pip install --quiet --no-deps -e .
	@touch $@

.venv-rasa/.synced: requirements/rasa.lock | $(UV)
	@test -x .venv-rasa/bin/python || $(UV) venv --quiet --python $(PYTHON310) .venv-rasa
	VIRTUAL_ENV=.venv-rasa $(UV) pip sync --quiet --compile-bytecode requirements/rasa.lock
	@touch $@

setup: .venv/.synced .venv-rasa/.synced

validate: .venv/.synced
	.venv/bin/throughcare knowledge validate

# The NLU's rule-based entities from knowledge/ (the spaCy ruler's patterns; the event and date patterns
# as Rasa NLU data). Each file is rewritten only when its patterns differ, so editing a fact or a
# citation does not retrain the model; the stamp records that the generator has run.
build/.nlu-patterns: $(KNOWLEDGE) throughcare/knowledge/nlu_patterns.py throughcare/cases/dates.py .venv/.synced
	@.venv/bin/throughcare nlu-patterns $(PATTERNS) $(ENTITY_DATA) > /dev/null
	@touch $@

$(PATTERNS) $(ENTITY_DATA): build/.nlu-patterns ;

# The spaCy pipeline Rasa loads: blank English plus that entity ruler.
$(SPACY_PIPELINE)/meta.json: $(PATTERNS) scripts/build_spacy_pipeline.py .venv-rasa/.synced
	.venv-rasa/bin/python scripts/build_spacy_pipeline.py $(PATTERNS) $(SPACY_PIPELINE)

# Trained only when the training data, domain, config, spaCy pipeline or entity patterns changed.
$(MODEL): $(NLU_SOURCES) $(SPACY_PIPELINE)/meta.json $(ENTITY_DATA)
	@mkdir -p var/log
	@echo "Training the assistant (about a minute, only when the data changed; log in var/log/train.log)..."
	@PYTHONWARNINGS=ignore .venv-rasa/bin/rasa train --data data $(dir $(ENTITY_DATA)) --fixed-model-name throughcare --out models \
	  > var/log/train.log 2>&1 \
	  || { tail -n 30 var/log/train.log; echo "Training failed; see var/log/train.log."; exit 1; }

model: $(MODEL)

# Demo mode (THROUGHCARE_DEMO=1) is set here and in scripts/demo, and nowhere else: only these targets load the
# synthetic demo caseload, by default into the checkout's SQLite file (README, "Settings").
db: .venv/.synced
	@export THROUGHCARE_DEMO=1 && source scripts/env.sh && .venv/bin/throughcare db upgrade > /dev/null \
	  && .venv/bin/throughcare demo-data

demo: setup db model
	@scripts/demo

demo-dashboard: .venv/.synced db
	@THROUGHCARE_DEMO=1 scripts/dashboard

# These migrate the database at DATABASE_URL and run; they never load demo data, and outside demo mode they refuse
# to start without DATABASE_URL and THROUGHCARE_SECRET, saying what to set.
serve: setup model
	@scripts/serve

bot: setup model
	@scripts/bot

# The production stack on one machine (README, "Running in production"): RASA_SERVERS and ACTION_SERVERS (2 each)
# behind HAProxy, the dashboard, and the gateway when TELEGRAM_BOT_TOKEN is set, under supervisord.
production: setup model
	@scripts/production

dashboard: .venv/.synced
	@scripts/dashboard

# The PostgreSQL and Redis restarts under the production stack take minutes: `make chaos` runs them.
# The dashboard's browser tests drive Debian's Chromium through Playwright (never `playwright install`); without it
# they skip, saying how to install it. A worker per core (pytest-xdist): most tests that start Rasa wait on it as
# much as they compute, so two at once take 8 minutes where one after another took 12.
test: setup model
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/pytest -m "not chaos" -n auto

# The inner loop: needs neither the model nor Rasa's environment; without Chromium the browser tests skip and say why.
# The tests run in a worker per core (pytest-xdist), as in `make test`.
check: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/pytest -m "not rasa" -n auto

# Faults under the production stack, on a PostgreSQL and a Redis of the tests' own: kill -9 of an action server,
# PostgreSQL and Redis restarted while conversations record; the figures go to docs/benchmarks.md.
chaos: setup model
	@rm -f var/chaos/results.json
	CHAOS_RESULTS=var/chaos/results.json .venv/bin/pytest tests/e2e/test_chaos.py -s -p no:cacheprovider
	.venv/bin/python scripts/chaos_figures.py var/chaos/results.json

# The model is trained on data/ only; tests/nlu/ is never seen in training.
nlu-eval: setup model
	.venv-rasa/bin/python scripts/nlu_eval.py --out results/nlu-eval --benchmarks docs/benchmarks.md

lint: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

lock: | $(UV)
	$(UV) pip compile --quiet --python-version 3.10 --generate-hashes --all-extras pyproject.toml -o requirements/app.lock
	$(UV) pip compile --quiet --python-version 3.10 --generate-hashes requirements/rasa.in -o requirements/rasa.lock

# What setup and training make; never var/, which holds the case database and the secret.
clean:
	rm -rf build models .tools .venv .venv-rasa
