"""The NUM rule's values against pyarabic's ``text2number``, an independent oracle.

pyarabic is GPL-3.0; arabic-ner is MIT. pyarabic is therefore never a dependency of the
package and ``arabic_ner`` never imports it: only this test does, in the test environment
(the ``test`` extra), where it is a separate program we compare our output with. See
docs/oracle.md.

The phrases are written by pyarabic itself (``ArNumbers.int2str``) from integers sampled
deterministically, in both genders and both cases, as it writes them (``و`` as a word of
its own), with ``و`` attached (the usual spelling) and with ``مائة`` for ``مئة``. Each is
given to ``extract_entities(phrase, types={"NUM"})``; our value is that of the one NUM
entity covering the whole phrase. Where ours and ``text2number`` disagree, each side that
misses the integer the phrase was written from must be named by a known pattern below that
matches the phrase. Any other disagreement fails the test: a new one is either a
regression of ours (fix it) or a new pyarabic limitation (add a pattern, saying why). The
agreement figures are in docs/oracle.md.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

import pytest

import arabic_ner

pyarabic_number = pytest.importorskip("pyarabic.number")

SEED = 20261210


@dataclass(frozen=True)
class Known:
    """A known kind of disagreement: phrases matching ``pattern``, misread by ``wrong``."""

    name: str
    pattern: re.Pattern[str]
    wrong: str  # "ours" or "pyarabic": the side that misses the phrase's integer


KNOWN = (
    # pyarabic is wrong: text2number strips a leading و from every word but واحد, so the
    # feminine واحدة loses its first letter and reads as nothing ("واحدة" -> 0, "مئة و
    # واحدة" -> 100). Ours reads 1.
    Known("feminine one", re.compile(r"(?:^| )و?واحدة(?= |$)"), "pyarabic"),
    # pyarabic is wrong: the feminine forms of two (إثنتان, إثنتين, and إثنتا/إثنتي before
    # عشرة) are missing from its word table (number_const.NUMBER_WORDS), so they count 0
    # ("إثنتا عشرة" -> 10). Ours reads 2 and 12.
    Known("feminine two", re.compile(r"(?:^| )و?إثنت(?:ان|ين|ا|ي)(?= |$)"), "pyarabic"),
    # pyarabic is wrong: its table has مئتان/مئتين and ثلاثمائة, but not the dual in the
    # مائة spelling, مائتان/مائتين, which counts 0. Ours reads 200.
    Known("dual of مائة", re.compile(r"(?:^| )و?مائت(?:ان|ين)(?= |$)"), "pyarabic"),
    # Ours is wrong, on purpose: صفر alone is not a NUM, since it is also the month Safar
    # (see arabic_ner/rules.py). pyarabic reads 0.
    Known("zero", re.compile(r"^صفر$"), "ours"),
)


def integers() -> list[int]:
    """0-999 all, then a fixed sample of thousands and of millions."""
    rng = random.Random(SEED)
    thousands = rng.sample(range(1_000, 1_000_000), 1_500)
    millions = rng.sample(range(1_000_000, 1_000_000_000), 300)
    return list(range(1_000)) + sorted(thousands) + sorted(millions)


def phrases() -> dict[str, int]:
    """Number phrases written by pyarabic, each with the integer it was written from."""
    out: dict[str, int] = {}
    for feminine in (1, 2):  # the counted noun: 1 masculine, 2 feminine
        for case in (1, 2):  # 1 nominative, 2 accusative or genitive
            writer = pyarabic_number.ArNumbers()
            writer.set_feminine(feminine)
            writer.set_format(case)
            for n in integers():
                as_written = writer.int2str(str(n))
                attached = as_written.replace(" و ", " و")
                other_spelling = attached.replace("مئة", "مائة").replace("مئت", "مائت")
                for phrase in (as_written, attached, other_spelling):
                    out.setdefault(phrase, n)
    return out


def our_value(nlp: arabic_ner.Pipeline, phrase: str) -> float | None:
    """The value of the one NUM entity covering ``phrase``, else ``None``."""
    entities = nlp(phrase)
    if len(entities) == 1 and (entities[0].start, entities[0].end) == (0, len(phrase)):
        value = entities[0].value
        assert value is not None
        return value.number
    return None


@lru_cache(maxsize=1)
def comparison() -> list[tuple[str, int, float | None, int]]:
    """``(phrase, integer, ours, pyarabic's)`` for every phrase."""
    nlp = arabic_ner.load(types={"NUM"})
    return [
        (phrase, n, our_value(nlp, phrase), pyarabic_number.text2number(phrase))
        for phrase, n in phrases().items()
    ]


def explained(phrase: str, n: int, ours: float | None, theirs: int) -> list[str]:
    """The known patterns that explain a disagreement, or ``[]`` when it is new.

    Each side that misses the integer the phrase was written from needs a pattern matching
    the phrase that names that side as the wrong one (both sides can miss: مائتان وأحد
    عشر).
    """
    names = []
    for side, value in (("ours", ours), ("pyarabic", theirs)):
        if value == n:
            continue
        found = [k.name for k in KNOWN if k.wrong == side and k.pattern.search(phrase)]
        if not found:
            return []
        names += found
    return names


def test_phrases_are_many_and_varied() -> None:
    rows = comparison()
    assert len(rows) > 20_000
    assert any(n >= 100_000_000 for _, n, _, _ in rows)
    assert any(" و" in phrase and " و " not in phrase for phrase, _, _, _ in rows)


def test_num_values_agree_with_pyarabic_text2number_except_known_patterns() -> None:
    new = [
        f"{phrase!r} (written from {n}): ours {ours}, pyarabic {theirs}"
        for phrase, n, ours, theirs in comparison()
        if ours != theirs and not explained(phrase, n, ours, theirs)
    ]
    assert not new, f"{len(new)} new disagreements, e.g.:\n" + "\n".join(new[:20])


def test_ours_misses_the_written_integer_only_in_known_patterns() -> None:
    """Also where pyarabic agrees with us: both could misread a phrase the same way."""
    missed = [
        f"{phrase!r} (written from {n}): ours {ours}"
        for phrase, n, ours, _ in comparison()
        if ours != n and not any(k.wrong == "ours" and k.pattern.search(phrase) for k in KNOWN)
    ]
    assert not missed, f"{len(missed)} misread, e.g.:\n" + "\n".join(missed[:20])


def test_every_known_pattern_still_occurs() -> None:
    """A pattern that no longer explains any disagreement is stale: remove it."""
    seen = {
        name
        for phrase, n, ours, theirs in comparison()
        if ours != theirs
        for name in explained(phrase, n, ours, theirs)
    }
    assert seen == {known.name for known in KNOWN}
