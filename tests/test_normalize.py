"""normalize: each fix, and the alignment back to the original that must never be lost."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from arabic_ner.normalize import (
    NormalizeConfig,
    _changes,
    _fold,
    _plan,
    normalize,
    normalize_word,
)


def original_of(text: str, start: int, end: int, config: NormalizeConfig | None = None) -> str:
    n = normalize(text, config)
    a, b = n.to_original(start, end)
    return text[a:b]


def test_diacritics_are_removed_and_the_word_maps_back_with_them() -> None:
    text = "قالَ الرَّئِيسُ بُوتِينُ"
    n = normalize(text)
    assert n.text == "قال الرئيس بوتين"
    start = n.text.index("بوتين")
    assert original_of(text, start, start + 5) == "بُوتِينُ"


def test_tatweel_is_removed_inside_a_word_that_maps_back_whole() -> None:
    text = "مدينة تـــدمـر"
    n = normalize(text)
    assert n.text == "مدينة تدمر"
    assert original_of(text, 6, 10) == "تـــدمـر"


def test_presentation_forms_unfold_to_letters() -> None:
    text = "ﺑﻴﺮﻭﺕ"  # بيروت in presentation forms
    assert normalize(text).text == "بيروت"
    assert original_of(text, 0, 5) == text


def test_lam_alef_ligature_expands_and_maps_to_the_one_original_char() -> None:
    text = "ﻻ شيء"
    n = normalize(text)
    assert n.text == "لا شيء"
    assert n.to_original(0, 1) == (0, 1)
    assert n.to_original(1, 2) == (0, 1)
    assert n.to_original(3, 6) == (2, 5)


def test_html_entities_decode_and_keep_their_whole_span() -> None:
    text = "&quot;داعش&quot; &amp; &#1576;"
    n = normalize(text)
    assert n.text == '"داعش" & ب'
    assert n.to_original(0, 1) == (0, 6)
    assert original_of(text, 1, 5) == "داعش"


def test_stray_ampersand_before_an_arabic_word_is_dropped() -> None:
    text = "قوات &من الجيش"
    n = normalize(text)
    assert n.text == "قوات من الجيش"
    assert original_of(text, 5, 7) == "من"


def test_unknown_entity_is_left_alone() -> None:
    assert normalize("a &notanentity; b").text == "a &notanentity; b"


def test_alef_forms_yeh_and_persian_letters_fold() -> None:
    assert normalize_word("أإآٱ") == "اااا"
    assert normalize_word("مستشفى") == "مستشفي"
    assert normalize_word("کابل") == "كابل"
    assert normalize_word("ڤلاديمير") == "فلاديمير"
    assert normalize_word("ی") == "ي"


def test_arabic_indic_and_persian_digits_become_ascii() -> None:
    assert normalize_word("٢٠١٥ ۲۰۱۶ ٪٥") == "2015 2016 %5"


def test_zero_width_and_bidi_controls_are_removed() -> None:
    text = "بو\u200cتين\u200f"
    n = normalize(text)
    assert n.text == "بوتين"
    assert original_of(text, 0, 5) == "بو\u200cتين"


def test_teh_marbuta_folds_only_when_asked() -> None:
    assert normalize_word("حماة") == "حماة"
    assert normalize_word("حماة", NormalizeConfig(teh_marbuta=True)) == "حماه"


def test_switching_fixes_off_keeps_the_characters() -> None:
    config = NormalizeConfig(diacritics=False, alef=False, digits=False, html=False)
    assert normalize("أَ ١ &amp;", config).text == "أَ ١ &amp;"


def test_text_without_changes_has_an_identity_alignment() -> None:
    n = normalize("موسكو وبيروت")
    assert n.alignment.is_identity
    assert n.to_original(0, 5) == (0, 5)


def test_config_is_frozen() -> None:
    config = NormalizeConfig()
    with pytest.raises(AttributeError):
        config.alef = False  # type: ignore[misc]


_pieces = st.sampled_from(
    [
        "ب",
        "و",
        "ت",
        "ي",
        "ن",
        "َ",
        "ُ",
        "ّ",
        "ـ",
        "ﻻ",
        "ﷲ",
        "ﺑ",
        "&amp;",
        "&",
        "&#1576;",
        "\u200f",
        "\u200c",
        " ",
        "\n",
        "٣",
        "a",
        ".",
        "أ",
        "ى",
        "&quot;",
        "ک",
        "؟",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_pieces, max_size=30).map("".join))
def test_every_normalized_span_maps_inside_the_original_in_order(text: str) -> None:
    n = normalize(text)
    previous = 0
    for i in range(len(n.text)):
        start, end = n.to_original(i, i + 1)
        assert 0 <= start < end <= len(text)
        assert start >= previous  # monotone: the alignment never goes backwards
        previous = start
    if n.text:
        assert n.to_original(0, len(n.text))[1] <= len(text)


# What the pattern must find, as it was written for ``regex`` before it moved to ``re``
# (one class entry per character, the stray ``&`` as a lookahead for an Arabic letter).
_PIECES = ["&", "&amp;", "&#1604;", "&#x644;", "&quot", "&#0;", "&nbsp;", ";", "#", "a", "Z", "7"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(_PIECES)
        | st.sampled_from(sorted(_plan(NormalizeConfig()).deleted))
        | st.sampled_from(sorted(_plan(NormalizeConfig()).expansions))
        | st.characters(min_codepoint=0x600, max_codepoint=0x6FF)
        | st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF)
        | st.sampled_from([" ", "\n", "x", "ب"]),
        max_size=40,
    ).map("".join)
)
def test_the_pattern_finds_what_the_regex_pattern_found(text: str) -> None:
    plan = _plan(NormalizeConfig())

    def one_by_one(chars: frozenset[str] | set[str]) -> str:
        return "".join(f"\\U{ord(c):08x}" for c in sorted(chars))

    reference = regex.compile(
        r"(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)"
        r"|(?P<stray>&(?=\p{Arabic}))"
        f"|(?P<deleted>[{one_by_one(plan.deleted)}]+)"
        f"|(?P<expanded>[{one_by_one(set(plan.expansions))}])"
    )
    expected = [(m.span(), m.lastgroup) for m in reference.finditer(text)]
    assert [(m.span(), m.lastgroup) for m in _changes(plan, text)] == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(sorted(chr(code) for code in _plan(NormalizeConfig()).table))
        | st.characters(min_codepoint=0x600, max_codepoint=0x6FF)
        | st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF)
        | st.sampled_from([" ", "\n", "x", "9"]),
        max_size=40,
    ).map("".join),
    st.booleans(),
)
def test_folding_runs_equals_translating_the_whole_text(text: str, digits: bool) -> None:
    plan = _plan(NormalizeConfig(digits=digits))
    assert _fold(plan, text) == text.translate(plan.table)
