"""Backend ``"transformer"``: a fine-tuned encoder's scores, run by onnxruntime, added to the CRF's.

The tests build a tiny stand-in of an exported transformer folder themselves: a word-level
tokenizer (``tokenizers``) and an ONNX graph (``onnx``) that looks each piece's label
scores up in a table, with the same inputs and outputs as the real export.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
tokenizers = pytest.importorskip("tokenizers")

import arabic_ner  # noqa: E402
from arabic_ner.errors import BackendNotAvailableError, ModelError  # noqa: E402
from arabic_ner.manifest import MANIFEST_FILE, write_manifest  # noqa: E402
from arabic_ner.model import CRFBackend, default_model_path  # noqa: E402
from arabic_ner.pipeline import Pipeline  # noqa: E402
from arabic_ner.tokenize import sentences, tokenize  # noqa: E402
from arabic_ner.transformer import TransformerScorer, default_transformer_path  # noqa: E402

LABELS = ["O", "B-PERS", "I-PERS", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]
# What the stand-in says about each word it knows; every other word is <unk>, scored O.
WORDS = {"وموسكو": "B-LOC", "كريم": "B-PERS", "زيدان": "I-PERS", "الكرملين": "B-ORG"}


def build_folder(folder: Path, *, mix: float = 50.0, meta: dict[str, object] | None = None) -> Path:
    """Write a transformer folder whose label scores are a per-piece table lookup."""
    from onnx import TensorProto, helper, numpy_helper
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {piece: i for i, piece in enumerate([*SPECIALS, *WORDS])}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.save(str(folder / "tokenizer.json"))
    table = np.full((len(vocab), len(LABELS)), -4.0, dtype=np.float32)
    table[:, 0] = 4.0  # O for specials and unknown words
    for word, label in WORDS.items():
        table[vocab[word]] = -4.0
        table[vocab[word], LABELS.index(label)] = 4.0
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "input_ids"], ["looked_up"], axis=0),
            # The mask joins in (times zero), as the real model's does: both inputs are used.
            helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT),
            helper.make_node("Unsqueeze", ["mask_f", "last"], ["mask_3d"]),
            helper.make_node("Mul", ["mask_3d", "zero"], ["nothing"]),
            helper.make_node("Add", ["looked_up", "nothing"], ["logits"]),
        ],
        "lookup",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
            helper.make_tensor_value_info(
                "attention_mask", TensorProto.INT64, ["batch", "sequence"]
            ),
        ],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "sequence", 9])],
        [
            numpy_helper.from_array(table, "table"),
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "last"),
            numpy_helper.from_array(np.zeros((1, 1, 1), dtype=np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(folder / "model.int8.onnx"))
    (folder / "labels.json").write_text(json.dumps(LABELS), "utf-8")
    (folder / "meta.json").write_text(json.dumps({"mix": mix, **(meta or {})}), "utf-8")
    write_manifest(folder)
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_folder(tmp_path_factory.mktemp("transformer") / "model")


def test_log_probs_follow_the_first_piece_of_each_word(folder: Path) -> None:
    crf_labels = list(reversed(LABELS))  # scores come in the order asked for
    scorer = TransformerScorer(folder, labels=crf_labels)
    text = "قال كريم زيدان في وموسكو"
    tokens = tokenize(text)
    (scores,) = scorer.log_probs([tokens])
    best = [crf_labels[k] for k in scores.argmax(axis=1)]
    assert best == ["O", "B-PERS", "I-PERS", "O", "B-LOC"]
    assert np.allclose(np.exp(scores).sum(axis=1), 1.0, atol=1e-4)


def test_scores_do_not_depend_on_the_batch(folder: Path) -> None:
    scorer = TransformerScorer(folder)
    groups = [tokenize(t) for t in ("قال كريم زيدان", "في وموسكو", "قال كريم زيدان")]
    together = scorer.log_probs(groups)
    alone = [scorer.log_probs([g])[0] for g in groups]
    assert all(np.array_equal(a, b) for a, b in zip(together, alone, strict=True))


def test_long_sentences_are_cut_into_windows(folder: Path) -> None:
    scorer = TransformerScorer(folder)
    words = ["وموسكو"] * 600
    tokens = tokenize(" ".join(words))
    (scores,) = scorer.log_probs([tokens])
    assert scores.shape == (600, len(LABELS))
    assert (scores.argmax(axis=1) == LABELS.index("B-LOC")).all()


def test_the_backend_gives_the_same_entity_output(folder: Path) -> None:
    backend = CRFBackend(default_model_path(), transformer=folder)
    assert backend.name == "transformer" and "transformer" in repr(backend)
    nlp = Pipeline(backend)
    text = "وصل كريم زيدان الى الكرملين وموسكو"
    entities = nlp(text)
    assert all(text[e.start : e.end] == e.text for e in entities)
    found = {(e.text, e.type.value) for e in entities}
    # The stand-in outweighs the CRF (mix 50); the proclitic stays outside the name.
    assert {("كريم زيدان", "PERS"), ("الكرملين", "ORG"), ("موسكو", "LOC")} <= found
    assert list(nlp.pipe([text, text], batch_size=1)) == [entities, entities]


def test_a_mix_of_zero_gives_the_crfs_labels(folder: Path) -> None:
    both = CRFBackend(default_model_path(), transformer=folder, transformer_mix=0.0)
    # The transformer folder's bias against O replaces the default's (0 in this one).
    crf = CRFBackend(default_model_path(), outside_bias=both.outside_bias)
    text = "وصل الرئيس الروسي فلاديمير بوتين الى موسكو"
    group = list(sentences(tokenize(text), text))
    assert [labels for labels, _ in both.tag(group)] == [labels for labels, _ in crf.tag(group)]


def test_the_transformer_folder_gives_its_own_outside_bias(tmp_path: Path, folder: Path) -> None:
    assert CRFBackend(default_model_path(), transformer=folder).outside_bias == 0.0
    biased = build_folder(tmp_path / "biased", meta={"outside_bias": 1.5})
    backend = CRFBackend(default_model_path(), transformer=biased)
    assert backend.outside_bias == 1.5
    assert CRFBackend(default_model_path(), transformer=biased, outside_bias=0.0).outside_bias == 0
    wrong = build_folder(tmp_path / "wrong", meta={"outside_bias": "high"})
    with pytest.raises(ModelError, match="outside_bias 'high', not a finite number"):
        CRFBackend(default_model_path(), transformer=wrong)


def test_missing_files_and_damage_raise_model_error(tmp_path: Path, folder: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    (copy / "labels.json").write_text(json.dumps([*LABELS[:-1], "B-DATE"]), "utf-8")
    with pytest.raises(ModelError, match=r"labels\.json differs"):
        TransformerScorer(copy)
    (copy / MANIFEST_FILE).unlink()
    with pytest.raises(ModelError, match="retrain the transformer"):
        TransformerScorer(copy, labels=LABELS, trust=True)
    (copy / "model.int8.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"cannot read transformer folder"):
        TransformerScorer(copy, trust=True)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match=r"lacks tokenizer\.json"):
        TransformerScorer(copy, trust=True)


def test_without_onnxruntime_the_error_names_the_extra(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(BackendNotAvailableError, match=r"pip install 'arabic-ner\[transformer\]'"):
        TransformerScorer(folder)


@pytest.mark.skipif(
    not (default_transformer_path() / "model.int8.onnx").is_file(),
    reason="the package ships no transformer",
)
def test_the_shipped_transformer_finds_the_seed_articles_entities(sample_text: str) -> None:
    nlp = arabic_ner.load(backend="transformer")
    entities = nlp(sample_text)
    assert all(sample_text[e.start : e.end] == e.text for e in entities)
    found = {(e.type.value, e.text) for e in entities}
    assert {("ORG", "داعش"), ("LOC", "تدمر"), ("PERS", "فلاديمير بوتين")} <= found


@pytest.mark.skipif(
    not (default_transformer_path() / "model.int8.onnx").is_file(),
    reason="the package ships no transformer",
)
def test_the_shipped_transformer_gives_the_same_entities_however_texts_are_batched(
    sample_text: str,
) -> None:
    # Its int8 activations are quantized per tensor: batched sentences would change each
    # other's scores (a first version's pipe(n_process=2) differed from one process).
    nlp = arabic_ner.load(backend="transformer")
    paragraphs = [p for p in sample_text.split("\n") if p.strip()]
    alone = [nlp(p) for p in paragraphs]
    assert list(nlp.pipe(paragraphs, batch_size=3)) == alone
    assert list(nlp.pipe(paragraphs, batch_size=64)) == alone
