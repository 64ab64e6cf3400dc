"""Writers: the CSV, HTML and brat outputs of ``arabic-ner extract``, and readers for them.

``corpus.py`` writes JSONL, CoNLL and tables itself; the formats here need more than one
line per record (CSV), a frame around the records (HTML) or a folder of files (brat),
so they live in their own module. Data flows one way: ``corpus.py`` imports this module,
never the reverse, so a record is anything with ``id``, ``source``, ``line``, ``text``
and ``error`` (:class:`RecordLike`; ``corpus.Record`` is one).

- **CSV** (:func:`format_csv`, :func:`read_csv`): one row per entity, one row with empty
  entity columns for a record without entities, one row with ``error`` set for an error
  record, so every input record appears. ``record`` numbers the records of the output
  (1, 2, ...), which tells two records with the same id apart.
- **HTML** (:func:`html_header`, :func:`format_html`, :func:`html_footer`): one page,
  each record a ``<section>`` (``render.py`` draws the text).
- **brat standoff** (:class:`BratWriter`, :func:`read_brat`): ``NAME.txt`` and
  ``NAME.ann`` per record in one folder (names from ids by :func:`brat_name`), error
  records in ``errors.jsonl``, and ``annotation.conf`` and ``visual.conf`` so that brat
  knows the types and their colours.
- **spaCy DocBin** (:class:`DocBinWriter`, :func:`read_docbin`): one ``.spacy`` file, a
  ``Doc`` per record with its entities as ``doc.ents`` and the record in
  ``doc.user_data``; it needs the ``[spacy]`` extra and imports spaCy only when used.

Every reader returns :class:`WrittenRecord` objects, whose entities index the text the
record had (brat: the text of the ``.txt`` file).

>>> from arabic_ner import Entity, EntityType
>>> class R:  # any object with these attributes is a record
...     id, source, line, text, error = "d1", "a.jsonl", 1, "زار دمشق", None
>>> format_csv(R(), [Entity("دمشق", EntityType.LOC, 4, 8, 0.99, "دمشق")], number=1)
'1,d1,a.jsonl,1,LOC,4,8,دمشق,0.99,دمشق,,,,\\r\\n'
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TextIO

from arabic_ner.entities import Entity, EntityType, Value
from arabic_ner.errors import ArabicNERError, ConfigError, DataFormatError
from arabic_ner.render import TYPE_COLOURS, legend_html, page_end, page_start, text_html

__all__ = [
    "BRAT_ERRORS",
    "CSV_COLUMNS",
    "BratWriter",
    "DocBinWriter",
    "RecordLike",
    "WrittenRecord",
    "brat_name",
    "brat_text",
    "csv_header",
    "docbin_temporary",
    "format_ann",
    "format_csv",
    "format_html",
    "html_footer",
    "html_header",
    "read_brat",
    "read_csv",
    "read_docbin",
]


class RecordLike(Protocol):
    """What a writer needs of a record (``corpus.Record`` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def line(self) -> int | None: ...
    @property
    def text(self) -> str: ...
    @property
    def error(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class WrittenRecord:
    """A record as read back from an output: its id, where it came from, its entities.

    ``source`` and ``line`` are ``None`` where the format does not keep them (brat keeps
    them for error records only); ``text`` is ``None`` where it does not keep the text
    (CSV). ``error`` is set for an error record, which has no entities.
    """

    id: str
    source: str | None
    line: int | None
    text: str | None
    entities: tuple[Entity, ...] = ()
    error: str | None = None


def _error_json(record: RecordLike) -> str:
    """An error record as ``corpus.format_jsonl`` writes it (one JSON line)."""
    row = {"id": record.id, "source": record.source, "line": record.line, "error": record.error}
    return json.dumps(row, ensure_ascii=False) + "\n"


def _value_json(value: Value | None) -> str:
    return "" if value is None else json.dumps(value.to_dict(), ensure_ascii=False)


def _entity_type(name: str, where: str) -> EntityType:
    try:
        return EntityType(name)
    except ValueError:
        known = ", ".join(t.value for t in EntityType)
        raise DataFormatError(
            f"{where}: unknown entity type {name!r}; expected one of {known}"
        ) from None


# --- CSV --------------------------------------------------------------------------------

CSV_COLUMNS = (
    "record",
    "id",
    "source",
    "line",
    "type",
    "start",
    "end",
    "text",
    "score",
    "normalized",
    "canonical",
    "cluster",
    "value",
    "error",
)
"""The CSV header. ``value`` is the entity's value as a JSON object; ``line`` and the
entity columns are empty where there is nothing to put in them."""


def _csv_line(row: Sequence[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(row)  # RFC 4180: quotes what needs it, CRLF after each row
    return out.getvalue()


def csv_header() -> str:
    """The header row of :func:`format_csv`'s rows.

    >>> csv_header()
    'record,id,source,line,type,start,end,text,score,normalized,canonical,cluster,value,error\\r\\n'
    """
    return _csv_line(CSV_COLUMNS)


def format_csv(record: RecordLike, entities: Sequence[Entity], *, number: int) -> str:
    """CSV rows of one record, the ``number``-th of the output (from 1).

    One row per entity; a record without entities gives one row with empty entity
    columns, an error record one row with ``error`` set, so every record gives at least
    one row. Fields with commas, quotes or line breaks are quoted (the ``csv`` module).

    >>> class R:
    ...     id, source, line, text, error = "x,1", "a.txt", None, "", "cannot read"
    >>> format_csv(R(), [], number=7)
    '7,"x,1",a.txt,,,,,,,,,,,cannot read\\r\\n'
    """
    where = [number, record.id, record.source, "" if record.line is None else record.line]
    if record.error is not None:
        return _csv_line([*where, *[""] * 9, record.error])
    if not entities:
        return _csv_line([*where, *[""] * 10])
    return "".join(
        _csv_line(
            [
                *where,
                e.type.value,
                e.start,
                e.end,
                e.text,
                round(e.score, 4),
                e.normalized,
                "" if e.canonical is None else e.canonical,
                "" if e.cluster is None else e.cluster,
                _value_json(e.value),
                "",
            ]
        )
        for e in entities
    )


def read_csv(path: str | os.PathLike[str]) -> list[WrittenRecord]:
    """Read back a file of :func:`format_csv` rows (with its header): one item per record.

    Raises :class:`DataFormatError`, naming the file and line, for a missing column, a
    field that cannot be read, or rows out of record order.
    """
    name = os.fspath(path)
    out: list[WrittenRecord] = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DataFormatError(
                f"{name}:1: not a CSV written by arabic-ner extract: no column "
                f"{', '.join(missing)}; expected the header {','.join(CSV_COLUMNS)}"
            )
        number, first = 0, None
        entities: list[Entity] = []
        for row in reader:
            where = f"{name}:{reader.line_num}"
            if not row["record"].isdigit() or int(row["record"]) < number:
                raise DataFormatError(
                    f"{where}: record number {row['record']!r} is not a number at least "
                    f"{number}; expected the rows of each record together, in order"
                )
            if int(row["record"]) != number:
                if first is not None:
                    out.append(_csv_record(first, entities, where))
                number, entities, first = int(row["record"]), [], row
            if row["type"]:
                entities.append(_csv_entity(row, where))
        if first is not None:
            out.append(_csv_record(first, entities, name))
    return out


def _csv_record(row: dict[str, str], entities: list[Entity], where: str) -> WrittenRecord:
    try:
        line = int(row["line"]) if row["line"] else None
    except ValueError:
        raise DataFormatError(f"{where}: line {row['line']!r} is not a number") from None
    error = row["error"] or None
    return WrittenRecord(row["id"], row["source"], line, None, tuple(entities), error)


def _csv_entity(row: dict[str, str], where: str) -> Entity:
    try:
        value = Value(**json.loads(row["value"])) if row["value"] else None
        return Entity(
            row["text"],
            _entity_type(row["type"], where),
            int(row["start"]),
            int(row["end"]),
            float(row["score"]),
            row["normalized"],
            value=value,
            canonical=row["canonical"] or None,
            cluster=int(row["cluster"]) if row["cluster"] else None,
        )
    except (ValueError, TypeError) as error:
        raise DataFormatError(
            f"{where}: an entity row that cannot be read ({error}); expected integer "
            "start, end and cluster, a number score and a JSON object value"
        ) from error


# --- HTML -------------------------------------------------------------------------------


def html_header(title: str = "arabic-ner", types: Iterable[EntityType] = EntityType) -> str:
    """The start of an HTML page of records, with a heading and a legend of ``types``.

    >>> html_header("run").startswith('<!DOCTYPE html>\\n<html lang="ar" dir="rtl">')
    True
    """
    heading = f'<h1 dir="auto">{html.escape(title)}</h1>\n'
    return page_start(title) + heading + legend_html(types)


def format_html(record: RecordLike, entities: Sequence[Entity]) -> str:
    """One record as a ``<section>``: its id, where it came from, its text or error.

    >>> class R:
    ...     id, source, line, text, error = "d<1>", "a.jsonl", 3, "", "malformed JSON"
    >>> print(format_html(R(), []), end="")
    <section class="record error">
    <h2 dir="auto">d&lt;1&gt;</h2>
    <p class="where" dir="ltr">a.jsonl:3</p>
    <p class="error" dir="auto">error: malformed JSON</p>
    </section>
    """
    where = record.source if record.line is None else f"{record.source}:{record.line}"
    head = f'<h2 dir="auto">{html.escape(record.id)}</h2>\n'
    if record.error is not None:
        return (
            f'<section class="record error">\n{head}'
            f'<p class="where" dir="ltr">{html.escape(where)}</p>\n'
            f'<p class="error" dir="auto">error: {html.escape(record.error)}</p>\n</section>\n'
        )
    count = f"{len(entities)} entit{'y' if len(entities) == 1 else 'ies'}"
    return (
        f'<section class="record">\n{head}'
        f'<p class="where" dir="ltr">{html.escape(where)}, {count}</p>\n'
        f"{text_html(record.text, entities)}\n</section>\n"
    )


def html_footer() -> str:
    """The end of the page that :func:`html_header` starts.

    >>> html_footer()
    '</body>\\n</html>\\n'
    """
    return page_end()


# --- brat -------------------------------------------------------------------------------

BRAT_ERRORS = "errors.jsonl"
"""The file of a brat output folder that holds its error records, one JSON line each."""

_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() breaks at
_NAME_BYTES = 200  # file names are limited to 255 bytes; room for "~N" and ".txt"
_SUFFIX = re.compile(r"~([0-9]+)\Z")


def _escaped(char: str) -> str:
    unsafe = char in "%/\\~" or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")
    if not unsafe:
        return char
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))


def brat_name(record_id: str, taken: set[str]) -> str:
    """The file name (without ``.txt``/``.ann``) for ``record_id``; adds it to ``taken``.

    The rule: ``%``, ``/``, ``\\``, ``~``, control and format characters (bidi marks
    included) and line separators are written as ``%XX`` (their UTF-8 bytes, as in
    URLs), and so is a leading ``.`` (no hidden files, no ``..``). A name longer than 200
    bytes is cut there. A name that is empty or already taken (compared without case
    and Unicode normalization, as macOS and Windows folders compare names) gets ``~2``,
    ``~3``, ... (the first that is free). :func:`read_brat` reverses it (a cut name gives
    a shortened id).

    >>> taken: set[str] = set()
    >>> [brat_name(i, taken) for i in ["news/a.txt:3", "doc~1", "D", "d", ".x", ""]]
    ['news%2Fa.txt:3', 'doc%7E1', 'D', 'd~2', '%2Ex', '~2']
    """
    pieces = [_escaped(char) for char in record_id]
    if pieces and pieces[0] == ".":
        pieces[0] = "%2E"
    base, size = [], 0
    for piece in pieces:
        size += len(piece.encode("utf-8", "surrogatepass"))
        if size > _NAME_BYTES:
            break
        base.append(piece)
    name = stem = "".join(base)
    number = 1
    while not name or _fold(name) in taken:
        number += 1
        name = f"{stem}~{number}"
    taken.add(_fold(name))
    return name


def _fold(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def _id_of(name: str) -> str:
    """The record id that :func:`brat_name` turned into ``name``."""
    return urllib.parse.unquote(_SUFFIX.sub("", name), errors="surrogatepass")


def brat_text(text: str) -> str:
    """The text as a ``.txt`` file holds it: each carriage return becomes one character
    that keeps offsets (``\\r\\n`` gives `` \\n``, a lone ``\\r`` gives ``\\n``).

    brat, like Python's ``open()``, reads ``.txt`` files with universal newlines, so a
    ``\\r\\n`` written as such would count as one character there and shift every later
    offset; written this way, the offsets of the record's text hold in the file.

    >>> brat_text("سطر\\r\\nسطر\\rسطر")
    'سطر \\nسطر\\nسطر'
    """
    return text.replace("\r\n", " \n").replace("\r", "\n")


def format_ann(text: str, entities: Sequence[Entity]) -> str:
    """The ``.ann`` lines of ``entities`` in ``text``: a ``T`` line and a note each.

    ``T1<TAB>LOC 4 8<TAB>دمشق`` gives the type and offsets (code points, end exclusive);
    an entity that spans a line break is written in fragments (``LOC 0 3;4 8``) with
    their texts joined by a space, as brat writes discontinuous spans. The note
    (``#1<TAB>AnnotatorNotes T1<TAB>{...}``, shown by brat) holds the rest of the entity
    as JSON: score, normalized form, canonical name, cluster, value.

    >>> from arabic_ner import Entity, EntityType
    >>> format_ann("زار دمشق", [Entity("دمشق", EntityType.LOC, 4, 8, 0.99, "دمشق")]).split("\\n")
    ['T1\\tLOC 4 8\\tدمشق', '#1\\tAnnotatorNotes T1\\t{"score": 0.99, "normalized": "دمشق"}', '']
    """
    lines = []
    for number, e in enumerate(entities, start=1):
        if text[e.start : e.end] != e.text:
            raise ConfigError(
                f"entity {e!r} does not match the text, where {e.start}:{e.end} is "
                f"{text[e.start : e.end]!r}; pass the entities found in this very text"
            )
        spans = _fragments(text, e.start, e.end)
        if not spans:
            raise ConfigError(f"entity {e!r} holds only line breaks; brat cannot show it")
        offsets = ";".join(f"{start} {end}" for start, end in spans)
        shown = " ".join(text[start:end] for start, end in spans)
        note = e.to_dict()
        for key in ("text", "type", "start", "end"):
            del note[key]
        lines.append(f"T{number}\t{e.type.value} {offsets}\t{shown}\n")
        note_json = json.dumps(note, ensure_ascii=False)
        lines.append(f"#{number}\tAnnotatorNotes T{number}\t{note_json}\n")
    return "".join(lines)


def _fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans, at = [], start
    for i in range(start, end + 1):
        if i == end or text[i] in _BREAKS:
            if at < i:
                spans.append((at, i))
            at = i + 1
    return spans


def _annotation_conf() -> str:
    types = "\n".join(t.value for t in EntityType)
    return f"[entities]\n{types}\n\n[relations]\n\n[events]\n\n[attributes]\n"


def _visual_conf() -> str:
    drawing = "\n".join(
        f"{t.value}\tbgColor:{background}, borderColor:{border}"
        for t, (background, border) in TYPE_COLOURS.items()
    )
    return f"[labels]\n\n[drawing]\n{drawing}\n"  # the colours of render.py


class BratWriter:
    """Write records into ``folder`` as brat standoff, one record at a time.

    Opening creates the folder (it must be absent or empty: a check left to the caller),
    ``annotation.conf``, ``visual.conf`` and an empty ``errors.jsonl``. :meth:`write`
    writes ``NAME.txt`` (:func:`brat_text` of the record's text, UTF-8) and ``NAME.ann``
    (:func:`format_ann`) for a record, or appends an error record to ``errors.jsonl``
    (the JSON line of ``--format jsonl``), so records in = records out.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._taken: set[str] = set()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "annotation.conf").write_text(_annotation_conf(), "utf-8")
            (self.folder / "visual.conf").write_text(_visual_conf(), "utf-8")
            self._errors: TextIO = open(  # noqa: SIM115 - closed by close()
                self.folder / BRAT_ERRORS, "w", encoding="utf-8", newline=""
            )
        except OSError as error:
            raise ArabicNERError(
                f"cannot write {self.folder}: {error.strerror}; expected a folder that can "
                "be created and written"
            ) from error

    def write(self, record: RecordLike, entities: Sequence[Entity]) -> None:
        """Write one record: a ``.txt`` and ``.ann`` pair, or a line of ``errors.jsonl``."""
        if record.error is not None:
            self._errors.write(_error_json(record))
            self._errors.flush()
            return
        name = brat_name(record.id, self._taken)
        text = brat_text(record.text)
        ann = format_ann(text, entities)
        with open(self.folder / f"{name}.txt", "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        with open(self.folder / f"{name}.ann", "w", encoding="utf-8", newline="") as handle:
            handle.write(ann)

    def close(self) -> None:
        """Close ``errors.jsonl``."""
        self._errors.close()

    def __enter__(self) -> BratWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def read_brat(folder: str | os.PathLike[str]) -> list[WrittenRecord]:
    """Read back a brat folder: each ``NAME.txt`` with its ``NAME.ann``, then the errors.

    Documents come in sorted order of their file names, with the id that
    :func:`brat_name` encoded; their entities come from the ``T`` lines (fragments
    joined back into one span) and their notes. Other annotation lines (relations,
    events, attributes) are skipped. Error records follow, from ``errors.jsonl``.
    Raises :class:`DataFormatError` naming the file and line for a line that cannot be
    read, an unknown type, or a span whose text differs from the ``.txt``.
    """
    root = Path(folder)
    out: list[WrittenRecord] = []
    for txt in sorted(root.glob("*.txt"), key=lambda path: path.name):
        ann = txt.with_suffix(".ann")
        text = _read_exact(txt)
        lines = _read_exact(ann).split("\n") if ann.exists() else []
        entities = _ann_entities(text, lines, ann)
        out.append(WrittenRecord(_id_of(txt.stem), None, None, text, entities))
    errors = root / BRAT_ERRORS
    if errors.exists():
        for number, line in enumerate(_read_exact(errors).split("\n"), start=1):
            if line.strip():
                out.append(_error_record(line, f"{errors}:{number}"))
    return out


def _read_exact(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as handle:
        return handle.read()


def _ann_entities(text: str, lines: list[str], path: Path) -> tuple[Entity, ...]:
    found: dict[str, tuple[EntityType, int, int, str]] = {}
    notes: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(lines, start=1):
        where = f"{path}:{number}"
        fields = line.rstrip("\r").split("\t", 2)
        if line.startswith("T"):
            found[fields[0]] = _text_bound(text, fields, where)
        elif line.startswith("#") and len(fields) == 3 and fields[1].startswith("AnnotatorNotes "):
            try:
                note = json.loads(fields[2])
            except ValueError:
                continue  # a note written by a person, not by arabic-ner
            if isinstance(note, dict):
                notes[fields[1].split(" ", 1)[1]] = note
    entities = []
    for key, (kind, start, end, _shown) in found.items():
        note = notes.get(key, {})
        try:
            value = Value(**note["value"]) if "value" in note else None
        except TypeError as error:
            raise DataFormatError(f"{path}: the note of {key} has a bad value ({error})") from None
        entities.append(
            Entity(
                text[start:end],
                kind,
                start,
                end,
                float(note.get("score", 1.0)),
                str(note.get("normalized", text[start:end])),
                value=value,
                canonical=note.get("canonical"),
                cluster=note.get("cluster"),
            )
        )
    return tuple(sorted(entities))


def _text_bound(text: str, fields: list[str], where: str) -> tuple[EntityType, int, int, str]:
    if len(fields) != 3:
        raise DataFormatError(
            f"{where}: expected 'T<N><TAB>TYPE START END<TAB>TEXT', got {fields!r}"
        )
    kind_name, _, offsets = fields[1].partition(" ")
    try:
        spans = [tuple(int(x) for x in part.split()) for part in offsets.split(";")]
        if not spans or any(len(span) != 2 for span in spans):
            raise ValueError(offsets)
    except ValueError:
        raise DataFormatError(
            f"{where}: offsets {offsets!r} cannot be read; expected 'START END' pairs "
            "separated by ';'"
        ) from None
    start, end = spans[0][0], spans[-1][1]
    shown = " ".join(text[a:b] for a, b in spans)
    if not 0 <= start <= end <= len(text) or shown != fields[2]:
        raise DataFormatError(
            f"{where}: the span {offsets} of the text is {shown!r}, not {fields[2]!r}; the "
            ".txt file changed or is not the one the .ann was written for"
        )
    return _entity_type(kind_name, where), start, end, shown


def _error_record(line: str, where: str) -> WrittenRecord:
    try:
        row = json.loads(line)
        return WrittenRecord(row["id"], row["source"], row["line"], None, (), str(row["error"]))
    except (ValueError, KeyError, TypeError) as error:
        raise DataFormatError(
            f"{where}: not an error record of arabic-ner extract ({error}); expected a JSON "
            "object with id, source, line and error"
        ) from error


# --- spaCy DocBin -----------------------------------------------------------------------


def docbin_temporary(path: str | os.PathLike[str]) -> Path:
    """The file a :class:`DocBinWriter` fills before it becomes ``path``: ``OUT.tmp``.

    >>> docbin_temporary("out/news.spacy").name
    'news.spacy.tmp'
    """
    out = Path(path)
    return out.with_name(out.name + ".tmp")


class DocBinWriter:
    """Write records into one spaCy ``DocBin`` file (``.spacy``), one ``Doc`` per record.

    A record's ``Doc`` is its text tokenized by a blank Arabic spaCy pipeline, with its
    entities as ``doc.ents`` (placed with ``alignment_mode``, see ``spacy_component.py``)
    and these ``doc.user_data`` keys: ``id``, ``source``, ``line``, ``entities`` (each
    entity's :meth:`Entity.to_dict`, exact offsets, the aligned and the unaligned ones)
    and ``unaligned`` (positions in ``entities`` of those not in ``doc.ents``). An error
    record is a ``Doc`` with empty text and ``user_data["error"]`` set, so records in =
    records out.

    A ``DocBin`` is one compressed message, so the file is written whole when the writer
    closes without an error: first to :func:`docbin_temporary`, opened at once (an
    unwritable path fails before any tagging), then renamed over ``path``. A run that
    stops on an error or an interrupt leaves ``path`` as it was and no temporary file.
    A ``path`` that exists and is not a regular file (``/dev/null``, a named pipe) is
    written directly, never replaced.
    Raises :class:`~arabic_ner.errors.BackendNotAvailableError` without spaCy.
    """

    def __init__(self, path: str | os.PathLike[str], *, alignment_mode: str = "expand") -> None:
        from arabic_ner.spacy_component import check_alignment_mode, require_spacy

        require_spacy()
        from spacy.tokens import DocBin

        self.path = Path(path)
        self.alignment_mode = check_alignment_mode(alignment_mode)
        # Only what is set: the words (and their spaces, always kept) and the entities.
        self._bin = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"], store_user_data=True)
        special = self.path.exists() and not self.path.is_file()
        self._temporary = None if special else docbin_temporary(self.path)
        try:
            self._handle = open(  # noqa: SIM115 - closed by close() or discard()
                self.path if self._temporary is None else self._temporary, "wb"
            )
        except OSError as error:
            raise ArabicNERError(
                f"cannot write {self.path}: {error.strerror}; expected a writable file path"
            ) from error

    def write(self, record: RecordLike, entities: Sequence[Entity]) -> None:
        """Add one record's ``Doc`` (an empty one with ``error`` for an error record)."""
        from arabic_ner.spacy_component import docbin_doc

        info: dict[str, Any] = {"id": record.id, "source": record.source, "line": record.line}
        if record.error is not None:
            info["error"] = record.error
            doc = docbin_doc("", [], info)
        else:
            doc = docbin_doc(record.text, entities, info, alignment_mode=self.alignment_mode)
        self._bin.add(doc)

    def close(self) -> None:
        """Write the file: the temporary file first, then renamed over ``path``."""
        if self._handle.closed:
            return
        try:
            with self._handle:
                self._handle.write(self._bin.to_bytes())
            if self._temporary is not None:
                os.replace(self._temporary, self.path)
        except BaseException:  # a full disk: no half-written temporary file is left
            self.discard()
            raise

    def discard(self) -> None:
        """Close without writing ``path``; remove the temporary file."""
        self._handle.close()
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)

    def __enter__(self) -> DocBinWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.discard()


def read_docbin(path: str | os.PathLike[str]) -> list[WrittenRecord]:
    """Read back a ``.spacy`` file of :class:`DocBinWriter`: one item per ``Doc``, in order.

    Entities come from ``user_data["entities"]`` (exact offsets, every field), checked
    against the doc's text. Raises :class:`DataFormatError` naming the file and doc for a
    file that is not a ``DocBin`` or a doc that ``arabic-ner extract`` did not write, and
    :class:`~arabic_ner.errors.BackendNotAvailableError` without spaCy. For a ``DocBin``
    of other origin read the docs with spaCy and use ``spacy_component.doc_to_entities``.
    """
    from arabic_ner.spacy_component import blank_arabic, require_spacy

    require_spacy()
    from spacy.tokens import DocBin

    name = os.fspath(path)
    try:
        docs = list(DocBin().from_disk(Path(path)).get_docs(blank_arabic().vocab))
    except (ValueError, KeyError, TypeError) as error:
        raise DataFormatError(
            f"{name}: not a spaCy DocBin file ({error}); expected a .spacy file written by "
            "arabic-ner extract --format spacy"
        ) from error
    out = []
    for number, doc in enumerate(docs, start=1):
        where = f"{name}: doc {number}"
        data = doc.user_data
        try:
            record_id, source, line = data["id"], data["source"], data["line"]
        except KeyError as error:
            raise DataFormatError(
                f"{where}: no user_data {error}; expected a doc written by arabic-ner "
                "extract --format spacy (with the record's id, source and line)"
            ) from None
        error_text = data.get("error")
        if error_text is not None:
            out.append(WrittenRecord(record_id, source, line, None, (), str(error_text)))
            continue
        rows = data.get("entities", ())
        entities = tuple(sorted(_docbin_entity(doc.text, row, where) for row in rows))
        out.append(WrittenRecord(record_id, source, line, doc.text, entities))
    return out


def _docbin_entity(text: str, row: Any, where: str) -> Entity:
    try:
        value = Value(**row["value"]) if row.get("value") is not None else None
        entity = Entity(
            row["text"],
            _entity_type(row["type"], where),
            int(row["start"]),
            int(row["end"]),
            float(row["score"]),
            row["normalized"],
            value=value,
            canonical=row.get("canonical"),
            cluster=row.get("cluster"),
        )
    except DataFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise DataFormatError(
            f"{where}: an entity that cannot be read ({error!r}); expected the fields of "
            "Entity.to_dict()"
        ) from error
    if text[entity.start : entity.end] != entity.text:
        raise DataFormatError(
            f"{where}: the entity {entity!r} does not match the doc's text, where "
            f"{entity.start}:{entity.end} is {text[entity.start : entity.end]!r}"
        )
    return entity
