"""Turn a sentence of tokens into CRF features.

Each token gets the features of its own word and of its neighbours (±2), plus the
gazetteer matches that cover it. Everything that depends on one word alone (its
proclitic split, affixes, shape, frequency) is computed once per word type and cached,
already prefixed for each position it can take in a window; a sentence then costs one
dictionary look-up and a few list concatenations per token. That cache is what keeps the
tagger at tens of thousands of tokens per second in pure Python.

Changing what a feature means requires retraining: bump :data:`FEATURE_VERSION`, which
models record in ``meta.json`` and check on load.
"""

from __future__ import annotations

from collections.abc import Sequence

from arabic_ner.clitics import Lexicon, split_proclitic
from arabic_ner.gazetteer import Gazetteer
from arabic_ner.tokenize import TokenKind

__all__ = ["FEATURE_VERSION", "FeatureExtractor"]

FEATURE_VERSION = 1

_CACHE_LIMIT = 500_000  # word types kept before the cache is cleared (bounds memory)
_WINDOW = (-2, -1, 1, 2)
# Which word features a neighbour at each offset contributes (names from _word_features).
_NEIGHBOUR_KEYS = {
    -2: ("s", "k"),
    -1: ("w", "s", "s2", "k", "al"),
    1: ("w", "s", "p2", "k", "al"),
    2: ("s", "k"),
}


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


class FeatureExtractor:
    """Features for the shipped CRF, from a lexicon (word counts) and a gazetteer.

    >>> fx = FeatureExtractor(Lexicon({"موسكو": 5}), Gazetteer({"موسكو": {"LOC"}}))
    >>> feats = fx.sentence(["وصل", "وموسكو"], [TokenKind.WORD, TokenKind.WORD])
    >>> [f for f in feats[1] if f.startswith(("s=", "pc=", "g="))]
    ['s=موسكو', 'pc=و', 'g=LOC-B']
    """

    def __init__(self, lexicon: Lexicon, gazetteer: Gazetteer) -> None:
        self.lexicon = lexicon
        self.gazetteer = gazetteer
        self._cache: dict[tuple[str, TokenKind], tuple[str, tuple[list[str], ...]]] = {}

    def stem(self, word: str) -> str:
        """Return the word without its proclitic, as the features see it."""
        return split_proclitic(word, self.lexicon)[1]

    def _word_features(self, word: str, kind: TokenKind) -> dict[str, str]:
        features = {"k": kind.value, "w": word}
        if kind is TokenKind.WORD:
            size, stem = split_proclitic(word, self.lexicon)
            features["s"] = stem
            if size:
                features["pc"] = word[:size]
            core = stem[2:] if stem.startswith("ال") and len(stem) > 4 else stem
            if core is not stem:
                features["al"] = "1"
                features["c"] = core
            features.update(
                p1=core[:1], p2=core[:2], p3=core[:3], s1=core[-1:], s2=core[-2:], s3=core[-3:]
            )
            features["n"] = _length_bucket(len(core))
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

    def _word(self, word: str, kind: TokenKind) -> tuple[str, tuple[list[str], ...]]:
        """Return (stem, feature lists for offsets 0, -2, -1, +1, +2), cached per type."""
        key = (word, kind)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        features = self._word_features(word, kind)
        own = [f"{name}={value}" for name, value in features.items()]
        around = tuple(
            [f"{offset:+d}{name}={features[name]}" for name in names if name in features]
            for offset, names in _NEIGHBOUR_KEYS.items()
        )
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        cached = (features["s"], (own, *around))
        self._cache[key] = cached
        return cached

    def sentence(self, words: Sequence[str], kinds: Sequence[TokenKind]) -> list[list[str]]:
        """Return one feature list per token of a sentence (normalized words and kinds)."""
        n = len(words)
        entries = [self._word(w, k) for w, k in zip(words, kinds, strict=True)]
        stems = [stem for stem, _ in entries]
        gazetteer_tags: list[list[str]] = [[] for _ in range(n)]
        for start, end, kind in self.gazetteer.matches(stems):
            gazetteer_tags[start].append(f"{kind}-B")
            for i in range(start + 1, end):
                gazetteer_tags[i].append(f"{kind}-I")
        out: list[list[str]] = []
        for i in range(n):
            feats = list(entries[i][1][0])
            for slot, offset in enumerate(_WINDOW, start=1):
                j = i + offset
                if 0 <= j < n:
                    feats += entries[j][1][slot]
                elif j == -1 or j == n:
                    feats.append("BOS" if j < 0 else "EOS")
            if i > 0:
                feats.append(f"-1s|s={stems[i - 1]}|{stems[i]}")
            if i + 1 < n:
                feats.append(f"s|+1s={stems[i]}|{stems[i + 1]}")
            feats += [f"g={g}" for g in gazetteer_tags[i]]
            if i > 0:
                feats += [f"-1g={g}" for g in gazetteer_tags[i - 1]]
            if i + 1 < n:
                feats += [f"+1g={g}" for g in gazetteer_tags[i + 1]]
            out.append(feats)
        return out
