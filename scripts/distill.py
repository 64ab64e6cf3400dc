"""Silver labels for distillation: the transformer backend tags unlabeled news.

What: sentences of the unlabeled news in ``../shared/data/unlabeled/`` (one in every
``--stride`` articles, sentences of 5 to 60 tokens, up to ``--sentences``), tagged by the
CRF + BiLSTM of ``--model`` with the fine-tuned transformer ``--transformer`` added (the
backend ``"transformer"``, ``model.py``), written as CoNLL (``word TAG``) to ``--out``; and
a recipe (``--recipe-out``) that adds them, as corpus ``silver`` without a dev split, to
the gold of ``--recipe``.

Why: the fast default (CRF + BiLSTM) cannot run the transformer, but it can learn from
what the transformer says about text it never saw; the question is whether that pays
and at what size (``docs/model.md`` has the measurements).

How to use it (after ``make model-dev`` and ``make transformer``)::

    .venv/bin/python scripts/distill.py --model build/model-dev \\
        --transformer build/transformer --sentences 8000 --out build/silver/8000.conll \\
        --recipe-out build/silver/8000.json
    .venv/bin/arabic-ner train --recipe build/silver/8000.json --data-root ../shared \\
        --gazetteers data/gazetteers --clusters data/clusters/clusters.tsv \\
        --out build/exp/silver-8000

The CRF's ``meta.json`` then holds its dev F1 per corpus (silver has no dev split).
Licence: silver labels from SaudiNewsNet are CC BY-NC-SA 4.0 (as are the clusters), from
the ANT corpus Apache-2.0.
"""

from __future__ import annotations

import argparse
import json
import lzma
import time
from collections.abc import Iterator
from pathlib import Path

from arabic_ner.conll import Sentence, write_conll
from arabic_ner.model import CRFBackend
from arabic_ner.normalize import normalize
from arabic_ner.tokenize import Token, sentences, tokens_of

CORPORA = ("saudinewsnet.jsonl.xz", "antcorpus.jsonl.xz")
BATCH = 256  # sentences tagged together


def news_sentences(shared: Path, stride: int, limit: int) -> Iterator[list[Token]]:
    """Sentences of 5 to 60 tokens from every ``stride``-th article, up to ``limit``."""
    count = 0
    for name in CORPORA:
        with lzma.open(shared / "data" / "unlabeled" / name, "rt", encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                if number % stride:
                    continue
                text = json.loads(line)["text"]
                tokens = list(tokens_of(normalize(text)))
                for sentence in sentences(tokens, text):
                    if 5 <= len(sentence) <= 60:
                        yield list(sentence)
                        count += 1
                        if count >= limit:
                            return


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--model", type=Path, required=True, help="CRF + BiLSTM model folder")
    parser.add_argument("--transformer", type=Path, required=True, help="transformer folder")
    parser.add_argument("--mix", type=float, help="its weight (default: its meta.json's)")
    parser.add_argument("--shared", type=Path, default=Path("../shared"))
    parser.add_argument("--sentences", type=int, default=8000)
    parser.add_argument("--stride", type=int, default=7, help="one article in this many")
    parser.add_argument("--recipe", type=Path, default=Path("data/recipes/gold.json"))
    parser.add_argument("--out", type=Path, required=True, help="silver CoNLL file")
    parser.add_argument("--recipe-out", type=Path, help="recipe: --recipe plus the silver")
    args = parser.parse_args()

    backend = CRFBackend(
        args.model, trust=True, transformer=args.transformer, transformer_mix=args.mix
    )
    started = time.perf_counter()
    silver: list[Sentence] = []
    batch: list[list[Token]] = []
    named = tokens = 0
    for sentence in news_sentences(args.shared, args.stride, args.sentences):
        batch.append(sentence)
        if len(batch) == BATCH:
            silver += _tag(backend, batch)
            batch = []
    if batch:
        silver += _tag(backend, batch)
    for s in silver:
        tokens += len(s.tokens)
        named += sum(tag.startswith("B-") for tag in s.tags)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_conll(silver, args.out)
    seconds = time.perf_counter() - started
    print(
        f"{len(silver)} sentences, {tokens} tokens, {named} entities tagged in {seconds:.0f} s "
        f"({tokens / seconds:,.0f} tokens/s) -> {args.out}"
    )
    if args.recipe_out:
        recipe = json.loads(args.recipe.read_text("utf-8"))
        for corpus in recipe["corpora"]:  # word lists are relative to the recipe's folder
            if "not_names" in corpus:
                corpus["not_names"] = str((args.recipe.parent / corpus["not_names"]).resolve())
        recipe["corpora"].append({"name": "silver", "train": str(args.out.resolve())})
        args.recipe_out.write_text(json.dumps(recipe, indent=1) + "\n", "utf-8")
        print(f"recipe -> {args.recipe_out}")


def _tag(backend: CRFBackend, batch: list[list[Token]]) -> list[Sentence]:
    tagged = backend.tag(batch)
    return [
        Sentence(tuple(t.text for t in s), tuple(labels))
        for s, (labels, _) in zip(batch, tagged, strict=True)
    ]


if __name__ == "__main__":
    main()
