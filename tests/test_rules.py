"""rules: DATE, TIME, NUM, MONEY and PERCENT entities with machine-readable values."""

from __future__ import annotations

import itertools
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arabic_ner.entities import Entity, EntityType, Value
from arabic_ner.normalize import normalize, normalize_word
from arabic_ner.rules import RULE_TYPES, rule_entities
from arabic_ner.tokenize import tokens_of

CASES = Path(__file__).parent / "cases" / "rules.tsv"


def find(text: str, **kwargs: Any) -> list[Entity]:
    normalized = normalize(text)
    return rule_entities(normalized, list(tokens_of(normalized)), **kwargs)


def described(entities: list[Entity]) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for e in entities:
        assert e.value is not None
        out.append((e.type.value, e.text, e.value.to_dict()))
    return out


def _value(spec: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in spec.split(","):
        key, raw = item.split("=")
        if key == "number":
            out[key] = float(raw)
        elif key in ("unit", "calendar"):
            out[key] = raw
        else:
            out[key] = int(raw)
    return out


def _cases() -> list[tuple[str, list[tuple[str, str, dict[str, Any]]]]]:
    rows = []
    for line in CASES.read_text("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        text, expected = line.split("\t")
        entities = []
        if expected != "-":
            for item in expected.split(" ; "):
                kind, surface, spec = item.split("|")
                entities.append((kind, surface, _value(spec)))
        rows.append((text, entities))
    return rows


def _check_invariants(text: str, entities: list[Entity]) -> None:
    for e in entities:
        assert text[e.start : e.end] == e.text
        assert e.type in RULE_TYPES
        assert e.score == 1.0
        assert e.value is not None
    spans = [(e.start, e.end) for e in entities]
    assert spans == sorted(spans)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start


@pytest.mark.parametrize(("text", "expected"), _cases())
def test_case_file_entities_and_values(
    text: str, expected: list[tuple[str, str, dict[str, Any]]]
) -> None:
    found = find(text)
    assert described(found) == expected
    _check_invariants(text, found)


# --- DATE


def test_double_month_form_gives_year_and_month() -> None:
    assert described(find("منذ ايار/مايو 2015")) == [
        ("DATE", "ايار/مايو 2015", {"year": 2015, "month": 5, "calendar": "gregorian"})
    ]


def test_day_and_double_month_is_one_date_not_a_date_and_a_number() -> None:
    found = find("بدأ في 30 ايلول/سبتمبر 2015")
    assert [e.type for e in found] == [EntityType.DATE]
    assert found[0].value == Value(year=2015, month=9, day=30, calendar="gregorian")


def test_diacritized_arabic_indic_date_slices_the_original() -> None:
    text = "في ٣٠ أَيْلُول/سبتمبر ٢٠١٥ ."
    found = find(text)
    assert [e.text for e in found] == ["٣٠ أَيْلُول/سبتمبر ٢٠١٥"]
    assert found[0].normalized == "30 ايلول/سبتمبر 2015"
    assert found[0].value == Value(year=2015, month=9, day=30, calendar="gregorian")
    _check_invariants(text, found)


def test_hijri_month_and_marker_give_the_hijri_calendar() -> None:
    (date,) = find("في 1 رمضان 1437 هـ الموافق")
    assert date.value == Value(year=1437, month=9, day=1, calendar="hijri")


def test_weekday_gives_iso_weekday() -> None:
    days = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
    for iso, day in enumerate(days, start=1):
        (date,) = find(f"قال {day} ان")
        assert date.value == Value(weekday=iso), day


def test_father_is_not_the_month_of_august() -> None:
    assert find("قال اب الطفل ان ابي حضر") == []
    assert find("زار أب الطفل") == []


def test_ambiguous_month_next_to_a_day_or_year_or_double_form_is_a_date() -> None:
    assert [e.text for e in find("في 15 آب وفي آب 2014 وفي آب/أغسطس")] == [
        "15 آب",
        "آب 2014",
        "آب/أغسطس",
    ]


def test_unambiguous_month_stands_alone() -> None:
    (date,) = find("في سبتمبر الماضي")
    assert date.value == Value(month=9, calendar="gregorian")


def test_year_trigger_word_is_part_of_the_date() -> None:
    (date,) = find("حدث ذلك عام 2015")
    assert (date.text, date.value) == ("عام 2015", Value(year=2015, calendar="gregorian"))


# --- proclitics


def test_proclitic_waw_is_not_part_of_a_number() -> None:
    (num,) = find("قتل وخمسة")
    assert (num.text, num.start, num.normalized) == ("خمسة", 5, "خمسة")


def test_proclitic_before_a_date_is_skipped() -> None:
    text = "بـ 30 ايلول وبالخميس"
    found = find(text)
    assert [e.text for e in found] == ["30 ايلول", "الخميس"]
    assert found[0].start == text.index("30")
    _check_invariants(text, found)


def test_lam_before_article_keeps_the_article_in_the_normalized_form() -> None:
    (date,) = find("وللعام 2017")
    assert (date.text, date.normalized) == ("عام 2017", "العام 2017")


# --- NUM


def test_number_words_have_values() -> None:
    assert [e.value for e in find("ثلاثة آلاف وخمسمائة وعشرون")] == [Value(number=3520)]
    assert [e.value for e in find("خمسة")] == [Value(number=5)]
    assert [e.value for e in find("ستة مليارات")] == [Value(number=6e9)]


def test_feminine_and_case_forms_of_number_words() -> None:
    words = {"ثلاث": 3, "ثلاثة": 3, "اثنين": 2, "اثنتان": 2, "عشرين": 20, "ثمانون": 80}
    for word, value in words.items():
        assert [e.value for e in find(word)] == [Value(number=value)], word


def test_ordinals_and_one_of_are_not_numbers() -> None:
    assert find("الاول الثاني الثالث احد منهم إحدى الدول") == []


def test_year_alone_is_a_number() -> None:
    assert described(find("في 2015")) == [("NUM", "2015", {"number": 2015.0})]


# --- TIME, MONEY, PERCENT


def test_evening_adds_twelve_hours() -> None:
    (time,) = find("الساعة الثامنة مساء")
    assert time.value == Value(hour=20)


def test_time_with_minutes_and_morning() -> None:
    (time,) = find("الساعة 10:30 صباحا")
    assert time.value == Value(hour=10, minute=30)


def test_number_words_with_scale_and_currency_are_money() -> None:
    (money,) = find("ستة مليارات دولار")
    assert money.value == Value(number=6e9, unit="USD")


def test_bare_dinar_has_no_currency_code() -> None:
    (money,) = find("50 دينارا")
    assert money.value == Value(number=50)


def test_percent_sign_before_or_after_the_number() -> None:
    assert [e.value for e in find("70% و%70")] == [Value(number=70, unit="%")] * 2


def test_number_words_with_percent_phrase() -> None:
    (pct,) = find("سبعين في المئة")
    assert (pct.text, pct.value) == ("سبعين في المئة", Value(number=70, unit="%"))


# --- options


def test_types_keeps_only_those_types() -> None:
    text = "في 30 سبتمبر قتل خمسة بنسبة 70%"
    assert [e.type for e in find(text, types={EntityType.NUM})] == [EntityType.NUM]
    assert [e.type for e in find(text, types=[EntityType.DATE, EntityType.PERCENT])] == [
        EntityType.DATE,
        EntityType.PERCENT,
    ]
    assert find(text, types={EntityType.PERS}) == []


def test_types_filter_after_matching_so_a_date_year_is_not_a_number() -> None:
    assert find("مايو 2015", types={EntityType.NUM}) == []


def test_offset_is_added_to_positions() -> None:
    (num,) = find("قتل خمسة", offset=100)
    assert (num.start, num.end) == (104, 108)


# --- the sample article


def test_sample_article_dates_and_numbers(sample_text: str) -> None:
    found = find(sample_text)
    _check_invariants(sample_text, found)
    got = described(found)
    assert ("DATE", "ايار/مايو 2015", {"year": 2015, "month": 5, "calendar": "gregorian"}) in got
    assert (
        "DATE",
        "30 ايلول/سبتمبر",
        {"month": 9, "day": 30, "calendar": "gregorian"},
    ) in got
    assert ("DATE", "الخميس", {"weekday": 4}) in got
    assert ("DATE", "الاثنين", {"weekday": 1}) in got
    numbers = [(text, value["number"]) for kind, text, value in got if kind == "NUM"]
    assert numbers == [
        ("خمسة", 5),
        ("خمسة", 5),
        ("خمسة", 5),
        ("ستة", 6),
        ("اربعة", 4),
        ("اربعة", 4),
    ]
    # وستة: the entity starts after the proclitic
    six = next(e for e in found if e.text == "ستة")
    assert sample_text[six.start - 1] == "و"
    # احد منهم ("one of them") is not a number
    assert "احد" not in [e.text for e in found]


# --- the table file


def test_calendar_table_is_stored_normalized_with_its_provenance() -> None:
    raw = resources.files("arabic_ner").joinpath("resources/calendar.json").read_text("utf-8")
    table = json.loads(raw)
    about = table["_about"]
    assert "CLDR" in about["source"] and "Unicode" in about["licence"]
    assert "build_calendar.py" in about["rebuild"]
    names = [m["name"] for m in table["months"]] + list(table["weekdays"])
    names += list(table["numbers"]["units"]) + list(table["numbers"]["scales"])
    assert all(normalize_word(name) == name for name in names)
    months = {(m["name"], m["month"]) for m in table["months"]}
    assert {("كانون الثاني", 1), ("اب", 8), ("جانفي", 1), ("ذو الحجة", 12)} <= months


# --- properties

_PIECES = [
    "٣٠",
    "30",
    "2015",
    "٢٠١٥",
    "أَيْلُول",
    "ايار",
    "/",
    "مايو",
    "سبتمبر",
    "آب",
    "وخمسة",
    "خمسة",
    "ثلاثة",
    "آلاف",
    "وعشرون",
    "مليون",
    "دولار",
    "%",
    "في",
    "المئة",
    "الساعة",
    "10",
    ":",
    "الثالثة",
    "مساء",
    "الخميس",
    "يوم",
    "عام",
    "هـ",
    "بـ",
    "ـ",
    "\u064e",
    "&quot;",
    "ﻻ",
    "،",
    "-",
    "$",
    "3.5",
    "1,200",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_PIECES), st.sampled_from(["", " ", "  ", "\n"])),
        max_size=25,
    )
)
def test_entities_always_slice_the_original_and_never_overlap(
    parts: list[tuple[str, str]],
) -> None:
    text = "".join(piece + space for piece, space in parts)
    _check_invariants(text, find(text))
