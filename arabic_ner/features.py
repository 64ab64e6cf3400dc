"""Turn a sentence of tokens into CRF features.

Each token gets the features of its own word and of its neighbours (±2), plus the
gazetteer matches that cover it. A word's own features include whether it is a known
part of a person's name (``person_names.tsv``, from Wikidata), what a character n-gram
model guesses its letters look like (``namelike.py``), which clusters of words learned
from unlabeled news it falls in (``wordclusters.py``), and whether the words are a name
tagged in the training data (the *memory*, jackknifed in training): the signals that
help on names never seen in training (docs/model.md).

Everything that depends on one word alone (its proclitic split, affixes, shape,
frequency) is computed once per word type and cached, already prefixed for each position
it can take in a window. :meth:`FeatureExtractor.sentence` builds the feature strings the
CRF is trained on; :meth:`FeatureExtractor.emissions` sums their weights for tagging,
with the sums of a word's features cached per word type as well (see ``crf.py``).

Changing what a feature means requires retraining: bump :data:`FEATURE_VERSION`, which
models record in ``meta.json`` and check on load.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import cast

import numpy as np

from arabic_ner import kernels
from arabic_ner.clitics import Lexicon, split_proclitic
from arabic_ner.crf import FloatArray, LinearChainCRF
from arabic_ner.gazetteer import Gazetteer
from arabic_ner.namelike import NameLikeness
from arabic_ner.tokenize import TokenKind
from arabic_ner.wordclusters import WordClusters

__all__ = ["FEATURE_VERSION", "FeatureExtractor", "core_of"]

FEATURE_VERSION = 4

# Word types kept before a cache is emptied: bounds memory (about 0.5 KiB a type for the
# tagging table, a few KiB for the feature strings that only training keeps).
_CACHE_LIMIT = 200_000
_SHARED_LIMIT = 20_000  # own feature lists kept for own_features() (see share_own)
_WINDOW = (-2, -1, 1, 2)
# Which word features a neighbour at each offset contributes (names from _word_features).
_NEIGHBOUR_KEYS = {
    -2: ("s", "k", "u1"),
    -1: ("w", "s", "s2", "k", "al", "nl", "pn", "u0", "u1", "u2"),
    1: ("w", "s", "p2", "k", "al", "nl", "pn", "u0", "u1", "u2"),
    2: ("s", "k", "u1"),
}
# Feature names of a word's cluster ids (wordclusters.py), coarsest first.
_CLUSTER_KEYS = ("u0", "u1", "u2", "u3")
_NEIGHBOUR_PREFIXES = tuple(
    tuple((name, f"{offset:+d}{name}=") for name in names)
    for offset, names in _NEIGHBOUR_KEYS.items()
)


def _length_bucket(n: int) -> str:
    return (
        "1"
        if n <= 1
        else "2"
        if n == 2
        else "3"
        if n == 3
        else "5"
        if n <= 5
        else ("8" if n <= 8 else "9+")
    )


def _frequency_bucket(n: int) -> str:
    return (
        "0"
        if n == 0
        else "1"
        if n == 1
        else "4"
        if n <= 4
        else "19"
        if n <= 19
        else ("99" if n <= 99 else "100+")
    )


def _probability_bucket(p: float) -> str:
    return "9" if p >= 0.9 else "7" if p >= 0.7 else "5" if p >= 0.5 else "0"


def core_of(stem: str) -> str:
    """The stem without the article, when enough is left: what affixes are taken from."""
    return stem[2:] if stem.startswith("ال") and len(stem) > 4 else stem


class FeatureExtractor:
    """Features for the shipped CRF, from a lexicon (word counts) and a gazetteer.

    >>> fx = FeatureExtractor(Lexicon({"موسكو": 5}), Gazetteer({"موسكو": {"LOC"}}))
    >>> feats = fx.sentence(["وصل", "وموسكو"], [TokenKind.WORD, TokenKind.WORD])
    >>> [f for f in feats[1] if f.startswith(("s=", "pc=", "g="))]
    ['s=موسكو', 'pc=و', 'g=LOC-B']
    """

    def __init__(
        self,
        lexicon: Lexicon,
        gazetteer: Gazetteer,
        *,
        person_names: Mapping[str, tuple[str, int]] | None = None,
        namelike: NameLikeness | None = None,
        namelike_guesses: Mapping[str, tuple[str, float]] | None = None,
        memory: Gazetteer | None = None,
        clusters: WordClusters | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.clusters = clusters or {}
        self.gazetteer = gazetteer
        self.person_names = person_names or {}
        self.namelike = namelike
        # In training: each word's guess from a name-likeness model that did not see it.
        self.namelike_guesses = namelike_guesses or {}
        # The names tagged in the training data, matched like a gazetteer (see train.py);
        # both lists go into one automaton, memory types marked "m", so one pass finds all.
        self._lists = gazetteer
        if memory is not None and memory.entries:
            merged: dict[str, set[str]] = {k: set(v) for k, v in gazetteer.entries.items()}
            for key, kinds in memory.entries.items():
                merged.setdefault(key, set()).update("m" + kind for kind in kinds)
            self._lists = Gazetteer(merged)
        self._cache: dict[tuple[str, TokenKind], tuple[str, tuple[list[str], ...]]] = {}
        self._type_ids: dict[tuple[str, TokenKind], int] = {}  # word type -> row of _table
        self._stems: list[str] = []  # stem of each word type, by row
        self._table: FloatArray = np.zeros((0, len(_WINDOW) + 1, 0))
        self._table_crf: LinearChainCRF | None = None
        self._table_bos: FloatArray = np.zeros(0)  # weights of BOS and EOS under _table_crf
        self._table_eos: FloatArray = np.zeros(0)
        self._hit_rows_of: tuple[LinearChainCRF, dict[str, tuple[int | None, ...]]] | None = None
        self._bigrams: (
            tuple[LinearChainCRF, dict[tuple[str, str], int], dict[tuple[str, str], int]] | None
        ) = None
        # With share_own, the own features of the word types that emissions() adds are kept
        # until own_features() asks for them: the BiLSTM reads the same new words next.
        self.share_own = False
        self._own: dict[tuple[str, TokenKind], tuple[str, list[str]]] = {}
        self._hits: dict[tuple[str, ...], list[list[str]]] = {}  # the same, for list_hits()

    def stem(self, word: str) -> str:
        """Return the word without its proclitic, as the features see it."""
        return self.lexicon.stem(word)

    def _word_features(
        self,
        word: str,
        kind: TokenKind,
        splits: Mapping[str, tuple[int, str]] | None = None,
        guesses: Mapping[str, tuple[str, float]] | None = None,
    ) -> dict[str, str]:
        """A word's own features by name; ``splits`` and ``guesses`` are made for a batch."""
        features = {"k": kind.value, "w": word}
        if kind is TokenKind.WORD:
            split = splits.get(word) if splits is not None else None
            size, stem = split or split_proclitic(word, self.lexicon)
            features["s"] = stem
            if size:
                features["pc"] = word[:size]
            core = core_of(stem)
            if core is not stem:
                features["al"] = "1"
                features["c"] = core
            features.update(
                p1=core[:1], p2=core[:2], p3=core[:3], s1=core[-1:], s2=core[-2:], s3=core[-3:]
            )
            features["n"] = _length_bucket(len(core))
            ids = self.clusters.get(stem) or self.clusters.get(word)
            if ids is not None:
                features.update(zip(_CLUSTER_KEYS, ids, strict=False))
            person = self.person_names.get(stem) or self.person_names.get(core)
            if person is not None:
                features["pn"] = person[0]  # given, surname or unknown
                features["pnc"] = _frequency_bucket(person[1])
            if self.namelike is not None:
                known = self.namelike_guesses.get(core)
                if known is None and guesses is not None:
                    known = guesses.get(core)
                guess, p = known or self.namelike.predict(core)
                features["nl"] = guess if p >= 0.5 else "?"
                features["nlc"] = f"{guess}:{_probability_bucket(p)}"
            features["f"] = _frequency_bucket(self.lexicon.count(stem))
        elif kind is TokenKind.FOREIGN:
            lower = word.lower()
            features["w"] = lower
            features["s"] = lower
            features["cap"] = "1" if word[:1].isupper() else "0"
            features["up"] = "1" if word.isupper() else "0"
        elif kind is TokenKind.NUMBER:
            features["s"] = "<num>"
            features["n"] = _length_bucket(len(word))
        else:
            features["s"] = word
        return features

    def _word_lists(
        self,
        word: str,
        kind: TokenKind,
        splits: Mapping[str, tuple[int, str]] | None = None,
        guesses: Mapping[str, tuple[str, float]] | None = None,
    ) -> tuple[str, tuple[list[str], ...]]:
        """Return (stem, feature strings for window slots own, -2, -1, +1, +2)."""
        features = self._word_features(word, kind, splits, guesses)
        # Concatenation with prefixes made once: twice as fast as f-strings, and this runs
        # for every new word type.
        own = [name + "=" + value for name, value in features.items()]
        around = tuple(
            [prefix + features[name] for name, prefix in prefixes if name in features]
            for prefixes in _NEIGHBOUR_PREFIXES
        )
        return features["s"], (own, *around)

    def _word(self, word: str, kind: TokenKind) -> tuple[str, tuple[list[str], ...]]:
        """:meth:`_word_lists`, cached per word type (training builds every sentence)."""
        key = (word, kind)
        cached = self._cache.get(key)
        if cached is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            cached = self._cache[key] = self._word_lists(word, kind)
        return cached

    def own_features(self, word: str, kind: TokenKind) -> tuple[str, list[str]]:
        """Return the stem of a word and the features it has by itself.

        >>> fx = FeatureExtractor(Lexicon({"موسكو": 5}), Gazetteer({}))
        >>> stem, own = fx.own_features("وموسكو", TokenKind.WORD)
        >>> stem, own[:3]
        ('موسكو', ['k=WORD', 'w=وموسكو', 's=موسكو'])
        """
        shared = self._own.pop((word, kind), None)
        if shared is not None:
            return shared
        stem, lists = self._word_lists(word, kind)
        return stem, lists[0]

    def list_hits(self, stems: Sequence[str]) -> list[list[str]]:
        """Return, per token, the list matches that cover it: ``TYPE-B`` or ``TYPE-I``.

        Gazetteer types are ``LOC``, ``ORG``, ``PERS``; training-name memory types are
        marked ``m`` (``mLOC``).
        """
        if self._hits:
            shared = self._hits.pop(tuple(stems), None)
            if shared is not None:
                return shared
        hits: list[list[str]] = [[] for _ in stems]
        for start, end, tag in self._lists.matches(stems):
            hits[start].append(f"{tag}-B")
            for i in range(start + 1, end):
                hits[i].append(f"{tag}-I")
        return hits

    def _context(self, stems: Sequence[str]) -> list[list[str]]:
        """Features that depend on a token's neighbours: stem bigrams and gazetteer hits."""
        n = len(stems)
        hits = self.list_hits(stems)
        out: list[list[str]] = []
        for i in range(n):
            feats = [f"g={g}" for g in hits[i]]
            if i > 0:
                feats.append(f"-1s|s={stems[i - 1]}|{stems[i]}")
                feats += [f"-1g={g}" for g in hits[i - 1]]
            if i + 1 < n:
                feats.append(f"s|+1s={stems[i]}|{stems[i + 1]}")
                feats += [f"+1g={g}" for g in hits[i + 1]]
            out.append(feats)
        return out

    def sentence(self, words: Sequence[str], kinds: Sequence[TokenKind]) -> list[list[str]]:
        """Return one feature list per token of a sentence (normalized words and kinds).

        This is what the CRF is trained on; :meth:`emissions` computes the same
        features' weights without building the strings of each token again.
        """
        n = len(words)
        entries = [self._word(w, k) for w, k in zip(words, kinds, strict=True)]
        context = self._context([stem for stem, _ in entries])
        out: list[list[str]] = []
        for i in range(n):
            feats = list(entries[i][1][0])
            for slot, offset in enumerate(_WINDOW, start=1):
                j = i + offset
                if 0 <= j < n:
                    feats += entries[j][1][slot]
                elif j == -1 or j == n:
                    feats.append("BOS" if j < 0 else "EOS")
            out.append(feats + context[i])
        return out

    def _bigram_rows(
        self, crf: LinearChainCRF
    ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        """Weight rows of the stem-bigram features that ``crf`` knows, keyed by stem pair."""
        if self._bigrams is None or self._bigrams[0] is not crf:
            before: dict[tuple[str, str], int] = {}
            after: dict[tuple[str, str], int] = {}
            # One string object per distinct stem: 70,000 pieces, 16,000 distinct (4 MiB).
            same: dict[str, str] = {}
            for attribute, row in crf.attributes.items():
                if attribute.startswith(("-1s|s=", "s|+1s=")):  # one test for both
                    table = before if attribute[0] == "-" else after
                    left, bar, right = attribute[6:].partition("|")
                    if bar:
                        table[(same.setdefault(left, left), same.setdefault(right, right))] = row
            self._bigrams = (crf, before, after)
        return self._bigrams[1], self._bigrams[2]

    def _hit_rows(self, crf: LinearChainCRF) -> dict[str, tuple[int | None, ...]]:
        """Weight rows of a list-match tag as ``g=``, ``-1g=`` and ``+1g=``, kept per tag."""
        if self._hit_rows_of is None or self._hit_rows_of[0] is not crf:
            self._hit_rows_of = (crf, {})
        return self._hit_rows_of[1]

    def _guesses(self, splits: Mapping[str, tuple[int, str]]) -> dict[str, tuple[str, float]]:
        """The name-likeness guesses of the split words' cores, in one batch."""
        if self.namelike is None:
            return {}
        cores = [
            core
            for core in dict.fromkeys(core_of(stem) for _, stem in splits.values())
            if core not in self.namelike_guesses
        ]
        return dict(zip(cores, self.namelike.predict_many(cores), strict=True))

    def _add_types(self, keys: Sequence[tuple[str, TokenKind]], crf: LinearChainCRF) -> None:
        """Add word types: sum the weights of their features for each window slot.

        The sums live in one growing array, a row per word type, so that a sentence's
        rows are gathered with one numpy index. The types of a whole batch are added at
        once: the name-likeness guesses and the weight sums are then a few numpy calls
        for all of them, not a few for each.
        """
        lexicon = self.lexicon
        splits = {w: split_proclitic(w, lexicon) for w, k in keys if k is TokenKind.WORD}
        guesses = self._guesses(splits)
        entries = [self._word_lists(*key, splits, guesses) for key in keys]  # sums are kept
        if self.share_own:
            if len(self._own) + len(keys) > _SHARED_LIMIT:  # nobody is asking for them
                self._own.clear()
            for key, (stem, lists) in zip(keys, entries, strict=True):
                self._own[key] = (stem, lists[0])
        index = len(self._stems)
        while index + len(keys) > len(self._table):
            self._table = np.concatenate([self._table, np.zeros_like(self._table)])
        slots = [features for _, lists in entries for features in lists]
        sums = crf.slot_weights(slots).reshape(len(keys), len(_WINDOW) + 1, -1)
        self._table[index : index + len(keys)] = sums
        for row, (key, (stem, _)) in enumerate(zip(keys, entries, strict=True), start=index):
            self._stems.append(stem)
            self._type_ids[key] = row

    def _reset_table(self, crf: LinearChainCRF) -> None:
        self._type_ids.clear()
        self._stems.clear()
        self._table = np.zeros((1024, len(_WINDOW) + 1, len(crf.labels)))
        self._table_crf = crf
        self._table_bos = crf.weights_of(["BOS"])
        self._table_eos = crf.weights_of(["EOS"])

    def add_types(self, keys: Iterable[tuple[str, TokenKind]], crf: LinearChainCRF) -> None:
        """Prepare :meth:`emissions` for the ``(word, kind)`` tokens of many sentences.

        Optional, and faster than letting each sentence add its new word types.
        """
        if self._table_crf is not crf:
            self._reset_table(crf)
        new = [key for key in dict.fromkeys(keys) if key not in self._type_ids]
        if len(self._type_ids) + len(new) > _CACHE_LIMIT:
            return  # emissions() empties the table when a sentence needs room
        if new:
            self._add_types(new, crf)

    def emissions(
        self, words: Sequence[str], kinds: Sequence[TokenKind], crf: LinearChainCRF
    ) -> FloatArray:
        """Return the (tokens, labels) state scores of a sentence under ``crf``.

        Equal to summing ``crf``'s weights over :meth:`sentence`'s features, but the
        weights of a word's own and neighbour features are summed once per word type.
        """
        return self.emissions_many([list(zip(words, kinds, strict=True))], crf)

    def emissions_many(
        self, sentences: Sequence[Sequence[tuple[str, TokenKind]]], crf: LinearChainCRF
    ) -> FloatArray:
        """Return the state scores of sentences of ``(word, kind)`` tokens, laid end to end.

        The same scores as :meth:`emissions` on each sentence, bit for bit (each token's
        terms are added in the same order), as one (tokens, labels) array: a few numpy
        calls for all the sentences rather than a few for each.
        """
        type_ids = self._type_ids
        keys = [key for sentence in sentences for key in sentence]
        found: list[int | None] = (
            list(map(type_ids.get, keys)) if self._table_crf is crf else [None]
        )
        if None in found:
            new = list(dict.fromkeys(k for k in keys if k not in type_ids))
            if self._table_crf is not crf or len(type_ids) + len(new) > _CACHE_LIMIT:
                # A new table for this model, or a full one emptied: before the sentences,
                # so that no row gathered for them can disappear.
                if len(sentences) > 1 and len(dict.fromkeys(keys)) > _CACHE_LIMIT:
                    return np.concatenate([self.emissions_many([s], crf) for s in sentences])
                self._reset_table(crf)
                new = list(dict.fromkeys(keys))
            self._add_types(new, crf)
            found = list(map(type_ids.__getitem__, keys))
        ids = cast(list[int], found)  # no None left
        lengths = np.array([len(s) for s in sentences], dtype=np.intp)
        # Features shown as a neighbour, added in the order of the one-sentence sums.
        scores = kernels.window_sums(self._table, ids, lengths, self._table_bos, self._table_eos)
        all_stems = self._stems
        stems = list(map(all_stems.__getitem__, ids))
        positions: list[int] = []
        rows: list[int] = []
        before, after = self._bigram_rows(crf)
        hit_rows = self._hit_rows(crf)
        start = 0
        for n in lengths.tolist():
            end = start + n
            for i in range(start + 1, end):
                pair = (stems[i - 1], stems[i])
                row = before.get(pair)  # "-1s|s=a|b" on token i
                if row is not None:
                    positions.append(i)
                    rows.append(row)
                row = after.get(pair)  # "s|+1s=a|b" on token i - 1
                if row is not None:
                    positions.append(i - 1)
                    rows.append(row)
            sentence_stems = stems[start:end]
            sentence_hits = self.list_hits(sentence_stems)
            if self.share_own:
                if len(self._hits) >= _SHARED_LIMIT:
                    self._hits.clear()
                self._hits[tuple(sentence_stems)] = sentence_hits
            for i, hits in enumerate(sentence_hits, start=start):
                for tag in hits:
                    rows_of_tag = hit_rows.get(tag)
                    if rows_of_tag is None:
                        get = crf.attributes.get
                        rows_of_tag = hit_rows[tag] = tuple(
                            get(f"{name}={tag}") for name in ("g", "-1g", "+1g")
                        )
                    for j, row in zip((i, i + 1, i - 1), rows_of_tag, strict=True):
                        if row is not None and start <= j < end:
                            positions.append(j)
                            rows.append(row)
            start = end
        if rows:
            kernels.add_rows(scores, positions, crf.state_weights[rows])
        return scores
