"""The character n-gram name-likeness model: one word or many, the same guesses."""

from __future__ import annotations

import pytest

from arabic_ner.model import default_model_path
from arabic_ner.namelike import CLASSES, NameLikeness


@pytest.fixture(scope="module")
def model() -> NameLikeness:
    return NameLikeness.read(default_model_path() / "namelike.tsv")


def test_a_word_gets_the_same_guess_alone_or_in_any_batch(model: NameLikeness) -> None:
    words = ["بوتين", "موسكو", "قال", "ي", "زيلينسكي", "الاتحاد", "xyz", "بوتين"]
    alone = [model.predict(w) for w in words]
    assert model.predict_many(words) == alone
    assert model.predict_many(words[::-1]) == alone[::-1]
    assert model.predict_many([]) == []
    for guess, probability in alone:
        assert guess in CLASSES and 1 / len(CLASSES) <= probability <= 1.0


def test_guesses_follow_the_training_words() -> None:
    model = NameLikeness.fit([("بوتين", "PERS"), ("روتين", "O"), ("موسكو", "LOC")])
    assert model.predict("بوتين")[0] == "PERS"
    assert model.predict_many(["موسكو", "بوتين"])[0][0] == "LOC"
