"""Corpora: read records from files, folders, JSONL and stdin; write their entities.

``arabic-ner extract`` is made of the pieces below, in the order they appear here:

1. :class:`Record`: one unit of input (a whole text file, one line of it, or one JSONL
   object) with its id, source and line, or the reason it could not be read.
2. :func:`read_records`: a generator over the records of files, folders and standard
   input. Line-based inputs are read one line at a time, so a JSONL file of millions of
   lines streams; a bad line becomes an error record and the reading goes on.
3. :func:`format_jsonl`, :func:`format_conll`, :func:`format_table`: one record and its
   entities as text, ready to be written; the CSV, HTML, brat and spaCy DocBin writers
   are in ``writers.py``.
4. :func:`run_extract`: tag the records with :meth:`~arabic_ner.pipeline.Pipeline.pipe`
   and write them in input order, one flush per record, so an interrupted run can be
   resumed (``OUT.progress.json`` remembers what the run was).

Records in = records out: every input record gives exactly one output record, an error
record where it could not be processed.

>>> import io
>>> stdin = io.BytesIO('{"id": "d1", "text": "زار دمشق"}\\n[1]\\n'.encode())
>>> for record in read_records(["-"], ReadOptions(input_format="jsonl"), stdin=stdin):
...     print(record)
Record('d1', source='<stdin>', line=1, 8 chars)
Record('<stdin>:2', source='<stdin>', line=2, error='expected a JSON object, found an array')
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import functools
import io
import itertools
import json
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, TextIO, cast

import arabic_ner
from arabic_ner.entities import Entity, EntityType
from arabic_ner.errors import ArabicNERError
from arabic_ner.normalize import NormalizeConfig
from arabic_ner.pipeline import Pipeline, load
from arabic_ner.tokenize import Token, sentences, tokenize
from arabic_ner.writers import (
    CSV_COLUMNS,
    BratWriter,
    DocBinWriter,
    csv_header,
    docbin_temporary,
    format_csv,
    format_html,
    html_footer,
    html_header,
)

__all__ = [
    "DEFAULT_GLOBS",
    "RESUMABLE_FORMATS",
    "ExtractOptions",
    "ReadOptions",
    "Record",
    "Summary",
    "UsageError",
    "bio_tags",
    "format_conll",
    "format_jsonl",
    "format_table",
    "progress_path",
    "read_records",
    "run_extract",
    "shown_path",
]

InputFormat = Literal["auto", "text", "jsonl"]
OutputFormat = Literal["jsonl", "conll", "table", "csv", "html", "brat", "spacy"]

RESUMABLE_FORMATS = frozenset({"jsonl", "conll", "csv"})
"""The output formats that ``--resume`` can continue."""

_NOT_RESUMABLE = {
    "table": "its records cannot be counted reliably",
    "html": "a page is written whole, from its header to its footer",
    "brat": "it writes a new folder; rerun without --resume into a new or empty folder",
    "spacy": "a DocBin is written whole at the end of the run; rerun without --resume",
}

DEFAULT_GLOBS = ("*.txt", "*.jsonl")
"""File-name patterns a folder walk keeps when ``--glob`` is not given."""

STDIN = "-"
STDIN_SOURCE = "<stdin>"


class UsageError(ArabicNERError):
    """The options ask for something unsafe or impossible (the command exits with 2).

    Examples: ``-o`` names an input file, or ``--resume`` with other inputs or options
    than the interrupted run had.
    """


# --- 1. Records -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One input record: its text, or the reason it could not be read.

    ``id`` is the JSONL id field, else ``source:line`` for a line, else the file path.
    ``source`` is the file path (``<stdin>`` for standard input) and ``line`` the 1-based
    line number (``None`` for a whole file). Offsets of its entities point into ``text``.

    >>> Record("a.txt:3", "a.txt", 3, "زار دمشق")
    Record('a.txt:3', source='a.txt', line=3, 8 chars)
    """

    id: str
    source: str
    line: int | None
    text: str = ""
    error: str | None = None

    def __repr__(self) -> str:
        where = f"{self.id!r}, source={self.source!r}, line={self.line}"
        if self.error is not None:
            return f"Record({where}, error={self.error!r})"
        return f"Record({where}, {len(self.text)} chars)"

    @property
    def where(self) -> str:
        """``source:line``, or ``source`` for a whole file: where to look in the input."""
        return self.source if self.line is None else f"{self.source}:{self.line}"


# --- 2. Reading -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How :func:`read_records` turns inputs into records.

    - ``input_format``: ``"auto"`` reads files ending in ``.jsonl`` as JSONL and
      everything else (standard input included) as text; ``"text"`` or ``"jsonl"``
      reads every input that way.
    - ``lines``: a text input gives one record per line instead of one per file.
    - ``text_field``, ``id_field``: the JSONL fields holding the text and the id.
    - ``globs``: file-name patterns (case-sensitive) a folder walk keeps.
    """

    input_format: InputFormat = "auto"
    lines: bool = False
    text_field: str = "text"
    id_field: str = "id"
    globs: tuple[str, ...] = DEFAULT_GLOBS


def read_records(
    inputs: Iterable[str],
    options: ReadOptions | None = None,
    *,
    stdin: BinaryIO | None = None,
) -> Iterator[Record]:
    """Yield the records of ``inputs`` (files, folders, ``-`` for ``stdin``), in order.

    Folders are walked recursively in sorted order, keeping files whose name matches one
    of ``options.globs`` and skipping hidden entries (names starting with ``.``) and
    links to folders. Blank lines of line-based inputs are not records. Nothing raises
    for bad input: an unreadable file, invalid UTF-8, malformed JSON, JSON that is not an
    object, or a missing or non-string text field gives a record with ``error`` set.

    >>> import io
    >>> text = "زار بوتين دمشق\\n\\nوصل الى موسكو\\n".encode()
    >>> [r.id for r in read_records(["-"], ReadOptions(lines=True), stdin=io.BytesIO(text))]
    ['<stdin>:1', '<stdin>:3']
    """
    options = options or ReadOptions()
    for name in inputs:
        if name == STDIN:
            stream = stdin if stdin is not None else _stdin_bytes()
            yield from _stream_records(stream, STDIN_SOURCE, _kind(name, options), options)
        elif os.path.isdir(name):
            yield from _folder_records(name, options)
        else:
            yield from _file_records(name, options)


def _stdin_bytes() -> BinaryIO:
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return cast(BinaryIO, buffer)
    # A text-only stdin (replaced in tests or embedding code): encode what it holds.
    return io.BytesIO(sys.stdin.read().encode("utf-8"))


def _kind(name: str, options: ReadOptions) -> Literal["text", "lines", "jsonl"]:
    fmt = options.input_format
    if fmt == "jsonl" or (fmt == "auto" and name != STDIN and name.endswith(".jsonl")):
        return "jsonl"
    return "lines" if options.lines else "text"


def _folder_records(folder: str, options: ReadOptions) -> Iterator[Record]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        yield Record(
            shown_path(folder),
            shown_path(folder),
            None,
            error=f"cannot list this folder: {error.strerror}; expected a readable folder",
        )
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = os.path.join(folder, entry.name)
        if entry.is_dir():
            if not entry.is_symlink():
                yield from _folder_records(path, options)
        elif _matches(entry.name, options.globs):
            yield from _file_records(path, options)


def _matches(name: str, globs: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in globs)


def _file_records(path: str, options: ReadOptions) -> Iterator[Record]:
    source = shown_path(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the with below, in this generator
    except OSError as error:
        yield Record(
            source,
            source,
            None,
            error=f"cannot read this file: {error.strerror}; expected a readable UTF-8 file",
        )
        return
    with handle:
        yield from _stream_records(handle, source, _kind(path, options), options)


def shown_path(path: str) -> str:
    r"""Return ``path`` as it is written in records: bytes that are not UTF-8 as ``\xNN``.

    A file name on Linux is bytes; Python hands over those that are not UTF-8 as lone
    surrogates, which no UTF-8 output can hold. They are written as backslash escapes
    of the bytes instead (``os.fsencode(path).decode("utf-8", "backslashreplace")``),
    so the record keeps a readable, unambiguous name.

    >>> print(shown_path("news/" + b"caf\xe9.txt".decode("utf-8", "surrogateescape")))
    news/caf\xe9.txt
    """
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _stream_records(
    stream: BinaryIO, source: str, kind: Literal["text", "lines", "jsonl"], options: ReadOptions
) -> Iterator[Record]:
    """Yield the records of one open binary stream; each line is decoded on its own."""
    number = 0
    try:
        if kind == "text":
            yield _whole_text_record(stream.read(), source)
            return
        for number, raw in enumerate(stream, start=1):
            line_id = f"{source}:{number}"
            try:
                line = (raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw).decode()
            except UnicodeDecodeError as error:
                yield Record(line_id, source, number, error=_utf8_error(error, "line"))
                continue
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            if kind == "lines":
                yield Record(line_id, source, number, line)
            else:
                yield _jsonl_record(line, source, number, options)
    except OSError as error:
        at = None if kind == "text" else number + 1
        rest = "" if at is None else "; the rest of this input is skipped"
        yield Record(
            source if at is None else f"{source}:{at}",
            source,
            at,
            error=f"cannot read: {error.strerror}{rest}",
        )


def _whole_text_record(data: bytes, source: str) -> Record:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return Record(source, source, None, error=_utf8_error(error, "file"))
    # Universal newlines, as Python's text mode reads a file: offsets match open(path).read().
    return Record(source, source, None, text.replace("\r\n", "\n").replace("\r", "\n"))


def _utf8_error(error: UnicodeDecodeError, unit: str) -> str:
    return (
        f"invalid UTF-8 ({error.reason} at byte {error.start} of the {unit}); expected UTF-8 "
        "text: re-encode it, e.g. with 'iconv -f WINDOWS-1256 -t UTF-8'"
    )


def _jsonl_record(line: str, source: str, number: int, options: ReadOptions) -> Record:
    fallback = f"{source}:{number}"
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return Record(
            fallback,
            source,
            number,
            error=f"malformed JSON ({error.msg} at column {error.colno}); "
            "expected one JSON object per line",
        )
    except RecursionError:
        return Record(
            fallback,
            source,
            number,
            error="malformed JSON (nested too deeply); expected one JSON object per line",
        )
    except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
        return Record(
            fallback,
            source,
            number,
            error=f"a number of more than {sys.get_int_max_str_digits():,} digits, which Python "
            "does not read; expected one JSON object per line with numbers of usual size",
        )
    if not isinstance(value, dict):
        return Record(
            fallback, source, number, error=f"expected a JSON object, found {_json_kind(value)}"
        )
    record_id = value.get(options.id_field)
    if record_id is None:
        record_id = fallback
    elif isinstance(record_id, int) and not isinstance(record_id, bool):
        record_id = str(record_id)
    elif not isinstance(record_id, str):
        return Record(
            fallback,
            source,
            number,
            error=f"field {options.id_field!r} is {_json_kind(record_id)}; expected a string "
            "or integer id (choose the field with --id-field)",
        )
    if options.text_field not in value:
        fields = ", ".join(repr(key) for key in itertools.islice(value, 10)) or "none"
        return _checked(
            Record(
                record_id,
                source,
                number,
                error=f"no {options.text_field!r} field (fields: {fields}); expected the "
                "text in a string field: choose it with --text-field",
            )
        )
    text = value[options.text_field]
    if not isinstance(text, str):
        return _checked(
            Record(
                record_id,
                source,
                number,
                error=f"field {options.text_field!r} is {_json_kind(text)}; expected a string",
            )
        )
    return _checked(Record(record_id, source, number, text))


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "null"


_SURROGATE = re.compile("[\ud800-\udfff]")


def _checked(record: Record) -> Record:
    """Turn a record whose text or id holds a lone surrogate (from a JSON escape) into an error."""
    for name, value in (("id", record.id), ("text", record.text)):
        found = _SURROGATE.search(value)
        if found is not None:
            return Record(
                _SURROGATE.sub("\ufffd", record.id),
                record.source,
                record.line,
                error=f"the {name} holds an unpaired surrogate U+{ord(found.group()):04X} at "
                f"character {found.start()}; expected valid Unicode text",
            )
    return record


# --- 3. Writing -------------------------------------------------------------------------


def format_jsonl(record: Record, entities: Sequence[Entity]) -> str:
    """One JSON line: ``id``, ``source``, ``line`` and ``entities`` (or ``error``).

    >>> from arabic_ner import Entity, EntityType
    >>> e = Entity("دمشق", EntityType.LOC, 4, 8, 0.99, "دمشق")
    >>> print(format_jsonl(Record("d1", "a.jsonl", 1, "زار دمشق"), [e]), end="")
    {"id": "d1", "source": "a.jsonl", "line": 1, "entities": [{"text": "دمشق", "type": "LOC", "start": 4, "end": 8, "score": 0.99, "normalized": "دمشق"}]}
    >>> print(format_jsonl(Record("a.jsonl:2", "a.jsonl", 2, error="..."), []), end="")
    {"id": "a.jsonl:2", "source": "a.jsonl", "line": 2, "error": "..."}
    """  # noqa: E501
    out: dict[str, Any] = {"id": record.id, "source": record.source, "line": record.line}
    if record.error is not None:
        out["error"] = record.error
    else:
        out["entities"] = [e.to_dict() for e in entities]
    return json.dumps(out, ensure_ascii=False) + "\n"


def bio_tags(tokens: Sequence[Token], entities: Sequence[Entity]) -> list[str]:
    """Return the IOB2 tag of each token: B-/I- of the entity it overlaps, else ``O``.

    A token that an entity covers only in part still takes its tag, so a word with a
    proclitic is tagged whole (``وموسكو`` is ``B-LOC`` for the entity ``موسكو``).

    >>> from arabic_ner import Entity, EntityType
    >>> tokens = tokenize("زار بوتين دمشق وموسكو")
    >>> entities = [Entity("موسكو", EntityType.LOC, 16, 21, 0.9, "موسكو")]
    >>> bio_tags(tokens, entities)
    ['O', 'O', 'O', 'B-LOC']
    """
    tags = ["O"] * len(tokens)
    ordered = sorted(entities)
    at = 0  # the first entity that may still overlap the current token
    previous = -1  # the entity that tagged the previous token, or -1
    for i, token in enumerate(tokens):
        while at < len(ordered) and ordered[at].end <= token.start:
            at += 1
        if at < len(ordered) and ordered[at].start < token.end:
            prefix = "I-" if previous == at else "B-"
            tags[i] = prefix + ordered[at].type.value
            previous = at
        else:
            previous = -1
    return tags


def format_conll(
    record: Record, entities: Sequence[Entity], *, config: NormalizeConfig | None = None
) -> str:
    """CoNLL lines: ``# id = ...``, then ``token TAG`` per token, a blank line per sentence.

    Tokens come from :func:`~arabic_ner.tokenize.tokenize` (with ``config``) and tags
    from :func:`bio_tags`. An error record is ``# id = ...`` and ``# error = ...``.

    >>> from arabic_ner import Entity, EntityType
    >>> e = Entity("موسكو", EntityType.LOC, 5, 10, 0.9, "موسكو")
    >>> print(format_conll(Record("d1", "a.txt", None, "وصل وموسكو."), [e]), end="")
    # id = d1
    وصل O
    وموسكو B-LOC
    . O
    <BLANKLINE>
    """
    out = [f"# id = {_one_line(record.id)}\n"]
    if record.error is not None:
        out.append(f"# error = {_one_line(record.error)}\n")
        return "".join(out)
    tokens = tokenize(record.text, config)
    tags = iter(bio_tags(tokens, entities))
    for sentence in sentences(tokens, record.text):
        out.extend(f"{_no_space(token.text)} {next(tags)}\n" for token in sentence)
        out.append("\n")
    return "".join(out)


def format_table(record: Record, entities: Sequence[Entity]) -> str:
    """A readable block: a ``# id: N entities`` line, a header, one row per entity.

    >>> print(format_table(Record("a.txt:2", "a.txt", 2, error="malformed JSON"), []), end="")
    # a.txt:2: error: malformed JSON
    """
    name = _one_line(record.id)
    if record.error is not None:
        return f"# {name}: error: {_one_line(record.error)}\n"
    rows = [
        f"# {name}: {len(entities)} entities\n",
        f"{'type':<5} {'start':>6} {'end':>6} {'score':>5}  text\n",
    ]
    rows += [
        f"{e.type.value:<5} {e.start:>6} {e.end:>6} {e.score:>5.2f}  {_one_line(e.text)}\n"
        for e in entities
    ]
    return "".join(rows)


def _one_line(text: str) -> str:
    r"""Escape line breaks so that a comment or row stays on one line (``\n`` as ``\\n``)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


_SPACE = re.compile(r"\s")


def _no_space(text: str) -> str:
    return _SPACE.sub("_", text)


# --- 4. Running -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """What :func:`run_extract` does, beside its inputs and output.

    - ``read``: how inputs become records (:class:`ReadOptions`).
    - ``format``: ``"jsonl"``, ``"conll"``, ``"table"``, ``"csv"``, ``"html"``,
      ``"brat"`` (a folder) or ``"spacy"`` (a DocBin file; needs the ``[spacy]`` extra);
      see ``writers.py``.
    - ``model``: model folder (``None``: the shipped model); ``trust_model``: load it
      even without a manifest (``manifest.py``); ``types``: entity types to keep
      (``None``: all).
    - ``n_process``: worker processes (``-1``: one per CPU); ``batch_size``: texts sent
      to a worker at a time.
    - ``resume``: continue an interrupted run that wrote the same output file.
    - ``progress``: show a progress bar on ``stderr``.
    """

    read: ReadOptions = field(default_factory=ReadOptions)
    format: OutputFormat = "jsonl"
    model: str | None = None
    trust_model: bool = False
    types: frozenset[EntityType] | None = None
    n_process: int = 1
    batch_size: int = 64
    resume: bool = False
    progress: bool = False


@dataclass(frozen=True, slots=True)
class Summary:
    """What a run wrote: records written now, records kept from an earlier run, errors.

    ``errors`` counts error records in the whole output, kept ones included.

    >>> Summary(written=10, skipped=0, errors=1).exit_code
    1
    """

    written: int
    skipped: int
    errors: int

    @property
    def exit_code(self) -> int:
        """1 when any error record is in the output, else 0."""
        return 1 if self.errors else 0


def progress_path(output: str | os.PathLike[str]) -> Path:
    """The sidecar that records what run writes ``output``: ``OUT.progress.json``.

    >>> progress_path("out/entities.jsonl").name
    'entities.jsonl.progress.json'
    """
    path = Path(output)
    return path.with_name(path.name + ".progress.json")


def run_extract(
    inputs: Sequence[str],
    options: ExtractOptions | None = None,
    *,
    output: str | os.PathLike[str] | None = None,
    stdin: BinaryIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> Summary:
    """Tag every record of ``inputs`` and write one output record per input record.

    Records go to ``output`` (a file, replaced unless ``options.resume``; for ``brat``, a
    new or empty folder; for ``spacy``, a file written whole at the end) or ``stdout``, in
    input order, flushed one by one. Each error record also gives a one-line warning on
    ``stderr``. With ``output`` in a format of :data:`RESUMABLE_FORMATS`,
    ``OUT.progress.json`` records the inputs and options (marked complete at the end), so
    that ``options.resume`` can continue a run that was killed: it drops a partial last
    record, skips the inputs already written, appends.
    Raises :class:`UsageError` when ``output`` is an input, or a resume does not match.

    >>> import io
    >>> out = io.StringIO()
    >>> run_extract(["-"], stdin=io.BytesIO("زار بوتين دمشق".encode()), stdout=out)
    Summary(written=1, skipped=0, errors=0)
    >>> [e["text"] for e in json.loads(out.getvalue())["entities"]]
    ['بوتين', 'دمشق']
    """
    options = options or ExtractOptions()
    stderr = stderr if stderr is not None else sys.stderr
    out_path = None if output is None else Path(output)
    _check_inputs(inputs, options, out_path, stdin)
    if options.format == "spacy":  # before the model loads: a missing extra fails at once
        from arabic_ner.spacy_component import require_spacy

        require_spacy()
    nlp = load(
        options.model, types=options.types, trust_model=options.trust_model
    )  # skips the work for other types
    records = read_records(inputs, options.read, stdin=stdin)
    if options.format == "brat":  # a folder, checked by _check_inputs
        with BratWriter(cast(Path, out_path)) as writer:
            return _write_records(
                nlp, writer.write, records, stderr, options=options, skipped=0, errors=0
            )
    if options.format == "spacy":  # one file, written whole when the run ends well
        if out_path is not None and (out_path.is_file() or not out_path.exists()):
            progress_path(out_path).unlink(missing_ok=True)  # no sidecar claims otherwise
        with DocBinWriter(cast(Path, out_path)) as docbin:
            return _write_records(
                nlp, docbin.write, records, stderr, options=options, skipped=0, errors=0
            )

    def run(sink: TextIO, *, skipped: int = 0, errors: int = 0, header: bool = True) -> Summary:
        """Write the records to ``sink``, after the format's header and before its footer."""
        if header:
            sink.write(_header(inputs, options))
        render = _renderer(options.format, nlp, first=skipped + 1)

        def emit(record: Record, found: Sequence[Entity]) -> None:
            sink.write(render(record, found))
            sink.flush()

        summary = _write_records(
            nlp, emit, records, stderr, options=options, skipped=skipped, errors=errors
        )
        sink.write(html_footer() if options.format == "html" else "")
        sink.flush()
        return summary

    if out_path is None:
        return run(stdout if stdout is not None else sys.stdout)

    sidecar = progress_path(out_path)
    regular = out_path.is_file() or not out_path.exists()
    if options.format not in RESUMABLE_FORMATS or not regular:  # /dev/null, a pipe
        if regular:  # leave no sidecar that could claim otherwise
            sidecar.unlink(missing_ok=True)
        with _open_output(out_path, "w") as sink:
            return run(sink)

    arguments = _fingerprint(inputs, options)
    mode, skipped, errors, header = "w", 0, 0, True
    if options.resume and out_path.exists():
        saved = _saved_progress(out_path, sidecar, arguments)
        if saved.get("complete"):
            print(f"arabic-ner: {out_path} is already complete", file=stderr)
            return Summary(0, int(saved.get("records", 0)), int(saved.get("errors", 0)))
        point = _resume_point(out_path, options.format)
        errors = _skip(records, point, out_path, options.format)
        with open(out_path, "r+b") as handle:
            handle.truncate(point.size)
        mode, skipped, header = "a", point.records, point.size == 0
    with _open_output(out_path, mode) as sink:
        _save_progress(sidecar, arguments, complete=False)
        summary = run(sink, skipped=skipped, errors=errors, header=header)
    _save_progress(
        sidecar, arguments, complete=True, records=summary.written + skipped, errors=summary.errors
    )
    return summary


def _renderer(
    fmt: OutputFormat, nlp: Pipeline, *, first: int
) -> Callable[[Record, Sequence[Entity]], str]:
    """How each record is written in ``fmt``; CSV numbers the records from ``first``."""
    if fmt == "conll":
        return functools.partial(format_conll, config=nlp.normalize_config)
    if fmt == "csv":
        numbers = itertools.count(first)
        return lambda record, found: format_csv(record, found, number=next(numbers))
    renderers: dict[str, Callable[[Record, Sequence[Entity]], str]] = {
        "jsonl": format_jsonl,
        "table": format_table,
        "html": format_html,
    }
    return renderers[fmt]


def _header(inputs: Sequence[str], options: ExtractOptions) -> str:
    """What an output in ``options.format`` starts with: CSV's header row, HTML's head."""
    if options.format == "csv":
        return csv_header()
    if options.format == "html":
        names = [STDIN_SOURCE if name == STDIN else shown_path(name) for name in inputs]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        kept = EntityType if options.types is None else options.types
        return html_header(f"arabic-ner: {shown}", kept)
    return ""


def _check_inputs(
    inputs: Sequence[str], options: ExtractOptions, output: Path | None, stdin: BinaryIO | None
) -> None:
    """Refuse what could lose data: writing over an input, resuming without a file."""
    if list(inputs).count(STDIN) > 1:
        raise UsageError("'-' (standard input) is given twice; it can be read only once")
    if options.resume and output is None:
        raise UsageError("--resume needs -o OUT: the output file of the run to continue")
    if options.resume and options.format not in RESUMABLE_FORMATS:
        raise UsageError(
            f"--resume does not work with --format {options.format} "
            f"({_NOT_RESUMABLE[options.format]}); use --format jsonl, conll or csv"
        )
    if options.format == "brat":
        if output is None:
            raise UsageError(
                "--format brat writes a folder of .txt and .ann files: name it with -o FOLDER"
            )
        targets: tuple[Path, ...] = _brat_targets(output)
    elif output is None:
        if options.format == "spacy":
            raise UsageError(
                "--format spacy writes a binary spaCy DocBin, not text for standard output: "
                "name the file with -o FILE.spacy"
            )
        return
    elif output.is_dir():
        raise UsageError(
            f"-o {output} is a folder; expected a file to write (only --format brat "
            "writes a folder)"
        )
    elif options.format == "spacy":
        targets = (output, progress_path(output), docbin_temporary(output))
    else:
        targets = (output, progress_path(output))
    if options.resume and output.exists() and not output.is_file():
        raise UsageError(f"--resume needs -o to name a regular file, and {output} is not one")
    for name in inputs:
        if name == STDIN:
            if _stdin_is(stdin, output):
                raise UsageError(
                    f"standard input is the file {output} given with -o: input files are "
                    "never overwritten; choose another output file"
                )
            continue
        if any(_same_file(name, target) for target in targets):
            raise UsageError(
                f"-o {output} is the input {name}: input files are never overwritten; "
                "choose another output file"
            )
        if os.path.isdir(name):
            folder = Path(name).resolve()
            for target in targets:
                inside = target.resolve()
                if folder in inside.parents and _walk_would_read(
                    inside.relative_to(folder), options.read.globs
                ):
                    raise UsageError(
                        f"-o {output}: {target} is inside the input folder {name} and matches "
                        "--glob, so it would be read as input; write the output elsewhere or "
                        "narrow --glob"
                    )


def _brat_targets(folder: Path) -> tuple[Path, ...]:
    """Refuse a brat folder that holds files; return the kinds of file it will hold."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(
            f"-o {folder} is not a folder; --format brat writes a folder of .txt and .ann "
            "files: name a new or empty folder"
        )
    try:
        if folder.is_dir():
            with os.scandir(folder) as listing:
                occupied = any(True for _ in listing)
        else:
            occupied = False
    except OSError as error:
        raise UsageError(f"-o {folder}: cannot list this folder: {error.strerror}") from error
    if occupied:
        raise UsageError(
            f"-o {folder} is not empty; --format brat writes into a new or empty folder, so "
            "that no file of another run is mixed in: remove its files or choose another folder"
        )
    names = ("doc.txt", "doc.ann", "errors.jsonl", "annotation.conf", "visual.conf")
    return tuple(folder / name for name in names)


def _same_file(a: str, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == b.resolve()


def _stdin_is(stdin: BinaryIO | None, output: Path) -> bool:
    stream: object = stdin if stdin is not None else sys.stdin
    try:
        mine = os.fstat(cast(BinaryIO, stream).fileno())
        theirs = os.stat(output)
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return False
    same = (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)
    return same and stat.S_ISREG(mine.st_mode)


def _walk_would_read(relative: Path, globs: Sequence[str]) -> bool:
    hidden = any(part.startswith(".") for part in relative.parts)
    return not hidden and _matches(relative.name, globs)


def _open_output(path: Path, mode: str) -> TextIO:
    try:
        return cast(TextIO, open(path, mode, encoding="utf-8", newline=""))
    except OSError as error:
        raise ArabicNERError(
            f"cannot write {path}: {error.strerror}; expected a writable file path"
        ) from error


def _fingerprint(inputs: Sequence[str], options: ExtractOptions) -> dict[str, Any]:
    """What a resumed run must share with the run it continues (JSON-ready)."""
    read = options.read
    return {
        "version": arabic_ner.__version__,
        "inputs": [name if name == STDIN else shown_path(os.path.abspath(name)) for name in inputs],
        "input_sizes": [os.path.getsize(n) if os.path.isfile(n) else None for n in inputs],
        "input_format": read.input_format,
        "lines": read.lines,
        "text_field": read.text_field,
        "id_field": read.id_field,
        "globs": list(read.globs),
        "format": options.format,
        "model": None if options.model is None else os.path.abspath(options.model),
        "types": None if options.types is None else sorted(t.value for t in options.types),
    }


def _save_progress(
    path: Path,
    arguments: dict[str, Any],
    *,
    complete: bool,
    records: int | None = None,
    errors: int | None = None,
) -> None:
    state: dict[str, Any] = {"tool": "arabic-ner extract", "arguments": arguments}
    state["complete"] = complete
    if complete:
        state.update(records=records, errors=errors)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False, indent=1) + "\n", "utf-8")
    os.replace(temporary, path)  # atomic: a kill leaves the old state or the new one


def _saved_progress(output: Path, sidecar: Path, arguments: dict[str, Any]) -> dict[str, Any]:
    """The sidecar of ``output``, checked against this run's arguments."""
    again = "; run without --resume to start again (this replaces it)"
    if not sidecar.exists():
        raise UsageError(
            f"cannot resume {output}: {sidecar} is missing, so there is no record of the run "
            f"that wrote it{again}"
        )
    try:
        saved = json.loads(sidecar.read_text("utf-8"))
        previous = saved["arguments"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        message = f"cannot resume {output}: {sidecar} is unreadable ({error}){again}"
        raise UsageError(message) from error
    if previous != arguments:
        keys = sorted(set(arguments) | set(previous))
        changed = [key for key in keys if previous.get(key) != arguments.get(key)]
        raise UsageError(
            f"cannot resume {output}: it was started with other {', '.join(changed)} "
            f"(see {sidecar}); resume with the same inputs and options{again}"
        )
    return cast(dict[str, Any], saved)


@dataclass(frozen=True, slots=True)
class _ResumePoint:
    records: int  # complete records to keep
    last_id: str | None  # the id written for the last kept record
    size: int  # bytes to keep


def _resume_point(path: Path, fmt: OutputFormat) -> _ResumePoint:
    """Count the complete records of an interrupted output, reading it as a stream.

    JSONL: the lines that end in a newline (a kill leaves at most one partial line).
    CoNLL: the ``# id =`` lines, less the last record, which may lack sentences (it is
    written again). CSV: :func:`_csv_resume_point`.
    """
    if fmt == "csv":
        return _csv_resume_point(path)
    records, size, last = 0, 0, b""
    with open(path, "rb") as handle:
        if fmt == "jsonl":
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                records, size, last = records + 1, size + len(raw), raw
            if not records:
                return _ResumePoint(0, None, 0)
            try:
                return _ResumePoint(records, str(json.loads(last)["id"]), size)
            except (ValueError, KeyError, TypeError) as error:
                raise UsageError(
                    f"cannot resume {path}: its line {records} is not a record written by "
                    f"arabic-ner extract ({error}); run without --resume to start again"
                ) from error
        offset, ids = 0, [b"", b""]
        for raw in handle:
            if raw.startswith(b"# id = "):
                records, size = records + 1, offset
                ids = [ids[1], raw[len(b"# id = ") :].rstrip(b"\n")]
            offset += len(raw)
    if not records:
        return _ResumePoint(0, None, 0)
    return _ResumePoint(records - 1, ids[0].decode("utf-8", "replace") or None, size)


def _csv_resume_point(path: Path) -> _ResumePoint:
    """Count the complete records of an interrupted CSV output, less the last one.

    Rows are read with the ``csv`` module (a field may hold line breaks), keeping the byte
    offset where each row starts. A last row that is cut (a last line without a line
    break, a quoted field left open, missing columns) is dropped; then so is the last
    record, which may lack rows (it is written again). The header is kept when complete.
    """
    with open(path, "rb") as handle:
        consumed, last_line = 0, b""

        def lines() -> Iterator[str]:
            nonlocal consumed, last_line
            for raw in handle:
                if not raw.endswith(b"\n"):
                    return  # a cut line (maybe inside a character): the row it is in is cut
                consumed, last_line = consumed + len(raw), raw
                yield raw.decode("utf-8")

        reader = csv.reader(lines(), strict=True)
        starts: list[tuple[int, str, str]] = []  # (offset, record, id) of the last two records
        records, header_size, row_start = 0, 0, 0
        try:
            while True:
                try:
                    row = next(reader)
                except (StopIteration, csv.Error):
                    break
                if len(row) != len(CSV_COLUMNS):
                    break
                if not header_size:
                    if row != list(CSV_COLUMNS):
                        raise UsageError(
                            f"cannot resume {path}: its first line is not the header of "
                            "--format csv; run without --resume to start again"
                        )
                    header_size = consumed
                elif not starts or row[0] != starts[-1][1]:
                    starts = [*starts[-1:], (row_start, row[0], row[1])]
                    records += 1
                row_start = consumed
        except UnicodeDecodeError as error:
            raise UsageError(
                f"cannot resume {path}: it is not UTF-8 ({error.reason}); run without "
                "--resume to start again"
            ) from error
    if records <= 1:
        return _ResumePoint(0, None, header_size)
    return _ResumePoint(records - 1, starts[0][2], starts[1][0])


def _skip(records: Iterator[Record], point: _ResumePoint, output: Path, fmt: str) -> int:
    """Read past the records ``output`` already holds; return how many were errors."""
    errors, seen, last = 0, 0, None
    for last in itertools.islice(records, point.records):
        errors += last.error is not None
        seen += 1
    if seen < point.records:
        raise UsageError(
            f"cannot resume {output}: it holds {point.records} records but the inputs now "
            f"give only {seen}; the inputs changed, run without --resume to start again"
        )
    if last is not None and point.last_id is not None:
        written = _one_line(last.id) if fmt == "conll" else last.id  # jsonl, csv: as it is
        if written != point.last_id:
            raise UsageError(
                f"cannot resume {output}: its record {point.records} has id "
                f"{point.last_id!r} but input record {point.records} has id {written!r}; "
                "the inputs changed, run without --resume to start again"
            )
    return errors


def _write_records(
    nlp: Pipeline,
    emit: Callable[[Record, Sequence[Entity]], None],
    records: Iterator[Record],
    stderr: TextIO,
    *,
    options: ExtractOptions,
    skipped: int,
    errors: int,
) -> Summary:
    """Tag ``records`` in order and ``emit`` each one (written, flushed), warning per error."""
    pairs = nlp.pipe(
        ((record.text, record) for record in records),
        batch_size=options.batch_size,
        n_process=options.n_process,
        as_tuples=True,
    )
    bar = _Progress(stderr, enabled=options.progress, initial=skipped)
    written = 0
    try:
        for found, context in pairs:
            record = cast(Record, context)
            emit(record, found)
            written += 1
            if record.error is not None:
                errors += 1
                bar.warn(f"arabic-ner: warning: {record.where}: {record.error}")
            bar.update(record)
    finally:
        bar.close()
    return Summary(written, skipped, errors)


class _Progress:
    """A tqdm bar of documents/s with a tokens/s postfix, or nothing when disabled.

    Tokens are counted as whitespace-separated words: cheap, and close to the tokenizer's
    count for prose (punctuation is not counted).
    """

    def __init__(self, stream: TextIO, *, enabled: bool, initial: int) -> None:
        self._stream = stream
        self._bar: Any = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(file=stream, unit=" docs", initial=initial, dynamic_ncols=True)
        self._tokens = 0
        self._started = self._shown = time.monotonic()

    def update(self, record: Record) -> None:
        if self._bar is None:
            return
        self._tokens += len(record.text.split())
        now = time.monotonic()
        if now - self._shown >= 0.5:
            rate = self._bar.format_sizeof(self._tokens / (now - self._started))
            self._bar.set_postfix_str(f"{rate} tokens/s", refresh=False)
            self._shown = now
        self._bar.update(1)

    def warn(self, message: str) -> None:
        if self._bar is None:
            print(message, file=self._stream, flush=True)
        else:
            self._bar.write(message, file=self._stream)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
