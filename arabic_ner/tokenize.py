"""Split text into tokens and sentences, each token placed exactly in the original string.

Tokens are found on the normalized text (so ``بـوتين`` is one word) and mapped back
through the alignment, so ``text[t.start:t.end] == t.text`` for every token. The rules:

- an Arabic word is a run of Arabic-script letters and marks (``\\p{scx=Arabic}`` keeps
  harakat and tatweel, which ``\\p{Arabic}`` drops), never Arabic punctuation;
- a number is a run of digits with inner ``.`` or ``,`` (``2015``, ``3.5``, ``1,200``);
- a word in another script (``Putin``, ``ISIS``) is its own token;
- anything else that is not a space is a one-character punctuation token.

A sentence ends after ``. ! ? ؟ …``, at a line break, or after
:data:`MAX_SENTENCE_TOKENS` tokens (so one 50 MB line cannot make one endless sequence).
Attached proclitics (``و`` ``ب`` ...) stay inside the word here; ``clitics.py`` splits them.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum
from typing import NamedTuple

import regex

from arabic_ner.normalize import NormalizeConfig, Normalized, normalize

__all__ = [
    "MAX_SENTENCE_TOKENS",
    "Token",
    "TokenKind",
    "sentences",
    "token_kind",
    "tokenize",
    "tokens_of",
]

MAX_SENTENCE_TOKENS = 200


class TokenKind(str, Enum):
    """What a token is made of."""

    WORD = "WORD"  # Arabic-script word
    NUMBER = "NUMBER"
    FOREIGN = "FOREIGN"  # word in another script
    PUNCT = "PUNCT"

    def __str__(self) -> str:
        return self.value


class Token(NamedTuple):
    """A token: its original surface and offsets, and its normalized form and offsets.

    ``start``/``end`` are end-exclusive offsets into the caller's original string;
    ``norm_start``/``norm_end`` into the normalized text it was found in.

    A named tuple rather than a frozen dataclass (the project's habit for data): a text
    has one per word, and a tuple is built three times faster, which was a tenth of the
    whole pipeline's time. It is just as immutable.
    """

    text: str
    start: int
    end: int
    norm: str
    norm_start: int
    norm_end: int
    kind: TokenKind

    def __repr__(self) -> str:
        return f"Token({self.text!r}, {self.start}, {self.end}, {self.kind.value})"


_TOKEN = regex.compile(
    r"(?V1)"
    r"(?P<WORD>[\p{scx=Arabic}&&[\p{L}\p{M}]]+)"
    r"|(?P<NUMBER>\p{Nd}+(?:[.,]\p{Nd}+)*)"
    r"|(?P<FOREIGN>[[\p{L}\p{M}]--[\p{scx=Arabic}]]+(?:['’-][[\p{L}\p{M}]--[\p{scx=Arabic}]]+)*)"
    r"|(?P<PUNCT>\S)"
)
_KINDS: dict[str | None, TokenKind] = {kind.value: kind for kind in TokenKind}
_new_tuple = tuple.__new__
_SENTENCE_END = frozenset(".!?؟…۔")


def tokens_of(normalized: Normalized) -> Iterator[Token]:
    """Yield the tokens of already-normalized text, with offsets into its original.

    >>> from arabic_ner.normalize import normalize
    >>> [t.text for t in tokens_of(normalize("قالَ بوتين: 30%"))]
    ['قالَ', 'بوتين', ':', '30', '%']
    """
    matches = list(_TOKEN.finditer(normalized.text))
    spans = [m.span() for m in matches]
    original = normalized.original
    places = normalized.spans_to_original(spans)
    for match, (norm_start, norm_end), (start, end) in zip(matches, spans, places, strict=True):
        # tuple.__new__ is what Token(...) calls, less a Python-level frame per token.
        yield _new_tuple(
            Token,
            (
                original[start:end],
                start,
                end,
                match.group(),
                norm_start,
                norm_end,
                _KINDS[match.lastgroup],
            ),
        )


def tokenize(text: str, config: NormalizeConfig | None = None) -> list[Token]:
    """Return the tokens of ``text`` with offsets into ``text``.

    >>> [(t.text, t.start, t.end) for t in tokenize("وموسكو، ٢٠١٥")]
    [('وموسكو', 0, 6), ('،', 6, 7), ('٢٠١٥', 8, 12)]
    """
    return list(tokens_of(normalize(text, config)))


def sentences(tokens: list[Token], text: str) -> Iterator[list[Token]]:
    """Group tokens of ``text`` into sentences.

    >>> text = "وصل بوتين. غادر بيسكوف\\nثم عاد"
    >>> [[t.text for t in s] for s in sentences(tokenize(text), text)]
    [['وصل', 'بوتين', '.'], ['غادر', 'بيسكوف'], ['ثم', 'عاد']]
    """
    current: list[Token] = []
    previous_end = 0
    for token in tokens:
        if current and (
            "\n" in text[previous_end : token.start] or len(current) >= MAX_SENTENCE_TOKENS
        ):
            yield current
            current = []
        current.append(token)
        previous_end = token.end
        if token.kind is TokenKind.PUNCT and token.norm in _SENTENCE_END:
            yield current
            current = []
    if current:
        yield current


def token_kind(word: str) -> TokenKind:
    """Return the kind of a pre-tokenized word (as read from a CoNLL file): its first piece's.

    >>> [str(token_kind(w)) for w in ("موسكو", "2002-2003", "ISIS", "_")]
    ['WORD', 'NUMBER', 'FOREIGN', 'PUNCT']
    """
    match = _TOKEN.match(word)
    if match is None or match.lastgroup is None:
        return TokenKind.PUNCT
    return _KINDS[match.lastgroup]
