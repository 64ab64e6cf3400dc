"""Backend ``"camel"``: CAMeL Tools' BERT named-entity recognizer (extra ``[camel]``).

``load_backend("camel", DIR)`` runs :class:`camel_tools.ner.NERecognizer` on the model
folder ``DIR``: a Hugging Face BERT token classifier with CAMeL's labels (``B-PERS``,
``I-LOC``, ... ``O``), such as the one ``camel_data -i ner-arabert`` installs into
``~/.camel_tools/data/ner/arabert`` (or ``$CAMELTOOLS_DATA/data/ner/arabert``): its
``config.json``, weights (``model.safetensors`` or ``pytorch_model.bin``) and
``vocab.txt``.

CAMeL Tools reads each of our tokens (less diacritics and tatweel,
:func:`~arabic_ner.backends.common.tool_words`) and labels it by its first word piece;
its labels map to ours one to one (:func:`~arabic_ner.backends.common.to_bio`; an
unknown label becomes ``O``). It gives no probabilities (``predict`` takes the arg-max),
so every label has confidence 1.0. A token with no word piece at all (the tokenizer
drops control characters and U+FFFD; CAMeL Tools would then silently drop the word and
shift the labels after it) is not sent, and is labelled ``O``.

No network: importing ``camel_tools.ner`` imports ``camel_tools.data``, which loads
CAMeL Tools' data catalogue and downloads it when there is no local copy (and creates
``~/.camel_tools``). The recognizer needs no catalogue when given a folder, so
:func:`camel_ner` imports ``camel_tools.ner`` with a stand-in for ``camel_tools.data``
that loads the real one only if ``NERecognizer.pretrained()`` is called; the real module
is left unimported for whoever needs it later.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from arabic_ner.backends.common import default_lexicon, to_bio, tool_words
from arabic_ner.errors import ArabicNERError, BackendNotAvailableError, ModelError
from arabic_ner.tokenize import Token

__all__ = ["INSTALL", "CamelBackend", "camel_ner", "load"]

INSTALL = "camel_data -i ner-arabert"
"""The command that installs CAMeL Tools' NER model (into ~/.camel_tools/data/ner/arabert)."""
_HOW = (
    f"install CAMeL Tools' model with '{INSTALL}' (it goes to ~/.camel_tools/data/ner/arabert, "
    "or $CAMELTOOLS_DATA/data/ner/arabert) and pass that folder"
)
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")


class _Catalogue:
    """Stands for ``camel_tools.data.CATALOGUE`` inside ``camel_tools.ner``.

    Only ``NERecognizer.pretrained()`` reads it; then, and only then, the real catalogue
    is loaded (and fetched by CAMeL Tools if it has no local copy).
    """

    def __getattr__(self, name: str) -> Any:
        from camel_tools.data import CATALOGUE

        return getattr(CATALOGUE, name)


def camel_ner() -> Any:
    """Import ``camel_tools.ner`` without loading CAMeL Tools' catalogue; return it.

    Raises :class:`~arabic_ner.errors.BackendNotAvailableError` naming the pip command
    when CAMeL Tools (or torch, or transformers) is missing.
    """
    try:
        if "camel_tools.ner" in sys.modules or "camel_tools.data" in sys.modules:
            # Imported already (the catalogue too, if it was to be loaded at all).
            return importlib.import_module("camel_tools.ner")
        import camel_tools  # noqa: F401  (the package, so that its submodule can be stood in)

        # For the time of one import: a thread importing camel_tools.data meanwhile would
        # get the stand-in too (and the real catalogue through it, when it reads one).
        stand_in = types.ModuleType("camel_tools.data", "arabic-ner's stand-in (camel.py)")
        stand_in.CATALOGUE = _Catalogue()  # type: ignore[attr-defined]
        sys.modules["camel_tools.data"] = stand_in
        try:
            return importlib.import_module("camel_tools.ner")
        finally:
            # camel_tools.ner keeps its reference; a later import gets the real module.
            if sys.modules.get("camel_tools.data") is stand_in:
                del sys.modules["camel_tools.data"]
    except ImportError as error:
        raise BackendNotAvailableError(
            f"the camel backend needs CAMeL Tools, torch and transformers ({error.name} is "
            "missing): pip install 'arabic-ner[camel]' (it pulls torch: install the torch "
            "build you want first)"
        ) from error


@contextlib.contextmanager
def _no_progress_bar() -> Iterator[None]:
    """Keep transformers from drawing a 'Loading weights' bar on stderr while loading."""
    logging: Any = importlib.import_module("transformers.utils.logging")
    shown = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if shown:
            logging.enable_progress_bar()


def _check_folder(path: Path) -> None:
    if not path.is_dir():
        raise ModelError(f"CAMeL Tools NER model folder {path} not found: {_HOW}")
    missing = [f for f in ("config.json", "vocab.txt") if not (path / f).is_file()]
    if not any((path / f).is_file() for f in _WEIGHTS):
        missing.append(" or ".join(_WEIGHTS))
    if missing:
        raise ModelError(
            f"{path} is not a CAMeL Tools NER model folder (it lacks {', '.join(missing)}): {_HOW}"
        )


class CamelBackend:
    """CAMeL Tools' NER (``camel_tools.ner.NERecognizer``) on the model folder ``path``.

    ``use_gpu`` lets CAMeL Tools run on a GPU when torch sees one (off by default: a GPU
    cannot be shared with ``pipe(n_process=N)``'s forked workers); ``batch_size`` is
    ``predict``'s.
    """

    name = "camel"

    def __init__(
        self, path: str | os.PathLike[str], *, use_gpu: bool = False, batch_size: int = 32
    ) -> None:
        self.path = Path(path)
        ner = camel_ner()
        _check_folder(self.path)
        self.lexicon = default_lexicon()
        self.batch_size = batch_size
        try:
            with _no_progress_bar():
                self.recognizer = ner.NERecognizer(str(self.path), use_gpu=use_gpu)
        # transformers raises OSError, ValueError, KeyError, safetensors' own errors, ...
        except Exception as error:
            raise ModelError(
                f"cannot load the CAMeL Tools NER model in {self.path} "
                f"({type(error).__name__}: {error}): {_HOW}"
            ) from error
        self.labels = [str(label) for label in self.recognizer.labels_map.values()]
        if all(to_bio(label) == "O" for label in self.labels):
            raise ModelError(
                f"the model in {self.path} has labels {self.labels}, none of them a BIO label "
                f"of PERS, LOC, ORG or MISC: not a NER model; {_HOW}"
            )
        self._tokenize = self.recognizer.tokenizer.tokenize

    def __repr__(self) -> str:
        return f"CamelBackend({str(self.path)!r})"

    def tag(self, sentences: Sequence[Sequence[Token]]) -> list[tuple[list[str], list[float]]]:
        """Return CAMeL Tools' label of each token, mapped to ours, with confidence 1.0."""
        out = [(["O"] * len(s), [1.0] * len(s)) for s in sentences]
        words = [tool_words(s) for s in sentences]
        # Which tokens CAMeL Tools reads: those with at least one word piece.
        read = [[k for k, w in enumerate(ws) if self._tokenize(w)] for ws in words]
        todo = [i for i, kept in enumerate(read) if kept]
        if not todo:
            return out
        predicted = self.recognizer.predict(
            [[words[i][k] for k in read[i]] for i in todo], batch_size=self.batch_size
        )
        for i, labels in zip(todo, predicted, strict=True):
            if len(labels) != len(read[i]):
                raise ArabicNERError(
                    f"CAMeL Tools returned {len(labels)} labels for {len(read[i])} words: "
                    "the camel backend does not know this CAMeL Tools version"
                )
            for k, label in zip(read[i], labels, strict=True):
                out[i][0][k] = to_bio(str(label))
        return out


def load(path: Path | None, trust: bool = False) -> CamelBackend:
    """The registry's loader (``BACKENDS["camel"]``): ``path`` is required.

    ``trust`` is not used: the folder is CAMeL Tools' own, without an arabic-ner
    ``manifest.json`` (``camel_data`` checks the SHA-256 of what it installs).
    """
    if path is None:
        raise ModelError(
            "the camel backend has no default model: pass its folder, "
            f"load(model=DIR, backend='camel'); {_HOW}"
        )
    return CamelBackend(path)
