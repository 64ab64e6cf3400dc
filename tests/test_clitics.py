"""Proclitics: وموسكو gives موسكو; بيروت, لبنان, فلاديمير, كابول, وليد stay whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from arabic_ner.clitics import Lexicon, split_proclitic
from arabic_ner.pipeline import Pipeline

LEXICON = Lexicon(
    {"موسكو": 20, "العراق": 40, "قال": 90, "وقال": 60, "يصل": 9, "فيصل": 2, "الي": 900},
    frozenset({"وليد", "فيصل", "بيروت", "لبنان", "فلاديمير", "كابول"}),
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("وموسكو", (1, "موسكو")),
        ("بموسكو", (1, "موسكو")),
        ("وبموسكو", (2, "موسكو")),
        ("فلموسكو", (2, "موسكو")),
        ("بالعراق", (1, "العراق")),
        ("وللعراق", (3, "العراق")),
        ("والزيلينسكي", (1, "الزيلينسكي")),
        ("وقال", (1, "قال")),
    ],
)
def test_proclitic_is_split_off(word: str, expected: tuple[int, str]) -> None:
    assert split_proclitic(word, LEXICON) == expected


@pytest.mark.parametrize("word", ["وليد", "فيصل", "بيروت", "لبنان", "فلاديمير", "كابول", "وزير"])
def test_names_and_words_that_begin_with_proclitic_letters_stay_whole(word: str) -> None:
    assert split_proclitic(word, LEXICON) == (0, word)


def test_names_after_a_real_proclitic_are_found() -> None:
    assert split_proclitic("وبيروت", LEXICON) == (1, "بيروت")
    assert split_proclitic("ولبنان", LEXICON) == (1, "لبنان")


def test_document_counts_decide_unseen_words() -> None:
    assert split_proclitic("وزيلينسكي", LEXICON) == (0, "وزيلينسكي")
    assert split_proclitic("وزيلينسكي", LEXICON, {"زيلينسكي": 2}) == (1, "زيلينسكي")


def _cases() -> list[tuple[str, list[str]]]:
    lines = (Path(__file__).parent / "cases" / "proclitics.tsv").read_text("utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return [(text, expected.split(",")) for text, expected in rows]


@pytest.mark.parametrize(("text", "expected"), _cases())
def test_shipped_model_excludes_proclitics_from_entities(
    nlp: Pipeline, text: str, expected: list[str]
) -> None:
    found = nlp(text)
    assert [f"{e.type.value}:{e.text}" for e in found] == expected
    for e in found:
        assert text[e.start : e.end] == e.text
