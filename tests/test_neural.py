"""The numpy BiLSTM equals a plain token-by-token LSTM, batched or not, and joins the CRF.

The models here are built by the tests: random weights in the layout of ``neural.npz``
over the shipped model's features. (That numpy reproduces torch's scores is checked by
``scripts/train_neural.py`` each time it trains, since torch is not in the test install.)
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from arabic_ner.errors import ConfigError, ModelError
from arabic_ner.features import FeatureExtractor
from arabic_ner.manifest import write_manifest
from arabic_ner.model import SCORE_DIGITS, CRFBackend, default_model_path, load_backend
from arabic_ner.neural import NEURAL_FILE, NeuralTagger, char_ids_of
from arabic_ner.tokenize import Token, sentences, tokenize

LABELS = ("B-LOC", "B-MISC", "B-ORG", "B-PERS", "I-LOC", "I-MISC", "I-ORG", "I-PERS", "O")


@pytest.fixture(scope="module")
def crf() -> CRFBackend:
    return CRFBackend(default_model_path(), neural=False)


def _write_random(
    path: Path,
    features: list[str],
    seed: int = 0,
    vector_words: list[str] | None = None,
    feature_dtype: type[np.floating] = np.float32,
) -> dict[str, np.ndarray]:
    """Random weights; with ``vector_words``, a word vector (width 3) for each of them.

    ``feature_dtype``: the precision of the feature vectors (scripts/train_neural.py
    writes half precision; older files single).
    """
    rng = np.random.default_rng(seed)
    f, c, k, h, n = 6, 5, 7, 4, len(LABELS)
    v = 3 if vector_words is not None else 0
    chars = "^$ابتمنوسكيل"

    def normal(*shape: int) -> np.ndarray:
        return rng.normal(0, 0.5, shape).astype(np.float32)

    char_vectors = normal(len(chars) + 2, c)
    char_vectors[0] = 0.0  # the padding character
    arrays = {
        "features": np.array(features),
        "feature_vectors": normal(len(features), f).astype(feature_dtype),
        "chars": np.array(chars),
        "char_vectors": char_vectors,
        "conv_weight": normal(k, c, 3),
        "conv_bias": normal(k),
        **{f"{d}_w_ih": normal(4 * h, f + v + k) for d in "fb"},
        **{f"{d}_w_hh": normal(4 * h, h) for d in "fb"},
        **{f"{d}_bias": normal(4 * h) for d in "fb"},
        "out_weight": normal(n, 2 * h),
        "out_bias": normal(n),
        "transitions": normal(n, n),
        "labels": np.array(LABELS),
    }
    if vector_words is not None:
        arrays["vector_words"] = np.array(vector_words)
        arrays["word_vectors"] = normal(len(vector_words), v).astype(np.float16)
    np.savez(path, **arrays)
    return arrays


def _reference(
    arrays: dict[str, np.ndarray], sentence: list[Token], features: FeatureExtractor
) -> np.ndarray:
    """Scores of one sentence, computed token by token in float64 as the docs describe."""
    a = {k: v.astype(np.float64) for k, v in arrays.items() if v.dtype.kind == "f"}
    index = {str(f): i for i, f in enumerate(arrays["features"])}
    vector_index = {str(w): i for i, w in enumerate(arrays.get("vector_words", []))}
    char_index = {ch: i + 2 for i, ch in enumerate(str(arrays["chars"]))}
    stems = [features.own_features(t.norm, t.kind)[0] for t in sentence]
    hits = features.list_hits(stems)
    inputs = []
    for token, token_hits in zip(sentence, hits, strict=True):
        own = features.own_features(token.norm, token.kind)[1] + [f"g={g}" for g in token_hits]
        summed = sum((a["feature_vectors"][index[x]] for x in own if x in index), np.zeros(6))
        ids = [0, *char_ids_of(token.norm, char_index), 0]
        vectors = a["char_vectors"][ids]
        windows = [
            np.einsum("kcw,wc->k", a["conv_weight"], vectors[p : p + 3]) + a["conv_bias"]
            for p in range(len(ids) - 2)
        ]
        parts = [summed, np.maximum(np.max(windows, axis=0), 0.0)]
        if vector_index:  # the stem's vector, else the word's, else zeros
            stem = features.own_features(token.norm, token.kind)[0]
            row = vector_index.get(stem, vector_index.get(token.norm))
            parts.insert(1, np.zeros(3) if row is None else a["word_vectors"][row])
        inputs.append(np.concatenate(parts))

    def lstm(direction: str, xs: list[np.ndarray]) -> list[np.ndarray]:
        h = c = np.zeros(4)
        out = []
        for x in xs:
            z = a[f"{direction}_w_ih"] @ x + a[f"{direction}_w_hh"] @ h + a[f"{direction}_bias"]
            i, f, g, o = np.split(z, 4)
            sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
            c = sig(f) * c + sig(i) * np.tanh(g)
            h = sig(o) * np.tanh(c)
            out.append(h)
        return out

    forward = lstm("f", inputs)
    backward = lstm("b", inputs[::-1])[::-1]
    return np.array(
        [
            a["out_weight"] @ np.concatenate([fw, bw]) + a["out_bias"]
            for fw, bw in zip(forward, backward, strict=True)
        ]
    )


def _some_features(crf: CRFBackend, groups: list[list[Token]]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        stems = [crf.features.own_features(t.norm, t.kind)[0] for t in group]
        for token, hits in zip(group, crf.features.list_hits(stems), strict=True):
            seen.update(dict.fromkeys(crf.features.own_features(token.norm, token.kind)[1]))
            seen.update(dict.fromkeys(f"g={g}" for g in hits))
    return list(seen)[::2]  # half of them: the others are unknown to the model


@pytest.mark.parametrize(
    ("vectors", "feature_dtype"),
    [(False, np.float32), (True, np.float32), (True, np.float16)],
    ids=["features", "features+vectors", "half-precision features+vectors"],
)
def test_batched_scores_equal_a_token_by_token_lstm(
    crf: CRFBackend,
    sample_text: str,
    tmp_path: Path,
    vectors: bool,
    feature_dtype: type[np.floating],
) -> None:
    groups = [list(s) for s in sentences(tokenize(sample_text), sample_text)][:6]
    assert len({len(g) for g in groups}) > 3  # padding and reversal are exercised
    vector_words = None
    if vectors:  # some stems, some whole words (with their proclitic), the rest none
        stems = [crf.features.own_features(t.norm, t.kind)[0] for g in groups for t in g]
        words = [t.norm for g in groups for t in g]
        vector_words = list(dict.fromkeys(stems[::3] + words[1::3]))
    arrays = _write_random(
        tmp_path / NEURAL_FILE,
        _some_features(crf, groups),
        vector_words=vector_words,
        feature_dtype=feature_dtype,
    )
    tagger = NeuralTagger(tmp_path / NEURAL_FILE)
    batched = tagger.scores(groups, crf.features)
    for group, scores in zip(groups, batched, strict=True):
        assert scores.shape == (len(group), len(LABELS))
        np.testing.assert_allclose(scores, _reference(arrays, group, crf.features), atol=1e-4)
    # The same sentence alone, and again from the cache, scores the same.
    alone = NeuralTagger(tmp_path / NEURAL_FILE).scores(groups[2:3], crf.features)[0]
    np.testing.assert_allclose(alone, batched[2], atol=1e-5)
    np.testing.assert_allclose(tagger.scores(groups[2:3], crf.features)[0], alone, atol=1e-5)


@pytest.mark.parametrize(
    ("vectors", "gate_limit"),
    [(False, None), (True, None), (True, 512)],
    ids=["features", "features+vectors", "few-gates"],
)
def test_word_types_cached_over_many_batches_score_as_in_one(
    crf: CRFBackend,
    anercorp: Path,
    tmp_path: Path,
    vectors: bool,
    gate_limit: int | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from arabic_ner import neural
    from arabic_ner.conll import read_conll
    from arabic_ner.train import gold_tokens

    groups = [gold_tokens(s.tokens) for s in read_conll(anercorp)[:400]]
    assert len({(t.norm, t.kind) for g in groups for t in g}) > 2048  # the cache grows twice
    if vectors:  # and is emptied several times, word vectors and all
        monkeypatch.setattr(neural, "_CACHE_LIMIT", 1500)
    if gate_limit is not None:
        # The kept input gates are dropped several times by batches of 25 sentences, and
        # a group of sentences with more types than they have room for runs without them.
        monkeypatch.setattr(neural, "_GATE_LIMIT", gate_limit)
        types = [len({(t.norm, t.kind) for g in groups[i : i + 25] for t in g}) for i in (0, 25)]
        assert max(types) < gate_limit < 2 * min(types)
        longest = sorted(groups, key=len, reverse=True)  # scores() groups them so
        count = next(i for i, n in enumerate(itertools.accumulate(map(len, longest))) if n >= 1024)
        in_first_group = {(t.norm, t.kind) for g in longest[: count + 1] for t in g}
        assert len(in_first_group) > gate_limit
    stems = [crf.features.own_features(t.norm, t.kind)[0] for g in groups for t in g]
    _write_random(
        tmp_path / NEURAL_FILE,
        _some_features(crf, groups[:20]),
        vector_words=list(dict.fromkeys(stems[::2])) if vectors else None,
    )
    whole = NeuralTagger(tmp_path / NEURAL_FILE).scores(groups, crf.features)
    tagger = NeuralTagger(tmp_path / NEURAL_FILE)
    pieces = [
        s
        for i in range(0, len(groups), 25)
        for s in tagger.scores(groups[i : i + 25], crf.features)
    ]
    for got, expected in zip(pieces, whole, strict=True):  # equal but for the last bits
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_unknown_characters_and_long_words(crf: CRFBackend, tmp_path: Path) -> None:
    text = "وصل " + "ب" * 60 + " الى ☃ Moscow 2015"
    groups = [list(s) for s in sentences(tokenize(text), text)]
    arrays = _write_random(tmp_path / NEURAL_FILE, ["k=WORD", "g=LOC-B"])
    scores = NeuralTagger(tmp_path / NEURAL_FILE).scores(groups, crf.features)
    for group, got in zip(groups, scores, strict=True):
        np.testing.assert_allclose(got, _reference(arrays, group, crf.features), atol=1e-4)


def test_unreadable_weights_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / NEURAL_FILE
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ModelError, match=NEURAL_FILE):
        NeuralTagger(path)
    np.savez(path, features=np.array(["k=WORD"]))  # arrays missing
    with pytest.raises(ModelError, match="retrain"):
        NeuralTagger(path)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"vector_words": None}, "come together"),
        ({"vector_words": np.arange(3)}, "must hold strings"),
        ({"vector_words": np.array(["a", "b"])}, "vector_words has shape"),
        ({"word_vectors": np.zeros((3, 4), dtype=np.float16)}, "f_w_ih has shape"),
    ],
    ids=["words missing", "words not strings", "words too few", "vectors too wide"],
)
def test_damaged_word_vectors_name_the_file_and_the_problem(
    tmp_path: Path, damage: dict[str, np.ndarray | None], message: str
) -> None:
    path = tmp_path / NEURAL_FILE
    arrays = _write_random(path, ["k=WORD"], vector_words=["a", "b", "c"])
    for name, value in damage.items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value
    np.savez(path, **arrays)
    with pytest.raises(ModelError, match=f"{NEURAL_FILE}.*{message}"):
        NeuralTagger(path)


def _model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(default_model_path(), folder)
    (folder / "manifest.json").unlink()  # its files are changed by the tests
    return folder


def test_the_backend_adds_the_taggers_scores(crf: CRFBackend, tmp_path: Path) -> None:
    folder = _model_copy(tmp_path)
    text = "وصل الرئيس الروسي فلاديمير بوتين الى موسكو"
    group = list(tokenize(text))
    _write_random(folder / NEURAL_FILE, ["k=WORD"], seed=3)
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    for mix in (0.0, 50.0):
        meta["neural"] = {"mix": mix}
        (folder / "meta.json").write_text(json.dumps(meta), "utf-8")
        both = CRFBackend(folder, trust=True)
        assert both.name == "crf" and both.neural is not None
        labels, _ = both.tag([group])[0]
        if mix == 0.0:  # adds nothing: the CRF's labels
            assert labels == crf.tag([group])[0][0]
        else:  # the random tagger dominates: its own best path
            tagger = NeuralTagger(folder / NEURAL_FILE)
            scores = tagger.scores([group], crf.features)[0]
            order = [tagger.labels.index(label) for label in crf.labels]
            path = both.decoder.viterbi(
                [
                    crf.features.emissions(
                        [t.norm for t in group], [t.kind for t in group], crf.crf
                    )
                    + mix * scores[:, order]
                ]
            )[0]
            assert labels == [crf.labels[y] for y in path]
    alone = load_backend("crf-only", folder, trust=True)
    assert alone.name == "crf-only" and "tagger='CRF'" in repr(alone)


def test_labels_must_match_the_crfs(tmp_path: Path) -> None:
    folder = _model_copy(tmp_path)
    arrays = _write_random(folder / NEURAL_FILE, ["k=WORD"])
    arrays["labels"] = np.array([*LABELS[:-1], "B-DATE"])
    np.savez(folder / NEURAL_FILE, **arrays)
    with pytest.raises(ModelError, match="retrain the neural tagger"):
        CRFBackend(folder, trust=True)


def test_weights_without_their_mix_are_refused(tmp_path: Path) -> None:
    folder = _model_copy(tmp_path)
    _write_random(folder / NEURAL_FILE, ["k=WORD"])
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    meta.pop("neural", None)
    (folder / "meta.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(ModelError, match="does not give the weight"):
        CRFBackend(folder, trust=True)
    assert CRFBackend(folder, neural=False, trust=True).name == "crf-only"


def test_a_bias_against_outside_lowers_o_before_decoding(tmp_path: Path) -> None:
    folder = _model_copy(tmp_path)
    text = "وصل الرئيس الروسي فلاديمير بوتين الى موسكو يوم الخميس"
    group = list(tokenize(text))
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    plain = CRFBackend(folder, trust=True)
    assert plain.outside_bias == meta["neural"].get("outside_bias", 0.0)
    keys = [[(t.norm, t.kind) for t in group]]
    emissions = plain.features.emissions_many(keys, plain.crf)
    emissions += plain._mix * plain.neural.scores_flat(keys, plain.features)  # type: ignore[union-attr]
    outside = plain.labels.index("O")

    def expected(bias: float) -> tuple[list[str], list[float]]:
        """Viterbi and marginals of the sum with O's column lowered, done by hand."""
        shifted = emissions.copy()
        shifted[:, outside] -= bias
        path = plain.decoder.viterbi([shifted])[0]
        marginals = plain.decoder.marginals([shifted])[0]
        scores = [float(np.round(marginals[i, y], SCORE_DIGITS)) for i, y in enumerate(path)]
        return [plain.labels[y] for y in path], scores

    # 0 keeps every O of this sentence, 20 turns two of them into a place, 50 leaves none.
    seen = []
    for bias in (0.0, 20.0, 50.0):
        meta["neural"]["outside_bias"] = bias
        (folder / "meta.json").write_text(json.dumps(meta), "utf-8")
        biased = CRFBackend(folder, trust=True)
        assert biased.outside_bias == bias
        assert biased.tag([group])[0] == expected(bias)
        seen.append(biased.tag([group])[0][0])
    assert seen[0].count("O") > seen[1].count("O") > seen[2].count("O") == 0
    # The argument overrides the file (which now says 50).
    assert CRFBackend(folder, trust=True, outside_bias=0.0).tag([group])[0] == expected(0.0)
    # Backend "crf-only" has no bias (its scores are on another scale): O still wins.
    assert CRFBackend(folder, neural=False, trust=True).outside_bias == 0.0
    assert "O" in CRFBackend(folder, neural=False, trust=True).tag([group])[0][0]


@pytest.mark.parametrize("bias", ["1.5", True, float("nan"), float("inf")])
def test_an_outside_bias_argument_that_is_not_a_finite_number_is_refused(bias: object) -> None:
    with pytest.raises(ConfigError, match=r"outside_bias must be a finite number"):
        CRFBackend(default_model_path(), outside_bias=bias)  # type: ignore[arg-type]


@pytest.mark.parametrize("bias", ["high", None, True, float("nan"), float("inf")])
def test_an_outside_bias_that_is_not_a_number_is_refused(tmp_path: Path, bias: object) -> None:
    folder = _model_copy(tmp_path)
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    meta["neural"]["outside_bias"] = bias
    (folder / "meta.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(ModelError, match=r"outside_bias .* not a finite number"):
        CRFBackend(folder, trust=True)


def test_set_outside_bias_writes_the_bias_and_a_manifest_that_verifies(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(default_model_path(), folder)
    script = Path(__file__).resolve().parents[1] / "scripts" / "set_outside_bias.py"
    scores = tmp_path / "scores.json"  # as bench/accuracy.py --json writes them
    micro = {"precision": 0.8, "recall": 0.7, "f1": 0.74667}
    scores.write_text(json.dumps({"anercorp/crf-o1.5": {"micro": micro}}), "utf-8")
    run = [sys.executable, str(script), "--model", str(folder), "--bias", "2.5"]

    def meta() -> dict[str, Any]:
        return json.loads((folder / "meta.json").read_text("utf-8"))  # type: ignore[no-any-return]

    subprocess.run([*run, "--scores", str(scores)], check=True, capture_output=True)
    assert meta()["neural"]["outside_bias"] == 2.5
    summary = {"crf-o1.5": {"anercorp": {"precision": 80.0, "recall": 70.0, "f1": 74.67}}}
    assert meta()["neural"]["outside_bias_dev_scores"] == summary
    assert CRFBackend(folder).outside_bias == 2.5  # the manifest is checked: no trust=True
    # Again without scores: the bias stays, the scores of another choice go.
    subprocess.run(run, check=True, capture_output=True)
    assert "outside_bias_dev_scores" not in meta()["neural"]
    assert CRFBackend(folder).outside_bias == 2.5

    # A file that differs from the manifest, or one it does not list: refused, and the
    # manifest is not rewritten to vouch for it.
    before = (folder / "meta.json").read_bytes()
    (folder / "stray.txt").write_text("?", "utf-8")
    done = subprocess.run(run, capture_output=True, text=True)
    assert done.returncode != 0 and "stray.txt is not listed" in done.stderr
    (folder / "stray.txt").unlink()
    with (folder / "lexicon.tsv").open("a", encoding="utf-8") as damaged:
        damaged.write("x\t1\t0\n")
    done = subprocess.run(run, capture_output=True, text=True)
    assert done.returncode != 0 and "lexicon.tsv differs" in done.stderr
    assert (folder / "meta.json").read_bytes() == before

    # A CRF alone has no scores on the BiLSTM's scale to bias: refused, nothing written.
    shutil.rmtree(folder)
    shutil.copytree(default_model_path(), folder)
    crf_only = meta()
    del crf_only["neural"]
    (folder / "meta.json").write_text(json.dumps(crf_only), "utf-8")
    write_manifest(folder)
    done = subprocess.run(run, capture_output=True, text=True)
    assert done.returncode != 0 and "a CRF alone decodes without a bias" in done.stderr
    assert meta() == crf_only


def test_set_outside_bias_sets_a_transformer_folders_own(tmp_path: Path) -> None:
    folder = tmp_path / "transformer"
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps({"mix": 3.0, "trained": {}}), "utf-8")
    (folder / "model.int8.onnx").write_bytes(b"not read here")
    write_manifest(folder)
    script = Path(__file__).resolve().parents[1] / "scripts" / "set_outside_bias.py"
    run = [sys.executable, str(script), "--model", str(folder), "--bias", "0"]
    subprocess.run(run, check=True, capture_output=True)
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    assert meta == {"mix": 3.0, "trained": {}, "outside_bias": 0.0}
