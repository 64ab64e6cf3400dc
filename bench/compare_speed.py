"""Run ``bench/speed.py`` for this tree and for earlier commits, and print them side by side.

A change to the default model or to the tagging code must not make it slower than what
it replaces, and timings on a shared machine drift from minute to minute: so all are
measured in the same run, alternating, each in its own process. Each earlier commit is
checked out with ``git worktree`` under ``build/`` (its code and its shipped model) and
measured by this tree's ``bench/speed.py`` (so all get the same figures, measured the same
way; it uses only what every package has), with the same interpreter and the same input
(other options go to every speed.py run). A commit with compiled loops gets its own, built
in its checkout by ``pip wheel`` (the first time: a minute); without them, this tree's
editable install would hand it this tree's ``arabic_ner._kernels``, so each run's
``compiled loops:`` line is checked. ``--baseline`` names them (default: the commits
in ``bench/BASELINE``: the default before it learned from all the gold, and the last
commit before the compiled loops); ``--numpy-loops`` adds this tree with its compiled
loops off, what an install without a C compiler runs. With ``--runs 3`` or more it also
prints each figure's median. ``make bench`` runs this::

    .venv/bin/python bench/compare_speed.py --runs 2 --numpy-loops
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

from speed import cpu_description  # bench/speed.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
# What each figure is called, and the line of speed.py's output it is read from.
FIGURES = {
    "model load, s": r"model load \(import \+ first call\): ([\d.]+) s",
    "ceiling, tokens/s": r"ceiling, normalize \+ tokenize only: ([\d,]+) tokens/s",
    "nlp(text) per article, tokens/s": r"nlp\(text\) per article: ([\d,]+) tokens/s",
    "nlp.pipe, tokens/s": r"nlp\.pipe\(batch_size=64\): ([\d,]+) tokens/s",
    "nlp.pipe / ceiling": r"pipeline / ceiling: ([\d.]+)",
    "per paragraph, tokens/s": r"per paragraph: ([\d,]+) tokens/s",
    "per paragraph / ceiling": r"per paragraph: [\d,]+ tokens/s, ([\d.]+) of the ceiling",
    "per paragraph / nlp.pipe": r"per paragraph / nlp\.pipe: ([\d.]+)",
    "per paragraph, median ms": r"per paragraph: .*latency median ([\d.]+) ms",
    "per paragraph, p99 ms": r"per paragraph: .*p99 ([\d.]+) ms",
    "per sentence, tokens/s": r"per sentence of 25-30 tokens: ([\d,]+) tokens/s",
    "per sentence / ceiling": r"per sentence of 25-30 tokens: [\d,]+ tokens/s, ([\d.]+) of",
    "per sentence, median ms": r"per sentence of .*latency median ([\d.]+) ms",
    "per sentence, p99 ms": r"per sentence of .*p99 ([\d.]+) ms",
    "2 processes, speed-up": r"speed-up ([\d.]+)x",
    "2 forked halves, speed-up": r"nothing sent back: speed-up ([\d.]+)x",
    "varied text first pass, tokens/s": r"first pass ([\d,]+) tokens/s",
    "varied text second pass, tokens/s": r"second pass ([\d,]+) tokens/s",
    "peak RSS, this process, MiB": r"this process (\d+) MiB",
    "peak RSS, largest worker, MiB": r"largest worker (\d+) MiB",
}


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def checkout(ref: str) -> Path:
    """Check ``ref`` out under ``build/`` (once) and return the folder."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tree = ROOT / "build" / f"baseline-{commit[:12]}"
    if not (tree / "bench" / "speed.py").is_file():
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, check=True)
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), commit],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return tree


def build_kernels(tree: Path) -> None:
    """Build the compiled loops of the checkout ``tree`` in place, if it has them.

    The editable install of this tree finds ``arabic_ner._kernels`` for any ``arabic_ner``
    package that lacks its own, so an unbuilt checkout would run this tree's loops (or,
    where their arguments changed, fail). ``pip wheel`` builds the extension with the
    checkout's own build requirements; its module is taken out of the wheel.
    """
    tree = tree.resolve()
    package = tree / "arabic_ner"
    if not (package / "_kernels.pyx").is_file() or any(package.glob("_kernels.*.so")):
        return
    wheels = tree / "build" / "wheels"
    print(f"building the compiled loops of {tree}", file=sys.stderr, flush=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), "."],
        cwd=tree,
        check=True,
    )
    for wheel in wheels.glob("arabic_ner-*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            for name in archive.namelist():
                if name.startswith("arabic_ner/_kernels.") and name.endswith(".so"):
                    (package / Path(name).name).write_bytes(archive.read(name))
    if not any(package.glob("_kernels.*.so")):
        sys.exit(f"pip built no compiled loops for {tree}: a C compiler is needed")


def run_speed(tree: Path, extra: list[str], env_extra: dict[str, str]) -> dict[str, float]:
    """Run this tree's speed.py with ``tree``'s package first on the path; read its figures."""
    env = {**os.environ, "PYTHONPATH": str(tree), **env_extra}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "speed.py"), *extra],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    if done.returncode != 0:
        sys.exit(f"bench/speed.py failed on {tree}:\n{done.stderr}")
    if str(tree) not in done.stdout:
        sys.exit(f"bench/speed.py on {tree} ran another tree's model:\n{done.stdout}")
    loops = re.search(r"compiled loops: (.*)", done.stdout)
    if loops and not loops.group(1).startswith(("none", str(tree))):
        sys.exit(f"bench/speed.py on {tree} ran another tree's compiled loops: {loops.group(1)}")
    figures = {}
    for name, pattern in FIGURES.items():
        match = re.search(pattern, done.stdout)
        if match:
            figures[name] = float(match.group(1).replace(",", ""))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--baseline",
        action="append",
        help="git commit to compare with; give it again to compare with several (default: "
        "the commits in bench/BASELINE, one per line)",
    )
    parser.add_argument("--runs", type=int, default=1, help="alternating runs of each")
    parser.add_argument(
        "--numpy-loops",
        action="store_true",
        help="also measure this tree with its compiled loops off (what a build without a "
        "C compiler gets; arabic_ner/kernels.py)",
    )
    args, extra = parser.parse_known_args()
    if "--corpus" not in extra:  # the checkout under build/ has no ../shared beside it
        extra += ["--corpus", str(ROOT.parent / "shared/data/ner/anercorp/train.txt")]

    baselines = args.baseline or [
        line.split()[0]
        for line in (ROOT / "bench" / "BASELINE").read_text("utf-8").splitlines()
        if line.strip()
    ]
    trees: dict[str, tuple[Path, dict[str, str]]] = {ref: (checkout(ref), {}) for ref in baselines}
    for tree, _ in trees.values():
        build_kernels(tree)
    trees["this tree"] = (ROOT, {})
    if args.numpy_loops:
        trees["numpy loops"] = (ROOT, {"ARABIC_NER_NO_KERNELS": "1"})
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for run in range(args.runs):
        for name, (tree, env) in trees.items():
            print(f"run {run + 1}: {name} ({tree})", file=sys.stderr, flush=True)
            results[name].append(run_speed(tree, extra, env))
    print(f"cpu: {cpu_description()}")
    print(f"baselines: {', '.join(baselines)}; {args.runs} run(s) each, alternating; ranges")
    print(f"{'figure':<36}" + "".join(f"{name:>22}" for name in trees))
    for figure in FIGURES:
        cells = []
        for name in trees:
            values = [r[figure] for r in results[name] if figure in r]
            low, high = (min(values), max(values)) if values else (0.0, 0.0)
            low_cell, high_cell = _number(low), _number(high)
            cells.append(low_cell if low_cell == high_cell else f"{low_cell}-{high_cell}")
        print(f"{figure:<36}" + "".join(f"{cell:>22}" for cell in cells))
    if args.runs >= 3:
        # On a noisy machine one slow run widens a range; the median of three or more
        # alternating runs moves less.
        print(f"\nmedians of the {args.runs} runs")
        for figure in FIGURES:
            medians = [
                statistics.median([r[figure] for r in results[name] if figure in r] or [0.0])
                for name in trees
            ]
            print(f"{figure:<36}" + "".join(f"{_number(m):>22}" for m in medians))


if __name__ == "__main__":
    main()
