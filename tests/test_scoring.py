"""Tests of arabic_ner.scoring: conlleval-style chunking and exact-match entity scores."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Sequence

import pytest

from arabic_ner.scoring import Report, TypeScore, chunks, score


def row(report: Report, kind: str) -> TypeScore:
    (found,) = [r for r in report.by_type if r.type == kind]
    return found


# --- chunks -------------------------------------------------------------------------------


def test_chunks_reads_b_and_i_runs_as_end_exclusive_spans() -> None:
    tags = ["O", "B-PERS", "I-PERS", "I-PERS", "O", "B-LOC"]
    assert chunks(tags) == [("PERS", 1, 4), ("LOC", 5, 6)]


def test_i_after_o_starts_a_chunk() -> None:
    assert chunks(["O", "I-LOC", "I-LOC", "O"]) == [("LOC", 1, 3)]
    assert chunks(["I-ORG"]) == [("ORG", 0, 1)]


def test_type_change_inside_a_run_splits_chunks() -> None:
    assert chunks(["B-PERS", "I-PERS", "I-LOC", "I-LOC"]) == [("PERS", 0, 2), ("LOC", 2, 4)]
    assert chunks(["B-PERS", "B-LOC"]) == [("PERS", 0, 1), ("LOC", 1, 2)]


def test_b_after_same_type_starts_a_new_chunk() -> None:
    assert chunks(["B-LOC", "I-LOC", "B-LOC"]) == [("LOC", 0, 2), ("LOC", 2, 3)]


def test_iob1_input_is_read_by_the_same_rules() -> None:
    assert chunks(["I-PERS", "I-PERS", "B-PERS", "O", "I-LOC"]) == [
        ("PERS", 0, 2),
        ("PERS", 2, 3),
        ("LOC", 4, 5),
    ]


def test_iobes_single_and_end_tags_close_chunks() -> None:
    tags = ["S-LOC", "B-PERS", "E-PERS", "S-PERS", "B-ORG", "I-ORG", "E-ORG", "I-ORG"]
    assert chunks(tags) == [
        ("LOC", 0, 1),
        ("PERS", 1, 3),
        ("PERS", 3, 4),
        ("ORG", 4, 7),
        ("ORG", 7, 8),
    ]


def test_types_may_contain_hyphens() -> None:
    assert chunks(["B-GPE-LOC", "I-GPE-LOC"]) == [("GPE-LOC", 0, 2)]


def test_chunks_of_empty_and_all_o_sequences_are_empty() -> None:
    assert chunks([]) == []
    assert chunks(["O", "O"]) == []


@pytest.mark.parametrize("tag", ["PERS", "B-", "X-LOC", "", "o"])
def test_chunks_rejects_tags_that_are_not_o_or_prefixed(tag: str) -> None:
    with pytest.raises(ValueError, match=rf"tag 1 is {re.escape(repr(tag))}"):
        chunks(["O", tag])


# --- score: hand-computed cases -----------------------------------------------------------


def test_partial_overlap_is_both_a_false_positive_and_a_false_negative() -> None:
    gold = [["B-PERS", "I-PERS", "O", "B-LOC"]]
    pred = [["B-PERS", "O", "O", "B-LOC"]]
    report = score(gold, pred)
    pers = row(report, "PERS")
    assert (pers.support, pers.predicted, pers.correct) == (1, 1, 0)
    assert (pers.precision, pers.recall, pers.f1) == (0.0, 0.0, 0.0)
    loc = row(report, "LOC")
    assert (loc.precision, loc.recall, loc.f1) == (1.0, 1.0, 1.0)
    assert (report.micro.precision, report.micro.recall, report.micro.f1) == (0.5, 0.5, 0.5)
    assert report.macro_f1 == 0.5
    assert report.tokens == 4
    assert report.token_accuracy == 0.75


def test_wider_prediction_than_gold_is_not_a_match() -> None:
    report = score([["B-ORG", "O"]], [["B-ORG", "I-ORG"]])
    assert report.micro.correct == 0
    assert report.micro.f1 == 0.0


def test_wrong_type_on_the_right_span_is_not_a_match() -> None:
    report = score([["B-ORG", "I-ORG"]], [["B-LOC", "I-LOC"]])
    assert (row(report, "ORG").recall, row(report, "LOC").precision) == (0.0, 0.0)
    assert report.micro.correct == 0


def test_i_after_o_in_predictions_starts_a_chunk_that_can_match() -> None:
    report = score([["O", "B-LOC", "I-LOC"]], [["O", "I-LOC", "I-LOC"]])
    assert report.micro.correct == 1
    assert report.micro.f1 == 1.0
    assert report.token_accuracy == pytest.approx(2 / 3)


def test_type_change_inside_a_run_yields_two_predicted_chunks() -> None:
    report = score([["B-PERS", "I-PERS", "I-PERS"]], [["B-PERS", "I-PERS", "I-LOC"]])
    assert report.micro.predicted == 2
    assert report.micro.correct == 0
    assert row(report, "LOC").support == 0


def test_micro_pools_counts_while_per_type_rows_and_macro_do_not() -> None:
    gold = [
        ["B-PERS", "I-PERS", "O", "B-LOC", "O", "B-ORG"],
        ["B-LOC", "O", "B-LOC"],
    ]
    pred = [
        ["B-PERS", "I-PERS", "O", "B-LOC", "O", "O"],
        ["B-LOC", "O", "B-ORG"],
    ]
    report = score(gold, pred)
    assert [r.type for r in report.by_type] == ["LOC", "ORG", "PERS"]
    loc, org, pers = report.by_type
    assert (loc.support, loc.predicted, loc.correct) == (3, 2, 2)
    assert (loc.precision, loc.recall, loc.f1) == pytest.approx((1.0, 2 / 3, 0.8))
    assert (org.support, org.predicted, org.correct) == (1, 1, 0)
    assert (org.precision, org.recall, org.f1) == (0.0, 0.0, 0.0)
    assert (pers.precision, pers.recall, pers.f1) == (1.0, 1.0, 1.0)
    micro = report.micro
    assert micro.type == "micro"
    assert (micro.support, micro.predicted, micro.correct) == (5, 4, 3)
    assert (micro.precision, micro.recall, micro.f1) == pytest.approx((0.75, 0.6, 2 / 3))
    assert report.macro_f1 == pytest.approx((1.0 + 0.8 + 0.0) / 3)
    assert report.tokens == 9
    assert report.token_accuracy == pytest.approx(7 / 9)


def test_empty_gold_and_empty_predictions_give_zero_not_errors() -> None:
    report = score([["O", "O"]], [["O", "O"]])
    assert report.by_type == ()
    assert (report.micro.precision, report.micro.recall, report.micro.f1) == (0.0, 0.0, 0.0)
    assert report.macro_f1 == 0.0
    assert report.token_accuracy == 1.0


def test_no_sentences_at_all_give_zero_scores() -> None:
    report = score([], [])
    assert (report.tokens, report.token_accuracy, report.macro_f1) == (0, 0.0, 0.0)
    assert report.micro.f1 == 0.0
    assert report.format().startswith("processed 0 tokens")


def test_type_found_only_in_predictions_gets_a_row_with_zero_scores() -> None:
    report = score([["O", "O"]], [["B-MISC", "O"]])
    misc = row(report, "MISC")
    assert (misc.support, misc.predicted, misc.correct) == (0, 1, 0)
    assert (misc.precision, misc.recall, misc.f1) == (0.0, 0.0, 0.0)


def test_no_predictions_give_zero_precision_and_recall() -> None:
    report = score([["B-LOC", "O"]], [["O", "O"]])
    assert (report.micro.precision, report.micro.recall, report.micro.f1) == (0.0, 0.0, 0.0)


def test_score_accepts_generators_and_tuples() -> None:
    gold = (tuple(s) for s in [["B-LOC"], ["O"]])
    pred = iter([("B-LOC",), ("O",)])
    assert score(gold, pred).micro.f1 == 1.0


# --- score: errors ------------------------------------------------------------------------


def test_different_sentence_counts_raise_naming_the_unmatched_sentence() -> None:
    with pytest.raises(ValueError, match="gold has 2 sentences but pred has 1; sentence 1"):
        score([["O"], ["O"]], [["O"]])


def test_different_sentence_lengths_raise_naming_the_sentence_index() -> None:
    with pytest.raises(ValueError, match="sentence 1: gold has 2 tags but pred has 1"):
        score([["O"], ["O", "O"]], [["O"], ["O"]])


def test_invalid_tag_error_names_the_sentence_and_position() -> None:
    with pytest.raises(ValueError, match="sentence 1: tag 0 is 'LOC'"):
        score([["O"], ["LOC"]], [["O"], ["O"]])


def test_a_bare_string_instead_of_a_tag_sequence_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="sentence 0 is a str"):
        score(["B-LOC"], [["O"]])


# --- report rendering ---------------------------------------------------------------------


def test_to_dict_is_json_serialisable_and_keyed_by_type() -> None:
    report = score([["B-LOC", "O"]], [["B-LOC", "B-PERS"]])
    data = json.loads(json.dumps(report.to_dict()))
    assert set(data["by_type"]) == {"LOC", "PERS"}
    assert data["by_type"]["LOC"]["f1"] == 1.0
    assert data["micro"] == {
        "type": "micro",
        "precision": 0.5,
        "recall": 1.0,
        "f1": pytest.approx(2 / 3),
        "support": 1,
        "predicted": 2,
        "correct": 1,
    }
    assert data["tokens"] == 2
    assert data["token_accuracy"] == 0.5


def test_format_renders_a_table_with_percentages_and_counts() -> None:
    report = score([["B-MISC", "I-MISC", "O"]], [["B-MISC", "I-MISC", "B-LOC"]])
    assert report.format().splitlines() == [
        "processed 3 tokens with 1 phrases; found: 2 phrases; correct: 1.",
        "accuracy:  66.67%",
        "type   precision  recall      F1  gold  predicted",
        "LOC         0.00    0.00    0.00     0          1",
        "MISC      100.00  100.00  100.00     1          1",
        "micro      50.00  100.00   66.67     1          2",
        "macro                      50.00",
    ]


# --- equivalence with conlleval -----------------------------------------------------------
# A line-by-line port of the counting loop of conlleval.pl (CoNLL-2000 shared task script,
# version 2004-01-26) for B/I/O tags, used as an oracle over every short tag sequence.


def _ce_split(tag: str) -> tuple[str, str]:
    match = re.match(r"^([^-]*)-(.*)$", tag)
    return (match[1], match[2]) if match else (tag, "")


def _ce_end(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    end = (prev_tag, tag) in {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O")}
    end = end or (prev_tag, tag) in {("E", "E"), ("E", "I"), ("E", "O")}
    return end or (prev_tag not in ("O", ".") and prev_type != kind)


def _ce_start(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    start = (prev_tag, tag) in {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I")}
    start = start or (prev_tag, tag) in {("E", "E"), ("E", "I"), ("O", "E")}
    return start or (tag not in ("O", ".") and prev_type != kind)


def _conlleval(
    gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]
) -> tuple[Counter[str], Counter[str], Counter[str], int, int]:
    found_correct: Counter[str] = Counter()
    found_guessed: Counter[str] = Counter()
    correct_chunk: Counter[str] = Counter()
    tokens = correct_tags = 0
    in_correct = False
    last_c, last_g, last_c_type, last_g_type = "O", "O", "", ""
    stream: list[tuple[str, str, bool]] = []
    for gold_tags, pred_tags in zip(gold, pred, strict=True):
        stream += [(g, p, False) for g, p in zip(gold_tags, pred_tags, strict=True)]
        stream.append(("O", "O", True))  # the blank line between sentences
    for gold_tag, pred_tag, boundary in stream:
        c, c_type = _ce_split(gold_tag)
        g, g_type = _ce_split(pred_tag)
        if in_correct:
            end_c = _ce_end(last_c, c, last_c_type, c_type)
            end_g = _ce_end(last_g, g, last_g_type, g_type)
            if end_c and end_g and last_g_type == last_c_type:
                in_correct = False
                correct_chunk[last_c_type] += 1
            elif end_c != end_g or g_type != c_type:
                in_correct = False
        start_c = _ce_start(last_c, c, last_c_type, c_type)
        start_g = _ce_start(last_g, g, last_g_type, g_type)
        if start_c and start_g and g_type == c_type:
            in_correct = True
        if start_c:
            found_correct[c_type] += 1
        if start_g:
            found_guessed[g_type] += 1
        if not boundary:
            correct_tags += c == g and g_type == c_type
            tokens += 1
        last_c, last_g, last_c_type, last_g_type = c, g, c_type, g_type
    if in_correct:
        correct_chunk[last_c_type] += 1
    return found_correct, found_guessed, correct_chunk, tokens, correct_tags


def _all_sequences(max_length: int) -> list[tuple[str, ...]]:
    alphabet = ["O", "B-A", "I-A", "B-B", "I-B"]
    return [
        seq
        for length in range(max_length + 1)
        for seq in itertools.product(alphabet, repeat=length)
    ]


def _assert_matches_conlleval(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> None:
    found_correct, found_guessed, correct_chunk, tokens, correct_tags = _conlleval(gold, pred)
    report = score(gold, pred)
    assert {r.type: r.support for r in report.by_type if r.support} == dict(found_correct)
    assert {r.type: r.predicted for r in report.by_type if r.predicted} == dict(found_guessed)
    assert {r.type: r.correct for r in report.by_type if r.correct} == dict(correct_chunk)
    assert (report.tokens, report.token_accuracy * report.tokens) == pytest.approx(
        (tokens, correct_tags)
    )


def test_counts_match_conlleval_on_every_pair_of_short_sequences() -> None:
    sequences = _all_sequences(3)
    for gold_seq, pred_seq in itertools.product(sequences, repeat=2):
        if len(gold_seq) == len(pred_seq):
            _assert_matches_conlleval([gold_seq], [pred_seq])


def test_counts_match_conlleval_across_sentence_boundaries() -> None:
    sequences = [s for s in _all_sequences(4) if len(s) == 4]
    gold = sequences
    pred = sequences[7:] + sequences[:7]
    _assert_matches_conlleval(gold, pred)


def test_chunks_cover_every_non_o_token_exactly_once() -> None:
    for seq in _all_sequences(5):
        covered = [i for _, start, end in chunks(seq) for i in range(start, end)]
        assert covered == [i for i, tag in enumerate(seq) if tag != "O"]
