"""Linear-chain CRF inference in numpy, with weights read from a CRFsuite model.

CRFsuite trains the model; this module tags with it. Why not CRFsuite's own tagger:
it takes every feature of every token as a string and looks each one up, which costs
more than everything else in the pipeline together. Here the weights of a word's
features are summed once per word type (``features.py`` caches the sums), so a token
costs a few vector additions, and Viterbi and forward-backward run over a batch of
sentences at once (up to 256 of similar length, from many texts; see ``model.py``), one
numpy step per position instead of one Python step per token.

The model is the one CRFsuite defines (CRF1d): the score of a label sequence is the sum
of the weights of (attribute, label) pairs that fire plus label-to-label transition
weights; there are no start or end transitions. ``tests/test_crf.py`` checks that the
labels and marginals equal CRFsuite's own.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pycrfsuite

__all__ = ["LinearChainCRF"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def _dump_sections(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Yield ``(section, line)`` for each line inside a ``NAME = {`` ... ``}`` section.

    Read from a CRFsuite dump one line at a time: a large model's dump is hundreds of
    thousands of lines, and holding them all would double the memory a load peaks at.
    """
    section = ""
    for line in lines:
        line = line.rstrip("\n")
        if line.endswith(" = {"):
            section = line[:-4].strip()
        elif line == "}":
            section = ""
        elif section and line:
            yield section, line


class LinearChainCRF:
    """Weights of a CRFsuite model as arrays, and batched Viterbi and marginals."""

    def __init__(
        self,
        labels: Sequence[str],
        attributes: dict[str, int],
        state_weights: FloatArray,
        transitions: FloatArray,
    ) -> None:
        self.labels = tuple(labels)
        self.attributes = attributes  # attribute name -> row of state_weights
        self.state_weights = state_weights  # (attributes, labels)
        self.transitions = transitions  # (from label, to label)
        self.zero: FloatArray = np.zeros(len(self.labels))

    @classmethod
    def from_crfsuite(cls, path: str | os.PathLike[str]) -> LinearChainCRF:
        """Read the weights of a CRFsuite model file (checked by the caller).

        CRFsuite writes its model out as text (``Tagger.dump``); the weights are read from
        that text, as pycrfsuite's own ``Tagger.info()`` reads them (weights with six
        decimals), but line by line with string splits instead of a regular expression
        and a dict of tuples: about three times faster, with far less memory at the peak,
        the same numbers in the same order.
        """
        tagger = pycrfsuite.Tagger()
        tagger.open(str(path))
        labels: list[str] = []
        attributes: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        values: list[float] = []
        transitions_found: list[tuple[str, str, float]] = []
        label_index: dict[str, int] = {}
        with tempfile.TemporaryDirectory() as folder:
            dump = Path(folder) / "model.txt"
            tagger.dump(str(dump))
            tagger.close()
            with dump.open(encoding="utf-8") as lines:
                for section, line in _dump_sections(lines):
                    if section == "STATE_FEATURES":
                        # "  (0) ATTRIBUTE --> LABEL: WEIGHT"; no attribute holds " --> ".
                        attribute, _, rest = line[line.index(") ") + 2 :].rpartition(" --> ")
                        label, _, weight = rest.partition(": ")
                        rows.append(attributes.setdefault(attribute, len(attributes)))
                        columns.append(label_index[label])
                        values.append(float(weight))
                    elif section == "LABELS":
                        number, _, label = line.strip().partition(": ")
                        if int(number) != len(labels):
                            raise ValueError(f"CRFsuite labels out of order in {path}: {line!r}")
                        label_index[label] = len(labels)
                        labels.append(label)
                    elif section == "TRANSITIONS":
                        source, _, rest = line[line.index(") ") + 2 :].partition(" --> ")
                        target, _, weight = rest.partition(": ")
                        transitions_found.append((source, target, float(weight)))
        state_weights = np.zeros((len(attributes), len(labels)))
        state_weights[rows, columns] = values
        transitions = np.zeros((len(labels), len(labels)))
        for source, target, value in transitions_found:
            transitions[label_index[source], label_index[target]] = value
        return cls(labels, attributes, state_weights, transitions)

    def weights_of(self, features: Iterable[str]) -> FloatArray:
        """Return the summed label weights of ``features`` (unknown ones weigh nothing)."""
        rows = [r for r in map(self.attributes.get, features) if r is not None]
        if not rows:
            return self.zero
        summed: FloatArray = self.state_weights[rows].sum(axis=0)
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
            table[filled] = np.add.reduceat(self.state_weights[rows], starts)
        return table

    def viterbi(self, emissions: Sequence[FloatArray]) -> list[list[int]]:
        """Return the best label indices of each sentence, given its (n, labels) scores."""
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

    def marginals(self, emissions: Sequence[FloatArray]) -> list[FloatArray]:
        """Return each sentence's (n, labels) marginal label probabilities.

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


def _pad(emissions: Sequence[FloatArray]) -> tuple[FloatArray, IntArray, int]:
    """Stack sentences of different lengths into one zero-padded (batch, longest, labels)."""
    lengths = np.array([len(e) for e in emissions], dtype=np.intp)
    longest = int(lengths.max())
    batch = np.zeros((len(emissions), longest, emissions[0].shape[1]))
    for i, e in enumerate(emissions):
        batch[i, : len(e)] = e
    return batch, lengths, longest
