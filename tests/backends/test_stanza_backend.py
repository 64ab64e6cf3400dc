"""Backend "stanza": a tiny Arabic NER model trained here by Stanza (make test-backends).

The model is trained by Stanza's own entry point (``stanza.models.ner_tagger``) on a few
sentences of ANERcorp's training part, with word vectors made up here (Stanza's
``Pretrain`` builds its .pt file from a text vectors file), small enough to learn them
by heart in a few seconds; then a resources folder is laid out as ``stanza.download``
would: ``resources.json``, ``ar/ner/tiny.pt``, ``ar/pretrain/tiny.pt``. A real Arabic
model also depends on character language models (``forward_charlm``,
``backward_charlm``), which this one does without.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

stanza = pytest.importorskip("stanza", reason="make test-backends installs Stanza")
torch = pytest.importorskip("torch")

import arabic_ner  # noqa: E402
from arabic_ner import ModelError  # noqa: E402
from arabic_ner.backends.stanza import StanzaBackend  # noqa: E402
from arabic_ner.conll import Sentence, read_conll  # noqa: E402
from arabic_ner.model import load_backend  # noqa: E402
from arabic_ner.tokenize import tokenize  # noqa: E402

torch.set_num_threads(1)  # the machine's cores are busy; the model is tiny

# ANERcorp training sentences with entities of every type, two starting with a proclitic
# (وإيران, وسوريا); the first is the one the tests read.
SENTENCES = (17, 21, 22, 26, 27, 128, 1, 2, 3)


@pytest.fixture(scope="module")
def corpus(anercorp: Path) -> list[Sentence]:
    every = read_conll(anercorp)
    return [every[i] for i in SENTENCES]


def train_tiny_model(corpus: list[Sentence], resources: Path, work: Path) -> None:
    """Train Stanza's NER tagger on ``corpus`` into the resources folder ``resources``."""
    from stanza.models import ner_tagger
    from stanza.models.common.pretrain import Pretrain

    work.mkdir(parents=True)
    data = [[{"text": w, "ner": t} for w, t in zip(s.tokens, s.tags, strict=True)] for s in corpus]
    (work / "train.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    # Word vectors in the text format Pretrain reads: a "count dimension" line, then one
    # word and its numbers per line.
    words = sorted({w for s in corpus for w in s.tokens})
    rng = random.Random(0)
    vectors = [f"{len(words)} 4"]
    vectors += [w + " " + " ".join(f"{rng.uniform(-1, 1):.3f}" for _ in range(4)) for w in words]
    (work / "vectors.txt").write_text("\n".join(vectors) + "\n", encoding="utf-8")
    pretrain = resources / "ar" / "pretrain" / "tiny.pt"
    pretrain.parent.mkdir(parents=True)
    Pretrain(str(pretrain), str(work / "vectors.txt"), max_vocab=-1).load()  # writes the .pt

    # fmt: off
    ner_tagger.main([
        "--train_file", str(work / "train.json"), "--eval_file", str(work / "train.json"),
        "--wordvec_pretrain_file", str(pretrain), "--shorthand", "ar_tiny",
        "--save_dir", str(resources / "ar" / "ner"), "--save_name", "tiny.pt",
        "--hidden_dim", "16", "--char_hidden_dim", "8", "--char_emb_dim", "4",
        "--dropout", "0", "--word_dropout", "0", "--optim", "adam", "--lr", "0.02",
        "--batch_size", "8", "--max_steps", "150", "--eval_interval", "25",
        "--seed", "1", "--cpu",
    ])
    # fmt: on
    # What resources.json says of the model: its package and what it depends on. (A real
    # one also lists tokenize, mwt, ... packages with their MD5 sums.)
    listing = {
        "ar": {
            "lang_name": "Arabic",
            "ner": {"tiny": {"dependencies": [{"model": "pretrain", "package": "tiny"}]}},
            "pretrain": {"tiny": {}},
            "packages": {"default": {"ner": "tiny"}},
        }
    }
    (resources / "resources.json").write_text(json.dumps(listing), encoding="utf-8")


@pytest.fixture(scope="module")
def resources(corpus: list[Sentence], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("stanza")
    train_tiny_model(corpus, root / "stanza_resources", root / "work")
    return root / "stanza_resources"


@pytest.fixture(scope="module")
def backend(resources: Path) -> StanzaBackend:
    loaded = load_backend("stanza", resources)
    assert isinstance(loaded, StanzaBackend)
    return loaded


def copy_tree(source: Path, target: Path) -> Path:
    for f in source.rglob("*"):
        if f.is_file():
            (target / f.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
            (target / f.relative_to(source)).write_bytes(f.read_bytes())
    return target


def test_resources_folder_is_laid_out_like_stanza_downloads(resources: Path) -> None:
    files = sorted(str(p.relative_to(resources)) for p in resources.rglob("*") if p.is_file())
    assert files == ["ar/ner/tiny.pt", "ar/pretrain/tiny.pt", "resources.json"]


def test_backend_returns_stanzas_labels_as_bio_with_our_types(
    backend: StanzaBackend, corpus: list[Sentence]
) -> None:
    first = corpus[0]
    raw = backend.pipeline([list(first.tokens)]).sentences[0].tokens
    theirs = [t.ner for t in raw]
    assert any(t.startswith(("S-", "E-")) for t in theirs)  # Stanza tags in BIOES
    labels, scores = backend.tag([tokenize(" ".join(first.tokens))])[0]
    assert labels == list(first.tags)  # learnt by heart, and mapped back to BIO
    assert scores == [1.0] * len(labels)
    assert backend.types == ["LOC", "MISC", "ORG", "PERS"]


def test_pipeline_offsets_are_exact_and_proclitics_are_left_out(
    backend: StanzaBackend, corpus: list[Sentence]
) -> None:
    text = " ".join(corpus[0].tokens)
    found = arabic_ner.Pipeline(backend, consistency=False)(text)
    assert [(e.type.value, e.text) for e in found] == [
        ("PERS", "دان غيلرمان"),
        ("ORG", "الأمم المتحدة"),
        ("LOC", "إيران"),
        ("LOC", "سوريا"),
    ]
    for e in found:
        assert text[e.start : e.end] == e.text
    assert found[2].start == text.index("وإيران") + 1


def test_diacritics_and_tatweel_do_not_change_the_labels(
    backend: StanzaBackend, corpus: list[Sentence]
) -> None:
    plain = " ".join(corpus[0].tokens)
    marked = plain.replace("غيلرمان", "غيلـرمانَ").replace("سوريا", "سُوريا")
    assert backend.tag([tokenize(marked)]) == backend.tag([tokenize(plain)])
    found = arabic_ner.Pipeline(backend, consistency=False)(marked)
    assert [e.text for e in found if e.type.value == "PERS"] == ["دان غيلـرمانَ"]
    for e in found:
        assert marked[e.start : e.end] == e.text


def test_load_with_backend_stanza_and_empty_sentences(
    resources: Path, backend: StanzaBackend
) -> None:
    nlp = arabic_ner.load(resources, backend="stanza")
    assert nlp("") == []
    assert backend.tag([[], tokenize("لبنان")])[0] == ([], [])
    assert backend.tag([]) == []


def test_backend_reloads_from_its_name_and_path(
    backend: StanzaBackend, corpus: list[Sentence]
) -> None:
    # What pipe(n_process=N)'s workers do when they cannot fork.
    tokens = tokenize(" ".join(corpus[1].tokens))
    assert load_backend(backend.name, backend.path, trust=True).tag([tokens]) == backend.tag(
        [tokens]
    )


def test_missing_folder_names_it_and_the_install_command(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelError, match=r"not found.*stanza\.download\('ar'") as caught:
        load_backend("stanza", missing)
    assert str(missing) in str(caught.value)


def test_folder_without_resources_json_is_a_model_error(resources: Path, tmp_path: Path) -> None:
    broken = copy_tree(resources, tmp_path / "broken")
    (broken / "resources.json").unlink()
    with pytest.raises(ModelError, match=r"lacks resources\.json.*stanza\.download") as caught:
        StanzaBackend(broken)
    assert str(broken) in str(caught.value)


@pytest.mark.parametrize("listing", ["{not json", '{"en": {}}', "[]"])
def test_unreadable_or_foreign_resources_json_is_a_model_error(
    listing: str, resources: Path, tmp_path: Path
) -> None:
    broken = copy_tree(resources, tmp_path / "broken")
    (broken / "resources.json").write_text(listing)
    with pytest.raises(ModelError, match=r"stanza\.download"):
        StanzaBackend(broken)


@pytest.mark.parametrize("damage", ["truncate", "remove"])
def test_damaged_or_missing_model_file_is_a_model_error(
    damage: str, resources: Path, tmp_path: Path
) -> None:
    broken = copy_tree(resources, tmp_path / "broken")
    model = broken / "ar" / "ner" / "tiny.pt"
    if damage == "remove":
        model.unlink()
    else:
        model.write_bytes(model.read_bytes()[:200])
    with pytest.raises(ModelError, match="cannot load the Stanza Arabic NER model") as caught:
        StanzaBackend(broken)
    assert str(broken) in str(caught.value)


def test_loads_and_tags_with_the_network_refused(
    resources: Path, corpus: list[Sentence], tmp_path: Path
) -> None:
    """In a fresh process, with every socket refused."""
    text = " ".join(corpus[0].tokens)
    script = textwrap.dedent(
        f"""
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network refused by the test")

        socket.socket.connect = refuse
        socket.getaddrinfo = refuse
        socket.create_connection = refuse

        import torch
        torch.set_num_threads(1)
        import arabic_ner

        nlp = arabic_ner.load({str(resources)!r}, backend="stanza", types={{"LOC"}})
        print([e.text for e in nlp({text!r})])
        """
    )
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STANZA", "HF_"))}
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
    assert done.stdout.splitlines() == ["['إيران', 'سوريا']"]
