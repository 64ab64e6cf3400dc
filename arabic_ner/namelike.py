"""Name-likeness: how much a word's letters look like a person, place or organisation name.

Half of the names in new text were never seen in training (measured on the dev split),
and for those the tagger has only context and affixes to go on. Transliterated foreign
names and Arabic names have letter patterns of their own (``-يو``, ``-سكي``, ``ـوف``,
long vowels between consonants). A naive Bayes model over the character n-grams of a
word (1 to 4 letters, with word-boundary marks) estimates which of PERS, LOC, ORG, MISC
or O the word's letters suggest; the tagger gets the winning class and how sure it is as
features.

Trained with the model on the training split's word types (each labelled with the type
it takes most often there, or O) and the gazetteer words; ``train.py`` gives the CRF
jackknifed guesses in training, so it learns how far to trust them on unseen words.
Written here (about 80 lines) rather than taken from scikit-learn, which would add
SciPy and scikit-learn to the core install for one small model.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from arabic_ner.errors import DataFormatError

__all__ = ["NameLikeness", "ngrams"]

CLASSES = ("LOC", "MISC", "O", "ORG", "PERS")


def ngrams(word: str) -> list[str]:
    """Character 1- to 4-grams of ``^word$``.

    >>> ngrams("اب")[:5]
    ['^', 'ا', 'ب', '$', '^ا']
    """
    marked = f"^{word}$"
    return [marked[i : i + n] for n in range(1, 5) for i in range(len(marked) - n + 1)]


class NameLikeness:
    """Multinomial naive Bayes over character n-grams, one class per entity type or O."""

    def __init__(
        self,
        log_prior: dict[str, float],
        log_likelihood: Mapping[str, Sequence[float]],
        unseen: Sequence[float],
    ) -> None:
        self.log_prior = log_prior
        # n-gram -> row of log P(n-gram | class), one column per class; the last row is
        # log P(unseen n-gram | class). One array rather than a list of floats per
        # n-gram: a prediction is one sum, and the table takes a third of the memory.
        self._index = {g: i for i, g in enumerate(log_likelihood)}
        self._table = np.array([*log_likelihood.values(), unseen], dtype=np.float64).reshape(
            len(self._index) + 1, len(CLASSES)
        )
        self._prior = np.array([log_prior[c] for c in CLASSES])

    @classmethod
    def fit(cls, examples: Iterable[tuple[str, str]], *, alpha: float = 0.1) -> NameLikeness:
        """Train on (word, class) pairs, one per word type."""
        counts = {c: Counter[str]() for c in CLASSES}
        docs: Counter[str] = Counter()
        for word, kind in examples:
            counts[kind].update(ngrams(word))
            docs[kind] += 1
        total_docs = sum(docs.values())
        vocabulary = set().union(*counts.values())
        size = len(vocabulary)
        totals = {c: sum(counts[c].values()) for c in CLASSES}
        log_prior = {c: math.log((docs[c] + 1) / (total_docs + len(CLASSES))) for c in CLASSES}
        log_likelihood = {
            g: [math.log((counts[c][g] + alpha) / (totals[c] + alpha * size)) for c in CLASSES]
            for g in vocabulary
        }
        unseen = [math.log(alpha / (totals[c] + alpha * size)) for c in CLASSES]
        return cls(log_prior, log_likelihood, unseen)

    def predict(self, word: str) -> tuple[str, float]:
        """Return the most likely class of ``word`` and its posterior probability.

        >>> model = NameLikeness.fit([("بوتين", "PERS"), ("قال", "O"), ("روتين", "O")])
        >>> model.predict("بوتين")[0]
        'PERS'
        """
        return self.predict_many([word])[0]

    def predict_many(self, words: Sequence[str]) -> list[tuple[str, float]]:
        """:meth:`predict` for many words with a few numpy operations in all.

        Each word's scores are summed on their own, in the same order as for one word,
        so a word gets the same guess whatever words it comes with.
        """
        if not words:
            return []
        index, table = self._index, self._table
        unseen = len(index)
        get = index.get
        rows: list[int] = []
        starts: list[int] = []
        for word in words:
            starts.append(len(rows))
            rows.extend(get(g, unseen) for g in ngrams(word))  # never empty: "^", "$"
        scores = np.add.reduceat(table[rows], starts) + self._prior
        best = scores.argmax(axis=1)
        weights = np.exp(scores - scores.max(axis=1, keepdims=True))
        confidence = 1.0 / weights.sum(axis=1)
        return [(CLASSES[b], p) for b, p in zip(best.tolist(), confidence.tolist(), strict=True)]

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write as TSV: a header of priors and unseen scores, then one n-gram a line."""
        table = self._table.tolist()
        lines = [
            "#prior\t" + "\t".join(f"{self.log_prior[c]:.6g}" for c in CLASSES),
            "#unseen\t" + "\t".join(f"{v:.6g}" for v in table[-1]),
        ]
        lines += [
            g + "\t" + "\t".join(f"{v:.6g}" for v in table[i])
            for g, i in sorted(self._index.items())
        ]
        Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> NameLikeness:
        """Read what :meth:`write` wrote.

        The numbers go through numpy's compiled ``loadtxt``: a float per field in Python
        took four times as long and twice the peak memory (a list of five floats for each
        of 70,000 n-grams before the array).
        """
        with open(path, encoding="utf-8") as stream:
            grams = [line.partition("\t")[0] for line in stream]
        if grams[:2] != ["#prior", "#unseen"]:
            raise DataFormatError(f"{path}: expected a '#prior' line, then an '#unseen' line")
        try:
            table = np.loadtxt(
                path,
                delimiter="\t",
                usecols=range(1, len(CLASSES) + 1),
                comments=None,
                quotechar=None,
                encoding="utf-8",
                dtype=np.float64,
                ndmin=2,
            )
        except ValueError as error:
            raise DataFormatError(
                f"{path}: expected an n-gram and {len(CLASSES)} numbers a line ({error})"
            ) from error
        if len(grams) != len(table):
            raise DataFormatError(f"{path}: an empty line among the n-grams")
        self = cls.__new__(cls)
        self.log_prior = dict(zip(CLASSES, table[0].tolist(), strict=True))
        self._index = {g: i for i, g in enumerate(grams[2:])}
        # The rows as __init__ lays them out: the n-grams', then the unseen row.
        self._table = np.concatenate([table[2:], table[1:2]])
        self._prior = table[0].copy()
        return self
