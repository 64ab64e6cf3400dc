"""Read and write CoNLL-style NER files (one ``token TAG`` per line, IOB2 tags).

A file holds sentences separated by blank lines; each non-blank line is a token and its
tag, whitespace-separated. The token is the first column and the tag the last, so files
with extra middle columns (part of speech, chunk) read as well. ``-DOCSTART-`` lines are
document markers: they end the current sentence and are otherwise skipped.

>>> sentences = list(iter_conll(["زار O", "محمد B-PERS", "بيروت B-LOC", ""]))
>>> sentences[0].tags
('O', 'B-PERS', 'B-LOC')
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from arabic_ner.errors import DataFormatError

__all__ = [
    "Sentence",
    "is_valid_tag",
    "iter_conll",
    "read_conll",
    "split_train_dev",
    "write_conll",
]

_TAG_RE = re.compile(r"O|[BI]-\S+")
_DOCSTART = "-DOCSTART-"


class _TextSink(Protocol):
    def write(self, text: str, /) -> object: ...


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence: its tokens and their IOB2 tags, position by position.

    >>> Sentence(tokens=("في", "بيروت"), tags=("O", "B-LOC")).tags[1]
    'B-LOC'
    """

    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.tokens) != len(self.tags):
            raise ValueError(
                f"a Sentence needs one tag per token: got {len(self.tokens)} tokens "
                f"and {len(self.tags)} tags"
            )


def is_valid_tag(tag: str) -> bool:
    """Return True if ``tag`` is ``O`` or an IOB2 tag ``B-X`` / ``I-X`` with a non-empty type.

    >>> is_valid_tag("B-LOC"), is_valid_tag("I-PERS"), is_valid_tag("O"), is_valid_tag("LOC")
    (True, True, True, False)
    """
    return _TAG_RE.fullmatch(tag) is not None


def iter_conll(lines: Iterable[str], *, source: str = "<input>") -> Iterator[Sentence]:
    """Yield the sentences of CoNLL text given as lines (with or without line endings).

    Trailing whitespace, CRLF endings, a leading BOM, runs of blank lines, a last sentence
    with no blank line after it, ``-DOCSTART-`` lines and ``# ...`` comment lines (as
    ``arabic-ner extract --format conll`` writes) are all accepted. A line with a
    single column, or a tag that is not ``O``, ``B-X`` or ``I-X``, raises
    :class:`~arabic_ner.errors.DataFormatError` naming ``source:line``.

    >>> [s.tokens for s in iter_conll(["-DOCSTART- O", "", "القاهرة B-LOC\\r\\n", "", ""])]
    [('القاهرة',)]
    """
    tokens: list[str] = []
    tags: list[str] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip()
        if lineno == 1:
            line = line.removeprefix("\ufeff")
        columns = line.split()
        if columns and columns[0] == "#" and (len(columns) != 2 or not is_valid_tag(columns[1])):
            continue  # a comment such as "# id = doc-1" (a "#" token reads as "# O")
        if not columns or columns[0] == _DOCSTART:
            if tokens:
                yield Sentence(tuple(tokens), tuple(tags))
                tokens, tags = [], []
            continue
        if len(columns) < 2:
            raise DataFormatError(
                f"{source}:{lineno}: expected 'token TAG' (at least two whitespace-separated "
                f"columns), found one column: {line!r}"
            )
        tag = columns[-1]
        if not is_valid_tag(tag):
            raise DataFormatError(
                f"{source}:{lineno}: expected a tag 'O', 'B-TYPE' or 'I-TYPE' in the last "
                f"column, found {tag!r} in line {line!r}"
            )
        tokens.append(columns[0])
        tags.append(tag)
    if tokens:
        yield Sentence(tuple(tokens), tuple(tags))


def _decoded_lines(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield the lines of a UTF-8 file, naming file and line on a decoding error."""
    with open(path, "rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataFormatError(
                    f"{os.fspath(path)}:{lineno}: expected UTF-8 text, found bytes that are "
                    f"not valid UTF-8 ({exc.reason} at byte {exc.start} of the line); "
                    "re-encode the file as UTF-8"
                ) from exc


def read_conll(path: str | os.PathLike[str]) -> list[Sentence]:
    """Read every sentence of the UTF-8 CoNLL file at ``path``.

    Errors are :class:`~arabic_ner.errors.DataFormatError` naming the file and line; see
    :func:`iter_conll` for the accepted format.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     file = pathlib.Path(tmp, "toy.txt")
    ...     _ = file.write_text("في O\\nدمشق B-LOC\\n", encoding="utf-8")
    ...     read_conll(file)[0].tags
    ('O', 'B-LOC')
    """
    return list(iter_conll(_decoded_lines(path), source=os.fspath(path)))


def _check_writable(index: int, sentence: Sentence) -> None:
    if not sentence.tokens:
        raise ValueError(f"sentence {index} is empty; a CoNLL file cannot hold an empty sentence")
    for position, (token, tag) in enumerate(zip(sentence.tokens, sentence.tags, strict=True)):
        if token.split() != [token] or token == _DOCSTART:
            raise ValueError(
                f"sentence {index}, token {position}: expected a non-empty token without "
                f"whitespace that is not {_DOCSTART!r}, found {token!r}"
            )
        if not is_valid_tag(tag):
            raise ValueError(
                f"sentence {index}, token {position}: expected a tag 'O', 'B-TYPE' or "
                f"'I-TYPE', found {tag!r}"
            )


def _write_sentences(sentences: Iterable[Sentence], sink: _TextSink) -> None:
    for index, sentence in enumerate(sentences):
        _check_writable(index, sentence)
        lines = [
            f"{token} {tag}\n" for token, tag in zip(sentence.tokens, sentence.tags, strict=True)
        ]
        sink.write("".join(lines) + "\n")


def write_conll(
    sentences: Iterable[Sentence], path_or_file: str | os.PathLike[str] | _TextSink
) -> None:
    """Write sentences as ``token TAG`` lines with a blank line after each sentence.

    ``path_or_file`` is a path (written as UTF-8 with ``\\n`` endings, replacing any file
    there) or an open text file. Output reads back unchanged with :func:`read_conll`, so a
    sentence that could not round-trip (empty, a token with whitespace or equal to
    ``-DOCSTART-``, a tag that is not IOB2) raises ``ValueError`` naming its index.

    >>> import io
    >>> out = io.StringIO()
    >>> write_conll([Sentence(("زار", "عمان"), ("O", "B-LOC"))], out)
    >>> out.getvalue()
    'زار O\\nعمان B-LOC\\n\\n'
    """
    if isinstance(path_or_file, (str, os.PathLike)):
        with open(path_or_file, "w", encoding="utf-8", newline="\n") as handle:
            _write_sentences(sentences, handle)
    else:
        _write_sentences(sentences, path_or_file)


def split_train_dev(
    sentences: Sequence[Sentence], dev_fraction: float = 0.1
) -> tuple[list[Sentence], list[Sentence]]:
    """Split off the last ``round(len(sentences) * dev_fraction)`` sentences as dev.

    This is the project's fixed dev split: deterministic, with no shuffling, so the same
    training file always yields the same train and dev parts. Taking the tail keeps
    neighbouring sentences (same article) on one side of the split. Python's ``round``
    rounds halves to even.

    >>> train, dev = split_train_dev([Sentence((str(i),), ("O",)) for i in range(10)], 0.2)
    >>> [s.tokens[0] for s in dev], len(train)
    (['8', '9'], 8)
    """
    if not 0.0 <= dev_fraction <= 1.0:
        raise ValueError(f"dev_fraction must be between 0 and 1, got {dev_fraction!r}")
    n_train = len(sentences) - round(len(sentences) * dev_fraction)
    return list(sentences[:n_train]), list(sentences[n_train:])
