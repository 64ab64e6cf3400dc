"""Linear-chain CRF inference in numpy, with weights read from a CRFsuite model.

CRFsuite trains the model; this module tags with it. Why not CRFsuite's own tagger:
it takes every feature of every token as a string and looks each one up, which costs
more than everything else in the pipeline together. Here the weights of a word's
features are summed once per word type (``features.py`` caches the sums), so a token
costs a few vector additions. Viterbi and forward-backward run in C where the compiled
loops are installed (``kernels.py``), else in numpy over a batch of sentences at once (up
to 256 of similar length, from many texts; see ``model.py``), one numpy step per position
instead of one Python step per token.

The model is the one CRFsuite defines (CRF1d): the score of a label sequence is the sum
of the weights of (attribute, label) pairs that fire plus label-to-label transition
weights; there are no start or end transitions. ``tests/test_crf.py`` checks that the
labels and marginals equal CRFsuite's own.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from arabic_ner import kernels

__all__ = ["LinearChainCRF", "read_crfsuite"]

FloatArray = npt.NDArray[np.float64]
# State weights: single precision as read from a model file (half the memory of the
# largest array; sums are taken in double), double where a caller builds them.
WeightArray = npt.NDArray[np.float32] | npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


# CRFsuite's model file (crf1dmodel.c, cqdb.c): a 48-byte header, a chunk of features
# (type, source, target as uint32 and a float64 weight; type 0 is attribute -> label,
# type 1 label -> label) and two constant databases (CQDB) holding the label and attribute
# strings, each with a "backward" array from id to record (id, size, NUL-ended string).
# Little-endian throughout, as CRFsuite writes it on every platform it builds for.
_HEADER = struct.Struct("<4sI4s9I")
_CQDB_HEADER = struct.Struct("<4s5I")
_FEATURE = np.dtype([("type", "<u4"), ("source", "<u4"), ("target", "<u4"), ("weight", "<f8")])
_STATE, _TRANSITION = 0, 1


def read_crfsuite(data: bytes) -> tuple[list[str], list[str], WeightArray, FloatArray]:
    """Parse a CRFsuite model file: labels, attributes, state weights and transitions.

    Every count and offset is checked against the file before it is used, so a damaged
    file raises :class:`ValueError` (naming what is wrong) instead of crashing the
    process, as CRFsuite's own reader does on a flipped bit.
    Why not pycrfsuite: its reader trusts the file (a segmentation fault on damage), and
    reaching the weights through it means dumping the model as text and parsing that,
    five times slower than reading the binary file.
    """
    if len(data) < _HEADER.size:
        raise ValueError(f"{len(data)} bytes, shorter than a CRFsuite header")
    magic, size, kind, _, _, n_labels, n_attrs, features_at, labels_at, attrs_at, *_ = (
        _HEADER.unpack_from(data)
    )
    if magic != b"lCRF" or kind != b"FOMC":
        raise ValueError("not a CRFsuite CRF1d model (bad magic)")
    if size != len(data):
        raise ValueError(f"the header records {size} bytes, the file has {len(data)}")
    labels = _read_cqdb(data, labels_at, n_labels, "labels")
    attributes = _read_cqdb(data, attrs_at, n_attrs, "attributes")
    tag, _, count = struct.unpack_from("<4sII", data, _at(data, features_at, 12, "features"))
    if tag != b"FEAT":
        raise ValueError(f"no feature chunk at byte {features_at}")
    _at(data, features_at + 12, count * _FEATURE.itemsize, "features")
    features = np.frombuffer(data, _FEATURE, count, features_at + 12)
    kinds, sources, targets = features["type"], features["source"], features["target"]
    weights = features["weight"]
    state = kinds == _STATE
    transition = kinds == _TRANSITION
    if not (state | transition).all():
        raise ValueError("a feature of unknown type")
    if (targets >= n_labels).any() or (sources[transition] >= n_labels).any():
        raise ValueError("a feature names a label out of range")
    if (sources[state] >= n_attrs).any():
        raise ValueError("a feature names an attribute out of range")
    if not np.isfinite(weights).all() or (np.abs(weights) > _LARGEST_WEIGHT).any():
        raise ValueError(f"a weight is not a number or beyond ±{_LARGEST_WEIGHT:g}")
    # Single precision: 124,000 attributes x 9 labels was 8.5 MiB in double, in every
    # process. A weight moves by less than 1e-7 of itself; summed in double, the labels of
    # ANERcorp's training file are the same, the emissions within 6.1e-7 and the scores
    # within 2e-7 (docs/benchmarks.md).
    state_weights = np.zeros((n_attrs, n_labels), dtype=np.float32)
    state_weights[sources[state], targets[state]] = weights[state]
    transitions = np.zeros((n_labels, n_labels))
    transitions[sources[transition], targets[transition]] = weights[transition]
    return labels, attributes, state_weights, transitions


# L-BFGS with L2 regularization keeps weights within a few tens; far larger ones mean damage.
_LARGEST_WEIGHT = 1e4


def _at(data: bytes, offset: int, length: int, what: str) -> int:
    """Return ``offset`` if ``length`` bytes from it lie inside ``data``."""
    if offset < 0 or length < 0 or offset + length > len(data):
        raise ValueError(f"the {what} at byte {offset} run past the end of the file")
    return offset


def _read_cqdb(data: bytes, offset: int, count: int, what: str) -> list[str]:
    """The strings of ids ``0..count-1`` in the CQDB at ``offset``."""
    tag, size, _, _, entries, backward_at = _CQDB_HEADER.unpack_from(
        data, _at(data, offset, _CQDB_HEADER.size, what)
    )
    _at(data, offset, size, what)
    if tag != b"CQDB" or entries != count:
        raise ValueError(f"the {what} table is damaged ({entries} entries, {count} expected)")
    _at(data, offset + backward_at, 4 * count, what)
    positions = np.frombuffer(data, "<u4", count, offset + backward_at)
    end = offset + size
    out: list[str] = []
    for index, position in enumerate(positions.tolist()):
        at = offset + position
        if at + 8 > end:
            raise ValueError(f"{what} {index} lies outside its table")
        number, length = struct.unpack_from("<II", data, at)
        if number != index or length < 1 or at + 8 + length > end:
            raise ValueError(f"{what} {index} is damaged")
        out.append(data[at + 8 : at + 7 + length].decode("utf-8"))
    return out


class LinearChainCRF:
    """Weights of a CRFsuite model as arrays, and batched Viterbi and marginals."""

    def __init__(
        self,
        labels: Sequence[str],
        attributes: dict[str, int],
        state_weights: WeightArray,
        transitions: FloatArray,
    ) -> None:
        self.labels = tuple(labels)
        self.attributes = attributes  # attribute name -> row of state_weights
        self.state_weights = state_weights  # (attributes, labels)
        self.transitions = transitions  # (from label, to label)
        self.zero: FloatArray = np.zeros(len(self.labels))

    @classmethod
    def from_crfsuite(cls, path: str | os.PathLike[str]) -> LinearChainCRF:
        """Read the weights of a CRFsuite model file (see :func:`read_crfsuite`).

        Raises :class:`ValueError` naming the problem when the file is damaged.
        """
        labels, names, state_weights, transitions = read_crfsuite(Path(path).read_bytes())
        attributes = {name: row for row, name in enumerate(names)}
        if len(attributes) != len(names):
            raise ValueError(f"{path}: an attribute is listed twice")
        return cls(labels, attributes, state_weights, transitions)

    def weights_of(self, features: Iterable[str]) -> FloatArray:
        """Return the summed label weights of ``features`` (unknown ones weigh nothing)."""
        rows = [r for r in map(self.attributes.get, features) if r is not None]
        if not rows:
            return self.zero
        summed: FloatArray = self.state_weights[rows].sum(axis=0, dtype=np.float64)
        return summed

    def slot_weights(self, slots: Sequence[Iterable[str]]) -> FloatArray:
        """Return the summed label weights of each feature list: a (slots, labels) array.

        Each list's weights are added in order on their own, so a list gets the same sum
        whatever lists come with it; pass many at once, it is one numpy sum for all.
        """
        table = np.zeros((len(slots), len(self.labels)))
        filled: list[int] = []
        starts: list[int] = []
        rows: list[int] = []
        get = self.attributes.get
        for slot, features in enumerate(slots):
            start = len(rows)
            rows.extend(row for row in map(get, features) if row is not None)
            if len(rows) > start:
                filled.append(slot)
                starts.append(start)
        if rows:
            table[filled] = np.add.reduceat(self.state_weights[rows], starts, dtype=np.float64)
        return table

    def viterbi(self, emissions: Sequence[FloatArray]) -> list[list[int]]:
        """Return the best label indices of each sentence, given its (n, labels) scores."""
        flat, starts, lengths = _flat(emissions)
        best = self.viterbi_flat(flat, starts, lengths)
        return [path.tolist() for path in np.split(best, np.cumsum(lengths)[:-1])]

    def marginals(self, emissions: Sequence[FloatArray]) -> list[FloatArray]:
        """Return each sentence's (n, labels) marginal label probabilities."""
        flat, starts, lengths = _flat(emissions)
        out = self.marginals_flat(flat, starts, lengths)
        return np.split(out, np.cumsum(lengths)[:-1])

    def viterbi_flat(self, emissions: FloatArray, starts: IntArray, lengths: IntArray) -> IntArray:
        """The best labels of sentences laid end to end in one (tokens, labels) array.

        Sentence ``s`` is rows ``starts[s]`` to ``starts[s] + lengths[s] - 1``; returns a
        label index per row (rows of no sentence get 0).
        """
        emissions = np.ascontiguousarray(emissions, dtype=np.float64)
        best = np.zeros(len(emissions), dtype=np.intp)
        fast = kernels.module()
        if fast is not None:
            fast.viterbi(emissions, self._transitions(), starts, lengths, best)
        else:
            _each_sentence(self._viterbi_numpy, emissions, starts, lengths, best)
        return best

    def marginals_flat(
        self, emissions: FloatArray, starts: IntArray, lengths: IntArray
    ) -> FloatArray:
        """The marginal label probabilities of sentences laid end to end.

        Sentences are given as in :meth:`viterbi_flat`; rows of no sentence are not
        computed (their values are arbitrary).
        """
        emissions = np.ascontiguousarray(emissions, dtype=np.float64)
        out = np.empty_like(emissions)
        fast = kernels.module()
        if fast is not None:
            fast.marginals(emissions, self._transitions(), starts, lengths, out)
        else:
            _each_sentence(self._marginals_numpy, emissions, starts, lengths, out)
        return out

    def _transitions(self) -> FloatArray:
        return np.ascontiguousarray(self.transitions, dtype=np.float64)

    def _viterbi_numpy(self, emissions: Sequence[FloatArray]) -> list[list[int]]:
        """Viterbi over a batch of sentences, one numpy step per position."""
        batch, lengths, longest = _pad(emissions)
        size = len(emissions)
        delta = batch[:, 0].copy()
        back = np.zeros((longest, size, len(self.labels)), dtype=np.intp)
        transitions = self.transitions[None]
        for t in range(1, longest):
            candidates = delta[:, :, None] + transitions
            back[t] = candidates.argmax(axis=1)
            moved = candidates.max(axis=1) + batch[:, t]
            delta = np.where((lengths > t)[:, None], moved, delta)
        best = delta.argmax(axis=1)
        paths = np.zeros((size, longest), dtype=np.intp)
        everyone = np.arange(size)
        for t in range(longest - 1, -1, -1):
            active = lengths > t
            paths[active, t] = best[active]
            if t:
                best = np.where(active, back[t][everyone, best], best)
        return [paths[i, : lengths[i]].tolist() for i in range(size)]

    def _marginals_numpy(self, emissions: Sequence[FloatArray]) -> list[FloatArray]:
        """Forward-backward over a batch of sentences, one numpy step per position.

        Forward-backward in probability space, each step rescaled to sum to one (the
        scale cancels when a position's marginals are normalized), so every step is one
        small matrix product rather than a log-sum-exp.
        """
        batch, lengths, longest = _pad(emissions)
        size = len(emissions)
        potentials = np.exp(batch - batch.max(axis=2, keepdims=True))
        step = np.exp(self.transitions)
        alpha = np.empty((longest, size, len(self.labels)))
        forward = potentials[:, 0]
        alpha[0] = forward = forward / forward.sum(axis=1, keepdims=True)
        for t in range(1, longest):
            forward = (forward @ step) * potentials[:, t]
            alpha[t] = forward = forward / forward.sum(axis=1, keepdims=True)
        beta = np.ones((longest, size, len(self.labels)))
        backward = beta[-1]
        for t in range(longest - 2, -1, -1):
            moved = (potentials[:, t + 1] * backward) @ step.T
            moved /= moved.sum(axis=1, keepdims=True)
            beta[t] = backward = np.where((lengths - 1 > t)[:, None], moved, 1.0)
        joint = alpha * beta
        joint /= joint.sum(axis=2, keepdims=True)
        return [joint[: lengths[i], i] for i in range(size)]


def _flat(emissions: Sequence[FloatArray]) -> tuple[FloatArray, IntArray, IntArray]:
    """Lay sentences end to end: one (tokens, labels) array, each sentence's start and length."""
    lengths = np.array([len(e) for e in emissions], dtype=np.intp)
    starts = np.zeros(len(lengths), dtype=np.intp)
    np.cumsum(lengths[:-1], out=starts[1:])
    flat = np.ascontiguousarray(np.concatenate(emissions), dtype=np.float64)
    return flat, starts, lengths


def _each_sentence(
    batch: Callable[[list[FloatArray]], Sequence[Sequence[float] | FloatArray]],
    emissions: FloatArray,
    starts: IntArray,
    lengths: IntArray,
    out: npt.NDArray[Any],
) -> None:
    """Run the numpy ``batch`` over the sentences laid end to end in ``emissions``, and
    write each sentence's result into its rows of ``out`` (the compiled loops' layout)."""
    if not len(lengths):
        return
    spans = list(zip(starts.tolist(), lengths.tolist(), strict=True))
    results = batch([emissions[start : start + n] for start, n in spans])
    for (start, n), result in zip(spans, results, strict=True):
        out[start : start + n] = result


def _pad(emissions: Sequence[FloatArray]) -> tuple[FloatArray, IntArray, int]:
    """Stack sentences of different lengths into one zero-padded (batch, longest, labels)."""
    lengths = np.array([len(e) for e in emissions], dtype=np.intp)
    longest = int(lengths.max())
    batch = np.zeros((len(emissions), longest, emissions[0].shape[1]))
    for i, e in enumerate(emissions):
        batch[i, : len(e)] = e
    return batch, lengths, longest
