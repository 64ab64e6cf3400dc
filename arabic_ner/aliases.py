"""Canonical names and mention clusters: بوتين and فلاديمير بوتين are one actor.

:func:`resolve` gives each name entity of a document a ``canonical`` form and a
``cluster`` number shared by all mentions of the same actor:

1. a mention listed in the :class:`AliasTable` takes the table's canonical name, so
   ``داعش`` and ``تنظيم الدولة الاسلامية`` both become ``الدولة الإسلامية``, and the
   table's type: the table is curated, the tagger sometimes confuses ORG and PERS
   (``فرانس برس``);
2. a one-word person mention that is the last word (family name) of a longer person
   mention in the same text joins the nearest such mention before it (else the first
   after it): ``بوتين`` after ``فلاديمير بوتين``;
3. mentions with the same normalized form and type are one actor;
4. the canonical name of an actor the table does not list is its longest mention.

Cluster numbers count from 0 in order of first mention. Rule-based entities (dates,
numbers) get neither. The default table is ``resources/aliases.tsv``, a copy of the
documented ``data/aliases.tsv``; users add their own with ``load(aliases=PATH)``.
"""

from __future__ import annotations

import dataclasses
import os
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from arabic_ner.entities import NAME_TYPES, Entity, EntityType
from arabic_ner.errors import DataFormatError
from arabic_ner.gazetteer import phrase_key

__all__ = ["AliasTable", "resolve"]

_NAME_TYPE_NAMES = frozenset(t.value for t in NAME_TYPES)


@dataclass(frozen=True, slots=True)
class AliasTable:
    """Canonical names by the normalized key of each alias (and of the name itself).

    >>> table = AliasTable.parse(["الدولة الإسلامية\\tORG\\tداعش|تنظيم الدولة"])
    >>> table.canonical["داعش"]
    ('الدولة الإسلامية', <EntityType.ORG: 'ORG'>)
    """

    canonical: dict[str, tuple[str, EntityType]]

    @classmethod
    def parse(cls, lines: Iterable[str], *, source: str = "<aliases>") -> AliasTable:
        """Read ``canonical<TAB>TYPE<TAB>alias|alias`` lines; ``#`` starts a comment."""
        table: dict[str, tuple[str, EntityType]] = {}
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) != 3 or fields[1] not in _NAME_TYPE_NAMES:
                raise DataFormatError(
                    f"{source}:{number}: expected 'canonical<TAB>TYPE<TAB>alias|alias' with "
                    f"TYPE one of PERS, LOC, ORG, MISC; found {line!r}"
                )
            name, kind = fields[0].strip(), EntityType(fields[1])
            for alias in (name, *fields[2].split("|")):
                if alias.strip():
                    table[phrase_key(alias)] = (name, kind)
        return cls(table)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> AliasTable:
        """Read an alias file."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DataFormatError(f"cannot read alias table {path}: {error}") from error
        return cls.parse(text.splitlines(), source=str(path))

    def merged(self, other: AliasTable) -> AliasTable:
        """Return this table with ``other``'s entries added (``other`` wins)."""
        return AliasTable({**self.canonical, **other.canonical})


@lru_cache(maxsize=1)
def default_aliases() -> AliasTable:
    """The alias table shipped with the package."""
    text = resources.files("arabic_ner").joinpath("resources/aliases.tsv").read_text("utf-8")
    return AliasTable.parse(text.splitlines(), source="arabic_ner/resources/aliases.tsv")


def resolve(entities: Sequence[Entity], table: AliasTable) -> list[Entity]:
    """Return ``entities`` (of one document, sorted) with ``canonical`` and ``cluster`` set.

    >>> from arabic_ner.entities import Entity, EntityType
    >>> found = [Entity("فلاديمير بوتين", EntityType.PERS, 0, 14, 1.0, "فلاديمير بوتين"),
    ...          Entity("داعش", EntityType.ORG, 20, 24, 1.0, "داعش"),
    ...          Entity("بوتين", EntityType.PERS, 30, 35, 1.0, "بوتين")]
    >>> table = AliasTable.parse(["الدولة الإسلامية\\tORG\\tداعش"])
    >>> for e in resolve(found, table):
    ...     print(e.text, "|", e.canonical, "|", e.cluster)
    فلاديمير بوتين | فلاديمير بوتين | 0
    داعش | الدولة الإسلامية | 1
    بوتين | فلاديمير بوتين | 0
    """
    names = [i for i, e in enumerate(entities) if e.type in NAME_TYPES]
    entities = list(entities)
    actor: dict[int, tuple[str, ...]] = {}  # entity index -> actor key
    listed: dict[tuple[str, ...], str] = {}  # actor key -> canonical name from the table
    for i in names:
        e = entities[i]
        hit = table.canonical.get(phrase_key(e.normalized))
        if hit is not None:
            actor[i] = ("table", hit[0])
            listed[actor[i]] = hit[0]
            if e.type is not hit[1]:
                entities[i] = dataclasses.replace(e, type=hit[1])
        else:
            actor[i] = (e.type.value, e.normalized)
    persons = [i for i in names if entities[i].type is EntityType.PERS]
    full_names: dict[str, list[int]] = {}  # family name -> full-name mentions, in order
    for j in persons:
        words = entities[j].normalized.split()
        if len(words) > 1:
            full_names.setdefault(words[-1], []).append(j)
    for i in persons:
        fuller = full_names.get(entities[i].normalized)
        if fuller and actor[i][0] != "table":
            at = bisect_left(fuller, i)  # the nearest full name before, else the first after
            actor[i] = actor[fuller[at - 1] if at else fuller[0]]
    numbers: dict[tuple[str, ...], int] = {}
    longest: dict[tuple[str, ...], str] = {}
    for i in names:
        key = actor[i]
        numbers.setdefault(key, len(numbers))
        mention = entities[i].normalized
        # The first mention of an actor, then any with more words. (Not only "more words":
        # a mention of U+001C-U+001F alone has none to str.split, though it is a token.)
        if key not in longest or len(mention.split()) > len(longest[key].split()):
            longest[key] = mention
    out = list(entities)
    for i in names:
        key = actor[i]
        out[i] = dataclasses.replace(
            entities[i], canonical=listed.get(key, longest[key]), cluster=numbers[key]
        )
    return out
