"""Entities: the typed, exactly placed spans that arabic-ner returns.

:func:`entities_from_labels` turns a tagged sentence into :class:`Entity` objects. It
reads spans from BIO labels with conlleval's rules, moves the start of each span past an
attached proclitic (``وموسكو`` gives ``موسكو``), and takes the surface text from the
caller's original string, so ``text[e.start:e.end] == e.text`` holds by construction.
"""

from __future__ import annotations

import copyreg
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import ModuleType
from typing import Any

from arabic_ner.clitics import Lexicon, split_proclitic
from arabic_ner.kernels import OFF_BY_ENVIRONMENT
from arabic_ner.normalize import Normalized
from arabic_ner.scoring import chunks
from arabic_ner.tokenize import Token, TokenKind

__all__ = [
    "NAME_TYPES",
    "Entity",
    "EntityType",
    "Value",
    "entities_from_labels",
    "span_entity",
    "trim_labels",
]


class EntityType(str, Enum):
    """The kinds of entity arabic-ner finds.

    The first four are names, found by the statistical model; the others are found by
    rules and carry a machine-readable :class:`Value`.
    """

    PERS = "PERS"  # people
    LOC = "LOC"  # places: countries, cities, regions, landmarks
    ORG = "ORG"  # organisations, armed groups, agencies, companies, parties
    MISC = "MISC"  # other names: events, nationalities used as names, products
    DATE = "DATE"  # ايار/مايو 2015، الخميس، 30 ايلول/سبتمبر
    TIME = "TIME"  # الساعة الثالثة، 10:30 صباحا
    NUM = "NUM"  # خمسة، 2015 (a count), ستة مليارات
    MONEY = "MONEY"  # 5 ملايين دولار
    PERCENT = "PERCENT"  # 70%، سبعين في المئة

    def __str__(self) -> str:
        return self.value


NAME_TYPES = frozenset({EntityType.PERS, EntityType.LOC, EntityType.ORG, EntityType.MISC})
"""The types the statistical model finds."""


@dataclass(frozen=True, slots=True)
class Value:
    """The machine-readable value of a DATE, TIME, NUM, MONEY or PERCENT entity.

    Only the fields that the text states are set: ``ايار/مايو 2015`` has a year and a
    month, ``الخميس`` only a weekday.

    >>> Value(year=2015, month=5).to_dict()
    {'year': 2015, 'month': 5}
    >>> Value(number=5e6, unit="USD").to_dict()
    {'number': 5000000.0, 'unit': 'USD'}
    """

    number: float | None = None  # NUM value, MONEY amount, PERCENT value (70 for 70%)
    unit: str | None = None  # MONEY: ISO 4217 currency code ("USD"); PERCENT: "%"
    year: int | None = None
    month: int | None = None  # 1..12, in ``calendar``
    day: int | None = None
    weekday: int | None = None  # ISO: 1 = Monday ... 7 = Sunday
    hour: int | None = None
    minute: int | None = None
    calendar: str | None = None  # "gregorian" or "hijri", for dates with a month or year

    def to_dict(self) -> dict[str, Any]:
        """Return the fields that are set, as a JSON-ready dict."""
        return {f: getattr(self, f) for f in self.__slots__ if getattr(self, f) is not None}

    def __reduce__(self) -> tuple[Callable[..., Value], tuple[Any, ...]]:
        # As Entity's: pipe(n_process) sends the values of a worker's DATE, TIME, NUM,
        # MONEY and PERCENT entities back pickled (a fifth of a news article's entities),
        # and the slots dataclass's own state is loaded field by field; _value rebuilds it.
        return (
            _value,
            (
                self.number,
                self.unit,
                self.year,
                self.month,
                self.day,
                self.weekday,
                self.hour,
                self.minute,
                self.calendar,
            ),
        )


@dataclass(frozen=True, slots=True)
class Entity:
    """A named entity found in a text.

    ``start`` and ``end`` are end-exclusive character offsets into the string that was
    passed in, and ``text`` is exactly that slice. ``score`` is the model's confidence in
    the whole span (0..1); ``normalized`` is the normalized surface form, without a
    proclitic (``للعراق`` gives ``العراق``). Entities sort by ``(start, end)``.

    ``value`` is set for DATE, TIME, NUM, MONEY and PERCENT entities. ``canonical`` is
    the canonical name of the actor a name refers to (``الدولة الإسلامية`` for ``داعش``),
    and ``cluster`` numbers the mentions of one actor within a document; both are
    ``None`` where unknown.

    >>> e = Entity("موسكو", EntityType.LOC, 1, 6, 0.97, "موسكو")
    >>> e
    Entity(LOC, 'موسكو', 1:6, score=0.97)
    >>> e.to_dict()["type"], e.start_char, e.end_char
    ('LOC', 1, 6)
    """

    text: str
    type: EntityType
    start: int
    end: int
    score: float
    normalized: str
    value: Value | None = None
    canonical: str | None = None
    cluster: int | None = None

    def __repr__(self) -> str:
        where = f"{self.start}:{self.end}"
        return f"Entity({self.type.value}, {self.text!r}, {where}, score={self.score:.2f})"

    def __reduce__(self) -> tuple[Callable[..., Entity], tuple[Any, ...]]:
        # pipe(n_process) sends every entity back from its worker pickled. The slots
        # dataclass's own state (set field by field through object.__setattr__) took 4.3 us
        # to dump and 4.5 to load per entity, the constructor's arguments 1.6 and 2.7
        # (2026-12-05): the parent's share of a two-worker run is CPU the workers lack.
        # _entity (below) rebuilds it from the same arguments.
        return (
            _entity,
            (
                self.text,
                self.type,
                self.start,
                self.end,
                self.score,
                self.normalized,
                self.value,
                self.canonical,
                self.cluster,
            ),
        )

    @property
    def start_char(self) -> int:
        """Alias of ``start``, as in Stanza and spaCy."""
        return self.start

    @property
    def end_char(self) -> int:
        """Alias of ``end``, as in Stanza and spaCy."""
        return self.end

    @property
    def label(self) -> str:
        """The type as a plain string (spaCy's ``label_``)."""
        return self.type.value

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict; ``value``, ``canonical`` and ``cluster`` when set."""
        out: dict[str, Any] = {
            "text": self.text,
            "type": self.type.value,
            "start": self.start,
            "end": self.end,
            "score": round(self.score, 4),
            "normalized": self.normalized,
        }
        if self.value is not None:
            out["value"] = self.value.to_dict()
        if self.canonical is not None:
            out["canonical"] = self.canonical
        if self.cluster is not None:
            out["cluster"] = self.cluster
        return out

    def _key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.type.value)

    def __lt__(self, other: Entity) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Entity) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Entity) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Entity) -> bool:
        return self._key() >= other._key()


# Rebuilding a pickled Entity or Value: object.__new__ and the slots' own setters, where
# the frozen dataclass's __init__ calls object.__setattr__ once per field. With Value's
# __reduce__, a batch of the sample article's entities (a fifth with a Value) took 12,267
# instructions per entity to load instead of 22,430, and 7,631 to dump instead of 11,395
# (callgrind, 2026-12-06): CPU that pipe(n_process)'s parent takes from its workers.
# Where the package was built with a C compiler, the same is done in C (below).
# Pickles name these two functions: keep their names and arguments.
_new = object.__new__
(
    _set_text,
    _set_type,
    _set_start,
    _set_end,
    _set_score,
    _set_normalized,
    _set_value,
    _set_canonical,
    _set_cluster,
) = (getattr(Entity, name).__set__ for name in Entity.__slots__)
(
    _set_number,
    _set_unit,
    _set_year,
    _set_month,
    _set_day,
    _set_weekday,
    _set_hour,
    _set_minute,
    _set_calendar,
) = (getattr(Value, name).__set__ for name in Value.__slots__)


def _entity(
    text: str,
    type: EntityType,
    start: int,
    end: int,
    score: float,
    normalized: str,
    value: Value | None,
    canonical: str | None,
    cluster: int | None,
) -> Entity:
    made: Entity = _new(Entity)
    _set_text(made, text)
    _set_type(made, type)
    _set_start(made, start)
    _set_end(made, end)
    _set_score(made, score)
    _set_normalized(made, normalized)
    _set_value(made, value)
    _set_canonical(made, canonical)
    _set_cluster(made, cluster)
    return made


def _value(
    number: float | None,
    unit: str | None,
    year: int | None,
    month: int | None,
    day: int | None,
    weekday: int | None,
    hour: int | None,
    minute: int | None,
    calendar: str | None,
) -> Value:
    made: Value = _new(Value)
    _set_number(made, number)
    _set_unit(made, unit)
    _set_year(made, year)
    _set_month(made, month)
    _set_day(made, day)
    _set_weekday(made, weekday)
    _set_hour(made, hour)
    _set_minute(made, minute)
    _set_calendar(made, calendar)
    return made


# The same rebuild in C where setup.py compiled it (arabic_ner/_slots.c): _entity and
# _value become objects that allocate the instance and fill its slots, and copyreg takes
# entities and values apart in C instead of calling __reduce__. Per entity of the sample
# article, loading took 12,563 instructions in Python and 4,003 in C, dumping 8,476 and
# 5,842 (bench/callgrind.py, 2026-12-06); the parent of a two-worker pipe over 192
# articles ran 146.0 million instructions in Python, 53.4 in C. Pickles name
# arabic_ner.entities._entity either way, so one made with the C rebuild loads without it
# and the other way round. ARABIC_NER_NO_KERNELS=1 (kernels.py) keeps the Python rebuild.
_python_entity, _python_value = _entity, _value
_slots: ModuleType | None
try:
    from arabic_ner import _slots
except ImportError:  # built without a C compiler: the Python rebuild above
    _slots = None
if _slots is not None and not OFF_BY_ENVIRONMENT:
    try:
        _entity_slots = _slots.Slots(Entity, __name__, "_entity")
        _value_slots = _slots.Slots(Value, __name__, "_value")
    except TypeError:  # a class it cannot fill (a __weakref__, say): the Python rebuild
        pass  # (tests/test_slots.py fails in CI, where the C rebuild must be in use)
    else:
        copyreg.pickle(Entity, _entity_slots.parts)
        copyreg.pickle(Value, _value_slots.parts)
        _entity, _value = _entity_slots, _value_slots


def trim_labels(labels: Sequence[str], outside: Callable[[int], bool]) -> list[str]:
    """Untag the tokens at the edges of each labelled span for which ``outside(i)`` holds.

    The pipeline flags the tokens of dates and times that the rules found: a name does
    not end with the weekday after it (``موسكو الخميس``), while a name with a date inside
    (``شارع 30 يونيو``) stays whole. Only edge tokens are asked about.

    >>> trim_labels(["B-LOC", "I-LOC", "O"], [False, True, False].__getitem__)
    ['B-LOC', 'O', 'O']
    >>> trim_labels(["B-LOC", "I-LOC", "I-LOC"], [True, False, True].__getitem__)
    ['O', 'B-LOC', 'O']
    >>> trim_labels(["B-LOC", "I-LOC", "I-LOC"], [False, True, False].__getitem__)
    ['B-LOC', 'I-LOC', 'I-LOC']
    """
    out = list(labels)
    for kind, start, end in chunks(labels):
        while start < end and outside(end - 1):
            end -= 1
            out[end] = "O"
        while start < end and outside(start):
            out[start] = "O"
            start += 1
        if start < end:
            out[start] = f"B-{kind}"
    return out


def entities_from_labels(
    normalized: Normalized,
    tokens: Sequence[Token],
    labels: Sequence[str],
    scores: Sequence[float],
    lexicon: Lexicon,
    *,
    offset: int = 0,
    doc_counts: Mapping[str, int] | None = None,
) -> list[Entity]:
    """Build the entities of one tagged sentence.

    ``tokens`` come from ``normalized``; ``labels`` are their BIO labels and ``scores``
    the confidence in each label. ``offset`` is added to every position (the place of
    ``normalized.original`` in a longer text); ``doc_counts`` are word counts of the
    document, which help decide proclitic splits of words the lexicon has not seen.
    """
    found: list[Entity] = []
    for kind, i, j in chunks(labels):
        first = tokens[i]
        size, stem = (
            split_proclitic(first.norm, lexicon, doc_counts)
            if first.kind is TokenKind.WORD
            else (0, first.norm)
        )
        found.append(
            span_entity(
                normalized,
                first,
                tokens[j - 1],
                size,
                stem,
                EntityType(kind),
                min(scores[i:j]),
                offset=offset,
            )
        )
    return found


def span_entity(
    normalized: Normalized,
    first: Token,
    last: Token,
    proclitic: int,
    stem: str,
    kind: EntityType,
    score: float,
    *,
    offset: int = 0,
    value: Value | None = None,
) -> Entity:
    """Build the entity over tokens ``first`` to ``last`` of ``normalized``.

    Its start moves past the ``proclitic`` characters (normalized) of the first token,
    whose form without them is ``stem`` (``للعراق`` has a proclitic of 2 and the stem
    ``العراق``); its text is taken from the original string, so it always slices it.
    """
    start = first.start
    if proclitic:
        start = normalized.to_original(first.norm_start + proclitic, first.norm_end)[0]
    surface = stem + normalized.text[first.norm_end : last.norm_end]
    text = normalized.original[start : last.end]
    return Entity(
        text,
        kind,
        start + offset,
        last.end + offset,
        score,
        text if surface == text else surface,  # one string, not two equal ones
        value=value,
    )
