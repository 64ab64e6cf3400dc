"""Taggers behind one small protocol, and the shipped CRF model.

A :class:`Backend` takes the tokens of one sentence and returns a BIO label and a
confidence per token. The registry :data:`BACKENDS` maps names to loaders; the default,
``"crf"``, is a CRF (python-crfsuite) trained by this project, which ships in the package
as a folder of four files:

- ``model.crfsuite``: the CRF weights;
- ``lexicon.tsv``: word counts of the training corpus and the known names, used to
  split proclitics (``word<TAB>count<TAB>is_name``);
- ``gazetteer.tsv``: the name lists matched as features (``phrase<TAB>TYPE``);
- ``meta.json``: format and feature versions, training parameters and dev scores.

``arabic-ner train`` writes such a folder; :func:`load_backend` reads one, checking that
every file is there and readable, and raises :class:`ModelError` naming the path if not.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import pycrfsuite

from arabic_ner.clitics import Lexicon
from arabic_ner.errors import DataFormatError, ModelError
from arabic_ner.features import FEATURE_VERSION, FeatureExtractor
from arabic_ner.gazetteer import Gazetteer
from arabic_ner.tokenize import Token

__all__ = [
    "BACKENDS",
    "MODEL_FORMAT",
    "Backend",
    "CRFBackend",
    "default_model_path",
    "load_backend",
    "read_lexicon",
    "write_lexicon",
]

MODEL_FORMAT = 1
MODEL_FILES = ("model.crfsuite", "lexicon.tsv", "gazetteer.tsv", "meta.json")


class Backend(Protocol):
    """What the pipeline needs from a tagger."""

    name: str
    path: Path
    lexicon: Lexicon  # for proclitic splits of entity starts; may be empty

    def tag(self, tokens: Sequence[Token]) -> tuple[list[str], list[float]]:
        """Return a BIO label and its confidence (0..1) for each token of a sentence."""
        ...


def default_model_path() -> Path:
    """Return the folder of the model shipped inside the package."""
    return Path(str(resources.files("arabic_ner").joinpath("models/default")))


def read_lexicon(path: str | os.PathLike[str]) -> Lexicon:
    """Read a ``word<TAB>count<TAB>is_name`` file."""
    counts: dict[str, int] = {}
    names: set[str] = set()
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in ("0", "1"):
                raise DataFormatError(
                    f"{path}:{number}: expected 'word<TAB>count<TAB>0|1', found {line!r}"
                )
            counts[parts[0]] = int(parts[1])
            if parts[2] == "1":
                names.add(parts[0])
    return Lexicon(counts, frozenset(names))


def write_lexicon(lexicon: Lexicon, path: str | os.PathLike[str]) -> None:
    """Write a lexicon as sorted ``word<TAB>count<TAB>is_name`` lines."""
    words = sorted(set(lexicon.counts) | lexicon.names)
    lines = (f"{w}\t{lexicon.count(w)}\t{int(w in lexicon.names)}\n" for w in words)
    Path(path).write_text("".join(lines), encoding="utf-8")


def _check_crfsuite_file(path: Path) -> None:
    """Refuse a CRFsuite model file whose header does not match its size.

    CRFsuite reads a truncated or foreign file without checking and crashes the process
    (a segmentation fault, not an exception), so the header is checked here first: the
    magic ``lCRF``, the total size it records, and the offsets of its tables.
    """
    with open(path, "rb") as stream:
        header = stream.read(48)
    size = path.stat().st_size
    fine = len(header) == 48 and header[:4] == b"lCRF" and header[8:12] == b"FOMC"
    if fine:
        recorded, *fields = struct.unpack("<I4x9I", header[4:48])
        fine = recorded == size and all(offset < size for offset in fields[4:])
    if not fine:
        raise ModelError(
            f"{path} is not a complete CRFsuite model (corrupt or truncated, {size} bytes); "
            "retrain it with 'arabic-ner train' or reinstall arabic-ner"
        )


class CRFBackend:
    """The shipped tagger: a linear-chain CRF over the features of ``features.py``.

    The confidence of a label is its marginal probability under the CRF.
    """

    name = "crf"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        missing = [f for f in MODEL_FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelError(
                f"model folder {self.path} lacks {', '.join(missing)}; pass the folder that "
                "'arabic-ner train --out' wrote, or reinstall arabic-ner for the default model"
            )
        try:
            self.meta: dict[str, Any] = json.loads((self.path / "meta.json").read_text("utf-8"))
            self.lexicon = read_lexicon(self.path / "lexicon.tsv")
            gazetteer = Gazetteer.read(self.path / "gazetteer.tsv")
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot read model folder {self.path}: {error}") from error
        version = self.meta.get("feature_version")
        if self.meta.get("format") != MODEL_FORMAT or version != FEATURE_VERSION:
            raise ModelError(
                f"model {self.path} has format {self.meta.get('format')} and feature version "
                f"{version}; this arabic-ner reads format {MODEL_FORMAT}, features "
                f"{FEATURE_VERSION}: retrain it with 'arabic-ner train'"
            )
        _check_crfsuite_file(self.path / "model.crfsuite")
        self._tagger = pycrfsuite.Tagger()
        try:
            self._tagger.open(str(self.path / "model.crfsuite"))
        except (OSError, ValueError) as error:
            raise ModelError(
                f"cannot open CRF model {self.path / 'model.crfsuite'} (corrupt or truncated?): "
                f"{error}; retrain it with 'arabic-ner train' or reinstall arabic-ner"
            ) from error
        self.labels = tuple(self._tagger.labels())
        self.features = FeatureExtractor(self.lexicon, gazetteer)

    def __repr__(self) -> str:
        return f"CRFBackend({str(self.path)!r})"

    def tag(self, tokens: Sequence[Token]) -> tuple[list[str], list[float]]:
        """Return the most likely labels and their marginal probabilities."""
        if not tokens:
            return [], []
        tagger = self._tagger
        xseq = self.features.sentence([t.norm for t in tokens], [t.kind for t in tokens])
        labels: list[str] = tagger.tag(xseq)
        scores = [
            1.0 if label == "O" else tagger.marginal(label, i) for i, label in enumerate(labels)
        ]
        return labels, scores


BACKENDS: dict[str, Callable[[Path | None], Backend]] = {
    "crf": lambda path: CRFBackend(path or default_model_path()),
}
"""Backend loaders by name; each takes a model path, or None for its default model."""


def load_backend(name: str = "crf", path: str | os.PathLike[str] | None = None) -> Backend:
    """Load the backend ``name`` with the model at ``path`` (its default model if None).

    >>> load_backend("crf").name
    'crf'
    """
    loader = BACKENDS.get(name)
    if loader is None:
        raise ModelError(f"unknown backend {name!r}; choose one of {', '.join(sorted(BACKENDS))}")
    return loader(Path(path) if path is not None else None)
