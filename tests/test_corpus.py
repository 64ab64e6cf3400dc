"""``arabic-ner extract`` on corpora: inputs, error records, output formats, resume, safety."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from arabic_ner.cli import main
from arabic_ner.conll import read_conll
from arabic_ner.corpus import ReadOptions, Record, progress_path, read_records

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "palmyra_news_ar.txt"
PARAGRAPHS = [p for p in SAMPLE.read_text(encoding="utf-8").split("\n") if p.strip()]


def command(*args: str, stdin: bytes | None = None) -> list[str]:
    return [sys.executable, "-m", "arabic_ner.cli", "extract", *args]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command(*args), input=stdin, capture_output=True, cwd=ROOT)


def extract(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``extract`` in this process; return its exit code, stdout and stderr."""
    code = main(["extract", "--quiet", *args])
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


# --- inputs -----------------------------------------------------------------------------


def test_folder_walk_is_recursive_sorted_and_filtered_by_glob(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus"
    for name in ("b.txt", "a/z.txt", "a/y.md", ".hidden/x.txt", "c.csv"):
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_text("زار بوتين دمشق", encoding="utf-8")
    write_jsonl(corpus / "a" / "k.jsonl", [{"id": "k1", "text": "وصل الى حلب"}])

    code, out, _ = extract(capsys, str(corpus), "--format", "jsonl")
    assert code == 0
    rows = jsonl(out)
    assert [r["source"] for r in rows] == [
        f"{corpus}/a/k.jsonl",
        f"{corpus}/a/z.txt",
        f"{corpus}/b.txt",
    ]
    assert [r["id"] for r in rows] == ["k1", f"{corpus}/a/z.txt", f"{corpus}/b.txt"]
    assert [r["line"] for r in rows] == [1, None, None]

    code, out, _ = extract(capsys, str(corpus), "--format", "jsonl", "--glob", "*.md")
    assert [r["source"] for r in jsonl(out)] == [f"{corpus}/a/y.md"]


def test_jsonl_records_take_id_and_text_from_the_chosen_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(
        tmp_path / "news.jsonl",
        [
            {"doc": "a", "body": "زار بوتين دمشق"},
            {"body": "وصل الى وموسكو"},
            {"doc": 7, "body": "", "extra": [1, 2]},
        ],
    )
    code, out, _ = extract(
        capsys, str(data), "--format", "jsonl", "--text-field", "body", "--id-field", "doc"
    )
    assert code == 0
    rows = jsonl(out)
    assert [r["id"] for r in rows] == ["a", f"{data}:2", "7"]
    assert [r["line"] for r in rows] == [1, 2, 3]
    assert {(e["type"], e["text"]) for e in rows[0]["entities"]} == {
        ("PERS", "بوتين"),
        ("LOC", "دمشق"),
    }
    text = "وصل الى وموسكو"
    assert [text[e["start"] : e["end"]] for e in rows[1]["entities"]] == ["موسكو"]
    assert rows[2]["entities"] == []


def test_stdin_reads_jsonl_with_input_format_and_text_by_default() -> None:
    lines = '{"id": "s1", "text": "زار بوتين دمشق"}\n{"id": "s2", "text": "قصفت حلب"}\n'
    result = run("-", "--input-format", "jsonl", "--format", "jsonl", stdin=lines.encode())
    assert result.returncode == 0, result.stderr
    rows = jsonl(result.stdout.decode())
    assert [(r["id"], r["source"], r["line"]) for r in rows] == [
        ("s1", "<stdin>", 1),
        ("s2", "<stdin>", 2),
    ]

    stream = io.BytesIO(lines.encode())
    (whole,) = read_records(["-"], stdin=stream)
    assert (whole.id, whole.source, whole.line, whole.text) == ("<stdin>", "<stdin>", None, lines)


def test_lines_gives_one_record_per_non_blank_line_with_offsets_into_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "t.txt"
    text.write_bytes("زار بوتين دمشق\r\n\n   \nوصل الى وموسكو\n".encode())
    code, out, _ = extract(capsys, str(text), "--lines", "--format", "jsonl")
    assert code == 0
    first, second = jsonl(out)
    assert (first["id"], first["line"], second["id"], second["line"]) == (
        f"{text}:1",
        1,
        f"{text}:4",
        4,
    )
    line = "وصل الى وموسكو"
    assert [line[e["start"] : e["end"]] for e in second["entities"]] == ["موسكو"]


# --- error records ----------------------------------------------------------------------


def test_each_bad_record_becomes_an_error_record_in_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"id": "good-1", "text": "زار بوتين دمشق"}
    data = tmp_path / "mixed.jsonl"
    data.write_bytes(
        b"".join(
            [
                json.dumps(good).encode() + b"\n",
                b'{"id": "latin1", "text": "caf\xe9"}\n',  # invalid UTF-8
                b'{"id": "x", "text": \n',  # malformed JSON
                b"[1, 2]\n",  # not an object
                b'{"id": "no-text", "body": "x"}\n',  # missing text field
                b'{"id": "number", "text": 42}\n',  # text is not a string
                json.dumps({"id": "good-2", "text": "وصل الى وموسكو"}).encode() + b"\n",
            ]
        )
    )
    lines = tmp_path / "lines.txt"
    lines.write_bytes("زار حمص\n".encode() + b"\xff\xfe\n" + "قصفت حلب\n".encode())
    whole = tmp_path / "whole.txt"
    whole.write_bytes(b"\x81 not utf-8")
    missing = tmp_path / "missing.txt"

    code, out, err = extract(
        capsys, str(data), str(missing), str(whole), "--format", "jsonl", "-o", "-"
    )
    assert code == 1
    rows = jsonl(out)
    assert len(rows) == 9
    where = [(r["source"], r["line"], "error" in r) for r in rows]
    assert where == [
        (str(data), 1, False),
        (str(data), 2, True),
        (str(data), 3, True),
        (str(data), 4, True),
        (str(data), 5, True),
        (str(data), 6, True),
        (str(data), 7, False),
        (str(missing), None, True),
        (str(whole), None, True),
    ]
    assert [r["id"] for r in rows] == [
        "good-1",
        f"{data}:2",
        f"{data}:3",
        f"{data}:4",
        "no-text",
        "number",
        "good-2",
        str(missing),
        str(whole),
    ]
    messages = [r["error"] for r in rows if "error" in r]
    assert "UTF-8" in messages[0] and "JSON" in messages[1] and "object" in messages[2]
    assert "'text'" in messages[3] and "--text-field" in messages[3]
    assert "a number" in messages[4] and "expected a string" in messages[4]
    assert "No such file" in messages[5] and "UTF-8" in messages[6]
    assert {e["text"] for e in rows[0]["entities"]} == {"بوتين", "دمشق"}
    assert [e["text"] for e in rows[6]["entities"]] == ["موسكو"]
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 7 and f"{data}:3:" in warnings[1]

    code, out, _ = extract(capsys, str(lines), "--lines", "--format", "jsonl")
    assert code == 1
    rows = jsonl(out)
    assert [(r["line"], "error" in r) for r in rows] == [(1, False), (2, True), (3, False)]
    assert [e["text"] for e in rows[2]["entities"]] == ["حلب"]


def test_error_records_in_conll_and_table_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "ok", "text": "قصفت حلب"}, ["oops"]])
    code, out, _ = extract(capsys, str(data), "--format", "conll")
    assert code == 1
    assert out.splitlines()[-2:] == [
        f"# id = {data}:2",
        "# error = expected a JSON object, found an array",
    ]
    code, out, _ = extract(capsys, str(data), "--format", "table")
    assert code == 1
    assert out.splitlines()[-1] == f"# {data}:2: error: expected a JSON object, found an array"


def test_a_json_escape_for_a_lone_surrogate_is_an_error_record() -> None:
    stream = io.BytesIO(b'{"id": "s", "text": "\\ud800 x"}\n')
    (record,) = read_records(["-"], ReadOptions(input_format="jsonl"), stdin=stream)
    assert record.error is not None and "surrogate" in record.error


# --- output formats ---------------------------------------------------------------------


def test_conll_output_tags_tokens_and_a_proclitic_token_gets_b_loc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(
        tmp_path / "d.jsonl", [{"id": "d1", "text": "وصل فلاديمير بوتين الى وموسكو. ثم عاد"}]
    )
    code, out, _ = extract(capsys, str(data), "--format", "conll")
    assert code == 0
    assert out == (
        "# id = d1\n"
        "وصل O\nفلاديمير B-PERS\nبوتين I-PERS\nالى O\nوموسكو B-LOC\n. O\n\n"
        "ثم O\nعاد O\n\n"
    )
    written = tmp_path / "out.conll"
    written.write_text(out, encoding="utf-8")
    assert [s.tags for s in read_conll(written)] == [
        ("O", "B-PERS", "I-PERS", "O", "B-LOC", "O"),
        ("O", "O"),
    ]


def test_default_format_is_table_on_stdout_and_jsonl_or_conll_with_o(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"id": "d1", "text": "قصفت حلب"}])
    _, out, _ = extract(capsys, str(data))
    assert out.startswith("# d1: 1 entities\n")
    assert extract(capsys, str(data), "-o", str(tmp_path / "out.jsonl"))[0] == 0
    assert jsonl((tmp_path / "out.jsonl").read_text("utf-8"))[0]["id"] == "d1"
    assert extract(capsys, str(data), "-o", str(tmp_path / "out.conll"))[0] == 0
    assert (tmp_path / "out.conll").read_text("utf-8").startswith("# id = d1\nقصفت O\n")


def test_two_processes_give_the_same_output_as_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [{"id": f"d{i}", "text": PARAGRAPHS[i % len(PARAGRAPHS)]} for i in range(150)]
    rows[40] = {"id": "bad", "text": None}
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert extract(capsys, str(data), "-o", str(one), "-j", "1")[0] == 1
    assert extract(capsys, str(data), "-o", str(two), "-j", "2")[0] == 1
    assert one.read_bytes() == two.read_bytes()
    assert len(one.read_bytes().splitlines()) == 150


# --- resume -----------------------------------------------------------------------------


def big_corpus(path: Path, size: int) -> Path:
    rows = [{"id": f"doc-{i}", "text": PARAGRAPHS[i % len(PARAGRAPHS)]} for i in range(size)]
    return write_jsonl(path, rows)


def test_a_killed_run_resumed_equals_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = 4000
    data = big_corpus(tmp_path / "corpus.jsonl", size)
    out = tmp_path / "out.jsonl"
    process = subprocess.Popen(
        command(str(data), "-o", str(out), "-q"), cwd=ROOT, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 200:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    before = out.read_bytes().count(b"\n")
    assert 0 < before < size
    assert not json.loads(progress_path(out).read_text("utf-8"))["complete"]

    result = subprocess.run(
        command(str(data), "-o", str(out), "--resume", "-q"), cwd=ROOT, capture_output=True
    )
    assert result.returncode == 0, result.stderr

    reference = tmp_path / "reference.jsonl"
    assert extract(capsys, str(data), "-o", str(reference))[0] == 0
    ids = [row["id"] for row in jsonl(out.read_text("utf-8"))]
    assert ids == [f"doc-{i}" for i in range(size)]
    assert out.read_bytes() == reference.read_bytes()
    assert json.loads(progress_path(out).read_text("utf-8"))["complete"]


def test_resume_drops_a_partial_last_line_and_appends_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = big_corpus(tmp_path / "corpus.jsonl", 30)
    out, reference = tmp_path / "out.jsonl", tmp_path / "reference.jsonl"
    assert extract(capsys, str(data), "-o", str(reference))[0] == 0
    assert extract(capsys, str(data), "-o", str(out))[0] == 0
    kept = reference.read_bytes().splitlines(keepends=True)[:12]
    out.write_bytes(b"".join(kept) + b'{"id": "doc-12", "sou')  # as a kill would leave it
    sidecar = json.loads(progress_path(out).read_text("utf-8"))
    sidecar["complete"] = False
    progress_path(out).write_text(json.dumps(sidecar), "utf-8")

    assert extract(capsys, str(data), "-o", str(out), "--resume")[0] == 0
    assert out.read_bytes() == reference.read_bytes()


def test_resume_of_conll_output_writes_the_last_record_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = big_corpus(tmp_path / "corpus.jsonl", 20)
    out, reference = tmp_path / "out.conll", tmp_path / "reference.conll"
    assert extract(capsys, str(data), "-o", str(reference))[0] == 0
    assert extract(capsys, str(data), "-o", str(out))[0] == 0
    text = reference.read_text("utf-8")
    cut = text.index("# id = doc-8\n") + 40  # inside record doc-8
    out.write_text(text[:cut], "utf-8")
    sidecar = json.loads(progress_path(out).read_text("utf-8"))
    progress_path(out).write_text(json.dumps({**sidecar, "complete": False}), "utf-8")

    assert extract(capsys, str(data), "-o", str(out), "--resume")[0] == 0
    assert out.read_text("utf-8") == text


def test_resume_with_other_arguments_or_without_a_progress_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = big_corpus(tmp_path / "corpus.jsonl", 5)
    other = big_corpus(tmp_path / "other.jsonl", 5)
    out = tmp_path / "out.jsonl"
    assert extract(capsys, str(data), "-o", str(out))[0] == 0
    written = out.read_bytes()

    code, _, err = extract(capsys, str(other), "-o", str(out), "--resume")
    assert code == 2 and "inputs" in err and "--resume" in err
    code, _, err = extract(capsys, str(data), "-o", str(out), "--resume", "--types", "LOC")
    assert code == 2 and "types" in err
    code, _, err = extract(capsys, str(data), "-o", str(out), "--resume", "--format", "table")
    assert code == 2 and "table" in err
    assert out.read_bytes() == written

    progress_path(out).unlink()
    code, _, err = extract(capsys, str(data), "-o", str(out), "--resume")
    assert code == 2 and "progress.json" in err
    assert out.read_bytes() == written
    assert main(["extract", str(data), "--resume"]) == 2  # --resume needs -o


def test_resume_of_a_complete_run_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = big_corpus(tmp_path / "corpus.jsonl", 5)
    out = tmp_path / "out.jsonl"
    assert extract(capsys, str(data), "-o", str(out))[0] == 0
    written = out.read_bytes()
    code, _, err = extract(capsys, str(data), "-o", str(out), "--resume")
    assert code == 0 and "already complete" in err and out.read_bytes() == written


def test_without_resume_an_existing_output_is_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = big_corpus(tmp_path / "corpus.jsonl", 3)
    out = tmp_path / "out.jsonl"
    out.write_text("old\n" * 10, "utf-8")
    assert extract(capsys, str(data), "-o", str(out))[0] == 0
    assert [r["id"] for r in jsonl(out.read_text("utf-8"))] == ["doc-0", "doc-1", "doc-2"]


# --- safety -----------------------------------------------------------------------------


def test_output_equal_to_an_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = big_corpus(tmp_path / "corpus.jsonl", 3)
    original = data.read_bytes()
    code, _, err = extract(capsys, str(data), "-o", str(tmp_path / "." / "corpus.jsonl"))
    assert code == 2 and "never overwritten" in err
    assert data.read_bytes() == original

    code, _, err = extract(capsys, str(tmp_path), "-o", str(tmp_path / "out.jsonl"))
    assert code == 2 and "inside the input folder" in err
    assert not (tmp_path / "out.jsonl").exists()


def test_record_repr_shows_id_place_and_size_or_error() -> None:
    text = Record("d1", "a.jsonl", 3, "زار")
    assert repr(text) == "Record('d1', source='a.jsonl', line=3, 3 chars)"
    error = Record("a.txt", "a.txt", None, error="invalid UTF-8")
    assert repr(error) == "Record('a.txt', source='a.txt', line=None, error='invalid UTF-8')"
