"""Backend "camel": CAMeL Tools' NERecognizer on a tiny BERT built here (make test-backends).

The model has CAMeL's labels and the files ``camel_data -i ner-arabert`` installs
(config.json, model.safetensors, vocab.txt, tokenizer_config.json,
special_tokens_map.json). Its weights are random except where set so that each word of
its vocabulary gets a label chosen here (its embedding points at that label's row of
the classifier), so the tests know what CAMeL Tools must answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("camel_tools", reason="make test-backends installs CAMeL Tools")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import arabic_ner  # noqa: E402
from arabic_ner import ModelError  # noqa: E402
from arabic_ner.backends.camel import CamelBackend, camel_ner  # noqa: E402
from arabic_ner.model import load_backend  # noqa: E402
from arabic_ner.tokenize import sentences, tokenize  # noqa: E402

torch.set_num_threads(1)  # the machine's cores are busy; the model is tiny

CAMEL_LABELS = ["B-LOC", "B-ORG", "B-PERS", "B-MISC", "I-LOC", "I-ORG", "I-PERS", "I-MISC", "O"]
VOCAB = {
    "[PAD]": "O",
    "[UNK]": "O",
    "[CLS]": "O",
    "[SEP]": "O",
    "[MASK]": "O",
    "وصل": "O",
    "زار": "O",
    "الرئيس": "O",
    "الروسي": "O",
    "فلاديمير": "B-PERS",
    "بوتين": "I-PERS",
    "إلى": "O",
    "موسكو": "B-LOC",
    "وموسكو": "B-LOC",
    "دمشق": "B-LOC",
    "الأمم": "B-ORG",
    "المتحدة": "I-ORG",
    "كأس": "B-MISC",
    "العالم": "I-MISC",
    ".": "O",
}
TEXT = "وصل الرئيسُ الروسي فلاديمير بـوتين إلى وموسكو"


def build_model(folder: Path, labels: list[str] = CAMEL_LABELS) -> Path:
    """Write a one-layer BERT token classifier whose labels are those of VOCAB."""
    folder.mkdir(parents=True)
    words = list(VOCAB)
    (folder / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    # As in CAMeL's folder: the vocabulary and a small tokenizer_config.json, no tokenizer.json.
    (folder / "tokenizer_config.json").write_text(
        json.dumps({"do_lower_case": False, "model_max_length": 512})
    )
    specials = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]"}
    specials |= {"cls_token": "[CLS]", "mask_token": "[MASK]"}
    (folder / "special_tokens_map.json").write_text(json.dumps(specials))
    hidden = 16
    config = transformers.BertConfig(
        vocab_size=len(words),
        hidden_size=hidden,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=8,
        max_position_embeddings=256,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    torch.manual_seed(0)
    model = transformers.BertForTokenClassification(config)
    with torch.no_grad():
        bert = model.bert
        bert.embeddings.position_embeddings.weight.zero_()
        bert.embeddings.token_type_embeddings.weight.zero_()
        embeddings = torch.zeros(len(words), hidden)
        for row, word in enumerate(words):
            label = VOCAB[word]
            embeddings[row, labels.index(label) if label in labels else 0] = 1.0
        bert.embeddings.word_embeddings.weight.copy_(embeddings)
        # The layer adds nothing to what it reads (its residual connections carry it).
        for layer in bert.encoder.layer:
            layer.attention.output.dense.weight.zero_()
            layer.attention.output.dense.bias.zero_()
            layer.output.dense.weight.zero_()
            layer.output.dense.bias.zero_()
        model.classifier.weight.copy_(torch.eye(len(labels), hidden))
        model.classifier.bias.zero_()
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("camel") / "arabert")


@pytest.fixture(scope="module")
def backend(model_dir: Path) -> CamelBackend:
    loaded = load_backend("camel", model_dir)
    assert isinstance(loaded, CamelBackend)
    return loaded


def test_model_folder_is_shaped_like_camel_datas(model_dir: Path) -> None:
    assert sorted(p.name for p in model_dir.iterdir()) == [
        "config.json",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer_config.json",
        "vocab.txt",
    ]


def test_backend_returns_a_label_and_confidence_per_token(backend: CamelBackend) -> None:
    text = TEXT + ". زار كأس العالم"
    tagged = backend.tag(list(sentences(tokenize(text), text)))
    assert tagged == [
        (["O", "O", "O", "B-PERS", "I-PERS", "O", "B-LOC", "O"], [1.0] * 8),
        (["O", "B-MISC", "I-MISC"], [1.0] * 3),
    ]


def test_labels_are_camel_tools_own(backend: CamelBackend) -> None:
    words = ["زار", "الأمم", "المتحدة", "في", "دمشق"]
    own = backend.recognizer.predict_sentence(words)
    assert own == ["O", "B-ORG", "I-ORG", "O", "B-LOC"]
    assert backend.tag([tokenize(" ".join(words))])[0][0] == own


def test_pipeline_offsets_are_exact_and_proclitic_is_left_out(backend: CamelBackend) -> None:
    nlp = arabic_ner.Pipeline(backend)
    found = nlp(TEXT)
    assert [(e.type.value, e.text) for e in found] == [
        ("PERS", "فلاديمير بـوتين"),
        ("LOC", "موسكو"),
    ]
    for e in found:
        assert TEXT[e.start : e.end] == e.text
    assert found[1].start == TEXT.index("وموسكو") + 1


def test_load_with_backend_camel(model_dir: Path) -> None:
    nlp = arabic_ner.load(model_dir, backend="camel", types={"LOC"})
    assert [(e.text, e.start, e.end) for e in nlp("زار بوتين دمشق")] == [("دمشق", 10, 14)]
    assert repr(nlp) == f"Pipeline(backend='camel', path={str(model_dir)!r})"


def test_backend_reloads_from_its_name_and_path(backend: CamelBackend) -> None:
    # What pipe(n_process=N)'s workers do.
    again = load_backend(backend.name, backend.path, trust=True)
    assert again.tag([tokenize(TEXT)]) == backend.tag([tokenize(TEXT)])


def test_token_without_word_pieces_is_o_and_keeps_the_others_in_place(
    backend: CamelBackend,
) -> None:
    # BERT's tokenizer drops U+FFFD; CAMeL Tools would then drop the word and shift labels.
    tokens = tokenize("زار بوتين \ufffd دمشق")
    assert [t.text for t in tokens] == ["زار", "بوتين", "\ufffd", "دمشق"]
    assert backend.tag([tokens, [], tokenize("\ufffd")]) == [
        (["O", "I-PERS", "O", "B-LOC"], [1.0] * 4),
        ([], []),
        (["O"], [1.0]),
    ]


def test_empty_batch(backend: CamelBackend) -> None:
    assert backend.tag([]) == []


def test_missing_folder_names_it_and_the_install_command(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelError, match="camel_data -i ner-arabert") as caught:
        load_backend("camel", missing)
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize("remove", ["config.json", "vocab.txt", "model.safetensors"])
def test_folder_lacking_a_file_is_a_model_error(
    remove: str, model_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in model_dir.iterdir():
        if f.name != remove:
            (broken / f.name).write_bytes(f.read_bytes())
    with pytest.raises(ModelError, match=f"lacks .*{remove}.*camel_data -i ner-arabert"):
        CamelBackend(broken)


def test_damaged_weights_are_a_model_error(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "damaged"
    broken.mkdir()
    for f in model_dir.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(ModelError, match="cannot load the CAMeL Tools NER model") as caught:
        CamelBackend(broken)
    assert str(broken) in str(caught.value)


def test_model_without_ner_labels_is_a_model_error(tmp_path: Path) -> None:
    folder = build_model(tmp_path / "sentiment", labels=["positive", "negative", "neutral"])
    with pytest.raises(ModelError, match="not a NER model"):
        CamelBackend(folder)


def test_camel_tools_data_is_not_imported() -> None:
    camel_ner()
    assert "camel_tools.ner" in sys.modules
    if "camel_tools.data" in sys.modules:  # someone else imported it: then that is theirs
        pytest.skip("camel_tools.data was imported by another test")
    assert not isinstance(getattr(sys.modules["camel_tools"], "data", None), type(sys))


def test_loads_and_tags_with_the_network_refused(model_dir: Path, tmp_path: Path) -> None:
    """In a fresh process: no socket opens, no catalogue is read, ~/.camel_tools is not made."""
    script = textwrap.dedent(
        f"""
        import socket, sys

        def refuse(*args, **kwargs):
            raise OSError("network refused by the test")

        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse

        import torch
        torch.set_num_threads(1)
        import arabic_ner
        from arabic_ner.model import load_backend

        nlp = arabic_ner.Pipeline(load_backend("camel", {str(model_dir)!r}))
        print([(e.type.value, e.text) for e in nlp({TEXT!r})])
        print("camel_tools.data" in sys.modules)
        """
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAMELTOOLS", "HF_"))}
    env["HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == ["[('PERS', 'فلاديمير بـوتين'), ('LOC', 'موسكو')]", "False"]
    assert list(home.iterdir()) == []


def test_pipe_in_two_processes_gives_the_same_entities(backend: CamelBackend) -> None:
    nlp = arabic_ner.Pipeline(backend)
    texts = [TEXT, "زار دمشق", "زار كأس العالم"] * 3
    assert list(nlp.pipe(texts, n_process=2, batch_size=2)) == list(nlp.pipe(texts))
