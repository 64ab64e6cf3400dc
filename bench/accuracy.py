"""Print the dev F1 per type of a model, on the project's fixed dev split.

The dev split is the last 10% of the sentences of ANERcorp's training part
(``arabic_ner.conll.split_train_dev``). The shipped model was trained on all of it, dev
split included, so its dev F1 would measure nothing: this script scores the same recipe
trained on the other 90% (``make model-dev`` writes it to ``build/model-dev``; ``make
evaluate`` builds it if needed and runs this), and refuses a model that saw the dev
split. Scores use exact span matching with conlleval's rules, on the gold tokenization, first
sentence by sentence (the CRF alone, then the CRF with the BiLSTM, the shipped tagger),
then with names propagated within runs of ``--document-size`` sentences, as the pipeline
does within one text (ANERcorp does not mark where its articles begin)::

    .venv/bin/python bench/accuracy.py --conll ../shared/data/ner/anercorp/train.txt \
        --model build/model-dev
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from arabic_ner.conll import read_conll, split_train_dev
from arabic_ner.model import load_backend
from arabic_ner.train import evaluate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared/data/ner/anercorp/train.txt"


def saw_dev(model: Path, conll: Path, n_train: int) -> bool:
    """Whether ``model`` was trained on more of ``conll`` than its first ``n_train`` sentences."""
    meta = json.loads((model / "meta.json").read_text("utf-8"))
    source = meta.get("sources", {}).get("train", {})
    same_file = source.get("sha256") == hashlib.sha256(conll.read_bytes()).hexdigest()
    return same_file and meta.get("train_sentences", 0) > n_train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conll", type=Path, default=DEFAULT, help="ANERcorp training file")
    parser.add_argument(
        "--model",
        type=Path,
        default=ROOT / "build" / "model-dev",
        help="model folder trained without the dev split (default: build/model-dev)",
    )
    parser.add_argument("--dev-fraction", type=float, default=0.1)
    parser.add_argument(
        "--document-size",
        type=int,
        default=20,
        help="also score with names propagated within runs of N sentences (default: 20)",
    )
    args = parser.parse_args()

    train, dev = split_train_dev(read_conll(args.conll), args.dev_fraction)
    if not (args.model / "meta.json").is_file():
        sys.exit(f"no model in {args.model}: build it with 'make model-dev', or pass --model")
    if saw_dev(args.model, args.conll, len(train)):
        sys.exit(
            f"{args.model} was trained on the dev split too, so its dev F1 would measure "
            "nothing: score the same recipe trained without it ('make model-dev', then "
            "--model build/model-dev)"
        )
    print(f"dev: last {args.dev_fraction:.0%} of {args.conll.name}: {len(dev)} sentences")
    for name in ("crf-only", "crf"):
        backend = load_backend(name, args.model)
        started = time.perf_counter()
        report = evaluate(backend, dev)
        seconds = time.perf_counter() - started
        print(f"\n{backend!r}:")
        print(report.format())
        speed = report.tokens / seconds
        print(f"tagging the dev split took {seconds:.2f} s ({speed:,.0f} tokens/s)")
    if args.document_size:
        documents = evaluate(backend, dev, document_size=args.document_size)
        print(
            f"\nwith document consistency, documents of {args.document_size} sentences "
            "(as the pipeline does within a text):"
        )
        print(documents.format())


if __name__ == "__main__":
    main()
