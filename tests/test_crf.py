"""The numpy CRF tags exactly as CRFsuite would, and emissions equal the features' weights."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pycrfsuite
import pytest

from arabic_ner.conll import read_conll, split_train_dev
from arabic_ner.crf import LinearChainCRF
from arabic_ner.features import FeatureExtractor
from arabic_ner.gazetteer import Gazetteer
from arabic_ner.model import CRFBackend, default_model_path
from arabic_ner.pipeline import Pipeline
from arabic_ner.tokenize import sentences, tokenize
from arabic_ner.train import gold_tokens


@pytest.fixture(scope="module")
def backend() -> CRFBackend:
    return CRFBackend(default_model_path(), neural=False)  # the CRF alone, as CRFsuite has it


@pytest.fixture(scope="module")
def crfsuite_tagger() -> pycrfsuite.Tagger:
    tagger = pycrfsuite.Tagger()
    tagger.open(str(default_model_path() / "model.crfsuite"))
    return tagger


def _sample_sentences(sample_text: str) -> list[list]:  # type: ignore[type-arg]
    return list(sentences(tokenize(sample_text), sample_text))


def test_labels_and_marginals_equal_crfsuites(
    backend: CRFBackend, crfsuite_tagger: pycrfsuite.Tagger, sample_text: str
) -> None:
    groups = _sample_sentences(sample_text)
    ours = backend.tag(groups)
    for sentence, (labels, scores) in zip(groups, ours, strict=True):
        xseq = backend.features.sentence([t.norm for t in sentence], [t.kind for t in sentence])
        assert labels == crfsuite_tagger.tag(xseq)
        for i, (label, score) in enumerate(zip(labels, scores, strict=True)):
            named = any(y != "O" for y in labels)  # marginals are only computed there
            expected = crfsuite_tagger.marginal(label, i) if named else 1.0
            assert score == pytest.approx(expected, abs=1e-5)


def test_dev_split_labels_equal_crfsuites(
    backend: CRFBackend, crfsuite_tagger: pycrfsuite.Tagger, anercorp: Path
) -> None:
    _, dev = split_train_dev(read_conll(anercorp))
    tokens = [gold_tokens(s.tokens) for s in dev[:150]]
    for sentence, (labels, _) in zip(tokens, backend.tag(tokens), strict=True):
        xseq = backend.features.sentence([t.norm for t in sentence], [t.kind for t in sentence])
        assert labels == crfsuite_tagger.tag(xseq)


def test_emissions_equal_the_summed_weights_of_the_features(
    backend: CRFBackend, sample_text: str
) -> None:
    crf = backend.crf
    for sentence in _sample_sentences(sample_text):
        words, kinds = [t.norm for t in sentence], [t.kind for t in sentence]
        expected = np.stack([crf.weights_of(f) for f in backend.features.sentence(words, kinds)])
        assert np.allclose(backend.features.emissions(words, kinds, crf), expected)


def test_single_precision_weights_are_summed_in_double(backend: CRFBackend) -> None:
    assert backend.crf.state_weights.dtype == np.float32  # as read from model.crfsuite
    # 2**24 + 1 + 1: single precision drops each 1, double keeps both.
    weights = np.array([[2.0**24], [1.0], [1.0]], dtype=np.float32)
    crf = LinearChainCRF(["O"], {"a": 0, "b": 1, "c": 2}, weights, np.zeros((1, 1)))
    assert crf.weights_of(["a", "b", "c"]).tolist() == [2.0**24 + 2]
    assert crf.slot_weights([["a", "b", "c"], ["b"]]).tolist() == [[2.0**24 + 2], [1.0]]


def test_word_types_added_in_one_batch_weigh_as_added_one_by_one(
    backend: CRFBackend, anercorp: Path
) -> None:
    _, dev = split_train_dev(read_conll(anercorp))
    tokens = [gold_tokens(s.tokens) for s in dev[:80]]
    crf, fx = backend.crf, backend.features
    memory = Gazetteer.read(default_model_path() / "memory.tsv")
    batched, single = (
        FeatureExtractor(
            fx.lexicon,
            fx.gazetteer,
            person_names=fx.person_names,
            namelike=fx.namelike,
            memory=memory,
        )
        for _ in range(2)
    )
    batched.add_types(((t.norm, t.kind) for s in tokens for t in s), crf)
    for sentence in tokens:
        words, kinds = [t.norm for t in sentence], [t.kind for t in sentence]
        fresh = single.emissions(words, kinds, crf)
        assert np.array_equal(batched.emissions(words, kinds, crf), fresh)


def test_marginals_sum_to_one_and_viterbi_handles_lengths_one_to_many() -> None:
    rng = np.random.default_rng(3)
    crf = LinearChainCRF(["O", "B-X", "I-X"], {}, np.zeros((0, 3)), rng.normal(size=(3, 3)))
    emissions = [rng.normal(size=(n, 3)) for n in (1, 2, 7, 40)]
    paths = crf.viterbi(emissions)
    assert [len(p) for p in paths] == [1, 2, 7, 40]
    for e, path in zip(emissions, paths, strict=True):
        best = max(_all_paths(len(e)), key=lambda ys: _score(crf, e, ys)) if len(e) <= 7 else path
        assert list(best) == path
    for marginals in crf.marginals(emissions):
        assert np.allclose(marginals.sum(axis=1), 1.0)


def _all_paths(n: int) -> list[tuple[int, ...]]:
    paths: list[tuple[int, ...]] = [()]
    for _ in range(n):
        paths = [(*p, y) for p in paths for y in range(3)]
    return paths


def _score(crf: LinearChainCRF, emissions: np.ndarray, ys: tuple[int, ...]) -> float:
    total = sum(emissions[i, y] for i, y in enumerate(ys))
    return float(total + sum(crf.transitions[a, b] for a, b in itertools.pairwise(ys)))


def test_batching_does_not_change_results(nlp: Pipeline, sample_text: str) -> None:
    paragraphs = [p for p in sample_text.split("\n") if p.strip()]
    assert nlp._many(paragraphs) == [nlp(p) for p in paragraphs]


def test_a_full_word_type_cache_is_emptied_between_sentences_not_inside_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import random

    from arabic_ner import features, neural

    rng = random.Random(5)
    letters = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
    texts = [" ".join("".join(rng.choices(letters, k=5)) for _ in range(30)) for _ in range(40)]
    fresh = Pipeline(CRFBackend(default_model_path()))
    expected = [fresh(t) for t in texts]
    monkeypatch.setattr(features, "_CACHE_LIMIT", 100)  # a few sentences fill it
    monkeypatch.setattr(neural, "_CACHE_LIMIT", 100)
    small = Pipeline(CRFBackend(default_model_path()))
    assert list(small.pipe(texts, batch_size=4)) == expected


def test_tagging_runs_on_one_blas_thread_and_gives_the_others_back(
    monkeypatch: pytest.MonkeyPatch, sample_text: str
) -> None:
    # BLAS threads busy-waiting for each other made two pipe() workers on two cores five
    # times slower than one process (model.py); the caller's own setting comes back.
    from arabic_ner import model

    libraries = model._blas_libraries()
    if not libraries:
        pytest.skip("numpy loaded no BLAS library that threadpoolctl controls")
    before = [library.num_threads for library in libraries]
    seen: list[list[int]] = []
    backend = CRFBackend(default_model_path())
    decode = backend._decode

    def recording(sentences):  # type: ignore[no-untyped-def]
        seen.append([library.num_threads for library in libraries])
        return decode(sentences)

    monkeypatch.setattr(backend, "_decode", recording)
    try:
        for library in libraries:
            library.set_num_threads(2)
        Pipeline(backend)(sample_text)
        assert seen and all(threads == [1] * len(libraries) for threads in seen)
        assert [library.num_threads for library in libraries] == [2] * len(libraries)
    finally:
        for library, threads in zip(libraries, before, strict=True):
            library.set_num_threads(threads)
