"""Name lists (gazetteers) matched over token sequences with Aho-Corasick.

A :class:`Gazetteer` maps normalized, space-joined token sequences (``حزب الله``) to
entity types. :meth:`Gazetteer.matches` finds every listed name in a sentence at once
with ``pyahocorasick`` (one pass, whatever the number of names), on whole tokens only:
``موسكو`` does not match inside ``موسكوفيتش``. The tagger uses matches as features, not
as final answers, so an ambiguous list entry (``الامل`` is a name and a word) costs little.

The lists a model was trained with ship inside the model folder as ``gazetteer.tsv``
(``phrase<TAB>TYPE``), built from ``data/gazetteers/*.txt`` by
:func:`Gazetteer.from_lists`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import ahocorasick

from arabic_ner.errors import DataFormatError
from arabic_ner.normalize import normalize
from arabic_ner.tokenize import tokens_of

__all__ = ["Gazetteer", "phrase_key", "read_person_names", "write_person_names"]


@lru_cache(maxsize=65_536)
def phrase_key(name: str) -> str:
    """Return the lookup key of a name: its normalized tokens joined by single spaces.

    Cached: the pipeline looks up every name it finds in the alias table.

    >>> phrase_key("حزبُ  الله")
    'حزب الله'
    """
    return " ".join(t.norm for t in tokens_of(normalize(name)))


class Gazetteer:
    """Typed name lists with whole-token, multi-word matching.

    >>> g = Gazetteer({"حزب الله": {"ORG"}, "موسكو": {"LOC"}})
    >>> g.matches(["قال", "حزب", "الله", "في", "موسكو"])
    [(1, 3, 'ORG'), (4, 5, 'LOC')]
    """

    def __init__(self, entries: Mapping[str, Iterable[str]]) -> None:
        # Most entries have one of a few type sets: one object per distinct value, not one
        # per entry (hundreds of thousands of entries; ~10 MiB per process).
        sets: dict[frozenset[str], frozenset[str]] = {}
        self.entries: dict[str, frozenset[str]] = {}
        for key, types in entries.items():
            if key:
                kinds = frozenset(types)
                self.entries[key] = sets.setdefault(kinds, kinds)
        values: dict[tuple[int, frozenset[str]], tuple[tuple[int, str], ...]] = {}
        self._automaton = ahocorasick.Automaton()
        for key, types in self.entries.items():
            size = key.count(" ") + 1
            value = values.get((size, types))
            if value is None:
                value = values[(size, types)] = tuple((size, t) for t in sorted(types))
            self._automaton.add_word(f" {key} ", value)
        if self.entries:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self.entries)

    def without(self, keys: Iterable[str]) -> Gazetteer:
        """Return a copy without the entries ``keys``."""
        drop = set(keys)
        return Gazetteer({k: v for k, v in self.entries.items() if k not in drop})

    def matches(self, words: Sequence[str]) -> list[tuple[int, int, str]]:
        """Return ``(start, end, type)`` token spans of every listed name in ``words``.

        Overlapping and nested matches are all returned, sorted by position.
        """
        if not self.entries or not words:
            return []
        hits = list(self._automaton.iter(" " + " ".join(words) + " "))
        if not hits:
            return []
        token_end_at: dict[int, int] = {}  # index of the space after token i -> i + 1
        position = 0
        for i, word in enumerate(words):
            position += len(word) + 1
            token_end_at[position] = i + 1
        found = [
            (token_end_at[end] - size, token_end_at[end], kind)
            for end, payload in hits
            for size, kind in payload
        ]
        found.sort()
        return found

    @classmethod
    def from_lists(
        cls, files: Iterable[tuple[str, str | os.PathLike[str]]], *, stoplist: Iterable[str] = ()
    ) -> Gazetteer:
        """Build from ``(type, path)`` pairs of plain lists, one name per line.

        Names whose key is in ``stoplist`` or is a single token of two letters or fewer
        are skipped: the ANERgazet person list holds split-name fragments like ``من``.
        """
        stop = {phrase_key(s) for s in stoplist}
        entries: dict[str, set[str]] = {}
        for kind, path in files:
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                key = phrase_key(line)
                if not key or key in stop or (" " not in key and len(key) <= 2):
                    continue
                entries.setdefault(key, set()).add(kind)
        return cls(entries)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Gazetteer:
        """Read a ``phrase<TAB>TYPE`` file written by :meth:`write`."""
        entries: dict[str, set[str]] = {}
        with open(path, encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                phrase, tab, kind = line.rstrip("\n").partition("\t")
                if not tab or not phrase or not kind:
                    raise DataFormatError(
                        f"{path}:{number}: expected 'phrase<TAB>TYPE', found {line!r}; "
                        "rebuild the model folder with 'arabic-ner train'"
                    )
                entries.setdefault(phrase, set()).add(kind)
        return cls(entries)

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the entries as sorted ``phrase<TAB>TYPE`` lines."""
        lines = (f"{k}\t{t}\n" for k in sorted(self.entries) for t in sorted(self.entries[k]))
        Path(path).write_text("".join(lines), encoding="utf-8")


def read_person_names(path: str | os.PathLike[str]) -> dict[str, tuple[str, int]]:
    """Read ``name<TAB>role<TAB>count`` lines: parts of person names, keyed normalized.

    ``role`` is ``given``, ``surname`` or ``unknown``; ``count`` how many people carry it.
    """
    names: dict[str, tuple[str, int]] = {}
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 3 or not fields[2].isdigit():
                raise DataFormatError(
                    f"{path}:{number}: expected 'name<TAB>role<TAB>count', found {line!r}"
                )
            key = normalize(fields[0]).text
            known = names.get(key)
            if known is None or known[1] < int(fields[2]):
                names[key] = (fields[1], int(fields[2]))
    return names


def write_person_names(names: Mapping[str, tuple[str, int]], path: str | os.PathLike[str]) -> None:
    """Write what :func:`read_person_names` reads, sorted."""
    lines = (f"{k}\t{role}\t{count}\n" for k, (role, count) in sorted(names.items()))
    Path(path).write_text("".join(lines), encoding="utf-8")
