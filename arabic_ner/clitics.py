"""Split attached proclitics (و ف ب ل ك) off Arabic words, so names start where they start.

``وموسكو`` is ``و`` + ``موسكو``, but ``وليد``, ``بيروت``, ``لبنان``, ``فلاديمير`` and
``كابول`` are names that merely begin with those letters. Spelling cannot tell them apart;
usage can. A :class:`Lexicon` counts how often each (normalized) word is seen on its own,
and a word is split when its remainder is seen more often than the whole word, or, for a
word never seen, when the remainder starts with the article ``ال`` (``والزيلينسكي``).

The lexicon that ships with a model is built from its training corpus, and marks known
names, so that a name is never split into a more frequent fragment (``فيصل`` is a name,
not ``ف`` + ``يصل``). Words of a document add to the counts, so
``وبوتين`` splits once ``بوتين`` has been seen in the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["PROCLITICS", "Lexicon", "split_proclitic"]

_CONJUNCTIONS = ("و", "ف")
_PREPOSITIONS = ("ب", "ل", "ك")
# ل before the article drops the alef: ل + العراق is written للعراق.
_LAM_ARTICLE = ("لل", "ولل", "فلل")

PROCLITICS: tuple[str, ...] = tuple(
    sorted(
        {c + p for c in ("", *_CONJUNCTIONS) for p in ("", *_PREPOSITIONS)} - {""}
        | set(_LAM_ARTICLE),
        key=lambda p: (-len(p), p),
    )
)
"""Proclitic strings, longest first: و ف ب ل ك, their pairs (وب فل ...) and ل + article."""

_MIN_STEM = 2
_MIN_UNSEEN_ARTICLE_STEM = 4  # "ال" + at least two letters


@dataclass(frozen=True, slots=True)
class Lexicon:
    """How often each normalized word was seen standing alone, and which words are names.

    A word in ``names`` (a gazetteer name, or a training entity that does not start with
    a proclitic letter) is never split, and a split that leaves a name is always taken.

    >>> lexicon = Lexicon({"موسكو": 12, "وليد": 5}, frozenset({"فيصل"}))
    >>> lexicon.count("موسكو"), lexicon.count("سكو"), "فيصل" in lexicon.names
    (12, 0, True)
    """

    counts: Mapping[str, int]
    names: frozenset[str] = frozenset()

    def count(self, word: str) -> int:
        """Return how often ``word`` was seen; 0 if never."""
        return self.counts.get(word, 0)

    def stem(self, word: str) -> str:
        """Return ``word`` without its proclitic (see :func:`split_proclitic`).

        >>> Lexicon({"موسكو": 3}).stem("وموسكو")
        'موسكو'
        """
        return split_proclitic(word, self)[1]


def split_proclitic(
    word: str, lexicon: Lexicon, extra: Mapping[str, int] | None = None
) -> tuple[int, str]:
    """Return ``(length of the proclitic, stem)`` of a normalized word.

    The stem of ``للعراق`` is ``العراق``: the article's alef comes back in the stem,
    while the length (2) says how many characters of the word the proclitic takes.
    ``extra`` adds counts, such as those of the current document.

    >>> lexicon = Lexicon({"موسكو": 12, "وليد": 5, "العراق": 30, "بيروت": 9})
    >>> split_proclitic("وموسكو", lexicon)
    (1, 'موسكو')
    >>> split_proclitic("وليد", lexicon), split_proclitic("بيروت", lexicon)
    ((0, 'وليد'), (0, 'بيروت'))
    >>> split_proclitic("للعراق", lexicon), split_proclitic("والزيلينسكي", lexicon)
    ((2, 'العراق'), (1, 'الزيلينسكي'))
    """
    if len(word) <= _MIN_STEM or word[0] not in "وفبلك":
        return 0, word

    def seen(w: str) -> int:
        n = lexicon.counts.get(w, 0)
        return n + extra.get(w, 0) if extra is not None else n

    names = lexicon.names
    if word in names:
        return 0, word
    whole = seen(word)
    for prefix in PROCLITICS:
        if not word.startswith(prefix):
            continue
        rest = word[len(prefix) :]
        if len(rest) < _MIN_STEM:
            continue
        stem = "ال" + rest if prefix.endswith("لل") else rest
        if stem in names or seen(stem) > whole:
            return len(prefix), stem
        if whole == 0 and stem.startswith("ال") and len(stem) >= _MIN_UNSEEN_ARTICLE_STEM:
            return len(prefix), stem
    return 0, word
