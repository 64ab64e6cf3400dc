"""The character n-gram name-likeness model: one word or many, the same guesses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from arabic_ner.errors import DataFormatError
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


def test_written_and_read_back_it_scores_as_its_six_digit_numbers(tmp_path: Path) -> None:
    model = NameLikeness.fit([("بوتين", "PERS"), ("روتين", "O"), ("موسكو", "LOC")])
    path = tmp_path / "namelike.tsv"
    model.write(path)
    read = NameLikeness.read(path)
    # What the file holds: each number to 6 significant digits.
    rounded = NameLikeness(
        {c: float(f"{v:.6g}") for c, v in model.log_prior.items()},
        {g: [float(f"{v:.6g}") for v in model._table[i]] for g, i in model._index.items()},
        [float(f"{v:.6g}") for v in model._table[-1]],
    )
    words = ["بوتين", "موسكو", "روتين", "لندن"]
    assert read.predict_many(words) == rounded.predict_many(words)
    assert read.log_prior == rounded.log_prior


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: "", "'#prior'"),
        (lambda text: text + "x\t1\t2\n", "5 numbers"),
        (lambda text: text + "x\t1\t2\t3\t4\tfive\n", "5 numbers"),
        (lambda text: text + "\nx\t1\t2\t3\t4\t5\n", "empty line"),
    ],
)
def test_a_damaged_file_raises_an_error_naming_it(
    tmp_path: Path, damage: Callable[[str], str], message: str
) -> None:
    path = tmp_path / "namelike.tsv"
    NameLikeness.fit([("بوتين", "PERS"), ("قال", "O")]).write(path)
    path.write_text(damage(path.read_text("utf-8")), encoding="utf-8")
    with pytest.raises(DataFormatError, match=message) as raised:
        NameLikeness.read(path)
    assert str(path) in str(raised.value)
