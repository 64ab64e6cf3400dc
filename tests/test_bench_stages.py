"""bench/stages.py runs and times every stage of a call (it reaches into the pipeline's
internals, so a rename there must show here, not in the next speed session)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = [
    "whole call",
    "normalize",
    "tokenize",
    "sentences",
    "tag (backend)",
    "CRF emissions",
    "BiLSTM scores",
    "Viterbi",
    "marginals",
    "rules",
    "names (consistency, entities)",
    "aliases",
    "stages in sequence",
    "stages timed apart, summed",
]


def test_stages_prints_a_positive_time_for_each_stage(tmp_path: Path) -> None:
    missing = tmp_path / "none.txt"  # no corpus: the sample article's sentences
    script = ROOT / "bench" / "stages.py"
    small = ["--sentences", "2", "--number", "1", "--repeats", "1"]
    run = subprocess.run(
        [sys.executable, str(script), "--corpus", str(missing), *small],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=300,
    )
    lines = run.stdout.splitlines()
    assert "2 sentences of 25 to 30 tokens" in lines[0]
    times = {line[:32].strip(): float(line[32:]) for line in lines[2:]}
    assert list(times) == STAGES
    assert all(value > 0 for value in times.values())
