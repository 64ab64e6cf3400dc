"""Score the current code's model by 5-fold cross-validation over the training split.

The dev split (the last 10% of ANERcorp's training part) holds 969 entities, so a dev F1
moves by about ±1.3 points from noise alone. This script is how model variants were
compared (docs/model.md): the first 90% of the sentences (the shipped model's training
data) is cut into five contiguous fifths; each fold trains on four and scores the fifth
with exact span match (conlleval rules). The dev split is never used. Each fold takes
about a minute; ``--jobs 2`` runs two at a time (2.6 minutes in all here)::

    .venv/bin/python bench/crossval.py --conll ../shared/data/ner/anercorp/train.txt
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from arabic_ner.conll import read_conll, split_train_dev
from arabic_ner.model import CRFBackend
from arabic_ner.train import TrainConfig, evaluate, train_model

ROOT = Path(__file__).resolve().parents[1]
MIXES = (0.5, 1.0, 1.5, 2.0)
DEFAULT = ROOT.parent / "shared/data/ner/anercorp/train.txt"


def fold_scores(
    conll: Path,
    fold: int,
    folds: int,
    c1: float,
    c2: float,
    clusters: Path | None,
    neural: list[str] | None,
) -> dict[str, float]:
    """Train on all fifths but ``fold`` and return the micro and per-type F1 on it.

    With ``neural`` (options of scripts/train_neural.py), the BiLSTM is trained too,
    and the F1 of the CRF alone, the BiLSTM alone and their sums are added by name.
    """
    train, _ = split_train_dev(read_conll(conll))
    size = -(-len(train) // folds)
    held = train[fold * size : (fold + 1) * size]
    rest = train[: fold * size] + train[(fold + 1) * size :]
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(c1=c1, c2=c2)
        train_model(
            rest, out, gazetteer_dir=ROOT / "data" / "gazetteers", config=config, clusters=clusters
        )
        extra: dict[str, float] = {}
        if neural is not None:
            sys.path.insert(0, str(ROOT / "scripts"))
            import torch
            import train_neural

            options = train_neural.parser().parse_args(["--model", out, "--threads", "1", *neural])
            torch.set_num_threads(1)
            train_neural.fit(rest, Path(out), options)
            extra = train_neural.report(Path(out), held, MIXES)
        report = evaluate(CRFBackend(out), held)
    return {"micro": report.micro.f1, **{t.type: t.f1 for t in report.by_type}, **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--conll", type=Path, default=DEFAULT, help="ANERcorp training file")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2, help="folds trained at once")
    parser.add_argument("--c1", type=float, default=TrainConfig().c1)
    parser.add_argument("--c2", type=float, default=TrainConfig().c2)
    parser.add_argument("--clusters", type=Path, help="word cluster table (make clusters)")
    parser.add_argument(
        "--neural",
        nargs=argparse.REMAINDER,
        help="train the BiLSTM too (needs torch); options of scripts/train_neural.py follow",
    )
    args = parser.parse_args()

    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(
                fold_scores, args.conll, k, args.folds, args.c1, args.c2, args.clusters, args.neural
            )
            for k in range(args.folds)
        ]
        scores = [f.result() for f in futures]
    variants = sorted({t for s in scores for t in s if t.startswith(("crf", "net"))})
    types = sorted({t for s in scores for t in s if t != "micro" and t not in variants})
    print(f"{args.folds}-fold cross-validation over the training split of {args.conll.name}")
    print("fold  micro  " + "  ".join(f"{t:>5}" for t in types))
    for k, s in enumerate(scores):
        print(
            f"{k:>4}  {s['micro'] * 100:5.2f}  "
            + "  ".join(f"{s.get(t, 0.0) * 100:5.1f}" for t in types)
        )
    mean = {t: sum(s.get(t, 0.0) for s in scores) / len(scores) for t in ["micro", *types]}
    print(
        "mean  "
        + f"{mean['micro'] * 100:5.2f}  "
        + "  ".join(f"{mean[t] * 100:5.1f}" for t in types)
    )
    for variant in variants:
        folds = "  ".join(f"{s[variant] * 100:5.2f}" for s in scores)
        average = sum(s[variant] for s in scores) / len(scores) * 100
        print(f"{variant:>12}: mean {average:5.2f}  folds {folds}")


if __name__ == "__main__":
    main()
