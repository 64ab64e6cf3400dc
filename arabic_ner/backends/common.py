"""What the optional backends share: labels mapped to ours, the words they read, the lexicon.

Each tool names its entity types its own way and may use BIOES rather than BIO;
:func:`to_bio` turns a label of theirs into one of ours (``PERS``, ``LOC``, ``ORG``,
``MISC``), or ``O`` when there is no counterpart. Every backend gets the words of our
tokens in the same form (:func:`tool_words`), and the shipped model's lexicon
(:func:`default_lexicon`), so that an entity starting with a proclitic (``وموسكو``)
is cut the same way whatever tagged it.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

from arabic_ner.clitics import Lexicon
from arabic_ner.model import default_model_path, read_lexicon
from arabic_ner.tokenize import Token
from arabic_ner.transformer import word_form

__all__ = ["TYPES", "default_lexicon", "to_bio", "tool_words"]

TYPES = {
    "PERS": "PERS",
    "PER": "PERS",
    "PERSON": "PERS",
    "LOC": "LOC",
    "LOCATION": "LOC",
    "GPE": "LOC",
    "ORG": "ORG",
    "ORGANIZATION": "ORG",
    "MISC": "MISC",
}
"""A tool's entity type → ours. Any other type (``DATE``, ``NORP``, ``FAC``...) becomes
``O``: dates, times and numbers come from this project's rules, and the rest has no
counterpart among the name types."""

_PREFIXES = {"B": "B", "I": "I", "S": "B", "E": "I"}  # BIOES: S- begins, E- continues


def to_bio(label: str) -> str:
    """Return the BIO label of ours for a tool's BIO or BIOES ``label`` (``O`` if none).

    >>> [to_bio(x) for x in ["S-PER", "B-LOC", "E-LOC", "I-PERS", "B-DATE", "O", "X"]]
    ['B-PERS', 'B-LOC', 'I-LOC', 'I-PERS', 'O', 'O', 'O']
    """
    prefix, _, kind = label.partition("-")
    position = _PREFIXES.get(prefix)
    ours = TYPES.get(kind.upper())
    if position is None or ours is None:
        return "O"
    return f"{position}-{ours}"


def tool_words(sentence: Sequence[Token]) -> list[str]:
    """The words of a sentence as a tool reads them: the original text less diacritics,
    tatweel and controls (:func:`~arabic_ner.transformer.word_form`: what BERT and Stanza
    models were trained on), with presentation forms and ligatures unfolded (NFKC) unless
    that makes several words; the original text where nothing else is left.

    >>> from arabic_ner.tokenize import tokenize
    >>> tool_words(tokenize("وصل بـوتينُ ﻻ ﷺ"))
    ['وصل', 'بوتين', 'لا', 'ﷺ']
    """
    return [_tool_word(t) for t in sentence]


def _tool_word(token: Token) -> str:
    form = word_form(token) or token.text
    folded = unicodedata.normalize("NFKC", form)
    return form if not folded or any(c.isspace() for c in folded) else folded


@functools.cache
def default_lexicon() -> Lexicon:
    """The shipped model's lexicon (read once per process), for proclitic splits."""
    return read_lexicon(default_model_path() / "lexicon.tsv")
