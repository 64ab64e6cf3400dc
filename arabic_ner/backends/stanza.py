"""Backend ``"stanza"``: a Stanza Arabic NER model (extra ``[stanza]``).

``load_backend("stanza", DIR)`` runs ``stanza.Pipeline("ar", dir=DIR,
processors="tokenize,ner", tokenize_pretokenized=True, download_method=None)`` on our
tokens. ``DIR`` is a Stanza resources folder, what ``stanza.download("ar",
model_dir=DIR, processors="tokenize,ner")`` fills: ``resources.json`` (which names the
Arabic NER package and the files it depends on: word vectors, character language
models) and ``ar/ner/PACKAGE.pt`` beside them. Nothing is downloaded
(``download_method=None``) and the tokenizer model is not loaded (our tokens are
passed as they are).

Stanza reads each of our tokens (less diacritics and tatweel,
:func:`~arabic_ner.backends.common.tool_words`); its labels are BIOES with its corpus's
types (``S-PER``, ``B-LOC``, ``E-LOC``...), mapped to ours by
:func:`~arabic_ner.backends.common.to_bio` (``S-`` → ``B-``, ``E-`` → ``I-``, ``PER`` →
``PERS``; a type without a counterpart → ``O``). Stanza's CRF gives no probabilities,
so every label has confidence 1.0.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arabic_ner.backends.common import TYPES, default_lexicon, to_bio, tool_words
from arabic_ner.errors import ArabicNERError, BackendNotAvailableError, ModelError
from arabic_ner.tokenize import Token

__all__ = ["INSTALL", "StanzaBackend", "load"]

INSTALL = (
    "python -c \"import stanza; stanza.download('ar', model_dir='DIR', processors='tokenize,ner')\""
)
"""The command that installs Stanza's Arabic NER model into the folder DIR."""


def _how(path: Path) -> str:
    return "install Stanza's Arabic NER model with " + INSTALL.replace("DIR", str(path))


def _stanza() -> Any:
    """Import stanza, or say how to install it."""
    try:
        import stanza
    except ImportError as error:
        raise BackendNotAvailableError(
            f"the stanza backend needs Stanza and torch ({error.name} is missing): "
            "pip install 'arabic-ner[stanza]' (it pulls torch: install the torch build you "
            "want first)"
        ) from error
    return stanza


def _check_folder(path: Path) -> None:
    if not path.is_dir():
        raise ModelError(f"Stanza resources folder {path} not found: {_how(path)}")
    resources = path / "resources.json"
    if not resources.is_file():
        raise ModelError(
            f"{path} is not a Stanza resources folder (it lacks resources.json): {_how(path)}"
        )
    try:
        content = json.loads(resources.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ModelError(f"cannot read {resources} ({error}): {_how(path)}") from error
    if not isinstance(content, dict) or not isinstance(content.get("ar"), dict):
        raise ModelError(f"{resources} lists no Arabic models: {_how(path)}")
    if not (path / "ar" / "ner").is_dir():
        raise ModelError(f"{path} has no Arabic NER model (no folder ar/ner): {_how(path)}")


class StanzaBackend:
    """Stanza's NER processor, on pre-tokenized Arabic, from the resources folder ``path``.

    ``use_gpu`` lets Stanza run on a GPU when torch sees one (off by default: a GPU
    cannot be shared with ``pipe(n_process=N)``'s forked workers).
    """

    name = "stanza"

    def __init__(self, path: str | os.PathLike[str], *, use_gpu: bool = False) -> None:
        self.path = Path(path)
        stanza = _stanza()
        _check_folder(self.path)
        self.lexicon = default_lexicon()
        try:
            self.pipeline = stanza.Pipeline(
                "ar",
                dir=str(self.path),
                processors="tokenize,ner",
                tokenize_pretokenized=True,
                download_method=None,
                logging_level="WARN",
                use_gpu=use_gpu,
            )
            known = [str(kind) for kind in self.pipeline.processors["ner"].get_known_tags()]
        # Stanza raises FileNotFoundError, ValueError, KeyError, RuntimeError, torch's
        # unpickling errors, ... for a folder it cannot use.
        except Exception as error:
            raise ModelError(
                f"cannot load the Stanza Arabic NER model in {self.path} "
                f"({type(error).__name__}: {error}): {_how(self.path)}"
            ) from error
        self.types = sorted({TYPES[k.upper()] for k in known if k.upper() in TYPES})
        if not self.types:
            raise ModelError(
                f"the Stanza NER model in {self.path} tags {known}, none of them PERS, LOC, "
                f"ORG or MISC (or PER, PERSON, LOCATION, GPE, ORGANIZATION): {_how(self.path)}"
            )

    def __repr__(self) -> str:
        return f"StanzaBackend({str(self.path)!r})"

    def tag(self, sentences: Sequence[Sequence[Token]]) -> list[tuple[list[str], list[float]]]:
        """Return Stanza's label of each token, mapped to ours, with confidence 1.0."""
        out: list[tuple[list[str], list[float]]] = [([], []) for _ in sentences]
        todo = [i for i, s in enumerate(sentences) if s]
        if not todo:
            return out
        document = self.pipeline([tool_words(sentences[i]) for i in todo])
        if len(document.sentences) != len(todo):
            raise ArabicNERError(
                f"Stanza returned {len(document.sentences)} sentences for {len(todo)}: "
                "the stanza backend does not know this Stanza version"
            )
        for i, sentence in zip(todo, document.sentences, strict=True):
            labels = [to_bio(str(token.ner)) for token in sentence.tokens]
            if len(labels) != len(sentences[i]):
                raise ArabicNERError(
                    f"Stanza returned {len(labels)} tokens for {len(sentences[i])} words: "
                    "the stanza backend does not know this Stanza version"
                )
            out[i] = (labels, [1.0] * len(labels))
        return out


def load(path: Path | None, trust: bool = False) -> StanzaBackend:
    """The registry's loader (``BACKENDS["stanza"]``): ``path`` is required.

    ``trust`` is not used: the folder is Stanza's own, without an arabic-ner
    ``manifest.json`` (``stanza.download`` checks the MD5 of what it installs).
    """
    if path is None:
        raise ModelError(
            "the stanza backend has no default model: pass a Stanza resources folder, "
            "load(model=DIR, backend='stanza'); " + _how(Path("DIR"))
        )
    return StanzaBackend(path)
