"""A character-CNN + BiLSTM tagger run in numpy, trained with torch by this project.

The CRF sees each word through hand-made features and its neighbours through a ±2
window. This tagger reads the same per-word features (as a sum of learned feature
vectors), the word's letters (a character CNN) and the whole sentence (a bidirectional
LSTM), and scores each label at each token. Its scores are added to the CRF's, with
transitions of its own (``model.py``): a product of the two models, decoded by ``crf.py``.

Torch is needed only to train it (``scripts/train_neural.py``); tagging is numpy, so the
core install stays torch-free. Everything that depends on one word alone (its feature
vectors and its letters) is computed once per word type and cached, so a token costs a
row lookup; the LSTM then runs in C, in single precision (``kernels.py``), or where the
compiled loops are not installed one numpy step per position over a group of sentences.

The weights are one ``neural.npz`` file (no pickles) in the model folder:

==================  ==============================================================
``features``        feature strings (as ``features.py`` writes them), a row each
``feature_vectors`` (features, F) vectors summed over a token's features
``chars``           the characters known to the CNN, one string; index 0 pads, 1 is
                    any other character, then this string's characters from 2
``char_vectors``    (chars, C)
``conv_weight``     (K, C, width) and ``conv_bias`` (K): the CNN, max-pooled and
                    rectified
``{f,b}_w_ih``      (4H, F + V + K), ``{f,b}_w_hh`` (4H, H), ``{f,b}_bias`` (4H): the
                    forward and backward LSTM, gates in torch's order (i, f, g, o)
``out_weight``      (labels, 2H) and ``out_bias`` (labels): label scores
``transitions``     (labels, labels) label-to-label scores
``labels``          the labels, in the order of the scores
``vector_words``    optional: stems that have a word vector, a row each
``word_vectors``    (words, V) word2vec vectors learned from unlabeled news (fixed in
                    training; ``scripts/build_clusters.py``), looked up by stem, then
                    by word; a word without one reads zeros. Without these two, V = 0
==================  ==============================================================
"""

from __future__ import annotations

import itertools
import os
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from arabic_ner import kernels
from arabic_ner.errors import ModelError
from arabic_ner.features import FeatureExtractor
from arabic_ner.tokenize import Token, TokenKind

__all__ = ["MAX_WORD_CHARS", "NEURAL_FILE", "NeuralTagger", "char_ids_of", "write_weights"]

NEURAL_FILE = "neural.npz"
MAX_WORD_CHARS = 24  # letters of a word the CNN reads (with its boundary marks)
# Tokens run together: bounds the working arrays (the input gates of both directions take
# 4 KiB a token). With 4,096, one pipe() of the sample article 64 times peaked at 22 MiB
# of working memory (tracemalloc); with 1,024 at 9 MiB, for 0.9% more instructions
# (docs/benchmarks.md).
GROUP_TOKENS = 1024
# Word types kept before the cache is emptied (between batches): 0.75 KiB each (and 8 bytes
# more with word vectors).
_CACHE_LIMIT = 50_000
# Word types whose input gates are kept, the most recent ones (emptied when full): 4 KiB
# each, 16 MiB in all. A group of sentences used to multiply out the gates of each of its
# types, a third of the BiLSTM's time for one sentence of 30 tokens, whose types are
# mostly new to the group but not to the process (docs/benchmarks.md). At least
# GROUP_TOKENS, so that a group's types always fit.
_GATE_LIMIT = 4096
_ARRAYS = (
    "features",
    "feature_vectors",
    "chars",
    "char_vectors",
    "conv_weight",
    "conv_bias",
    "f_w_ih",
    "f_w_hh",
    "f_bias",
    "b_w_ih",
    "b_w_hh",
    "b_bias",
    "out_weight",
    "out_bias",
    "transitions",
    "labels",
)
_VECTOR_ARRAYS = ("vector_words", "word_vectors")

# Computed in double precision although trained in single: the last bits of a float32
# matrix product depend on how many rows it has, that is on which sentences share a
# batch, and the same text must give the same labels and scores however it is fed. The
# compiled recurrence (``_lstm.h``) is the exception: it runs in single precision, twice
# as fast, and a sentence at a time, so what else is in the batch does not change it.
DTYPE = np.float64
FloatArray = npt.NDArray[np.floating[Any]]


def char_ids_of(word: str, chars: dict[str, int]) -> list[int]:
    """Return the CNN's character ids of ``^word$``, cut to :data:`MAX_WORD_CHARS`.

    >>> char_ids_of("اب", {"^": 2, "ا": 3, "$": 4})
    [2, 3, 1, 4]
    """
    marked = f"^{word[: MAX_WORD_CHARS - 2]}$"
    return [chars.get(c, 1) for c in marked]


# Trained weights stay within a few tens; far larger ones (or NaN) mean a damaged file.
_LARGEST_WEIGHT = 1e4


def _check_arrays(arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Raise :class:`ValueError` unless the arrays have the shapes that fit together.

    A weight array of the wrong shape would otherwise load and fail at the first text;
    NaN or huge weights would load and change every result.
    """
    n_features, width = _shape(arrays, "feature_vectors", 2)
    chars, char_width = _shape(arrays, "char_vectors", 2)
    kernels, in_chars, _ = _shape(arrays, "conv_weight", 3)
    gates, inputs = _shape(arrays, "f_w_ih", 2)
    hidden = gates // 4
    n_labels = len(arrays["labels"])
    if ("word_vectors" in arrays) != ("vector_words" in arrays):
        raise ValueError("vector_words and word_vectors come together: one of them is missing")
    n_vectors, vector_width = (
        _shape(arrays, "word_vectors", 2) if "word_vectors" in arrays else (0, 0)
    )
    if n_vectors and arrays["vector_words"].dtype.kind != "U":
        raise ValueError("vector_words must hold strings")
    width += vector_width  # the LSTM's input: the features' sum, the word vector, the CNN
    expected = {
        "features": (n_features,),
        "chars": (),
        "conv_weight": (kernels, char_width, arrays["conv_weight"].shape[2]),
        "conv_bias": (kernels,),
        "f_w_ih": (4 * hidden, width + kernels),
        "b_w_ih": (4 * hidden, width + kernels),
        "f_w_hh": (4 * hidden, hidden),
        "b_w_hh": (4 * hidden, hidden),
        "f_bias": (4 * hidden,),
        "b_bias": (4 * hidden,),
        "out_weight": (n_labels, 2 * hidden),
        "out_bias": (n_labels,),
        "transitions": (n_labels, n_labels),
        "labels": (n_labels,),
    }
    if "word_vectors" in arrays:
        expected["vector_words"] = (n_vectors,)
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            raise ValueError(f"{name} has shape {arrays[name].shape}, expected {shape}")
    if chars != len(str(arrays["chars"])) + 2 or in_chars != char_width or gates % 4:
        raise ValueError("the character and gate sizes do not fit together")
    if inputs != width + kernels or n_labels == 0:
        raise ValueError("the LSTM's input size does not fit the features and the CNN")
    for name, array in arrays.items():
        if array.dtype.kind == "f" and not (np.abs(array) < _LARGEST_WEIGHT).all():
            raise ValueError(f"{name} holds NaN or a weight beyond ±{_LARGEST_WEIGHT:g}")


def _shape(arrays: dict[str, npt.NDArray[Any]], name: str, dims: int) -> tuple[int, ...]:
    shape: tuple[int, ...] = arrays[name].shape
    if len(shape) != dims:
        raise ValueError(f"{name} has {len(shape)} dimensions, expected {dims}")
    return shape


def write_weights(path: str | os.PathLike[str], arrays: Mapping[str, npt.ArrayLike]) -> None:
    """Write ``arrays`` as the ``.npz`` file :class:`NeuralTagger` reads (``np.load`` reads it).

    Unlike ``np.savez_compressed``, the floating-point arrays are stored uncompressed:
    trained weights barely deflate (17.2 MB to 15.9), and inflating them was a tenth of
    a second of every model load. The rest (the feature strings) is deflated. The
    members carry a fixed date, so the same arrays give the same bytes.
    """
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in arrays.items():
            array = np.asanyarray(value)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = (
                zipfile.ZIP_STORED if array.dtype.kind == "f" else zipfile.ZIP_DEFLATED
            )
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


class NeuralTagger:
    """Label scores for sentences from the weights in ``neural.npz``.

    :meth:`scores` needs the :class:`FeatureExtractor` of the model it was trained with,
    for the features of each word and the list matches of each sentence. With ``labels``
    (the same labels in another order, the CRF's), scores come in that order.
    ``strings`` and ``words`` (the CRF's attribute names, the word clusters' stems) only
    save memory: feature strings and vector stems equal to their keys are kept once.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        labels: Sequence[str] | None = None,
        strings: Mapping[str, object] | None = None,
        words: Mapping[str, object] | None = None,
    ) -> None:
        self.path = Path(path)
        try:
            with open(self.path, "rb") as stream, np.load(stream, allow_pickle=False) as data:
                arrays = {name: data[name] for name in _ARRAYS}
                arrays.update((name, data[name]) for name in _VECTOR_ARRAYS if name in data.files)
            _check_arrays(arrays)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as error:
            raise ModelError(
                f"cannot read neural weights {self.path}: {error}; retrain them with "
                "scripts/train_neural.py or reinstall arabic-ner"
            ) from error
        self.labels = tuple(str(label) for label in arrays["labels"])
        if labels is not None:
            if sorted(labels) != sorted(self.labels):
                raise ModelError(
                    f"{self.path} has labels {self.labels}, the CRF {tuple(labels)}: "
                    "retrain the neural tagger for this model"
                )
            order = [self.labels.index(label) for label in labels]
            arrays["out_weight"] = arrays["out_weight"][order]
            arrays["out_bias"] = arrays["out_bias"][order]
            arrays["transitions"] = arrays["transitions"][np.ix_(order, order)]
            self.labels = tuple(labels)
        # A feature string that is also a key of ``strings`` (the CRF's attributes: most
        # are) is kept once, as that key: 80,000 strings, several MiB per process.
        same = {key: key for key in strings} if strings else {}
        names: list[str] = arrays["features"].tolist()
        self.feature_ids = {same.get(name, name): i for i, name in enumerate(names)}
        del same
        self.char_ids = {c: i + 2 for i, c in enumerate(str(arrays["chars"]))}
        # Word vectors: kept as stored (half precision) with a row of zeros at the end for
        # words without one, and widened when a group's gates are computed. A stem that is
        # also a key of ``words`` (the word clusters' table) is kept once, as that key.
        vectors = arrays.get("word_vectors", np.zeros((0, 0), dtype=np.float16))
        self._vector_width = vectors.shape[1]  # 0: a model without word vectors
        self._word_vectors: FloatArray = np.concatenate(
            [vectors, np.zeros((1, self._vector_width), dtype=vectors.dtype)]
        )
        stems: list[str] = arrays["vector_words"].tolist() if len(vectors) else []
        same = {key: key for key in words} if words and stems else {}
        self._vector_rows = {same.get(stem, stem): i for i, stem in enumerate(stems)}
        del same, stems
        weights = {
            k: v.astype(DTYPE)
            for k, v in arrays.items()
            if v.dtype.kind == "f" and k not in ("feature_vectors", "word_vectors")
        }
        self.transitions = weights["transitions"]
        hidden = weights["f_w_hh"].shape[1]
        self._hidden = hidden
        # sigmoid(x) = (tanh(x / 2) + 1) / 2: with the input, forget and output gates' weights
        # halved, one tanh over all four gates serves the three sigmoids and the cell input.
        # The gates are reordered i, f, o, g, so that the three sigmoids are one slice.
        half = np.full(4 * hidden, 0.5, dtype=DTYPE)
        half[3 * hidden :] = 1.0
        ifog = np.r_[0 : 2 * hidden, 3 * hidden : 4 * hidden, 2 * hidden : 3 * hidden]
        # Kept as stored (half precision since scripts/train_neural.py writes it so, single
        # in older files: a quarter or half of the memory of the largest array in double);
        # rows are widened to double when gathered, which gives the very same sums.
        self._feature_vectors = arrays["feature_vectors"]
        self._width = self._feature_vectors.shape[1]
        # The input's columns: feature sum (F), word vector (V), CNN (K). A type's cached
        # input leaves its word vector out (V doubles fewer per type); the vectors of a
        # group's types are multiplied apart, by the V rows of w_ih.
        f, v = self._width, self._vector_width
        cached = np.r_[0:f, f + v : weights["f_w_ih"].shape[1]]
        # Both directions' input weights side by side, (rows, 8H): a group's input gates
        # are two products, not four (each gate's sum is the same, bit for bit).
        w_ih = [(weights[f"{d}_w_ih"][ifog] * half[:, None]).T for d in "fb"]  # (F + V + K, 4H)
        self._w_inputs = np.hstack([w[cached] for w in w_ih])  # (F + K, 8H)
        self._w_vectors = np.hstack([w[f : f + v] for w in w_ih])  # (V, 8H)
        self._bias = np.concatenate([weights[f"{d}_bias"][ifog] * half for d in "fb"])
        # The list-match features ("g=LOC-B", a dozen): the input gates each adds to a
        # token it is on, computed once here rather than multiplied out for every group.
        hit_features = {name: i for name, i in self.feature_ids.items() if name[:2] == "g="}
        self._hit_rows = {name[2:]: row for row, name in enumerate(hit_features)}
        hit_vectors = self._feature_vectors[list(hit_features.values())].astype(DTYPE)
        hit_gates = hit_vectors @ self._w_inputs[: self._width]  # (hits, 8H)
        # Each direction's (hits, 4H), contiguous: a token's matches are added from them
        # in place (kernels.add_rows with rows), not gathered and sliced by column first.
        self._hit_gates = [np.ascontiguousarray(half) for half in np.hsplit(hit_gates, 2)]
        # Each direction's recurrent weights (H, 4H), in double for the numpy loops and in
        # single for the compiled ones (the same values: trained in single and halved),
        # and its share of the label scores' weights (H, labels).
        self._directions: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        for k, d in enumerate("fb"):
            w_hh = weights[f"{d}_w_hh"][ifog].T * half
            w_out = weights["out_weight"][:, k * hidden : (k + 1) * hidden].T.copy()
            self._directions.append((w_hh, kernels.aligned(w_hh.astype(np.float32)), w_out))
        self._out_bias = weights["out_bias"]
        self._conv_width = weights["conv_weight"].shape[2]
        # The convolution is linear in the character vectors: what each character adds to
        # the K outputs from each place in the window is one table per place, (chars, K).
        self._char_conv = [
            weights["char_vectors"] @ weights["conv_weight"][:, :, k].T
            for k in range(self._conv_width)
        ]
        self._conv_bias = weights["conv_bias"]
        # The input vector of each word type seen (feature sum, then CNN output), by row,
        # and the row of its word vector (the last, of zeros, if it has none).
        self._types: dict[tuple[str, TokenKind], int] = {}
        self._stems: list[str] = []
        self._inputs: FloatArray = np.zeros((0, self._width + len(self._conv_bias)), dtype=DTYPE)
        self._type_vectors = np.zeros(0, dtype=np.intp)
        # The input gates of recent word types, each direction's in an array of its own
        # (the compiled loops read a direction's gates as one block), and for each type
        # row of ``_inputs`` the row of its gates here, or -1.
        self._gates = [np.zeros((_GATE_LIMIT, 4 * hidden), dtype=np.float64) for _ in "fb"]
        self._gate_rows = np.zeros(0, dtype=np.intp)
        self._gates_used = 0

    def __repr__(self) -> str:
        return f"NeuralTagger({str(self.path)!r})"

    def _char_vectors_of(self, words: Sequence[str]) -> FloatArray:
        """The CNN's (words, K) output for ``words``: words of one length at a time."""
        ids = [char_ids_of(w, self.char_ids) for w in words]
        by_length: dict[int, list[int]] = {}
        for row, word_ids in enumerate(ids):
            by_length.setdefault(len(word_ids), []).append(row)
        pooled = np.empty((len(ids), len(self._conv_bias)), dtype=DTYPE)
        pad = self._conv_width // 2
        for length, rows in by_length.items():
            padded = np.zeros((len(rows), length + 2 * pad), dtype=np.intp)  # 0: padding
            padded[:, pad : pad + length] = [ids[row] for row in rows]
            convolved = self._char_conv[0][padded[:, :length]] + self._conv_bias
            for k in range(1, self._conv_width):
                convolved += self._char_conv[k][padded[:, k : k + length]]
            pooled[rows] = np.maximum(convolved.max(axis=1), 0.0)  # (words, K)
        return pooled

    def _add_types(self, keys: list[tuple[str, TokenKind]], features: FeatureExtractor) -> None:
        """Compute and cache the input vectors of new word types.

        They go into one array by row, whose room doubles when full: appending with
        ``np.concatenate`` copied the whole cache for every batch of new words.
        """
        first = len(self._stems)
        if first + len(keys) > len(self._inputs):
            room = np.zeros(
                (max(2 * len(self._inputs), first + len(keys), 1024), self._inputs.shape[1]),
                dtype=DTYPE,
            )
            room[:first] = self._inputs[:first]
            self._inputs = room
            self._type_vectors = np.resize(self._type_vectors, len(room))
            self._gate_rows = np.concatenate(
                [self._gate_rows, np.full(len(room) - len(self._gate_rows), -1, dtype=np.intp)]
            )
        rows = self._inputs[first : first + len(keys)]  # a view: filled in place
        rows[:] = 0.0
        get = self.feature_ids.get
        vector_of = self._vector_rows.get
        none = len(self._word_vectors) - 1  # the row of zeros
        filled: list[int] = []
        starts: list[int] = []
        ids: list[int] = []
        vector_rows: list[int] = []
        for row, key in enumerate(keys):
            stem, own = features.own_features(*key)
            if self._vector_width:  # the stem's vector, else the word's
                found = vector_of(stem)
                vector_rows.append(found if found is not None else vector_of(key[0], none))
            start = len(ids)
            ids.extend(i for i in map(get, own) if i is not None)
            if len(ids) > start:
                filled.append(row)
                starts.append(start)
            self._types[key] = len(self._stems)
            self._stems.append(stem)
        if ids:  # each type's vectors summed on their own, in order, in one numpy call
            vectors = self._feature_vectors[ids].astype(DTYPE)
            rows[filled, : self._width] = np.add.reduceat(vectors, starts)
        if vector_rows:
            self._type_vectors[first : first + len(keys)] = vector_rows
        rows[:, self._width :] = self._char_vectors_of([word for word, _ in keys])

    def scores(
        self,
        sentences: Sequence[Sequence[Token]],
        features: FeatureExtractor,
        keys: list[list[tuple[str, TokenKind]]] | None = None,
    ) -> list[npt.NDArray[np.float64]]:
        """Return each sentence's (tokens, labels) scores; sentences must not be empty.

        Sentences run together, in groups of up to :data:`GROUP_TOKENS` tokens. ``keys``
        are the sentences' ``(norm, kind)`` pairs, if the caller has them already.
        """
        if keys is None:
            keys = [[(t.norm, t.kind) for t in s] for s in sentences]
        flat = self.scores_flat(keys, features)
        return np.split(flat, np.cumsum([len(k) for k in keys])[:-1])

    def scores_flat(
        self, keys: list[list[tuple[str, TokenKind]]], features: FeatureExtractor
    ) -> npt.NDArray[np.float64]:
        """The scores of sentences of ``(norm, kind)`` tokens, laid end to end: (tokens, labels)."""
        if len(self._types) + sum(map(len, keys)) > _CACHE_LIMIT:
            self._types.clear()
            self._stems.clear()
            self._inputs = np.zeros((0, self._inputs.shape[1]), dtype=DTYPE)
            self._type_vectors = np.zeros(0, dtype=np.intp)
            self._gate_rows = np.zeros(0, dtype=np.intp)
            self._gates_used = 0
        # Each token's word type, looked up once: a tenth of tagging was the same lookups
        # done twice (new types, then their ids).
        flat = [k for ks in keys for k in ks]
        found = list(map(self._types.get, flat))
        if None in found:
            self._add_types(list(dict.fromkeys(k for k in flat if k not in self._types)), features)
            found = list(map(self._types.__getitem__, flat))
        ids = cast(list[int], found)  # no None left
        lengths = [len(k) for k in keys]
        starts = list(itertools.accumulate(lengths[:-1], initial=0))  # a tenth of np.cumsum's time
        result = np.empty((sum(lengths), len(self.labels)), dtype=np.float64)
        # Longest first, so that at each position the sentences still running come first.
        order = sorted(range(len(keys)), key=lambda i: -lengths[i])
        group: list[int] = []
        size = 0
        for n, i in enumerate(order):
            group.append(i)
            size += lengths[i]
            if size >= GROUP_TOKENS or n == len(order) - 1:
                rows = np.concatenate([np.arange(starts[j], starts[j] + lengths[j]) for j in group])
                group_ids = [i for j in group for i in ids[starts[j] : starts[j] + lengths[j]]]
                result[rows] = self._group_scores(group_ids, [lengths[j] for j in group], features)
                group, size = [], 0
        return result

    def _group_scores(
        self, ids: list[int], sentence_lengths: list[int], features: FeatureExtractor
    ) -> FloatArray:
        """Scores of sentences sorted longest first, laid end to end in one array.

        ``ids`` are the tokens' word types (rows of the input cache), all the sentences'
        one after another.
        """
        lengths = np.array(sentence_lengths, dtype=np.intp)
        starts = np.zeros(len(lengths), dtype=np.intp)
        np.cumsum(lengths[:-1], out=starts[1:])
        # The input gates are linear in the input: those of each word type are computed
        # once and kept (see _GATE_LIMIT), and those of the list matches a token is in
        # are added. A token reads its type's row where it is kept; only a token with
        # list matches gets a row of its own (in ``extra``, row -1 - rows[i]).
        rows, tables = self._token_gates(np.array(ids, dtype=np.intp))
        hit_tokens: list[int] = []
        hit_rows: list[int] = []
        row_of_hit = self._hit_rows.get
        stems = list(map(self._stems.__getitem__, ids))
        for start, end in zip(starts.tolist(), (starts + lengths).tolist(), strict=True):
            for position, token_hits in enumerate(features.list_hits(stems[start:end])):
                for hit in token_hits:
                    row = row_of_hit(hit)
                    if row is not None:
                        hit_tokens.append(start + position)
                        hit_rows.append(row)
        if hit_tokens:
            own = sorted(set(hit_tokens))  # the tokens that get a row of their own
            own_row = {token: k for k, token in enumerate(own)}
            own_rows = [own_row[token] for token in hit_tokens]
            own_types = rows[own]
            rows = rows.copy()
            rows[own] = -1 - np.arange(len(own), dtype=np.intp)
        out: FloatArray = np.zeros((len(ids), len(self.labels)), dtype=DTYPE) + self._out_bias
        for direction, (w_hh, single, w_out) in enumerate(self._directions):
            table = tables[direction]
            extra = None
            if hit_tokens:
                extra = table[own_types]  # a copy, added to in the order of the matches
                kernels.add_rows(extra, own_rows, self._hit_gates[direction], hit_rows)
            backward = direction == 1
            found = self._run(
                table,
                w_hh,
                starts,
                lengths,
                backward=backward,
                single=single,
                rows=rows,
                extra=extra,
            )
            out += found @ w_out
        return out

    def _token_gates(
        self, ids: npt.NDArray[np.intp]
    ) -> tuple[npt.NDArray[np.intp], list[npt.NDArray[np.float64]]]:
        """Where each of the word types ``ids`` finds its input gates: (rows, tables).

        Token ``i``'s gates are row ``rows[i]`` of ``tables[d]`` for direction ``d``, each
        table (types, 4H). The gates of types not kept are computed (two products for all
        of them) and kept; when they do not fit, the kept ones are dropped first. A group
        of sentences has fewer types than ``_GATE_LIMIT`` unless its sentences are very
        long (only a caller of :meth:`scores` can make one): then its gates are not kept,
        and the tables are its own.
        """
        rows = self._gate_rows[ids]
        if len(rows) and rows.min() < 0:
            new = np.unique(ids[rows < 0])
            room = len(self._gates[0])  # _GATE_LIMIT when this tagger was made
            if self._gates_used + len(new) > room:
                self._gate_rows[:] = -1
                self._gates_used = 0
                new = np.unique(ids)
            type_gates = self._inputs[new] @ self._w_inputs + self._bias  # (types, 8H)
            if self._vector_width:
                type_vectors = self._word_vectors[self._type_vectors[new]].astype(DTYPE)
                type_gates += type_vectors @ self._w_vectors
            halves = np.hsplit(type_gates, 2)  # the forward gates, then the backward ones
            if len(new) > room:
                inverse = np.searchsorted(new, ids).astype(np.intp)
                return inverse, [np.ascontiguousarray(half, dtype=np.float64) for half in halves]
            first = self._gates_used
            for gates, half in zip(self._gates, halves, strict=True):
                gates[first : first + len(new)] = half
            self._gate_rows[new] = np.arange(first, first + len(new))
            self._gates_used = first + len(new)
            rows = self._gate_rows[ids]
        return rows, self._gates

    def _run(
        self,
        gates: FloatArray,
        w_hh: FloatArray,
        starts: npt.NDArray[np.intp],
        lengths: npt.NDArray[np.intp],
        *,
        backward: bool,
        single: FloatArray | None = None,
        rows: npt.NDArray[np.intp] | None = None,
        extra: FloatArray | None = None,
    ) -> FloatArray:
        """Run an LSTM over the (tokens, 4H) input gates of sentences laid end to end.

        Sentences are sorted longest first, so the ones that have a token at position
        ``t`` are the first ``active``; the backward LSTM reads them from their last token.
        The gates come in the order input, forget, output, cell, the first three halved
        (see ``__init__``). ``single`` is ``w_hh`` in float32 for the compiled loops, made
        from ``w_hh`` when not given. With ``rows``, token ``i``'s gates are row
        ``rows[i]`` of ``gates``, or row ``-1 - rows[i]`` of ``extra`` where it is negative.
        """
        hidden = self._hidden
        fast = kernels.module()
        if fast is not None:  # the same steps in C, a sentence at a time
            if single is None:
                single = kernels.aligned(w_hh.astype(np.float32))
            outputs = np.empty((len(gates) if rows is None else len(rows), hidden), dtype=DTYPE)
            fast.lstm(gates, single, starts, lengths, backward, outputs, rows, extra)
            return outputs
        if rows is not None:  # a row per token, as the loop below reads them
            kept = rows >= 0
            token_gates = np.empty((len(rows), gates.shape[1]), dtype=gates.dtype)
            token_gates[kept] = gates[rows[kept]]
            if extra is not None:
                token_gates[~kept] = extra[-1 - rows[~kept]]
            gates = token_gates
        size = len(lengths)
        h = np.zeros((size, hidden), dtype=DTYPE)
        c = np.zeros((size, hidden), dtype=DTYPE)
        outputs = np.empty((len(gates), hidden), dtype=DTYPE)
        ends = starts + lengths - 1
        active = size
        for t in range(int(lengths[0])):
            while lengths[active - 1] <= t:
                active -= 1
            rows = ends[:active] - t if backward else starts[:active] + t
            z = gates[rows]
            z += h[:active] @ w_hh
            np.tanh(z, out=z)
            sigmoids = z[:, : 3 * hidden]
            sigmoids *= 0.5
            sigmoids += 0.5
            cell = c[:active]  # a view: updated in place
            cell *= z[:, hidden : 2 * hidden]
            cell += z[:, :hidden] * z[:, 3 * hidden :]
            out = np.tanh(cell)
            out *= z[:, 2 * hidden : 3 * hidden]
            h[:active] = out
            outputs[rows] = out
        return outputs
