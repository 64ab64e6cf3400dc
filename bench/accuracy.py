"""Print the dev F1 per corpus and per type of a model, on the recipe's dev splits.

A model folder's ``meta.json`` records the recipe it was trained on (``corpora.py``): the
corpora, their dev splits (the last 10% of ANERcorp's and WikiFANE's training parts,
AQMAR's ``dev.txt``) and the types a corpus leaves out. This script scores each dev
split on its own corpus's terms, first sentence by sentence (the CRF alone, then the CRF
with the BiLSTM, the shipped tagger), then with names propagated within runs of
``--document-size`` sentences, as the pipeline does within one text (the CoNLL files do
not mark where articles begin). Exact span matching, conlleval's rules, gold tokens.

A model trained on its dev splits too (``--with-dev``) is refused: its dev F1 would
measure nothing. ``make evaluate`` builds ``build/model-dev`` and runs::

    .venv/bin/python bench/accuracy.py --model build/model-dev
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from arabic_ner.corpora import Corpus, read_recipe
from arabic_ner.model import Backend, CRFBackend, load_backend
from arabic_ner.tokenize import Token
from arabic_ner.train import evaluate

ROOT = Path(__file__).resolve().parents[1]


class _Memo:
    """A transformer scorer that remembers its scores of each batch of sentences."""

    def __init__(self, scorer: Any) -> None:
        self.scorer = scorer
        self.meta = scorer.meta
        self.cache: dict[tuple[tuple[str, ...], ...], list[Any]] = {}

    def log_probs(self, sentences: Sequence[Sequence[Token]]) -> list[Any]:
        key = tuple(tuple(t.text for t in s) for s in sentences)
        if key not in self.cache:
            self.cache[key] = self.scorer.log_probs(sentences)
        return self.cache[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--model",
        type=Path,
        default=ROOT / "build" / "model-dev",
        help="model folder trained without its dev splits (default: build/model-dev)",
    )
    parser.add_argument(
        "--document-size",
        type=int,
        default=20,
        help="also score with names propagated within runs of N sentences (default: 20)",
    )
    parser.add_argument(
        "--recipe",
        type=Path,
        help="score the dev splits of this recipe instead of the model's own (paths "
        "relative to --data-root): how a model does on corpora it was not trained on",
    )
    parser.add_argument("--data-root", type=Path, default=ROOT.parent / "shared")
    parser.add_argument(
        "--neural-only",
        action="store_true",
        help="score the shipped tagger only (the CRF with the BiLSTM), not the CRF alone",
    )
    parser.add_argument(
        "--transformer",
        type=Path,
        help="also score backend 'transformer': the model with this fine-tuned transformer "
        "folder's log-probabilities added (scripts/train_transformer.py's output)",
    )
    parser.add_argument(
        "--mix",
        default="",
        help="with --transformer: comma-separated weights of its scores to try "
        "(default: the weight in its meta.json)",
    )
    parser.add_argument(
        "--outside-bias",
        default="",
        help="comma-separated biases against O to try with the CRF + BiLSTM and each "
        "transformer weight (default: the one in the model's meta.json)",
    )
    parser.add_argument("--json", type=Path, help="also write the scores to this JSON file")
    args = parser.parse_args()

    if not (args.model / "meta.json").is_file():
        sys.exit(f"no model in {args.model}: build it with 'make model-dev', or pass --model")
    meta = json.loads((args.model / "meta.json").read_text("utf-8"))
    recipe = meta.get("recipe") or {}
    corpora = [
        Corpus.from_dict(entry, Path("."), f"{args.model}/meta.json")
        for entry in recipe.get("corpora", [])
    ]
    trained_on = {c.train.resolve() for c in corpora}
    if args.recipe:
        corpora = read_recipe(args.recipe, args.data_root)
    # Trained on its dev splits (or without any): nothing left that its dev F1 measures.
    saw_dev = recipe.get("with_dev") or not any(c.dev or c.dev_fraction for c in corpora)
    if not recipe.get("corpora") or (saw_dev and trained_on & {c.train.resolve() for c in corpora}):
        sys.exit(
            f"{args.model} was trained on its dev splits too (or has none), so its "
            "dev F1 would measure nothing: score the same recipe trained without them "
            "('make model-dev', then --model build/model-dev)"
        )
    names = ("crf",) if args.neural_only else ("crf-only", "crf")
    # Build folders of this project's own: trusted without a manifest.
    backends: list[Backend] = [load_backend(name, args.model, trust=True) for name in names]
    labels = {backend.name: backend.name for backend in backends}
    if args.transformer:
        shared: _Memo | None = None
        for mix in [float(w) for w in args.mix.split(",") if w] or [None]:
            backend = CRFBackend(
                args.model, trust=True, transformer=args.transformer, transformer_mix=mix
            )
            # One transformer run per sentence for all the weights tried.
            shared = shared or _Memo(backend.transformer)
            backend.transformer = shared
            labels[f"{id(backend)}"] = f"transformer@{backend.transformer_mix:g}"
            backends.append(backend)
    biases = [float(b) for b in args.outside_bias.split(",") if b]
    # (backend, the bias it decodes with, its name in the tables)
    variants: list[tuple[Backend, float | None, str]] = []
    for backend in backends:
        name = labels.get(f"{id(backend)}", backend.name)
        if biases and isinstance(backend, CRFBackend) and backend.name != "crf-only":
            variants += [(backend, bias, f"{name}-o{bias:g}") for bias in biases]
        else:
            variants.append((backend, None, name))
    results: dict[str, dict[str, object]] = {}
    for corpus in corpora:
        dev = corpus.dev_gold()
        left_out = sorted(k for k, v in corpus.relabel.items() if v == "O")
        note = f", not scored: {', '.join(left_out)}" if left_out else ""
        print(f"\n=== {corpus.name} dev: {len(dev)} sentences{note}")
        for backend, bias, name in variants:
            if bias is not None:
                cast(CRFBackend, backend).outside_bias = bias
            started = time.perf_counter()
            report = evaluate(backend, dev, view=corpus.score_view)
            seconds = time.perf_counter() - started
            print(f"\n{backend!r} ({name}):")
            print(report.format())
            print(f"tagging took {seconds:.2f} s ({report.tokens / seconds:,.0f} tokens/s)")
            results[f"{corpus.name}/{name}"] = report.to_dict()
        if args.document_size:
            last, bias, name = variants[-1]
            documents = evaluate(
                last, dev, document_size=args.document_size, view=corpus.score_view
            )
            print(f"\nwith document consistency, documents of {args.document_size} sentences:")
            print(documents.format())
            results[f"{corpus.name}/{name}+documents"] = documents.to_dict()
    print("\nmicro F1 per dev split:")
    for name in dict.fromkeys(key.split("/", 1)[1] for key in results):
        row = [
            f"{c.name} {results[f'{c.name}/{name}']['micro']['f1'] * 100:.2f}"  # type: ignore[index]
            for c in corpora
            if f"{c.name}/{name}" in results
        ]
        print(f"  {name:<24} " + "  ".join(row))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
