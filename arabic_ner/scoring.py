"""Entity-level scoring with exact span match, following the CoNLL ``conlleval`` rules.

A predicted entity counts as correct only if its type, first token and last token all
equal those of a gold entity; a partly overlapping span is both a false positive and a
false negative. Chunks are read from tags the way ``conlleval`` reads them, so an ``I-X``
after ``O`` or after another type starts an entity instead of being dropped.

This is written here rather than taken from ``seqeval``: seqeval pulls numpy and
scikit-learn into what should be a light install, and conlleval's rules fit in a few lines.

>>> report = score([["B-PERS", "I-PERS", "O", "B-LOC"]], [["B-PERS", "I-PERS", "O", "O"]])
>>> report.micro.precision, report.micro.recall
(1.0, 0.5)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Report", "TypeScore", "chunks", "score"]

_PREFIXES = frozenset("BIES")


def _split_tag(tag: str, position: int) -> tuple[str, str]:
    """Return (prefix, type) of a tag; ``("O", "")`` for ``O``."""
    if tag == "O":
        return "O", ""
    prefix, dash, kind = tag.partition("-")
    if not dash or prefix not in _PREFIXES or not kind:
        raise ValueError(
            f"tag {position} is {tag!r}: expected 'O' or a B-, I-, E- or S- prefix and a type, "
            "such as 'B-LOC'"
        )
    return prefix, kind


def _ends_before(prev_prefix: str, prev_kind: str, prefix: str, kind: str) -> bool:
    """Whether an open chunk (last tag ``prev_prefix-prev_kind``) ends before this tag."""
    return prev_prefix in ("E", "S") or prefix in ("B", "S", "O") or kind != prev_kind


def chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Return the entities in a tag sequence as ``(type, start, end)``, ``end`` exclusive.

    conlleval semantics: a chunk starts at ``B-X``, or at ``I-X`` after ``O`` or after a tag
    of another type; it ends before ``O``, ``B-*`` or a tag of another type, or at the end of
    the sequence. IOB1 input therefore works too. IOBES tags are also read: ``S-X`` is a
    one-token chunk and ``E-X`` closes its chunk. Any other tag raises ``ValueError``.

    >>> chunks(["B-PERS", "I-PERS", "O", "I-LOC", "I-ORG", "B-ORG"])
    [('PERS', 0, 2), ('LOC', 3, 4), ('ORG', 4, 5), ('ORG', 5, 6)]
    """
    if tags.count("O") == len(tags):
        return []  # most sentences: nothing to read
    found: list[tuple[str, int, int]] = []
    start: int | None = None
    prev_prefix, prev_kind = "O", ""
    for position, tag in enumerate(tags):
        if tag == "O" and start is None:
            prev_prefix, prev_kind = "O", ""
            continue  # outside, as before: nothing to close or open
        prefix, kind = _split_tag(tag, position)
        if start is not None and _ends_before(prev_prefix, prev_kind, prefix, kind):
            found.append((prev_kind, start, position))
            start = None
        if start is None and prefix != "O":
            start = position
        prev_prefix, prev_kind = prefix, kind
    if start is not None:
        found.append((prev_kind, start, len(tags)))
    return found


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True, slots=True)
class TypeScore:
    """Scores of one entity type (or ``"micro"`` over all types); rates are in [0, 1].

    ``support`` is the number of gold entities, ``predicted`` the number of predicted ones
    and ``correct`` the exact matches. Undefined rates are 0.0.

    >>> TypeScore.from_counts("LOC", support=4, predicted=2, correct=2).recall
    0.5
    """

    type: str
    precision: float
    recall: float
    f1: float
    support: int
    predicted: int
    correct: int

    @classmethod
    def from_counts(cls, type: str, *, support: int, predicted: int, correct: int) -> TypeScore:
        """Build the scores from gold, predicted and correct counts.

        >>> TypeScore.from_counts("ORG", support=0, predicted=0, correct=0).f1
        0.0
        """
        return cls(
            type=type,
            precision=_ratio(correct, predicted),
            recall=_ratio(correct, support),
            f1=_ratio(2 * correct, support + predicted),
            support=support,
            predicted=predicted,
            correct=correct,
        )

    def to_dict(self) -> dict[str, object]:
        """Return the fields as a JSON-ready dict.

        >>> TypeScore.from_counts("LOC", support=1, predicted=1, correct=1).to_dict()["f1"]
        1.0
        """
        return {
            "type": self.type,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "predicted": self.predicted,
            "correct": self.correct,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The result of :func:`score`: per-type rows (sorted by type), micro and macro scores.

    ``macro_f1`` is the unweighted mean of the per-type F1 values (0.0 with no types);
    ``token_accuracy`` is the share of tokens whose predicted tag equals the gold tag.

    >>> score([["B-LOC"]], [["B-LOC"]]).to_dict()["macro_f1"]
    1.0
    """

    by_type: tuple[TypeScore, ...]
    micro: TypeScore
    macro_f1: float
    tokens: int
    token_accuracy: float

    def to_dict(self) -> dict[str, object]:
        """Return the report as a JSON-ready dict; ``by_type`` maps type name to its scores.

        >>> sorted(score([["B-LOC"]], [["O"]]).to_dict())
        ['by_type', 'macro_f1', 'micro', 'token_accuracy', 'tokens']
        """
        return {
            "by_type": {row.type: row.to_dict() for row in self.by_type},
            "micro": self.micro.to_dict(),
            "macro_f1": self.macro_f1,
            "tokens": self.tokens,
            "token_accuracy": self.token_accuracy,
        }

    def format(self) -> str:
        """Render a conlleval-like summary and table; rates are percentages.

        >>> print(score([["B-LOC", "O", "B-PERS"]], [["B-LOC", "O", "B-LOC"]]).format())
        processed 3 tokens with 2 phrases; found: 2 phrases; correct: 1.
        accuracy:  66.67%
        type   precision  recall      F1  gold  predicted
        LOC        50.00  100.00   66.67     1          2
        PERS        0.00    0.00    0.00     1          0
        micro      50.00   50.00   50.00     2          2
        macro                      33.33
        """
        width = max([5, *(len(row.type) for row in self.by_type)])
        lines = [
            f"processed {self.tokens} tokens with {self.micro.support} phrases; "
            f"found: {self.micro.predicted} phrases; correct: {self.micro.correct}.",
            f"accuracy: {100 * self.token_accuracy:6.2f}%",
            f"{'type':<{width}}  precision  recall      F1  gold  predicted",
        ]
        for row in (*self.by_type, self.micro):
            lines.append(
                f"{row.type:<{width}}  {100 * row.precision:9.2f}  {100 * row.recall:6.2f}"
                f"  {100 * row.f1:6.2f}  {row.support:4d}  {row.predicted:9d}"
            )
        lines.append(f"{'macro':<{width}}  {'':9}  {'':6}  {100 * self.macro_f1:6.2f}")
        return "\n".join(lines)


def score(gold: Iterable[Sequence[str]], pred: Iterable[Sequence[str]]) -> Report:
    """Score predicted tag sequences against gold ones, sentence by sentence.

    Both arguments hold one tag sequence per sentence, in the same order. A different
    number of sentences, or a sentence whose two sequences differ in length, raises
    ``ValueError`` naming the (0-based) sentence index. Types that occur only in the
    predictions still get a row.

    >>> report = score([["B-ORG", "I-ORG", "O"]], [["B-ORG", "O", "O"]])
    >>> report.micro.correct, report.micro.f1, round(report.token_accuracy, 4)
    (0, 0.0, 0.6667)
    """
    gold_list, pred_list = list(gold), list(pred)
    if len(gold_list) != len(pred_list):
        raise ValueError(
            f"gold has {len(gold_list)} sentences but pred has {len(pred_list)}; sentence "
            f"{min(len(gold_list), len(pred_list))} has no counterpart"
        )
    gold_counts: Counter[str] = Counter()
    pred_counts: Counter[str] = Counter()
    correct_counts: Counter[str] = Counter()
    tokens = correct_tags = 0
    for index, (gold_tags, pred_tags) in enumerate(zip(gold_list, pred_list, strict=True)):
        if isinstance(gold_tags, str) or isinstance(pred_tags, str):
            raise TypeError(f"sentence {index} is a str; pass one sequence of tags per sentence")
        if len(gold_tags) != len(pred_tags):
            raise ValueError(
                f"sentence {index}: gold has {len(gold_tags)} tags but pred has {len(pred_tags)}"
            )
        try:
            gold_chunks, pred_chunks = set(chunks(gold_tags)), set(chunks(pred_tags))
        except ValueError as exc:
            raise ValueError(f"sentence {index}: {exc}") from exc
        gold_counts.update(kind for kind, _, _ in gold_chunks)
        pred_counts.update(kind for kind, _, _ in pred_chunks)
        correct_counts.update(kind for kind, _, _ in gold_chunks & pred_chunks)
        tokens += len(gold_tags)
        correct_tags += sum(g == p for g, p in zip(gold_tags, pred_tags, strict=True))
    by_type = tuple(
        TypeScore.from_counts(
            kind,
            support=gold_counts[kind],
            predicted=pred_counts[kind],
            correct=correct_counts[kind],
        )
        for kind in sorted(gold_counts.keys() | pred_counts.keys())
    )
    micro = TypeScore.from_counts(
        "micro",
        support=sum(gold_counts.values()),
        predicted=sum(pred_counts.values()),
        correct=sum(correct_counts.values()),
    )
    macro_f1 = sum(row.f1 for row in by_type) / len(by_type) if by_type else 0.0
    return Report(
        by_type=by_type,
        micro=micro,
        macro_f1=macro_f1,
        tokens=tokens,
        token_accuracy=_ratio(correct_tags, tokens),
    )
