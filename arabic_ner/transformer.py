"""A fine-tuned transformer's label scores, run with onnxruntime (extra ``[transformer]``).

The encoder is multilingual-e5-small (12 layers, hidden 384, XLM-R pieces) with its
vocabulary pruned to the pieces Arabic text uses, fine-tuned for NER by
``scripts/train_transformer.py`` and exported to ONNX with int8 weights. A word's label
scores are those of its first piece (the way it was trained). The folder holds:

- ``model.int8.onnx``: ``input_ids``, ``attention_mask`` → ``logits`` per piece;
- ``tokenizer.json``: the pruned tokenizer (Hugging Face ``tokenizers``);
- ``labels.json``: the labels in the order of the logits;
- ``meta.json``: how it was trained, its dev scores, and ``mix``: the weight of its
  log-probabilities in the sum with the CRF's and BiLSTM's scores (backend
  ``"transformer"``, see ``model.py``);
- ``manifest.json``: sizes and SHA-256 of the others (``manifest.py``).

onnxruntime and tokenizers are imported only when a backend that needs them is loaded;
without them :class:`~arabic_ner.errors.BackendNotAvailableError` names the pip command.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from arabic_ner.errors import BackendNotAvailableError, ModelError
from arabic_ner.manifest import verify_manifest
from arabic_ner.tokenize import Token

__all__ = ["TRANSFORMER_FILES", "TransformerScorer", "default_transformer_path", "word_form"]

ONNX_FILE = "model.int8.onnx"
TRANSFORMER_FILES = (ONNX_FILE, "tokenizer.json", "labels.json", "meta.json")
MAX_PIECES = 256  # the longest sequence it was trained on, <s> and </s> included
SCORE_DIGITS = 5  # log-probabilities are rounded: the same text gives the same scores
FloatArray = npt.NDArray[np.float64]

# Harakat, dagger alef, tatweel and zero-width or bidi controls: rare in the training
# text, and each would make pieces of its own.
_DROPPED = dict.fromkeys(
    [*range(0x064B, 0x0653), 0x0670, 0x0640, *range(0x200B, 0x2010), *range(0x202A, 0x202F)],
    None,
)
_DROPPED.update(dict.fromkeys(range(0x2066, 0x206A), None))


def default_transformer_path() -> Path:
    """Return the folder of the transformer shipped inside the package."""
    return Path(str(resources.files("arabic_ner").joinpath("models/transformer")))


def word_form(token: Token) -> str:
    """The form of a token the encoder reads: its original text less diacritics and controls.

    >>> from arabic_ner.tokenize import tokenize
    >>> word_form(tokenize("مُحَمَّد")[0])
    'محمد'
    """
    return token.text.translate(_DROPPED)


def _runtime() -> tuple[Any, Any]:
    """Import onnxruntime and tokenizers, or say how to install them."""
    try:
        import onnxruntime
        import tokenizers
    except ImportError as error:
        raise BackendNotAvailableError(
            f"the transformer backend needs onnxruntime and tokenizers ({error.name} is "
            "missing): pip install 'arabic-ner[transformer]'"
        ) from error
    return onnxruntime, tokenizers


class TransformerScorer:
    """Per-token label log-probabilities of sentences, from the model folder ``path``.

    With ``labels`` (the same labels in another order, a CRF's), scores come in that order.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        labels: Sequence[str] | None = None,
        trust: bool = False,
    ) -> None:
        self.path = Path(path)
        missing = [f for f in TRANSFORMER_FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelError(
                f"transformer folder {self.path} lacks {', '.join(missing)}; pass the folder "
                "that scripts/train_transformer.py exported, or reinstall arabic-ner"
            )
        verify_manifest(self.path, TRANSFORMER_FILES, trust=trust)
        ort, tokenizers = _runtime()
        try:
            self.meta: dict[str, Any] = json.loads((self.path / "meta.json").read_text("utf-8"))
            own = [str(label) for label in json.loads((self.path / "labels.json").read_text())]
            self.tokenizer = tokenizers.Tokenizer.from_file(str(self.path / "tokenizer.json"))
            options = ort.SessionOptions()
            # One thread: pipe(n_process=N) gives each process its own core.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                str(self.path / ONNX_FILE), options, providers=["CPUExecutionProvider"]
            )
        # onnxruntime's own errors (InvalidProtobuf, Fail, ...) derive from Exception only.
        except Exception as error:
            raise ModelError(
                f"cannot read transformer folder {self.path}: {error}; re-export it with "
                "scripts/train_transformer.py or reinstall arabic-ner"
            ) from error
        if not isinstance(self.meta, dict):
            raise ModelError(f"{self.path / 'meta.json'} is not a JSON object")
        specials = [self.tokenizer.token_to_id(s) for s in ("<s>", "</s>", "<pad>", "<unk>")]
        if None in specials:
            raise ModelError(f"{self.path / 'tokenizer.json'} lacks <s>, </s>, <pad> or <unk>")
        self._bos, self._eos, self._pad, self._unk = specials
        order = list(range(len(own)))
        if labels is not None:
            if sorted(labels) != sorted(own):
                raise ModelError(
                    f"{self.path} has labels {own}, the CRF {list(labels)}: "
                    "retrain the transformer on the same label set"
                )
            order = [own.index(label) for label in labels]
            own = list(labels)
        self.labels = tuple(own)
        self._order = np.array(order)

    def __repr__(self) -> str:
        return f"TransformerScorer({str(self.path)!r})"

    def log_probs(self, sentences: Sequence[Sequence[Token]]) -> list[FloatArray]:
        """Return each sentence's (tokens, labels) log-probabilities."""
        words = [[word_form(t) or t.text for t in s] for s in sentences]
        out = [np.zeros((len(s), len(self.labels))) for s in sentences]
        # One window per run: the int8 model quantizes its activations with one scale per
        # tensor, so a window's scores would change with the windows sharing its batch;
        # alone, a text gets the same scores however it is batched. (Measured on one
        # thread: 5,241 pieces/s one sentence at a time, 4,842 in batches of 32.)
        for sentence, start, ids, first in self._windows(words):
            batch = np.array([ids], dtype=np.int64)
            logits = self.session.run(
                ["logits"], {"input_ids": batch, "attention_mask": np.ones_like(batch)}
            )[0].astype(np.float64)
            chosen = logits[0, first][:, self._order]
            chosen -= chosen.max(axis=1, keepdims=True)
            chosen -= np.log(np.exp(chosen).sum(axis=1, keepdims=True))
            out[sentence][start : start + len(first)] = np.round(chosen, SCORE_DIGITS)
        return out

    def _windows(self, sentences: list[list[str]]) -> list[tuple[int, int, list[int], list[int]]]:
        """Cut sentences into ``(sentence, first word, piece ids, first-piece positions)``.

        As in training: each word is encoded on its own (pre-tokenized input), a word
        without pieces is ``<unk>``, and a sentence longer than :data:`MAX_PIECES` is cut
        between words; a single longer word keeps its first pieces.
        """
        inner = MAX_PIECES - 2
        filled = [(k, s) for k, s in enumerate(sentences) if s]
        encodings = self.tokenizer.encode_batch(
            [s for _, s in filled], is_pretokenized=True, add_special_tokens=False
        )
        windows = []
        for (k, words), encoding in zip(filled, encodings, strict=True):
            pieces: list[list[int]] = [[] for _ in words]
            for idx, w in zip(encoding.ids, encoding.word_ids, strict=True):
                if w is not None:
                    pieces[w].append(idx)
            pieces = [(p or [self._unk])[:inner] for p in pieces]
            start = 0
            while start < len(pieces):
                end, size = start, 0
                while end < len(pieces) and size + len(pieces[end]) <= inner:
                    size += len(pieces[end])
                    end += 1
                ids, first = [self._bos], []
                for p in pieces[start:end]:
                    first.append(len(ids))
                    ids.extend(p)
                ids.append(self._eos)
                windows.append((k, start, ids, first))
                start = end
        return windows
