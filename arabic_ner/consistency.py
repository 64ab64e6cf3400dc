"""Document-level consistency: a name tagged confidently once is tagged everywhere.

A news article names its actors in full once (``فلاديمير بوتين``) and then repeats
them, often shortened (``بوتين``), in sentences where the tagger has less context.
:func:`propagate` takes the tagged sentences of one document, collects the entities the
tagger was confident about, and labels their other mentions that were left untagged:

- the same words (compared without proclitics: ``وبوتين`` is a mention of ``بوتين``);
- for a person named with two or more words, the last word alone (the family name).

Only tokens labelled ``O`` change, so a propagated mention never overrides or splits an
entity the tagger found; a propagated label gets the confidence of its source mention.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from arabic_ner.scoring import chunks
from arabic_ner.tokenize import Token, TokenKind

__all__ = ["MIN_SOURCE_SCORE", "propagate"]

MIN_SOURCE_SCORE = 0.8
"""Entities below this confidence are not propagated."""

Tagged = tuple[list[str], list[float]]


def propagate(
    sentences: Sequence[Sequence[Token]],
    tagged: Sequence[Tagged],
    stem: Callable[[str], str],
    *,
    min_score: float = MIN_SOURCE_SCORE,
) -> list[Tagged]:
    """Return the labels and scores of a document with confident names propagated.

    ``stem`` maps a normalized word to its form without proclitic.

    >>> from arabic_ner.tokenize import tokenize
    >>> doc = [tokenize("قال فلاديمير بوتين"), tokenize("واكد بوتين")]
    >>> tagged = [(["O", "B-PERS", "I-PERS"], [1.0, 0.95, 0.97]), (["O", "O"], [1.0, 1.0])]
    >>> propagate(doc, tagged, lambda w: w[1:] if w == "واكد" else w)[1]
    (['O', 'B-PERS'], [1.0, 0.95])
    """
    stems = [[stem(t.norm) if t.kind is TokenKind.WORD else t.norm for t in s] for s in sentences]
    sources: dict[str, tuple[str, float]] = {}
    for words, (labels, scores) in zip(stems, tagged, strict=True):
        for kind, start, end in chunks(labels):
            confidence = min(scores[start:end])
            if confidence < min_score:
                continue
            keys = [" ".join(words[start:end])]
            if kind == "PERS" and end - start >= 2:
                keys.append(words[end - 1])
            for key in keys:
                known = sources.get(key)
                if known is None or known[1] < confidence:
                    sources[key] = (kind, confidence)
    if not sources:
        return [(list(labels), list(scores)) for labels, scores in tagged]
    # The names of one document are few (tens): a dict from first word to the names
    # starting with it finds them faster than building an Aho-Corasick automaton per
    # document, as the gazetteer does for its hundreds of thousands of names.
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for key, (kind, _) in sources.items():
        if key:
            name = tuple(key.split(" "))
            by_first.setdefault(name[0], []).append((name, kind))
    out: list[Tagged] = []
    for words, (labels, scores) in zip(stems, tagged, strict=True):
        labels, scores = list(labels), list(scores)
        found = _mentions(words, by_first)
        # Longest matches first, each only over tokens still outside any entity.
        for start, end, kind in sorted(found, key=lambda m: m[0] - m[1]):
            joins_next = end < len(labels) and labels[end].startswith("I-")
            if not joins_next and all(label == "O" for label in labels[start:end]):
                confidence = sources[" ".join(words[start:end])][1]
                labels[start:end] = [f"B-{kind}"] + [f"I-{kind}"] * (end - start - 1)
                scores[start:end] = [confidence] * (end - start)
        out.append((labels, scores))
    return out


def _mentions(
    words: Sequence[str], by_first: dict[str, list[tuple[tuple[str, ...], str]]]
) -> list[tuple[int, int, str]]:
    """Return ``(start, end, type)`` of every name of ``by_first`` in ``words``, sorted.

    Overlapping and nested mentions are all returned, as :meth:`Gazetteer.matches` does.

    >>> _mentions(["قال", "بوتين", "بوتين"], {"بوتين": [(("بوتين",), "PERS")]})
    [(1, 2, 'PERS'), (2, 3, 'PERS')]
    """
    found = []
    for start, word in enumerate(words):
        for name, kind in by_first.get(word, ()):
            end = start + len(name)
            if end <= len(words) and tuple(words[start:end]) == name:
                found.append((start, end, kind))
    found.sort()
    return found
