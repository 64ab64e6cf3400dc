"""Regression tests for the faults found by attacking the library (issue 11).

Each test failed before its fix: a JSONL integer too long to read, a file name that is not
UTF-8, damaged model files (a segmentation fault, bare Python errors, silent loads), a
worker killed mid-run (a hang), and ``pipe`` given the wrong kind of argument.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import arabic_ner
from arabic_ner.cli import main
from arabic_ner.corpus import progress_path
from arabic_ner.crf import read_crfsuite
from arabic_ner.errors import ConfigError, InputError, ModelError
from arabic_ner.manifest import MANIFEST_FILE, write_manifest
from arabic_ner.model import CRFBackend, default_model_path, load_backend

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "وصل الرئيس الروسي فلاديمير بوتين الى موسكو",
    'أعلن تنظيم "داعش" سيطرته على مدينة تدمر',
    "التقى وزير الخارجية الأمريكي نظيره الفرنسي في باريس يوم الاثنين",
]


def extract(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["extract", "--quiet", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


# --- 1. a JSONL integer of more than 4,300 digits ---------------------------------------


@pytest.mark.parametrize("field", ["id", "text", "other"])
def test_a_huge_jsonl_integer_gives_an_error_record_and_the_rest_is_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str
) -> None:
    data = tmp_path / "d.jsonl"
    huge = "9" * 5000
    rows = [
        json.dumps({"id": "a", "text": TEXTS[0]}, ensure_ascii=False),
        f'{{"id": "b", "text": "x", "{field}": {huge}}}',
        json.dumps({"id": "c", "text": TEXTS[1]}, ensure_ascii=False),
    ]
    data.write_text("\n".join(rows) + "\n", "utf-8")
    out = tmp_path / "out.jsonl"
    code, _, _ = extract(capsys, str(data), "-o", str(out))
    assert code == 1  # some records are errors
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == ["a", f"{data}:2", "c"]
    assert "more than 4,300 digits" in records[1]["error"]
    assert records[0]["entities"] and records[2]["entities"]
    # --resume does not stop on the same line again: the run is complete.
    assert extract(capsys, str(data), "-o", str(out), "--resume")[0] == 1
    assert len(out.read_text("utf-8").splitlines()) == 3


# --- 2. a file name that is not valid UTF-8 ---------------------------------------------


@pytest.mark.parametrize("fmt", ["jsonl", "conll"])
def test_a_non_utf8_file_name_is_written_escaped_and_nothing_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9-\xff.txt"
    with open(raw, "wb") as stream:
        stream.write(TEXTS[0].encode())
    (folder / "z.txt").write_text(TEXTS[1], "utf-8")
    out = tmp_path / f"out.{fmt}"
    code, _, err = extract(capsys, str(folder), "-o", str(out), "--format", fmt)
    assert code == 0, err
    written = out.read_text("utf-8")
    escaped = f"{folder}/caf\\xe9-\\xff.txt"
    if fmt == "jsonl":
        records = [json.loads(line) for line in written.splitlines()]
        assert [r["source"] for r in records] == [escaped, str(folder / "z.txt")]
        assert all(r["entities"] for r in records)
    else:
        assert f"# id = {escaped}\n" in written and "# id = " + str(folder / "z.txt") in written
    # The run is resumable: its progress file was written too.
    assert json.loads(progress_path(out).read_text("utf-8"))["complete"]


def test_a_non_utf8_input_argument_is_written_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = os.fsencode(tmp_path) + b"/\xe9.jsonl"
    with open(raw, "wb") as stream:
        stream.write(json.dumps({"id": "d1", "text": TEXTS[0]}).encode() + b"\n")
    out = tmp_path / "out.jsonl"
    code, _, err = extract(capsys, os.fsdecode(raw), "-o", str(out))
    assert code == 0, err
    assert json.loads(out.read_text("utf-8"))["source"] == f"{tmp_path}/\\xe9.jsonl"


# --- 3 and 4. damaged model files ---------------------------------------------------------


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(default_model_path(), folder)
    return folder


def test_the_shipped_model_has_a_manifest_that_matches() -> None:
    listed = json.loads((default_model_path() / MANIFEST_FILE).read_text("utf-8"))["files"]
    on_disk = {p.name for p in default_model_path().iterdir() if p.name != MANIFEST_FILE}
    assert set(listed) == on_disk
    assert load_backend("crf").name == "crf"


def _flip_bit(path: Path, at: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 1 << bit
    path.write_bytes(bytes(data))


def test_one_flipped_bit_in_the_crf_is_refused_by_the_manifest(model_copy: Path) -> None:
    crf = model_copy / "model.crfsuite"
    _flip_bit(crf, crf.stat().st_size // 2, 3)
    with pytest.raises(ModelError, match=r"model\.crfsuite differs"):
        arabic_ner.load(model_copy)
    code = subprocess.run(
        [sys.executable, "-m", "arabic_ner.cli", "extract", "--model", str(model_copy), "-"],
        input="زار بوتين دمشق",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert code.returncode == 1 and "differs" in code.stderr  # no segmentation fault (-11)


def _crf_regions(data: bytes) -> list[int]:
    """Byte positions in each part of a CRFsuite file: header, features, label and
    attribute tables (their headers, hash tables, backward arrays and strings)."""
    import struct

    _, _, _, _, _, _, _, features, labels, attrs, *_ = struct.unpack_from("<4sI4s9I", data)
    rng = random.Random(7)
    spots = list(range(0, 48, 3)) + list(range(features, features + 12))
    spots += [labels + k for k in range(0, 24)] + [attrs + k for k in range(0, 24)]
    spots += [rng.randrange(labels, attrs) for _ in range(20)]
    spots += [rng.randrange(attrs, len(data)) for _ in range(40)]
    spots += [rng.randrange(features + 12, labels) for _ in range(20)]
    return spots


def test_flipped_bits_and_random_bytes_in_a_trusted_crf_never_crash_the_reader() -> None:
    data = (default_model_path() / "model.crfsuite").read_bytes()
    tried = refused = 0
    for at in _crf_regions(data):
        for bit in (0, 7):
            damaged = bytearray(data)
            damaged[at] ^= 1 << bit
            tried += 1
            try:
                read_crfsuite(bytes(damaged))
            except ValueError:
                refused += 1
    rng = random.Random(11)
    middle = len(data) // 2
    for _ in range(5):
        damaged = bytearray(data)
        damaged[middle : middle + 4096] = rng.randbytes(4096)
        tried += 1
        try:
            read_crfsuite(bytes(damaged))
        except ValueError:
            refused += 1
    # Every damage either raised ValueError or gave weights (a flipped bit inside one
    # weight can only be caught by the manifest); nothing else escaped.
    assert tried > 250 and refused > 100


def test_a_trusted_damaged_crf_raises_model_error_naming_the_file(model_copy: Path) -> None:
    (model_copy / MANIFEST_FILE).unlink()
    crf = model_copy / "model.crfsuite"
    data = bytearray(crf.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = random.Random(3).randbytes(4096)
    crf.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model\.crfsuite"):
        CRFBackend(model_copy, trust=True)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _scramble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    random.Random(5).shuffle(data)
    path.write_bytes(bytes(data))


def _meta_list(path: Path) -> None:
    path.write_text("[1]", "utf-8")


def _neural_arrays(change: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        change(arrays)
        np.savez_compressed(path, **arrays)

    return damage


def _one_short(arrays: dict[str, np.ndarray]) -> None:
    arrays["out_bias"] = arrays["out_bias"][:-1]


def _wrong_shape(arrays: dict[str, np.ndarray]) -> None:
    arrays["f_w_hh"] = arrays["f_w_hh"].T.copy()


def _nan(arrays: dict[str, np.ndarray]) -> None:
    arrays["out_weight"] = arrays["out_weight"].copy()
    arrays["out_weight"][0, 0] = np.nan


def _huge(arrays: dict[str, np.ndarray]) -> None:
    arrays["feature_vectors"] = arrays["feature_vectors"].copy()
    arrays["feature_vectors"][3, 1] = 5e4  # beyond the limit, within half precision


DAMAGE = {
    "namelike.tsv empty": ("namelike.tsv", _empty),
    "neural.npz empty": ("neural.npz", _empty),
    "neural.npz scrambled": ("neural.npz", _scramble),
    "a weight array one element short": ("neural.npz", _neural_arrays(_one_short)),
    "a weight array of the wrong shape": ("neural.npz", _neural_arrays(_wrong_shape)),
    "a NaN weight": ("neural.npz", _neural_arrays(_nan)),
    "a huge weight": ("neural.npz", _neural_arrays(_huge)),
    "meta.json holding [1]": ("meta.json", _meta_list),
    "lexicon.tsv scrambled": ("lexicon.tsv", _scramble),
}


@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_a_damaged_model_file_raises_model_error_naming_it(model_copy: Path, case: str) -> None:
    name, damage = DAMAGE[case]
    damage(model_copy / name)
    with pytest.raises(ModelError, match=f"{name} differs"):
        CRFBackend(model_copy)
    # Trusted, without the manifest: the readers themselves refuse it, naming the file.
    (model_copy / MANIFEST_FILE).unlink()
    with pytest.raises(ModelError, match=name.replace(".", r"\.")):
        CRFBackend(model_copy, trust=True)


@pytest.mark.parametrize("name", ["gazetteer.tsv", "person_names.tsv", "memory.tsv"])
def test_an_emptied_list_is_refused_not_loaded_silently(model_copy: Path, name: str) -> None:
    # An empty list is a model a user may build on purpose: only the manifest tells.
    _empty(model_copy / name)
    with pytest.raises(ModelError, match=f"{name} differs"):
        CRFBackend(model_copy)


def test_a_folder_without_a_manifest_needs_trust_and_the_cli_writes_one(
    model_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (model_copy / MANIFEST_FILE).unlink()
    with pytest.raises(ModelError, match="arabic-ner manifest"):
        CRFBackend(model_copy)
    assert CRFBackend(model_copy, trust=True).name == "crf"
    assert main(["manifest", str(model_copy)]) == 0
    assert CRFBackend(model_copy).name == "crf"


def test_a_file_added_after_the_manifest_is_refused(model_copy: Path) -> None:
    (model_copy / MANIFEST_FILE).unlink()
    (model_copy / "neural.npz").rename(model_copy / "kept.npz")
    write_manifest(model_copy)
    (model_copy / "kept.npz").rename(model_copy / "neural.npz")
    with pytest.raises(ModelError, match=r"neural\.npz is not listed"):
        CRFBackend(model_copy)
    assert CRFBackend(model_copy, neural=False).name == "crf-only"  # it does not read it


def test_a_malformed_manifest_is_a_model_error(model_copy: Path) -> None:
    (model_copy / MANIFEST_FILE).write_text('{"format": 1, "files": [1]}', "utf-8")
    with pytest.raises(ModelError, match="not a manifest"):
        CRFBackend(model_copy)


# --- 5. a worker killed by SIGKILL --------------------------------------------------------

_KILL_A_WORKER = textwrap.dedent(
    """
    import multiprocessing, os, signal, sys, time
    import arabic_ner
    texts = {texts!r}
    nlp = arabic_ner.load()
    def stream():
        for i in range(100000):
            if i == 300:
                os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)
            yield texts[i % len(texts)]
    start = time.monotonic()
    try:
        for _ in nlp.pipe(stream(), n_process=2, batch_size=8):
            pass
    except arabic_ner.WorkerError as error:
        print("WorkerError", round(time.monotonic() - start, 1), error)
        sys.exit(0)
    print("no error")
    """
)


def test_a_killed_pipe_worker_raises_worker_error_within_seconds() -> None:
    script = _KILL_A_WORKER.format(texts=TEXTS)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("WorkerError"), result.stdout
    assert "died" in result.stdout


def test_a_pool_broken_before_a_submit_raises_worker_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The race CI met: a worker dies after pipe() read the last result, so the executor
    # refuses the next batch at submit() before any future reports the death.
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    import arabic_ner.pipeline

    class Breaks(ProcessPoolExecutor):
        submitted = 0

        def submit(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def,override]
            Breaks.submitted += 1
            if Breaks.submitted == 3:
                raise BrokenProcessPool("A child process terminated abruptly")
            return super().submit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(arabic_ner.pipeline, "ProcessPoolExecutor", Breaks)
    nlp = arabic_ner.load()
    with pytest.raises(arabic_ner.WorkerError, match=r"died while tagging.*restart"):
        list(nlp.pipe(TEXTS * 8, n_process=2, batch_size=2))
    assert Breaks.submitted == 3


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == pid and b"resource_tracker" not in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_a_killed_cli_worker_stops_the_run_with_an_error_and_resume_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    size = 20_000  # a run of some seconds, so that a worker can be killed mid-run
    rows = [{"id": f"d{i}", "text": TEXTS[i % len(TEXTS)]} for i in range(size)]
    data = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "arabic_ner.cli", "extract", "-q", "-j", "2"]
    process = subprocess.Popen(
        [*command, str(data), "-o", str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= 100 and _children(process.pid):
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before a worker could be killed"
    os.kill(_children(process.pid)[0], signal.SIGKILL)
    killed_at = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert time.monotonic() - killed_at < 30
    assert process.returncode == 1 and "died" in err and "--resume" in err
    resumed = subprocess.run(
        [*command, str(data), "-o", str(out), "--resume"], cwd=ROOT, capture_output=True
    )
    assert resumed.returncode == 0, resumed.stderr
    ids = [json.loads(line)["id"] for line in out.read_text("utf-8").splitlines()]
    assert ids == [f"d{i}" for i in range(size)]


# --- 6. pipe given the wrong kind of argument ------------------------------------------


def test_pipe_refuses_a_str_none_and_a_fractional_process_count() -> None:
    nlp = arabic_ner.load()
    with pytest.raises(InputError, match=r"iterable of texts.*got str"):
        list(nlp.pipe("بوتين"))
    with pytest.raises(InputError, match="got NoneType"):
        list(nlp.pipe(None))  # type: ignore[call-overload]
    with pytest.raises(InputError, match="got bytes"):
        list(nlp.pipe(b"abc"))  # type: ignore[call-overload]
    for bad in (2.5, "2", True, -3):
        with pytest.raises(ConfigError, match="n_process"):
            list(nlp.pipe(["بوتين"], n_process=bad))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="batch_size"):
        list(nlp.pipe(["بوتين"], batch_size=1.5))  # type: ignore[arg-type]


def test_a_finished_multiprocess_pipe_leaves_no_thread_so_the_next_one_forks() -> None:
    # The executor's threads outliving pipe() made every later pipe(n_process=2) spawn
    # workers that each loaded the model (make bench: 1.0-1.25x instead of 1.9x).
    import threading

    nlp = arabic_ner.load()
    before = threading.active_count()
    assert list(nlp.pipe(TEXTS * 4, n_process=2)) == [nlp(t) for t in TEXTS * 4]
    assert threading.active_count() == before
