"""tokenize: tokens and sentences placed exactly in the original text."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from arabic_ner.tokenize import MAX_SENTENCE_TOKENS, TokenKind, sentences, tokenize


def surfaces(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def test_every_token_slices_the_original_text() -> None:
    text = "قالَ بـوتين: «ﻻ» &quot;داعش&quot; ٢٠١٥"
    for token in tokenize(text):
        assert text[token.start : token.end] == token.text


def test_diacritics_and_tatweel_stay_inside_the_word() -> None:
    assert surfaces("الرَّئِيسُ بـــوتين") == ["الرَّئِيسُ", "بـــوتين"]


def test_arabic_punctuation_is_its_own_token() -> None:
    assert surfaces("دمشق، حلب؛ حمص؟") == ["دمشق", "،", "حلب", "؛", "حمص", "؟"]


def test_numbers_and_latin_words_are_separate_tokens() -> None:
    tokens = tokenize("قتل 30 جنديا في ISIS-K و3.5%")
    assert [(t.text, t.kind) for t in tokens] == [
        ("قتل", TokenKind.WORD),
        ("30", TokenKind.NUMBER),
        ("جنديا", TokenKind.WORD),
        ("في", TokenKind.WORD),
        ("ISIS-K", TokenKind.FOREIGN),
        ("و", TokenKind.WORD),
        ("3.5", TokenKind.NUMBER),
        ("%", TokenKind.PUNCT),
    ]


def test_arabic_indic_digits_are_numbers_with_ascii_norm() -> None:
    (token,) = tokenize("٢٠١٥")
    assert token.kind is TokenKind.NUMBER and token.norm == "2015" and token.text == "٢٠١٥"


def test_arabic_word_glued_to_latin_splits_at_the_script_change() -> None:
    assert surfaces("بوتينPutin") == ["بوتين", "Putin"]


def test_sentences_end_at_full_stops_question_marks_and_line_breaks() -> None:
    text = "وصل بوتين. هل غادر؟ نعم\nثم عاد!"
    groups = [[t.text for t in s] for s in sentences(tokenize(text), text)]
    assert groups == [["وصل", "بوتين", "."], ["هل", "غادر", "؟"], ["نعم"], ["ثم", "عاد", "!"]]


def test_a_sentence_without_punctuation_is_cut_at_the_length_cap() -> None:
    text = " ".join(["كلمة"] * (MAX_SENTENCE_TOKENS * 2 + 5))
    lengths = [len(s) for s in sentences(tokenize(text), text)]
    assert lengths == [MAX_SENTENCE_TOKENS, MAX_SENTENCE_TOKENS, 5]


def test_empty_and_blank_text_have_no_tokens() -> None:
    assert tokenize("") == [] and tokenize(" \n\t") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("بوتينَُـﻻ&;#1 .،\n\u200fa٣ک"), max_size=40))
def test_token_offsets_hold_on_generated_text(text: str) -> None:
    previous_end = 0
    for token in tokenize(text):
        assert text[token.start : token.end] == token.text
        assert previous_end <= token.start < token.end
        previous_end = token.end


def test_marks_deleted_at_the_very_end_stay_with_the_last_token() -> None:
    assert surfaces("1437 هـ") == ["1437", "هـ"]
    assert surfaces("بوتينُ") == ["بوتينُ"]


def test_a_ligature_of_several_words_stays_one_token() -> None:
    tokens = tokenize("قال ﷺ النبي")
    assert [t.text for t in tokens] == ["قال", "ﷺ", "النبي"]
    assert len({(t.start, t.end) for t in tokens}) == len(tokens)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("بوتين ﷺﷻﷲﻻﺑ\u0651\u200f&a٣"), max_size=30))
def test_no_two_tokens_share_a_span(text: str) -> None:
    spans = [(t.start, t.end) for t in tokenize(text)]
    assert len(set(spans)) == len(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_a_mark_of_another_script_is_not_part_of_an_arabic_word() -> None:
    # U+FE0F (emoji variation selector) is a combining mark, but not an Arabic one.
    tokens = tokenize("وصل الى ❤️موسكو")
    assert tokens[-1].text == "موسكو" and tokens[-1].kind is TokenKind.WORD
    assert all(t.kind is not TokenKind.WORD for t in tokens if "\ufe0f" in t.text)
