"""Normalize Arabic text without losing the way back to the original.

``normalize(text)`` returns a :class:`Normalized`: the normalized string and an
:class:`Alignment` that maps any span of it back to the caller's original string. Every
later stage works on the normalized text and reports offsets through the alignment, so an
entity found in ``"بوتينُ"`` or ``"ﺑﻮﺗﻴﻦ"`` points at the caller's characters.

The fixes, each switchable in :class:`NormalizeConfig`:

- one-to-one letter folds (alef forms, alef maksura, teh marbuta, hamza carriers, Persian
  and Urdu letters, Arabic-Indic digits), applied with ``str.translate`` to the runs of
  characters they fold: they keep the length, so they never move an offset;
- deletions (diacritics, tatweel, zero-width and bidi controls, a stray ``&`` glued to an
  Arabic word as in ``&من``) and replacements of another length (HTML entities such as
  ``&quot;``, presentation-form ligatures such as ``ﻻ`` → ``لا``): found with one regular
  expression and recorded piece by piece in the alignment.

The character tables are data: ``resources/charmap.json``, rebuilt by
``scripts/build_charmap.py``.
"""

from __future__ import annotations

import html.entities
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import regex

from arabic_ner.errors import check_text

__all__ = ["Alignment", "NormalizeConfig", "Normalized", "normalize", "normalize_word"]


@dataclass(frozen=True, slots=True)
class NormalizeConfig:
    """Which fixes :func:`normalize` applies. The defaults suit NER on news text.

    Attributes:
        diacritics: remove harakat, tanween, shadda, sukun, dagger alef, Quranic marks.
        tatweel: remove tatweel (kashida), the letter-stretching ``ـ``.
        alef: fold ``أ إ آ ٱ`` to bare ``ا``.
        alef_maksura: fold ``ى`` to ``ي`` (news text uses them interchangeably).
        teh_marbuta: fold ``ة`` to ``ه``. Off by default: ``ة`` is a useful signal.
        hamza_carriers: fold ``ؤ`` to ``و`` and ``ئ`` to ``ي``. Off by default.
        persian_letters: fold Persian, Urdu and Maghrebi letters (``ک ی پ ڤ`` ...) to Arabic.
        digits: Arabic-Indic and Persian digits to ASCII, Arabic decimal/thousands/percent signs
            to ``. , %``.
        presentation_forms: unfold presentation forms and one-word ligatures (``ﻻ``, ``ﷲ``)
            to letters; ligatures of several words (``ﷺ``) are left as they are.
        format_chars: remove zero-width and bidirectional control characters.
        html: decode HTML entities (``&amp;``, ``&#1576;``) and drop a stray ``&`` glued to
            the start of an Arabic word (``&من`` → ``من``).
    """

    diacritics: bool = True
    tatweel: bool = True
    alef: bool = True
    alef_maksura: bool = True
    teh_marbuta: bool = False
    hamza_carriers: bool = False
    persian_letters: bool = True
    digits: bool = True
    presentation_forms: bool = True
    format_chars: bool = True
    html: bool = True


DEFAULT_CONFIG = NormalizeConfig()


@dataclass(frozen=True, slots=True)
class Alignment:
    """A piecewise map from normalized character offsets to original ones.

    Piece ``k`` covers normalized ``[norm_starts[k], norm_starts[k + 1])`` and came from
    original ``[orig_starts[k], orig_ends[k])``. A *copied* piece maps character by
    character; a replaced piece (an HTML entity, a ligature) maps as a whole, so a span
    that touches it covers all of it. Deleted original characters belong to no piece.
    """

    norm_starts: tuple[int, ...]
    orig_starts: tuple[int, ...]
    orig_ends: tuple[int, ...]
    copied: tuple[bool, ...]
    original_length: int

    @property
    def is_identity(self) -> bool:
        """True when nothing changed length: offsets are the same in both strings."""
        return (
            len(self.copied) == 1
            and self.copied[0]
            and self.orig_starts[0] == 0
            and self.orig_ends[0] == self.original_length
        )

    def char_source(self, index: int) -> tuple[int, int]:
        """Return the original span that normalized character ``index`` came from."""
        k = bisect_right(self.norm_starts, index) - 1
        if self.copied[k]:
            start = self.orig_starts[k] + index - self.norm_starts[k]
            return start, start + 1
        return self.orig_starts[k], self.orig_ends[k]


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalized string, the original it came from, and the alignment between them.

    >>> n = normalize("قالَ بـوتين")
    >>> n.text
    'قال بوتين'
    >>> start, end = n.to_original(4, 9)
    >>> n.original[start:end]
    'بـوتين'
    """

    text: str
    original: str
    alignment: Alignment

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalized span ``[start, end)`` to the original string.

        The span grows to cover whole replaced pieces, and at its end takes in the
        diacritics and tatweel that followed its last letter, so ``"بوتينُ"`` stays whole.
        """
        if self.alignment.is_identity:
            return start, end
        if start >= end:
            at = (
                self.alignment.char_source(start)[0]
                if start < len(self.text)
                else len(self.original)
            )
            return at, at
        return next(self.spans_to_original([(start, end)]))

    def spans_to_original(self, spans: Iterable[tuple[int, int]]) -> Iterator[tuple[int, int]]:
        """Map sorted, non-overlapping normalized spans, as :meth:`to_original` does each.

        One walk along the alignment instead of a search per span: this is how the
        tokenizer places every token.

        >>> n = normalize("قالَ بـوتين")
        >>> list(n.spans_to_original([(0, 3), (4, 9)]))
        [(0, 4), (5, 11)]
        """
        if self.alignment.is_identity:
            yield from spans
            return
        alignment = self.alignment
        norm_starts, orig_starts = alignment.norm_starts, alignment.orig_starts
        orig_ends, copied = alignment.orig_ends, alignment.copied
        last = len(norm_starts) - 1
        k = 0

        def source(index: int) -> tuple[int, int]:
            nonlocal k
            while k < last and norm_starts[k + 1] <= index:
                k += 1
            if copied[k]:
                start = orig_starts[k] + index - norm_starts[k]
                return start, start + 1
            return orig_starts[k], orig_ends[k]

        size, original = len(self.text), self.original
        for start, end in spans:
            while k < last and norm_starts[k + 1] <= start:
                k += 1
            if copied[k] and end < (norm_starts[k + 1] if k < last else size):
                # The span and the character after it lie in one copied piece: a shift.
                shift = orig_starts[k] - norm_starts[k]
                yield start + shift, end + shift
                continue
            orig_start = source(start)[0]
            orig_end = source(end - 1)[1]
            limit = source(end)[0] if end < size else len(original)
            if orig_end < limit:
                match = _TRAILING_MARKS.match(original, orig_end, limit)
                if match is not None:
                    orig_end = match.end()
            yield orig_start, orig_end


_TRAILING_MARKS = regex.compile(r"[\p{M}\u0640]*")
_ONE_WORD = regex.compile(r"[\p{L}\p{M}]+")


@lru_cache(maxsize=1)
def _charmap() -> dict[str, list[dict[str, str]]]:
    raw = resources.files("arabic_ner").joinpath("resources/charmap.json").read_text("utf-8")
    table: dict[str, list[dict[str, str]]] = json.loads(raw)
    return table


def _chars(code_points: str) -> str:
    return "".join(chr(int(cp[2:], 16)) for cp in code_points.split())


def _mapping(group: str) -> dict[str, str]:
    return {_chars(e["from"]): _chars(e["to"]) for e in _charmap()[group]}


def _char_set(group: str) -> set[str]:
    return {_chars(e["char"]) for e in _charmap()[group]}


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one configuration does, compiled once."""

    table: dict[int, str]  # one-to-one folds, for str.translate
    # Runs of characters that ``table`` folds. ``str.translate`` looks every character up
    # in the dict, 55 ns each; most characters of Arabic text are not folded (24 of the
    # sample article's 2,000, 2.6% of ANERcorp's), so translating only the runs found by
    # ``re`` is 5 to 9 times faster there, and as fast where every character is folded.
    folded: re.Pattern[str] | None
    deleted: frozenset[str]
    expansions: dict[str, str]  # single characters replaced by another length
    # Finds everything that changes length. The standard library's ``re``, with the
    # character classes as ranges: ``regex`` took 360 µs to scan the 2,000-character
    # sample article for this pattern (it tests each position against each class), ``re``
    # 75 (850 and 315 µs with a diacritic after every letter). A stray ``&`` matches here
    # whatever follows it; ``_changes`` keeps it only before an Arabic letter.
    pattern: re.Pattern[str] | None
    # The characters a match of ``pattern`` can start with: ``re`` finds the first one
    # fast, and most texts have none and skip the pattern.
    starts: re.Pattern[str] | None


@lru_cache(maxsize=16)
def _plan(config: NormalizeConfig) -> _Plan:
    folds: dict[str, str] = {}
    for flag, group in (
        (config.alef, "alef_forms"),
        (config.alef_maksura, "alef_maksura"),
        (config.teh_marbuta, "teh_marbuta"),
        (config.hamza_carriers, "hamza_carriers"),
        (config.persian_letters, "persian_letters"),
        (config.digits, "digits"),
    ):
        if flag:
            folds.update(_mapping(group))
    deleted: set[str] = set()
    if config.diacritics:
        deleted |= _char_set("diacritics")
    if config.tatweel:
        deleted |= _char_set("tatweel")
    if config.format_chars:
        deleted |= _char_set("format_chars")

    def finish(piece: str) -> str:
        return "".join(folds.get(c, c) for c in piece if c not in deleted)

    expansions: dict[str, str] = {}
    if config.presentation_forms:
        for src, dst in _mapping("presentation_forms").items():
            done = finish(dst)
            if not done:
                deleted.add(src)
            elif len(done) == 1:
                folds[src] = done
            elif _ONE_WORD.fullmatch(done):
                expansions[src] = done
            # else: a ligature of several words (ﷺ, ﷻ) stays one character, so that one
            # original character never becomes several tokens sharing one span.
    alternatives = []
    if config.html:
        alternatives.append(
            r"(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
        )
        alternatives.append(r"(?P<stray>&)")  # kept only before an Arabic letter
    if deleted:
        alternatives.append("(?P<deleted>[" + _class(deleted) + "]+)")
    if expansions:
        alternatives.append("(?P<expanded>[" + _class(set(expansions)) + "])")
    pattern = re.compile("|".join(alternatives)) if alternatives else None
    first = deleted | set(expansions) | ({"&"} if config.html else set())
    starts = re.compile("[" + _class(first) + "]") if first else None
    return _Plan(
        table={ord(k): v for k, v in folds.items()},
        folded=re.compile("[" + _class(set(folds)) + "]+") if folds else None,
        deleted=frozenset(deleted),
        expansions=expansions,
        pattern=pattern,
        starts=starts,
    )


def _class(chars: set[str]) -> str:
    r"""The inside of a character class for ``chars``, runs of code points as ranges.

    >>> print(_class({"a", "b", "c", "e"}))
    \U00000061-\U00000063\U00000065
    """
    points = sorted(map(ord, chars))
    runs: list[list[int]] = []
    for point in points:
        if runs and runs[-1][1] == point - 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return "".join(
        f"\\U{first:08x}" + (f"-\\U{last:08x}" if last > first else "") for first, last in runs
    )


def _fold(plan: _Plan, text: str) -> str:
    """``text.translate(plan.table)``, translating only the runs of folded characters."""
    if plan.folded is None:
        return text
    table = plan.table
    return plan.folded.sub(lambda run: run.group().translate(table), text)


_ARABIC = regex.compile(r"\p{Arabic}")


def _changes(plan: _Plan, text: str) -> Iterator[re.Match[str]]:
    """The matches of ``plan.pattern`` in ``text``, less a stray ``&`` not before Arabic."""
    assert plan.pattern is not None
    for match in plan.pattern.finditer(text):
        if match.lastgroup != "stray" or _ARABIC.match(text, match.end()):
            yield match


def _decode_entity(entity: str) -> str | None:
    """Return what an HTML entity stands for, or None if it is not one."""
    body = entity[1:-1]
    if body[0] == "#":
        code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None
        return chr(code)
    return html.entities.html5.get(body + ";")


def normalize(text: str, config: NormalizeConfig | None = None) -> Normalized:
    """Normalize ``text`` and keep an exact alignment back to it.

    >>> normalize("أعلنَ الكرملين").text
    'اعلن الكرملين'
    >>> normalize("ﻻ &quot;داعش&quot; &من ٢٠١٥").text
    'لا "داعش" من 2015'
    """
    check_text(text)
    plan = _plan(config or DEFAULT_CONFIG)
    if plan.starts is None or plan.starts.search(text) is None:
        identity = Alignment((0,), (0,), (len(text),), (True,), len(text))
        return Normalized(_fold(plan, text), text, identity)

    pieces: list[str] = []
    norm_starts: list[int] = []
    orig_starts: list[int] = []
    orig_ends: list[int] = []
    copied: list[bool] = []
    length = 0  # length of the normalized text so far

    def add(piece: str, start: int, end: int, is_copy: bool) -> None:
        nonlocal length
        if not piece:
            return
        if is_copy and copied and copied[-1] and orig_ends[-1] == start:
            orig_ends[-1] = end  # extend the previous copied piece
        else:
            norm_starts.append(length)
            orig_starts.append(start)
            orig_ends.append(end)
            copied.append(is_copy)
        pieces.append(piece)
        length += len(piece)

    position = 0
    for match in _changes(plan, text):
        start, end = match.span()
        kind = match.lastgroup
        if kind == "entity":
            decoded = _decode_entity(match.group())
            if decoded is None:
                continue  # not an entity: copied with the text around it
            replacement = "".join(c for c in decoded if c not in plan.deleted)
            replacement = "".join(plan.expansions.get(c, c) for c in replacement)
            if len(replacement) > 1 and not (
                _ONE_WORD.fullmatch(replacement) or replacement.isspace()
            ):
                # A sign and a combining mark (&NotEqualTilde; is U+2242 U+0338) would be
                # two tokens sharing the entity's one span: left as it is, as ligatures
                # of several words are.
                continue
        elif kind == "expanded":
            replacement = plan.expansions[match.group()]
        else:  # deleted characters or a stray "&"
            replacement = ""
        add(text[position:start], position, start, True)
        add(replacement, start, end, False)
        position = end
    add(text[position:], position, len(text), True)
    alignment = Alignment(
        tuple(norm_starts), tuple(orig_starts), tuple(orig_ends), tuple(copied), len(text)
    )
    return Normalized(_fold(plan, "".join(pieces)), text, alignment)


def normalize_word(word: str, config: NormalizeConfig | None = None) -> str:
    """Return the normalized form of a short string, without an alignment.

    Use it for dictionary keys (gazetteers, alias tables) so that they match what the
    tagger sees.

    >>> normalize_word("إسطنبول")
    'اسطنبول'
    """
    return normalize(word, config).text
