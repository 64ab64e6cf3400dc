"""Dev F1 of the CRF alone trained on growing parts of the training split.

Shows whether more training data still pays (docs/model.md, "Training on the whole
training part"): the CRF is trained on the first 60%, 70%, 80% and 90% of ANERcorp's
training part and scored on the fixed dev split (the last 10%). About a minute a point::

    .venv/bin/python bench/learning_curve.py --conll ../shared/data/ner/anercorp/train.txt
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from arabic_ner.conll import read_conll, split_train_dev
from arabic_ner.model import CRFBackend
from arabic_ner.train import evaluate, train_model

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/ner/anercorp/train.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--conll", type=Path, default=DEFAULT, help="ANERcorp training file")
    parser.add_argument("--parts", type=float, nargs="+", default=[0.6, 0.7, 0.8, 0.9])
    args = parser.parse_args()

    sentences = read_conll(args.conll)
    _, dev = split_train_dev(sentences)
    print("part  sentences  micro    " + "  ".join(("LOC", "MISC", "ORG", "PERS")))
    for part in args.parts:
        n = round(len(sentences) * part)
        if n > len(sentences) - len(dev):
            raise SystemExit(f"part {part} would reach into the dev split")
        with tempfile.TemporaryDirectory() as out:
            train_model(sentences[:n], out, gazetteer_dir=ROOT / "data" / "gazetteers")
            report = evaluate(CRFBackend(out, neural=False), dev)
        by_type = {t.type: t.f1 * 100 for t in report.by_type}
        print(
            f"{part:4.0%}  {n:9,}  {report.micro.f1 * 100:5.2f}  "
            + "  ".join(f"{by_type.get(t, 0.0):5.2f}" for t in ("LOC", "MISC", "ORG", "PERS"))
        )


if __name__ == "__main__":
    main()
