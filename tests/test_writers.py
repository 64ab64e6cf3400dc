"""CSV and brat outputs: written, read back, the same spans; records in = records out."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from arabic_ner import Entity, EntityType, Value
from arabic_ner.cli import main
from arabic_ner.corpus import Record, format_jsonl, progress_path
from arabic_ner.writers import (
    CSV_COLUMNS,
    BratWriter,
    WrittenRecord,
    brat_name,
    brat_text,
    csv_header,
    format_ann,
    format_csv,
    read_brat,
    read_csv,
)


def entity(text: str, kind: EntityType, surface: str, **extra: object) -> Entity:
    start = text.index(surface)
    return Entity(surface, kind, start, start + len(surface), 0.8125, surface, **extra)  # type: ignore[arg-type]


# Texts with what breaks naive writers: line breaks (LF, CRLF, a lone CR), quotes, commas,
# tabs, emoji (one code point, two UTF-16 units), markup; ids with '/', '~', '.', case.
TEXTS = {
    "news/1.txt": "زار بوتين دمشق\nثم وصل الى حلب",
    "crlf": 'سطر اول\r\nزار "حلب", ثم\tتدمر\r\nوصل الى موسكو',
    "lone-cr": "زار حلب\rثم تدمر",
    "emoji": '😀😀 زار بوتين, "دمشق" في 5 ايار/مايو 2015 <b>&amp;</b>',
    "D": "لا شيء هنا",
    "d": "زار بغداد",
    ".hidden~1": "وصل الى القاهرة",
}
SURFACES = {
    "news/1.txt": [("PERS", "بوتين"), ("LOC", "دمشق"), ("LOC", "حلب")],
    "crlf": [("LOC", "حلب"), ("LOC", "تدمر"), ("LOC", "موسكو")],
    "lone-cr": [("LOC", "حلب"), ("LOC", "تدمر")],
    "emoji": [("PERS", "بوتين"), ("LOC", "دمشق"), ("DATE", "5 ايار/مايو 2015")],
    "D": [],
    "d": [("LOC", "بغداد")],
    ".hidden~1": [("LOC", "القاهرة")],
}


def corpus() -> list[tuple[Record, list[Entity]]]:
    """Records with their entities, an error record and a repeated id among them."""
    out: list[tuple[Record, list[Entity]]] = []
    for number, (record_id, text) in enumerate(TEXTS.items(), start=1):
        found = [entity(text, EntityType(k), s) for k, s in SURFACES[record_id]]
        out.append((Record(record_id, "in.jsonl", number, text), found))
    rich = out[3][1]
    rich[0] = entity(
        TEXTS["emoji"], EntityType.PERS, "بوتين", canonical="فلاديمير بوتين", cluster=0
    )
    rich[2] = entity(TEXTS["emoji"], EntityType.DATE, rich[2].text, value=Value(year=2015, month=5))
    out.insert(2, (Record("in.jsonl:9", "in.jsonl", 9, error='malformed JSON, "x"\nhere'), []))
    out.append(
        (Record("d", "other.txt", None, "زار حلب"), [entity("زار حلب", EntityType.LOC, "حلب")])
    )
    return out


def spans(entities: tuple[Entity, ...] | list[Entity]) -> list[tuple[str, int, int, str]]:
    return [(e.type.value, e.start, e.end, e.text) for e in entities]


# --- CSV --------------------------------------------------------------------------------


def write_csv(path: Path, items: list[tuple[Record, list[Entity]]]) -> None:
    rows = [format_csv(r, e, number=n) for n, (r, e) in enumerate(items, start=1)]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(csv_header() + "".join(rows))


def test_csv_round_trip_gives_back_every_record_and_its_spans(tmp_path: Path) -> None:
    items = corpus()
    write_csv(tmp_path / "out.csv", items)
    back = read_csv(tmp_path / "out.csv")
    assert len(back) == len(items)  # records in = records out, errors and empty ones too
    for got, (record, found) in zip(back, items, strict=True):
        assert (got.id, got.source, got.line, got.error) == (
            record.id,
            record.source,
            record.line,
            record.error,
        )
        assert spans(got.entities) == spans(found)
        assert got.entities == tuple(found)  # scores, values, canonical names too
        for e in got.entities:
            assert record.text[e.start : e.end] == e.text


def test_csv_has_one_row_per_entity_and_one_for_an_empty_or_error_record(tmp_path: Path) -> None:
    import csv

    items = corpus()
    write_csv(tmp_path / "out.csv", items)
    with open(tmp_path / "out.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == sum(max(1, len(found)) for _, found in items)
    [error] = [row for row in rows if row["error"]]
    assert error["error"] == 'malformed JSON, "x"\nhere' and error["type"] == ""
    [empty] = [row for row in rows if row["id"] == "D"]
    assert empty["type"] == empty["start"] == empty["error"] == ""
    [date] = [row for row in rows if row["type"] == "DATE"]
    assert json.loads(date["value"]) == {"year": 2015, "month": 5}


def test_csv_reader_names_the_line_of_a_bad_row(tmp_path: Path) -> None:
    from arabic_ner import DataFormatError

    path = tmp_path / "bad.csv"
    path.write_text(csv_header() + "1,d,a,1,CITY,0,3,حلب,1.0,حلب,,,,\r\n", "utf-8")
    with pytest.raises(DataFormatError, match=r"bad.csv:2: unknown entity type 'CITY'"):
        read_csv(path)
    path.write_text("id,text\r\n", "utf-8")
    with pytest.raises(DataFormatError, match="no column record"):
        read_csv(path)


# --- brat -------------------------------------------------------------------------------


def write_brat(folder: Path, items: list[tuple[Record, list[Entity]]]) -> None:
    with BratWriter(folder) as writer:
        for record, found in items:
            writer.write(record, found)


def test_brat_round_trip_gives_back_every_record_and_its_spans(tmp_path: Path) -> None:
    items = corpus()
    write_brat(tmp_path / "brat", items)
    back = read_brat(tmp_path / "brat")
    assert len(back) == len(items)  # records in = records out
    documents = [(r, f) for r, f in items if r.error is None]
    errors = [r for r, _ in items if r.error is not None]
    assert sorted(r.id for r, _ in documents) == sorted(b.id for b in back if b.error is None)
    by_text = {b.text: b for b in back if b.error is None}
    for record, found in documents:
        got = by_text[brat_text(record.text)]
        assert got.id == record.id
        assert spans(got.entities) == spans(found)
        assert got.entities == tuple(found)
    assert [b for b in back if b.error is not None] == [
        WrittenRecord(r.id, r.source, r.line, None, (), r.error) for r in errors
    ]


def test_brat_errors_file_holds_the_jsonl_error_records(tmp_path: Path) -> None:
    items = corpus()
    write_brat(tmp_path / "brat", items)
    written = (tmp_path / "brat" / "errors.jsonl").read_text("utf-8")
    assert written == "".join(format_jsonl(r, []) for r, _ in items if r.error is not None)


def test_brat_offsets_count_code_points_in_the_text_file_as_brat_reads_it(tmp_path: Path) -> None:
    items = corpus()
    write_brat(tmp_path / "brat", items)
    for txt in (tmp_path / "brat").glob("*.txt"):
        text = txt.read_text("utf-8")  # universal newlines, as brat and open() read it
        assert "\r" not in txt.read_bytes().decode("utf-8")
        for line in txt.with_suffix(".ann").read_text("utf-8").splitlines():
            if line.startswith("T"):
                _, where, shown = line.split("\t")
                offsets = where.split(" ", 1)[1]
                pieces = [text[int(a) : int(b)] for a, b in (p.split() for p in offsets.split(";"))]
                assert " ".join(pieces) == shown
    emoji = next((tmp_path / "brat").glob("emoji.ann")).read_text("utf-8")
    assert "T1\tPERS 7 12\tبوتين\n" in emoji  # each emoji counts as one character


def test_brat_text_keeps_offsets_of_a_text_with_carriage_returns() -> None:
    text = TEXTS["crlf"]
    assert len(brat_text(text)) == len(text)
    for _, surface in SURFACES["crlf"]:
        start = text.index(surface)
        assert brat_text(text)[start : start + len(surface)] == surface


def test_brat_entity_across_a_line_break_is_written_in_fragments(tmp_path: Path) -> None:
    text = "جامعة\nدمشق هنا"
    whole = Entity("جامعة\nدمشق", EntityType.ORG, 0, 10, 0.5, "جامعة دمشق")
    assert format_ann(text, [whole]).splitlines()[0] == "T1\tORG 0 5;6 10\tجامعة دمشق"
    write_brat(tmp_path / "brat", [(Record("x", "x", None, text), [whole])])
    [back] = read_brat(tmp_path / "brat")
    assert back.entities == (whole,)


def test_brat_names_are_safe_unique_and_give_the_id_back(tmp_path: Path) -> None:
    ids = ["a/b", "a%2Fb", "../up", ".", "", "", "x\ny\u200f", "DOC", "doc", "doc~2", "ث" * 300]
    taken: set[str] = set()
    names = [brat_name(i, taken) for i in ids]
    assert len({n.casefold() for n in names}) == len(ids)
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".") and name
        assert all(ch.isprintable() for ch in name)
        assert len((name + ".txt").encode("utf-8")) <= 255
    items: list[tuple[Record, list[Entity]]] = [(Record(i, "s", None, "زار حلب"), []) for i in ids]
    write_brat(tmp_path / "brat", items)
    assert sorted(os.listdir(tmp_path / "brat")) == sorted(
        [f"{n}.txt" for n in names]
        + [f"{n}.ann" for n in names]
        + ["annotation.conf", "errors.jsonl", "visual.conf"]
    )
    back = sorted(r.id for r in read_brat(tmp_path / "brat"))
    assert back == sorted([*ids[:-1], "ث" * 100])  # a long id is cut at 200 bytes


def test_brat_folder_declares_every_type_for_brat(tmp_path: Path) -> None:
    write_brat(tmp_path / "brat", [])
    conf = (tmp_path / "brat" / "annotation.conf").read_text("utf-8")
    assert conf.startswith("[entities]\n") and all(f"\n{t.value}\n" in conf for t in EntityType)
    assert (tmp_path / "brat" / "errors.jsonl").read_text("utf-8") == ""


# --- arabic-ner extract -----------------------------------------------------------------


def jsonl_input(path: Path) -> Path:
    rows: list[object] = [{"id": record_id, "text": text} for record_id, text in TEXTS.items()]
    rows.insert(2, [1])  # an error record
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def extract_jsonl(capsys: pytest.CaptureFixture[str], data: Path) -> list[dict[str, object]]:
    assert main(["extract", "-q", str(data), "--format", "jsonl"]) == 1
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_extract_csv_and_brat_hold_what_jsonl_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl_input(tmp_path / "in.jsonl")
    expected = extract_jsonl(capsys, data)
    assert main(["extract", "-q", str(data), "-o", str(tmp_path / "out.csv")]) == 1  # csv
    assert main(["extract", "-q", str(data), "--format", "brat", "-o", str(tmp_path / "b")]) == 1
    capsys.readouterr()

    from_csv = read_csv(tmp_path / "out.csv")
    from_brat = {r.id: r for r in read_brat(tmp_path / "b")}
    assert len(from_csv) == len(from_brat) == len(expected)
    for row, got in zip(expected, from_csv, strict=True):
        assert (got.id, got.source, got.line) == (row["id"], row["source"], row["line"])
        if "error" in row:
            assert got.error == row["error"] and from_brat[str(row["id"])].error == row["error"]
            continue
        found = [(e["type"], e["start"], e["end"], e["text"]) for e in row["entities"]]  # type: ignore[attr-defined]
        assert spans(got.entities) == found
        assert spans(from_brat[str(row["id"])].entities) == found
        text = TEXTS[str(row["id"])]
        assert all(text[e.start : e.end] == e.text for e in got.entities)


def test_brat_needs_a_new_or_empty_folder_outside_the_inputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl_input(tmp_path / "in.jsonl")
    cases = {
        "name it with -o FOLDER": [str(data), "--format", "brat"],
        "is not a folder": [str(data), "--format", "brat", "-o", str(data)],
        "is not empty": [str(data), "--format", "brat", "-o", str(tmp_path)],
        "inside the input folder": [str(tmp_path), "--format", "brat", "-o", str(tmp_path / "b")],
        "--resume does not work with --format brat": [
            *(str(data), "--format", "brat", "-o", str(tmp_path / "c"), "--resume")
        ],
    }
    for message, args in cases.items():
        assert main(["extract", "-q", *args]) == 2, message
        assert message in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl"]


def test_help_lists_the_output_formats(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in ("table", "jsonl", "conll", "csv", "html", "brat", "errors.jsonl"):
        assert name in text


# --- resume of CSV ----------------------------------------------------------------------


def cut_and_resume(
    capsys: pytest.CaptureFixture[str], data: Path, out: Path, keep: int, reference: bytes
) -> None:
    out.write_bytes(reference[:keep])
    sidecar = json.loads(progress_path(out).read_text("utf-8"))
    progress_path(out).write_text(json.dumps({**sidecar, "complete": False}), "utf-8")
    assert main(["extract", "-q", str(data), "-o", str(out), "--resume"]) == 1
    capsys.readouterr()
    assert out.read_bytes() == reference, keep


def test_csv_resume_after_a_cut_anywhere_equals_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows: list[object] = [{"id": f"{k},\r\n{k}", "text": text} for k, text in TEXTS.items()]
    rows.insert(2, [1])  # an error record
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out, reference = tmp_path / "out.csv", tmp_path / "reference.csv"
    assert main(["extract", "-q", str(data), "-o", str(reference)]) == 1
    assert main(["extract", "-q", str(data), "-o", str(out)]) == 1
    written = reference.read_bytes()
    quoted = written.index(b'"')  # inside a quoted field
    crlf = written.index(b"lone-cr,\r\n") + 8  # between \r and \n inside a quoted id
    header = len(csv_header().encode())
    arabic = written.index("بوتين".encode()) + 1  # inside a character
    cuts = (0, 5, header, header + 3, quoted + 2, crlf, arabic, len(written) - 1, len(written))
    for keep in cuts:
        cut_and_resume(capsys, data, out, keep, written)
