# The documented way in: `make demo`, then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
ANERCORP := $(SHARED)/data/ner/anercorp/train.txt
SAMPLE := data/samples/palmyra_news_ar.txt

# Training the BiLSTM needs torch, kept out of .venv (the package never imports it).
# The CPU build is enough, and the shipped model was trained with this one; a plain
# `pip install torch` on Linux pulls the CUDA build, several GB.
TRAIN_VENV := .venv-train
TORCH ?= torch==2.13.0+cpu
# The shipped model is trained on all of ANERcorp's training part; the same recipe
# trained on its first 90% is what the dev split can measure (`make evaluate`).
MODEL := arabic_ner/models/default
DEV_MODEL := build/model-dev

.PHONY: demo test lint bench evaluate crossval crossval-neural model model-dev gazetteers charmap calendar aliases clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TRAIN_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet '$(TORCH)' -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

## demo: create .venv, install, print the entities of the sample article
demo: $(VENV)/.installed
	$(BIN)/arabic-ner extract $(SAMPLE)

## test: install the test extras into .venv and run the test suite
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

## lint: ruff and mypy
lint: $(VENV)/.installed-test
	$(BIN)/ruff check arabic_ner tests bench scripts
	$(BIN)/ruff format --check arabic_ner tests bench scripts
	$(BIN)/mypy arabic_ner

## bench: tokens/s, load time and peak RSS (see docs/benchmarks.md)
bench: $(VENV)/.installed
	$(BIN)/python bench/speed.py

## evaluate: dev F1 of the shipped recipe, trained without the dev split (make model-dev)
evaluate: $(DEV_MODEL)/neural.npz
	$(BIN)/python bench/accuracy.py --conll $(ANERCORP) --model $(DEV_MODEL)

## crossval: 5-fold cross-validation of the current code over the training split
crossval: $(VENV)/.installed
	$(BIN)/python bench/crossval.py --conll $(ANERCORP)

## crossval-neural: the same, with the BiLSTM trained per fold too (needs torch; about 30 min)
crossval-neural: $(TRAIN_VENV)/.installed
	$(TRAIN_VENV)/bin/python bench/crossval.py --conll $(ANERCORP) --neural

## model: retrain the shipped model on all of ../shared's ANERcorp training part: the CRF (deterministic), then the BiLSTM (torch)
model: $(VENV)/.installed $(TRAIN_VENV)/.installed
	$(BIN)/arabic-ner train --train $(ANERCORP) --dev-fraction 0 \
		--gazetteers data/gazetteers --out $(MODEL)
	$(TRAIN_VENV)/bin/python scripts/train_neural.py --conll $(ANERCORP) \
		--model $(MODEL) --dev-fraction 0

## model-dev: the same recipe on the first 90% only, into build/model-dev, scored on the last 10%
model-dev: $(DEV_MODEL)/neural.npz

# Retrained when the code or the lists change: it stands for the current recipe.
$(DEV_MODEL)/neural.npz: $(wildcard arabic_ner/*.py) scripts/train_neural.py $(wildcard data/gazetteers/*) \
		| $(VENV)/.installed $(TRAIN_VENV)/.installed
	$(BIN)/arabic-ner train --train $(ANERCORP) --dev-fraction 0.1 \
		--gazetteers data/gazetteers --out $(DEV_MODEL)
	$(TRAIN_VENV)/bin/python scripts/train_neural.py --conll $(ANERCORP) \
		--model $(DEV_MODEL) --dev-fraction 0.1 --report

## gazetteers: rebuild data/gazetteers from ANERgazet, CLDR, GeoNames and Wikidata names
gazetteers: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[data]'
	$(BIN)/python scripts/build_gazetteers.py --shared $(SHARED) --out data/gazetteers
	$(BIN)/python scripts/build_person_names.py --out data/gazetteers/person_names.tsv

## charmap: rebuild the character tables of normalize
charmap:
	$(PYTHON) scripts/build_charmap.py arabic_ner/resources/charmap.json

clean:
	rm -rf $(VENV) $(TRAIN_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

## aliases: copy the alias table into the package
aliases:
	cp data/aliases.tsv arabic_ner/resources/aliases.tsv

## calendar: rebuild the month, weekday and number tables of the date/number rules
calendar: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[data]'
	$(BIN)/python scripts/build_calendar.py arabic_ner/resources/calendar.json
