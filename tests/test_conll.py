"""Tests of arabic_ner.conll: reading, writing and splitting CoNLL NER files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from arabic_ner.conll import Sentence, iter_conll, read_conll, split_train_dev, write_conll
from arabic_ner.errors import DataFormatError

TRAIN_FILE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "ner" / "anercorp" / "train.txt"
)

SENTENCES = [
    Sentence(("أعلن", "اتحاد", "صناعة", "السيارات"), ("O", "B-ORG", "I-ORG", "I-ORG")),
    Sentence(("في", "ألمانيا", "."), ("O", "B-LOC", "O")),
    Sentence(("قال", "محمد", "علي"), ("O", "B-PERS", "I-PERS")),
]


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    write_conll(SENTENCES, path)
    assert read_conll(path) == SENTENCES
    assert read_conll(str(path)) == SENTENCES


def test_write_produces_token_space_tag_lines_and_a_blank_line_after_each_sentence() -> None:
    out = io.StringIO()
    write_conll(SENTENCES[1:2], out)
    assert out.getvalue() == "في O\nألمانيا B-LOC\n. O\n\n"


def test_write_to_path_uses_utf8_and_lf_endings(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    write_conll(SENTENCES[:1], path)
    assert path.read_bytes() == "أعلن O\nاتحاد B-ORG\nصناعة I-ORG\nالسيارات I-ORG\n\n".encode()


@pytest.mark.parametrize(
    "sentence",
    [
        Sentence((), ()),
        Sentence(("محمد علي",), ("B-PERS",)),
        Sentence(("",), ("O",)),
        Sentence(("-DOCSTART-",), ("O",)),
        Sentence(("محمد",), ("PERS",)),
    ],
)
def test_write_refuses_sentences_that_would_not_read_back(sentence: Sentence) -> None:
    with pytest.raises(ValueError, match="sentence 1"):
        write_conll([SENTENCES[0], sentence], io.StringIO())


def test_sentence_requires_one_tag_per_token() -> None:
    with pytest.raises(ValueError, match="2 tokens and 1 tags"):
        Sentence(("a", "b"), ("O",))


def test_reader_tolerates_crlf_trailing_space_blank_runs_docstart_and_missing_final_blank() -> None:
    lines = [
        "\ufeff-DOCSTART- -X- O O\r\n",
        "\r\n",
        "أعلن O  \r\n",
        "اتحاد\tB-ORG\r\n",
        "\r\n",
        "   \n",
        "\n",
        "في O\n",
        "-DOCSTART- O\n",
        "ألمانيا B-LOC",
    ]
    sentences = list(iter_conll(lines))
    assert sentences == [
        Sentence(("أعلن", "اتحاد"), ("O", "B-ORG")),
        Sentence(("في",), ("O",)),
        Sentence(("ألمانيا",), ("B-LOC",)),
    ]


def test_reader_takes_first_column_as_token_and_last_as_tag() -> None:
    sentences = list(iter_conll(["بيروت NNP B-NP B-LOC", "اليوم NN I-NP O"]))
    assert sentences == [Sentence(("بيروت", "اليوم"), ("B-LOC", "O"))]


def test_reader_of_empty_input_yields_no_sentences() -> None:
    assert list(iter_conll([])) == []
    assert list(iter_conll(["\n", "  \n"])) == []


def test_one_column_line_error_names_source_line_and_shows_the_line() -> None:
    lines = ["أعلن O\n", "اتحاد\n", "صناعة I-ORG\n"]
    with pytest.raises(DataFormatError) as info:
        list(iter_conll(lines, source="train.txt"))
    message = str(info.value)
    assert "train.txt:2" in message
    assert "'اتحاد'" in message
    assert "one column" in message


@pytest.mark.parametrize("tag", ["PERS", "B-", "E-LOC", "S-LOC", "b-LOC", "o"])
def test_invalid_tag_error_names_source_line_and_tag(tag: str) -> None:
    with pytest.raises(DataFormatError) as info:
        list(iter_conll(["في O", "", f"بيروت {tag}"], source="x.conll"))
    assert "x.conll:3" in str(info.value)
    assert repr(tag) in str(info.value)


def test_malformed_file_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("في O\n\nبيروت B-LOC\nدمشق\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad\.txt:4"):
        read_conll(path)


def test_invalid_utf8_raises_data_format_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("في O\n".encode() + "café O\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match=r"latin1\.txt:2.*UTF-8"):
        read_conll(path)


def test_split_train_dev_takes_the_last_tenth_as_dev_without_shuffling() -> None:
    sentences = [Sentence((str(i),), ("O",)) for i in range(25)]
    train, dev = split_train_dev(sentences)
    assert len(dev) == round(25 * 0.1) == 2
    assert dev == sentences[-2:]
    assert train == sentences[:-2]
    assert split_train_dev(sentences) == (train, dev)


@pytest.mark.parametrize(("fraction", "n_dev"), [(0.0, 0), (1.0, 10), (0.25, 2), (0.26, 3)])
def test_split_train_dev_rounds_the_dev_size(fraction: float, n_dev: int) -> None:
    sentences = [Sentence((str(i),), ("O",)) for i in range(10)]
    train, dev = split_train_dev(sentences, fraction)
    assert len(dev) == n_dev
    assert train + dev == sentences


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan")])
def test_split_train_dev_rejects_fractions_outside_zero_to_one(fraction: float) -> None:
    with pytest.raises(ValueError, match="dev_fraction"):
        split_train_dev([], fraction)


@pytest.mark.skipif(
    not TRAIN_FILE.is_file(), reason=f"ANERcorp training file not present at {TRAIN_FILE}"
)
def test_anercorp_training_file_has_4138_sentences_and_125084_tokens() -> None:
    sentences = read_conll(TRAIN_FILE)
    assert len(sentences) == 4138
    assert sum(len(s.tokens) for s in sentences) == 125_084
    tags = {tag for s in sentences for tag in s.tags}
    assert tags == {"O"} | {f"{p}-{t}" for p in "BI" for t in ("PERS", "LOC", "ORG", "MISC")}
    train, dev = split_train_dev(sentences)
    assert (len(train), len(dev)) == (3724, 414)


def test_comment_lines_are_skipped_but_a_hash_token_is_kept() -> None:
    lines = ["# id = doc-1", "# O", "بيروت B-LOC", "", "# error = bad record"]
    (sentence,) = list(iter_conll(lines))
    assert sentence.tokens == ("#", "بيروت") and sentence.tags == ("O", "B-LOC")
