"""The arabic-ner command: extract, train, evaluate, and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from arabic_ner.cli import main
from arabic_ner.conll import Sentence, read_conll, write_conll

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "palmyra_news_ar.txt"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "arabic_ner.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
    )


def test_extract_table_lists_the_sample_entities() -> None:
    out = run("extract", str(SAMPLE))
    assert out.returncode == 0, out.stderr
    assert "فلاديمير بوتين" in out.stdout and "PERS" in out.stdout
    assert out.stdout.splitlines()[1].split() == ["type", "start", "end", "score", "text"]


def test_extract_jsonl_round_trips_offsets(sample_text: str) -> None:
    out = run("extract", "--format", "jsonl", str(SAMPLE), "-", stdin="وصل بوتين الى موسكو")
    assert out.returncode == 0, out.stderr
    first, second = (json.loads(line) for line in out.stdout.splitlines())
    assert first["source"] == str(SAMPLE)
    for e in first["entities"]:
        assert sample_text[e["start"] : e["end"]] == e["text"]
    assert second["source"] == "<stdin>"
    assert {(e["type"], e["text"]) for e in second["entities"]} >= {("LOC", "موسكو")}


def test_extract_types_option_filters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["extract", "--format", "jsonl", "--types", "LOC", str(SAMPLE)]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["entities"] and {e["type"] for e in record["entities"]} == {"LOC"}


def test_extract_missing_file_warns_on_stderr_and_writes_an_error_record(tmp_path: Path) -> None:
    out = run("extract", str(tmp_path / "missing.txt"))
    assert out.returncode == 1
    assert "missing.txt" in out.stderr
    assert out.stdout.startswith("# ") and "missing.txt: error: cannot read" in out.stdout


def test_extract_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\xfa")
    out = run("extract", str(bad))
    assert out.returncode == 1 and "bad.txt" in out.stderr and "UTF-8" in out.stderr


def test_help_works_for_every_command() -> None:
    for command in ("extract", "train", "evaluate", "manifest", "serve"):
        out = run(command, "--help")
        assert out.returncode == 0 and "usage: arabic-ner" in out.stdout


def test_wrong_command_line_exits_2() -> None:
    out = run("extract")
    assert out.returncode == 2 and "error" in out.stderr


def _small_corpus(anercorp: Path, tmp_path: Path) -> tuple[Path, Path, list[Sentence]]:
    sentences = read_conll(anercorp)
    train, dev = tmp_path / "train.txt", tmp_path / "dev.txt"
    write_conll(sentences[:300], train)
    write_conll(sentences[300:360], dev)
    return train, dev, sentences[300:360]


def test_train_is_deterministic_and_evaluate_prints_scores(anercorp: Path, tmp_path: Path) -> None:
    train, dev, dev_sentences = _small_corpus(anercorp, tmp_path)
    gazetteers = str(ROOT / "data" / "gazetteers")
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = run(
            "train",
            "--train",
            str(train),
            "--dev",
            str(dev),
            "--out",
            str(out),
            "--gazetteers",
            gazetteers,
            "--max-iterations",
            "20",
        )
        assert result.returncode == 0, result.stderr
        assert "micro" in result.stdout
        outputs.append(out)
    for file in ("model.crfsuite", "lexicon.tsv", "gazetteer.tsv", "meta.json"):
        assert (outputs[0] / file).read_bytes() == (outputs[1] / file).read_bytes(), file
    meta = json.loads((outputs[0] / "meta.json").read_text("utf-8"))
    dev_tokens = sum(len(s.tokens) for s in dev_sentences)
    assert meta["train_sentences"] == 300 and meta["dev"]["train"]["tokens"] == dev_tokens

    result = run("evaluate", str(dev), "--model", str(outputs[0]), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["micro"]["f1"] == pytest.approx(meta["dev"]["train"]["micro"]["f1"])
    assert set(report["by_type"]) <= {"PERS", "LOC", "ORG", "MISC"}


def test_dev_score_refuses_a_model_trained_on_the_dev_split(anercorp: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    write_conll(read_conll(anercorp)[:200], corpus)
    gazetteers = str(ROOT / "data" / "gazetteers")
    models = {}
    for with_dev in (True, False):
        out = models[with_dev] = tmp_path / f"model-{with_dev}"
        result = run(
            "train",
            "--train",
            str(corpus),
            *(["--with-dev"] if with_dev else []),
            "--out",
            str(out),
            "--gazetteers",
            gazetteers,
            "--max-iterations",
            "10",
        )
        assert result.returncode == 0, result.stderr
    bench = [sys.executable, str(ROOT / "bench" / "accuracy.py")]
    for with_dev, refused in ((True, True), (False, False)):
        result = subprocess.run(
            [*bench, "--model", str(models[with_dev]), "--document-size", "0"],
            capture_output=True,
            text=True,
            encoding="utf-8",
        )
        assert (result.returncode != 0) is refused, result.stderr
        assert ("trained on its dev splits too" in result.stderr) is refused
        assert ("micro" in result.stdout) is not refused


def test_train_without_gazetteer_folder_explains(anercorp: Path, tmp_path: Path) -> None:
    train, _dev, _ = _small_corpus(anercorp, tmp_path)
    result = run(
        "train",
        "--train",
        str(train),
        "--out",
        str(tmp_path / "m"),
        "--gazetteers",
        str(tmp_path / "nowhere"),
    )
    assert result.returncode == 1 and "--gazetteers" in result.stderr


def test_evaluate_malformed_conll_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conll"
    bad.write_text("بيروت B-LOC\noneColumn\n", encoding="utf-8")
    result = run("evaluate", str(bad))
    assert result.returncode == 1 and "bad.conll:2" in result.stderr
