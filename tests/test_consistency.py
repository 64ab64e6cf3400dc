"""Document consistency: what propagates, where, and what never changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from arabic_ner.consistency import _mentions, propagate
from arabic_ner.gazetteer import Gazetteer
from arabic_ner.tokenize import tokenize


def _stem(word: str) -> str:
    return word[1:] if word.startswith("و") and len(word) > 4 else word


def test_a_confident_name_is_tagged_in_the_other_sentences() -> None:
    doc = [tokenize("قال فلاديمير بوتين امس"), tokenize("واكد فلاديمير بوتين ذلك")]
    tagged = [
        (["O", "B-PERS", "I-PERS", "O"], [1.0, 0.9, 0.95, 1.0]),
        (["O", "O", "O", "O"], [1.0, 1.0, 1.0, 1.0]),
    ]
    labels, scores = propagate(doc, tagged, _stem)[1]
    assert labels == ["O", "B-PERS", "I-PERS", "O"]
    assert scores == [1.0, 0.9, 0.9, 1.0]


def test_a_family_name_alone_and_a_clitic_mention_are_found() -> None:
    doc = [tokenize("قال فلاديمير بوتين"), tokenize("وبوتين في موسكو"), tokenize("وموسكو")]
    tagged = [
        (["O", "B-PERS", "I-PERS"], [1.0, 0.95, 0.97]),
        (["O", "O", "B-LOC"], [1.0, 1.0, 0.99]),
        (["O"], [1.0]),
    ]
    out = propagate(doc, tagged, _stem)
    assert out[1] == (["B-PERS", "O", "B-LOC"], [0.95, 1.0, 0.99])
    assert out[2] == (["B-LOC"], [0.99])


def test_unconfident_names_do_not_spread() -> None:
    doc = [tokenize("قال بوتين"), tokenize("بوتين")]
    tagged = [(["O", "B-PERS"], [1.0, 0.5]), (["O"], [1.0])]
    assert propagate(doc, tagged, _stem) == [(["O", "B-PERS"], [1.0, 0.5]), (["O"], [1.0])]


def test_only_outside_tokens_change_and_no_entity_is_extended() -> None:
    doc = [tokenize("حزب الله"), tokenize("حزب الله اللبناني"), tokenize("في حزب الله")]
    tagged = [
        (["B-ORG", "I-ORG"], [0.9, 0.9]),
        (["B-ORG", "I-ORG", "I-ORG"], [0.6, 0.6, 0.6]),  # not confident: no source, kept
        (["O", "O", "B-LOC"], [1.0, 1.0, 0.99]),  # would split an entity: kept
    ]
    out = propagate(doc, tagged, _stem)
    assert out[1] == tagged[1]
    assert out[2] == tagged[2]


def test_the_longest_name_wins_where_names_overlap() -> None:
    doc = [tokenize("مجلس الامن الدولي"), tokenize("الامن"), tokenize("قال مجلس الامن الدولي")]
    tagged = [
        (["B-ORG", "I-ORG", "I-ORG"], [0.9, 0.9, 0.9]),
        (["B-MISC"], [0.95]),
        (["O", "O", "O", "O"], [1.0] * 4),
    ]
    assert propagate(doc, tagged, _stem)[2][0] == ["O", "B-ORG", "I-ORG", "I-ORG"]


_WORDS = st.sampled_from(["ا", "ب", "بوتين", "حزب", "الله", ""])


@given(
    names=st.dictionaries(
        st.lists(_WORDS, min_size=1, max_size=3).map(" ".join),
        st.sampled_from(["PERS", "LOC", "ORG"]),
        max_size=6,
    ),
    words=st.lists(_WORDS, max_size=12),
)
def test_mentions_are_the_gazetteers_matches(names: dict[str, str], words: list[str]) -> None:
    by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for key, kind in names.items():
        if key:
            name = tuple(key.split(" "))
            by_first.setdefault(name[0], []).append((name, kind))
    expected = Gazetteer({key: {kind} for key, kind in names.items()}).matches(words)
    assert _mentions(words, by_first) == expected
