"""Find dates, times, numbers, amounts of money and percentages, with machine-readable values.

:func:`rule_entities` scans the tokens of a normalized text once. Most tokens cost one dict
lookup: only a token that can start an entity (a number, a month or weekday name, a number
word, a trigger word such as ``عام`` or ``الساعة``, a currency sign or ``%``) is looked at
more closely, by trying the patterns that can start there. Of the matches found at one
token the longest wins (``30 ايلول/سبتمبر 2015`` is one DATE, not a DATE and a NUM; on a
tie DATE beats TIME beats MONEY, PERCENT and NUM), and scanning resumes after it, so
entities never overlap.

The word tables are data: ``resources/calendar.json``, rebuilt by
``scripts/build_calendar.py`` from CLDR (month, weekday and currency names) and hand lists
(Hijri months, number, time and percent words), all in normalized form.

What is recognised, and the choices made where the text is ambiguous:

- **DATE**: ``[day] month[/month] [year [marker]]`` with Gregorian, Levantine, Maghrebi and
  Hijri month names (``30 ايلول/سبتمبر``, ``ايار/مايو 2015``, ``1 رمضان 1437 هـ``, also
  ``ايار (مايو)``); a trigger word and a year (``عام 2015``, ``العام 2015``, ``سنة 1437 هـ``:
  the trigger word is part of the DATE); a year with an explicit calendar marker
  (``1437 هـ``, ``2015 ميلادي``; a bare ``م`` only follows a year inside a longer date,
  since ``100 م`` is usually metres); numeric dates ``2015/05/30``, ``30/5/2015``,
  ``30-05-2015``, ``30.05.2015`` (day first unless the year comes first; a date that
  cannot exist is not a DATE); weekdays (``الخميس``, ``يوم الاثنين``, the word ``يوم``
  included), merged with a date that follows (``الخميس 30 سبتمبر``).
  Month names that are also common words or names (``اب`` father, ``مارس`` practised,
  ``ماي``, ``جوان``, ``غشت``, ``نيسان`` Nissan, ``صفر`` zero, ``محرم`` forbidden, and the
  given names ``رجب``, ``شعبان``, ``رمضان``) are months only next to a day number, a year,
  the other name of a double form (``آب/أغسطس``) or after ``شهر`` (``شهر رمضان``, ``شهر``
  included); the others (``سبتمبر``, ``حزيران``, ``شوال``) stand alone. ``الجمعة`` is
  always Friday (its common reading in news, though it also means the Friday prayer), and
  ``الاثنين`` always Monday (not "the two"). A date without a Hijri month or marker is
  Gregorian; a weekday alone has no calendar.
- **TIME**: ``10:30``, ``الساعة 10``, ``الساعة الثالثة`` (feminine ordinals 1-12, the
  word ``الساعة`` included; ``والنصف``/``والربع``/``الا ربعا`` may follow), and a part of
  the day: ``صباحا``/``فجرا`` keep the hour; ``مساء`` adds 12 to hours below 12;
  ``ظهرا``/``عصرا``/``بعد الظهر`` add 12 to hours 1-6 only (``الحادية عشرة ظهرا`` is 11:00);
  ``ليلا`` adds 12 to hours 6-11 (``الثانية ليلا`` is 2:00). A bare number is a TIME only
  with ``:`` minutes or a part of the day (``10 صباحا``).
- **NUM**: digits (``2015``, ``1,200``, ``3.5``; a comma followed by three digits groups
  thousands, otherwise it is a decimal comma) and cardinal number words, parsed here:
  units in both genders, teens (``ثلاثة عشر``), tens, hundreds (``خمسمائة``,
  ``ثلاث مئة``), scale words (``الف``, ``الفين``, ``آلاف``, ``مليون``, ``مليار``,
  ``بليون``) joined by ``و`` (``ثلاثة آلاف وخمسمائة وعشرون`` = 3520), digits with a scale
  word (``3.5 مليون``), ``نصف مليون`` and ``مليون ونصف``. Not numbers: ordinals
  (``الاول``, ``الثالث``), ``احد``/``احدى`` alone ("one of", "anyone"; only in 11),
  ``صفر`` (also the month Safar), a plural scale word alone (``آلاف`` "thousands of"),
  cardinals with the article (``الخمسة``), and ``لست``/``لتسع`` (words, not ل + number).
- **MONEY**: an amount followed by a currency noun and optionally an adjective naming the
  country (``دولار امريكي``, ``ليرة سورية``, ``دينار كويتي``), or by or after ``$ € £``.
  Bare nouns mean ``دولار`` USD, ``يورو`` EUR, ``جنيه`` EGP, ``ريال`` SAR, ``درهم`` AED,
  ``روبل`` RUB, ``ين`` JPY, ``يوان`` CNY, ``شيكل`` ILS; a bare ``دينار``, ``ليرة``,
  ``فرنك`` or ``روبية`` names the currency of several countries and gets ``unit=None``.
- **PERCENT**: an amount followed by ``%``, ``في المئة``, ``بالمئة`` (and ``المائة``
  spellings), or ``%`` directly before digits (``%70``). ``unit`` is ``"%"``.

An entity starts after an attached proclitic (``وخمسة`` gives ``خمسة``; ``للعام 2015``
gives ``عام 2015`` with the normalized form ``العام 2015``, as names do).
"""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from arabic_ner.clitics import PROCLITICS
from arabic_ner.entities import Entity, EntityType, Value, span_entity
from arabic_ner.normalize import Normalized
from arabic_ner.tokenize import Token, TokenKind

__all__ = ["RULE_TYPES", "rule_entities"]

RULE_TYPES = frozenset(
    {EntityType.DATE, EntityType.TIME, EntityType.NUM, EntityType.MONEY, EntityType.PERCENT}
)
"""The types :func:`rule_entities` finds."""

_WORD = TokenKind.WORD
_NUMBER = TokenKind.NUMBER
_PUNCT = TokenKind.PUNCT

# Kinds of number word.
_UNIT = "unit"  # 1..9
_TEN = "ten"  # عشر، عشرة: 10 alone, or the second word of 11..19
_TEEN_ONLY = "teen_only"  # احد، احدى، اثنا ...: only before عشر/عشرة
_TENS = "tens"  # 20..90
_HUNDREDS = "hundreds"  # 100..900
_SINGULAR = "singular"  # الف، مليون: alone or after a count
_DUAL = "dual"  # الفين، مليونين
_PLURAL = "plural"  # آلاف، ملايين: only after a count
_HALF = "half"  # نصف (before a scale word)
_AND_HALF = "and_half"  # ونصف (after a scale word)
_DIGITS = "digits"


@dataclass(frozen=True, slots=True)
class _Month:
    words: tuple[str, ...]  # the name, word by word
    month: int
    calendar: str
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class _Tables:
    """The tables of ``calendar.json``, indexed for the scan."""

    heads: dict[str, tuple[int, str]]  # word as written -> (proclitic length, word)
    months: dict[str, tuple[_Month, ...]]  # first word -> names, longest first
    weekdays: dict[str, int]
    triggers: dict[str, str]  # word -> "day" | "month" | "year" | "hour"
    markers: dict[str, str]  # word after a year -> calendar
    weak_markers: frozenset[str]
    hours: dict[str, tuple[tuple[tuple[str, ...], int], ...]]  # phrases by first word
    minutes: dict[str, tuple[tuple[tuple[str, ...], int], ...]]
    day_periods: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    percent: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    numbers: dict[str, tuple[str, float]]  # word -> (kind, value)
    currency_nouns: dict[str, tuple[str, str | None]]  # form -> (noun, default code)
    currency_adjectives: dict[str, dict[str, str]]  # noun -> adjective form -> code
    signs: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Match:
    type: EntityType
    start: int  # token indexes, end-exclusive
    end: int
    value: Value


def _phrases(pairs: Any) -> dict[str, tuple[tuple[tuple[str, ...], Any], ...]]:
    """Index ``(phrase, value)`` pairs by the first word, longest phrase first."""
    out: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    for phrase, value in pairs:
        words = tuple(phrase.split())
        out.setdefault(words[0], []).append((words, value))
    return {k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in out.items()}


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    raw = resources.files("arabic_ner").joinpath("resources/calendar.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(raw)

    months: dict[str, list[_Month]] = {}
    for m in data["months"]:
        words = tuple(m["name"].split())
        entry = _Month(words, m["month"], m["calendar"], m["ambiguous"])
        months.setdefault(words[0], []).append(entry)
    month_index = {k: tuple(sorted(v, key=lambda m: -len(m.words))) for k, v in months.items()}

    nums = data["numbers"]
    numbers: dict[str, tuple[str, float]] = {}
    for word, value in nums["units"].items():
        numbers[word] = (_TEN if value == 10 else _UNIT, float(value))
    for word, value in nums["teen_only"].items():
        numbers[word] = (_TEEN_ONLY, float(value))
    for word, value in nums["tens"].items():
        numbers[word] = (_TENS, float(value))
    for word, value in nums["hundreds"].items():
        numbers[word] = (_HUNDREDS, float(value))
    for word, (value, form) in nums["scales"].items():
        numbers[word] = (form, float(value))
    for word in nums["half"]:
        numbers[word] = (_HALF, 0.5)
    for word in nums["and_half"]:
        numbers[word] = (_AND_HALF, 0.5)

    triggers = {w: kind for kind, words in data["triggers"].items() for w in words}
    weekdays: dict[str, int] = data["weekdays"]

    # Words that can start an entity, with every proclitic they may carry.
    starters = {w for w, (kind, _) in numbers.items() if kind != _AND_HALF}
    bases = set(month_index) | set(weekdays) | set(triggers) | starters
    stoplist = set(nums["stoplist"])
    heads: dict[str, tuple[int, str]] = {b: (0, b) for b in bases}
    for base in sorted(bases):
        for proclitic in PROCLITICS:
            if proclitic.endswith("لل"):
                # ل + article: ل + العام is written للعام (not for ألف, which is no article).
                if not base.startswith("ال") or base in numbers:
                    continue
                written = proclitic + base[2:]
            else:
                written = proclitic + base
            heads.setdefault(written, (len(proclitic), base))
    for word in stoplist:
        heads.pop(word, None)

    currencies = data["currencies"]
    currency_nouns = {
        form: (noun, entry["code"])
        for noun, entry in currencies["nouns"].items()
        for form in entry["forms"]
    }
    return _Tables(
        heads=heads,
        months=month_index,
        weekdays=weekdays,
        triggers=triggers,
        markers={w: cal for cal, words in data["calendar_markers"].items() for w in words},
        weak_markers=frozenset(data["weak_markers"]),
        hours=_phrases(data["hours"].items()),
        minutes=_phrases(data["minutes"].items()),
        day_periods=_phrases(data["day_periods"].items()),
        percent=_phrases((p, "%") for p in data["percent"]),
        numbers=numbers,
        currency_nouns=currency_nouns,
        currency_adjectives=currencies["adjectives"],
        signs=currencies["signs"],
    )


def rule_entities(
    normalized: Normalized,
    tokens: Sequence[Token],
    *,
    offset: int = 0,
    types: Collection[EntityType] | None = None,
) -> list[Entity]:
    """Return the DATE, TIME, NUM, MONEY and PERCENT entities of a text, with values.

    ``tokens`` are the tokens of ``normalized`` (``list(tokens_of(normalized))``), or a run
    of them such as one sentence. Offsets point into ``normalized.original``, plus
    ``offset``. The entities are sorted and never overlap; ``types`` keeps only those
    types (the entities are found as usual and then filtered, so with
    ``types={NUM}`` the year of ``مايو 2015`` is still not a NUM). See the module
    docstring for what is recognised.

    >>> from arabic_ner.normalize import normalize
    >>> from arabic_ner.tokenize import tokens_of
    >>> n = normalize("قتل خمسة جنود منذ أيار/مايو ٢٠١٥ بكلفة 3.5 مليون دولار")
    >>> for e in rule_entities(n, list(tokens_of(n))):
    ...     print(e.type, e.text, e.value.to_dict())
    NUM خمسة {'number': 5.0}
    DATE أيار/مايو ٢٠١٥ {'year': 2015, 'month': 5, 'calendar': 'gregorian'}
    MONEY 3.5 مليون دولار {'number': 3500000.0, 'unit': 'USD'}
    """
    wanted: frozenset[EntityType] | None = None
    if types is not None:
        wanted = RULE_TYPES.intersection(types)
        if not wanted:
            return []
    tables = _tables()
    found: list[Entity] = []
    i, n = 0, len(tokens)
    while i < n:
        match = _match_at(tokens, i, tables)
        if match is None:
            i += 1
            continue
        if wanted is None or match.type in wanted:
            found.append(_entity(normalized, tokens, match, offset, tables))
        i = match.end
    return found


def _entity(
    normalized: Normalized, tokens: Sequence[Token], match: _Match, offset: int, tables: _Tables
) -> Entity:
    first = tokens[match.start]
    size, stem = (
        tables.heads.get(first.norm, (0, first.norm)) if first.kind is _WORD else (0, first.norm)
    )
    return span_entity(
        normalized,
        first,
        tokens[match.end - 1],
        size,
        stem,
        match.type,
        1.0,
        offset=offset,
        value=match.value,
    )


def _match_at(tokens: Sequence[Token], i: int, tables: _Tables) -> _Match | None:
    """Return the longest entity that starts at token ``i``, or None."""
    token = tokens[i]
    if token.kind is _WORD:
        head = tables.heads.get(token.norm)
        if head is None:
            return None
        word = head[1]
    elif token.kind is _NUMBER or (
        token.kind is _PUNCT and (token.norm == "%" or token.norm in tables.signs)
    ):
        word = token.norm
    else:
        return None
    best = _date(tokens, i, word, tables)
    for candidate in (_time(tokens, i, word, tables), _amount(tokens, i, word, tables)):
        if candidate is not None and (best is None or candidate.end > best.end):
            best = candidate
    return best


# --- small readers: each looks at token j and returns what it found and where it ends ---


def _norm(tokens: Sequence[Token], j: int) -> str:
    """The normalized text of token ``j``, or "" past the end."""
    return tokens[j].norm if j < len(tokens) else ""


def _adjacent(tokens: Sequence[Token], j: int) -> bool:
    """True when token ``j`` ends where token ``j + 1`` starts (no space between)."""
    return j + 1 < len(tokens) and tokens[j].norm_end == tokens[j + 1].norm_start


def _integer(tokens: Sequence[Token], j: int, max_digits: int) -> int | None:
    """The value of token ``j`` if it is a plain integer of at most ``max_digits`` digits."""
    if j >= len(tokens) or tokens[j].kind is not _NUMBER:
        return None
    text = tokens[j].norm
    if len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def _year(tokens: Sequence[Token], j: int) -> int | None:
    """A year: a plain integer of 3 or 4 digits."""
    value = _integer(tokens, j, 4)
    return value if value is not None and len(tokens[j].norm) >= 3 else None


def _day(tokens: Sequence[Token], j: int) -> int | None:
    value = _integer(tokens, j, 2)
    return value if value is not None and 1 <= value <= 31 else None


def _phrase(
    tokens: Sequence[Token],
    j: int,
    index: Mapping[str, tuple[tuple[tuple[str, ...], Any], ...]],
    first: str | None = None,
) -> tuple[int, Any] | None:
    """Match a phrase of ``index`` at token ``j`` (its first word may be given)."""
    if j >= len(tokens):
        return None
    options = index.get(tokens[j].norm if first is None else first)
    if options is None:
        return None
    for words, value in options:
        end = j + len(words)
        if end <= len(tokens) and all(tokens[j + k].norm == words[k] for k in range(1, len(words))):
            return end, value
    return None


def _month(
    tokens: Sequence[Token], j: int, tables: _Tables, first: str | None = None
) -> tuple[int, _Month, bool] | None:
    """A month name at token ``j``, with its other name after ``/`` or in parentheses.

    Returns ``(end, month, double)``; ``double`` is True when the second name was read.
    """
    if j >= len(tokens):
        return None
    names = tables.months.get(tokens[j].norm if first is None else first)
    if names is None:
        return None
    for name in names:
        end = j + len(name.words)
        if end <= len(tokens) and all(
            tokens[j + k].norm == name.words[k] for k in range(1, len(name.words))
        ):
            break
    else:
        return None
    separator = _norm(tokens, end)
    if separator in ("/", "(", "-") and end + 1 < len(tokens):
        second = _month(tokens, end + 1, tables)
        if second is not None and second[1].month == name.month and not second[2]:
            after = second[0]
            if separator != "(":
                return after, name, True
            if _norm(tokens, after) == ")":
                return after + 1, name, True
    return end, name, False


def _marker(tokens: Sequence[Token], j: int, tables: _Tables, *, weak: bool) -> str | None:
    """The calendar named by a marker after a year (``هـ``, ``ميلادي``; ``م`` if ``weak``)."""
    word = _norm(tokens, j)
    if not weak and word in tables.weak_markers:
        return None
    return tables.markers.get(word)


# --- DATE ---


def _date(tokens: Sequence[Token], i: int, word: str, tables: _Tables) -> _Match | None:
    token = tokens[i]
    if token.kind is _NUMBER:
        return _numeric_date(tokens, i, tables) or _day_month(tokens, i, i, tables, None)
    if token.kind is not _WORD:
        return None
    trigger = tables.triggers.get(word)
    if trigger == "year":
        return _year_date(tokens, i, i + 1, tables)
    if trigger == "month":
        return _month_date(tokens, i, i + 1, tables, None, licensed=True)
    if trigger == "day":
        weekday = tables.weekdays.get(_norm(tokens, i + 1))
        if weekday is not None:
            return _weekday_date(tokens, i, i + 1, weekday, tables)
        return _day_month(tokens, i, i + 1, tables, None)
    weekday = tables.weekdays.get(word)
    if weekday is not None:
        return _weekday_date(tokens, i, i, weekday, tables)
    if word in tables.months:
        return _month_date(tokens, i, i, tables, word, licensed=False)
    return None


def _weekday_date(tokens: Sequence[Token], i: int, j: int, weekday: int, tables: _Tables) -> _Match:
    """A weekday at ``j``, merged with a day-month date right after it (or after a comma)."""
    after = j + 1
    if _norm(tokens, after) in ("،", ","):
        after += 1
    dated = _day_month(tokens, i, after, tables, weekday)
    return dated or _Match(EntityType.DATE, i, j + 1, Value(weekday=weekday))


def _day_month(
    tokens: Sequence[Token], i: int, j: int, tables: _Tables, weekday: int | None
) -> _Match | None:
    """``day month [year [marker]]`` with the day at token ``j``."""
    day = _day(tokens, j)
    if day is None or j + 1 >= len(tokens) or tokens[j + 1].kind is not _WORD:
        return None
    found = _month(tokens, j + 1, tables)
    if found is None:
        return None
    end, name, _ = found
    return _with_year(tokens, i, end, tables, name, day=day, weekday=weekday)


def _month_date(
    tokens: Sequence[Token], i: int, j: int, tables: _Tables, first: str | None, *, licensed: bool
) -> _Match | None:
    """``month [year [marker]]`` with the month at token ``j`` (``first``: its stem)."""
    found = _month(tokens, j, tables, first)
    if found is None:
        return None
    end, name, double = found
    match = _with_year(tokens, i, end, tables, name, day=None, weekday=None)
    if name.ambiguous and not (licensed or double or match.value.year is not None):
        return None
    return match


def _with_year(
    tokens: Sequence[Token],
    i: int,
    end: int,
    tables: _Tables,
    name: _Month,
    *,
    day: int | None,
    weekday: int | None,
) -> _Match:
    """Finish a date whose month ends before token ``end``: read a year and a marker."""
    year = _year(tokens, end)
    if year is not None:
        end += 1
        marker = _marker(tokens, end, tables, weak=True)
        if marker == name.calendar:
            end += 1
    value = Value(year=year, month=name.month, day=day, weekday=weekday, calendar=name.calendar)
    return _Match(EntityType.DATE, i, end, value)


def _year_date(tokens: Sequence[Token], i: int, j: int, tables: _Tables) -> _Match | None:
    """``عام 2015``, ``سنة 1437 هـ``: a trigger word and a year at ``j``."""
    year = _year(tokens, j)
    if year is None:
        return None
    end = j + 1
    calendar = _marker(tokens, end, tables, weak=True)
    if calendar is not None:
        end += 1
    value = Value(year=year, calendar=calendar or "gregorian")
    return _Match(EntityType.DATE, i, end, value)


def _numeric_date(tokens: Sequence[Token], i: int, tables: _Tables) -> _Match | None:
    """``2015/05/30``, ``30/5/2015``, ``30-05-2015``, ``30.05.2015``; or ``1437 هـ``."""
    text = tokens[i].norm
    if text.count(".") == 2:
        parts, end = text.split("."), i + 1
    elif (
        i + 4 < len(tokens)
        and tokens[i + 1].norm in ("/", "-")
        and tokens[i + 3].norm == tokens[i + 1].norm
        and all(_adjacent(tokens, k) for k in range(i, i + 4))
    ):
        parts, end = [text, tokens[i + 2].norm, tokens[i + 4].norm], i + 5
    else:
        year = _year(tokens, i)
        calendar = _marker(tokens, i + 1, tables, weak=False) if year is not None else None
        if calendar is None:
            return None
        return _Match(EntityType.DATE, i, i + 2, Value(year=year, calendar=calendar))
    if not all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        return None
    if len(parts[0]) == 4:
        year, month, day = int(parts[0]), int(parts[1]), int(parts[2])
    elif len(parts[2]) == 4 and len(parts[0]) <= 2 and len(parts[1]) <= 2:
        day, month, year = int(parts[0]), int(parts[1]), int(parts[2])
    else:
        return None
    calendar = _marker(tokens, end, tables, weak=True) or "gregorian"
    if calendar == "hijri":
        if not (1 <= month <= 12 and 1 <= day <= 30):
            return None
        end += 1
    else:
        try:
            datetime.date(year, month, day)
        except ValueError:
            return None
        if _marker(tokens, end, tables, weak=True):
            end += 1
    return _Match(
        EntityType.DATE, i, end, Value(year=year, month=month, day=day, calendar=calendar)
    )


# --- TIME ---


def _time(tokens: Sequence[Token], i: int, word: str, tables: _Tables) -> _Match | None:
    triggered = tokens[i].kind is _WORD and tables.triggers.get(word) == "hour"
    j = i + 1 if triggered else i
    minute: int | None = None
    hour = _integer(tokens, j, 2)
    if hour is not None:
        end = j + 1
        if (
            _norm(tokens, end) == ":"
            and _adjacent(tokens, j)
            and _adjacent(tokens, end)
            and len(_norm(tokens, end + 1)) == 2
        ):
            minute = _integer(tokens, end + 1, 2)
            if minute is not None:
                end += 2
    elif triggered:
        found = _phrase(tokens, j, tables.hours)
        if found is None:
            return None
        end, hour = found[0], int(found[1])
    else:
        return None
    if triggered and minute is None:  # not after a bare number: 3 ونصف is a quantity
        quarter = _phrase(tokens, end, tables.minutes)
        if quarter is not None:
            end, minutes = quarter
            if minutes < 0:
                hour, minute = (hour - 1) or 12, 60 + minutes
            else:
                minute = minutes
    period = None
    found_period = _phrase(tokens, end, tables.day_periods)
    # ص and م (am, pm) also abbreviate other words: read them only in a sure time.
    if found_period is not None and (
        triggered or minute is not None or len(_norm(tokens, end)) > 1
    ):
        end, period = found_period
    if not triggered and minute is None and period is None:
        return None  # a bare number
    if hour > 24 or (minute is not None and minute > 59):
        return None
    if not triggered and minute is None and not 1 <= hour <= 12:
        return None  # "15 صباحا"
    value = Value(hour=_with_period(hour, period), minute=minute)
    return _Match(EntityType.TIME, i, end, value)


def _with_period(hour: int, period: str | None) -> int:
    """The hour on a 24-hour clock, given the part of the day named after it."""
    if period == "pm" and hour < 12:
        return hour + 12
    if period == "noon" and 1 <= hour <= 6:
        return hour + 12
    if period == "night" and 6 <= hour < 12:
        return hour + 12
    return hour


# --- NUM, MONEY, PERCENT ---


def _amount(tokens: Sequence[Token], i: int, word: str, tables: _Tables) -> _Match | None:
    token = tokens[i]
    if token.kind is _PUNCT:
        return _sign_first(tokens, i, tables)
    found = _number(tokens, i, word, tables)
    if found is None:
        return None
    end, number = found
    currency = _currency(tokens, end, tables)
    if currency is not None:
        end, code = currency
        return _Match(EntityType.MONEY, i, end, Value(number=number, unit=code))
    sign = tables.signs.get(_norm(tokens, end))
    if sign is not None:
        return _Match(EntityType.MONEY, i, end + 1, Value(number=number, unit=sign))
    percent = _phrase(tokens, end, tables.percent)
    if percent is not None:
        return _Match(EntityType.PERCENT, i, percent[0], Value(number=number, unit="%"))
    return _Match(EntityType.NUM, i, end, Value(number=number))


def _sign_first(tokens: Sequence[Token], i: int, tables: _Tables) -> _Match | None:
    """``$5``, ``€ 3 مليارات``; ``%70`` (the sign right before the digits)."""
    j = i + 1
    if j >= len(tokens) or tokens[j].kind is not _NUMBER:
        return None
    sign = tokens[i].norm
    if sign == "%":
        value = _digits_value(tokens[j].norm)
        if value is None or not _adjacent(tokens, i):
            return None
        return _Match(EntityType.PERCENT, i, j + 1, Value(number=value, unit="%"))
    found = _number(tokens, j, tokens[j].norm, tables)
    if found is None:
        return None
    return _Match(EntityType.MONEY, i, found[0], Value(number=found[1], unit=tables.signs[sign]))


def _currency(tokens: Sequence[Token], j: int, tables: _Tables) -> tuple[int, str | None] | None:
    """A currency noun at ``j``, and the adjective naming its country if one follows."""
    found = tables.currency_nouns.get(_norm(tokens, j))
    if found is None:
        return None
    noun, code = found
    qualified = tables.currency_adjectives.get(noun, {}).get(_norm(tokens, j + 1))
    if qualified is not None:
        return j + 2, qualified
    return j + 1, code


def _digits_value(text: str) -> float | None:
    """The value of a digit token: ``1,200`` = 1200, ``3.5`` = 3.5, ``3,5`` = 3.5."""
    if "," in text:
        head, *groups = text.split(",")
        if all(len(g) == 3 for g in groups):
            text = head + "".join(groups)
        elif len(groups) == 1 and "." not in text:
            text = head + "." + groups[0]
        else:
            return None
    if text.count(".") > 1:
        head, *groups = text.split(".")
        if not all(len(g) == 3 for g in groups):
            return None
        text = head + "".join(groups)
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _number(
    tokens: Sequence[Token], i: int, first: str, tables: _Tables
) -> tuple[int, float] | None:
    """Read a number at token ``i``: digits or number words, with scale words.

    Returns ``(end, value)`` for the longest reading that is a complete number. The
    grammar, per group below a scale word: ``[hundreds] [و units] [و tens]``, where
    units + عشر make a teen, units before tens are joined by و (خمسة وعشرون), a unit
    3-9 before مئة multiplies it (ثلاث مئة); a scale word multiplies the group before it
    (or 1 for الف, مليون alone), and what follows a scale word is joined by و and smaller.
    ``first`` is the first word without its proclitic.
    """
    numbers = tables.numbers
    n = len(tokens)
    total = group = 0.0
    stage = 0  # 0: empty group, 1: hundreds read, 2: a unit read, 3: group closed
    after_scale = False
    last_scale = math.inf
    last_kind = ""
    last_unit = 0.0
    best: tuple[int, float] | None = None
    j = i
    while j < n:
        token = tokens[j]
        conj = False
        nxt = j + 1
        if j == i:
            word = first
        elif token.kind is _WORD and token.norm == "و" and j + 1 < n:
            conj, token, nxt = True, tokens[j + 1], j + 2
            word = token.norm
        else:
            word = token.norm
            # و + a number word; also وأحد (normalized to واحد, "one"): a hamza after the
            # و says it is "and" + أحد, as in خمسمئة وأحد عشر (511).
            if (
                token.kind is _WORD
                and word[:1] == "و"
                and (word not in numbers or (token.text[1:2] in "أإآ" and word[1:] in numbers))
            ):
                conj, word = True, word[1:]
        if token.kind is _NUMBER:
            digits = _digits_value(token.norm)
            if digits is None:
                break
            kind, value = _DIGITS, digits
        elif token.kind is _WORD and word in numbers:
            kind, value = numbers[word]
        else:
            break
        starts_group = stage == 0 and conj == after_scale
        valid = True
        if kind == _DIGITS:
            if not starts_group:
                break
            if after_scale:
                # مليون و200 الف, but not the list 6 مليارات و3.5 مليون or 3 مليارات و20:
                # digits after a scale word belong to it only before a smaller scale word.
                if value != int(value) or value >= 1000:
                    break
                valid = False
            group, stage = value, 3
        elif kind in (_UNIT, _TEEN_ONLY):
            if starts_group or (stage == 1 and conj):
                group += value
                stage, last_unit = 2, value
                valid = kind == _UNIT
            else:
                break
        elif kind == _TEN:
            teen = stage == 2 and not conj and last_kind in (_UNIT, _TEEN_ONLY)
            if not (teen or starts_group or (stage == 1 and conj)):
                break
            group += value
            stage = 3
        elif kind == _TENS:
            if last_kind == _TEEN_ONLY or not (starts_group or (stage in (1, 2) and conj)):
                break
            group += value
            stage = 3
        elif kind == _HUNDREDS:
            if (
                value == 100
                and stage == 2
                and not conj
                and last_kind == _UNIT
                and last_unit >= 3
                and group == last_unit
            ):
                group = last_unit * 100
            elif starts_group:
                group = value
            else:
                break
            stage = 1
        elif kind in (_SINGULAR, _PLURAL):
            if value >= last_scale or last_kind == _TEEN_ONLY:
                break
            if stage > 0 and not conj:
                total += group * value
            elif kind == _SINGULAR and starts_group:
                total += value
            else:
                break
            group, stage, after_scale, last_scale = 0.0, 0, True, value
        elif kind == _DUAL:
            if not starts_group or value >= last_scale:
                break
            total += 2 * value
            group, stage, after_scale, last_scale = 0.0, 0, True, value
        elif kind == _HALF:
            if j != i:
                break
            group, stage = 0.5, 3
            valid = False
        else:  # _AND_HALF
            if not (after_scale and stage == 0 and not conj):
                break
            total += 0.5 * last_scale
            best = (nxt, total)
            break
        last_kind = kind
        j = nxt
        if valid:
            best = (j, total + group)
    return best
