"""Where one call per sentence spends its time: microseconds per stage of the pipeline.

``bench/speed.py`` times whole calls; this script times each stage of one call on its own,
warm (the feature caches hold the sentences' words), for ``--sentences`` (20) sentences
of 25 to 30 tokens of ``--corpus`` (ANERcorp's training file in ../shared, words joined
by spaces; the sample article's own sentences when there is no corpus). For each stage
it takes the fastest of ``--repeats`` (7) runs of ``--number`` (200) calls per sentence,
and prints the median over the sentences, so that a busy machine moves the figures less.

The stages are those of ``Pipeline.__call__``: normalizing, tokenizing, splitting into
sentences, the backend's tagging (within it the CRF's emissions, the BiLSTM's scores and
the CRF's Viterbi and marginals), the rules, the names (consistency and entity building)
and the alias table. Timed apart, each stage finds its data in the CPU's caches; the
same stages run one after another (``stages in sequence``, close to the whole call) take
longer, and the difference is what they cost each other. Run it with
``.venv/bin/python bench/stages.py``; it takes about a minute.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np
from speed import CORPUS, SAMPLE, cpu_description, short_sentences  # bench/speed.py


def stages(nlp: object, text: str) -> dict[str, Callable[[], object]]:
    """The stages of ``nlp(text)``, each a call that reruns it on this text's input."""
    from arabic_ner.aliases import resolve
    from arabic_ner.model import _NORM_AND_KIND
    from arabic_ner.normalize import normalize
    from arabic_ner.pipeline import Pipeline, _Piece
    from arabic_ner.rules import rule_entities
    from arabic_ner.tokenize import sentences, tokens_of

    assert isinstance(nlp, Pipeline)
    backend = nlp.backend
    normalized = normalize(text, nlp.normalize_config)
    tokens = list(tokens_of(normalized))
    split = list(sentences(tokens, text))
    tagged = backend.tag(split)
    rules = rule_entities(normalized, tokens, offset=0)
    piece = _Piece(0, 0, normalized, split)
    names = nlp._names_of(piece, tagged, rules)
    out: dict[str, Callable[[], object]] = {
        "whole call": lambda: nlp(text),
        "normalize": lambda: normalize(text, nlp.normalize_config),
        "tokenize": lambda: list(tokens_of(normalized)),
        "sentences": lambda: list(sentences(tokens, text)),
        "tag (backend)": lambda: backend.tag(split),
    }
    crf = getattr(backend, "crf", None)
    if crf is not None:  # the default backend: its parts
        keys = [list(map(_NORM_AND_KIND, s)) for s in split]
        features, neural, decoder = backend.features, backend.neural, backend.decoder
        emissions = features.emissions_many(keys, crf)
        lengths = np.array([len(s) for s in split], dtype=np.intp)
        starts = np.zeros(len(lengths), dtype=np.intp)
        np.cumsum(lengths[:-1], out=starts[1:])
        out["  CRF emissions"] = lambda: features.emissions_many(keys, crf)
        if neural is not None:
            out["  BiLSTM scores"] = lambda: neural.scores_flat(keys, features)
        out["  Viterbi"] = lambda: decoder.viterbi_flat(emissions, starts, lengths)
        out["  marginals"] = lambda: decoder.marginals_flat(emissions, starts, lengths)
    out["rules"] = lambda: rule_entities(normalized, tokens, offset=0)
    out["names (consistency, entities)"] = lambda: nlp._names_of(piece, tagged, rules)
    out["aliases"] = lambda: resolve(names, nlp.aliases)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: shipped)")
    parser.add_argument("--backend", default="crf", help="backend name (default: crf)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="CoNLL file of sentences")
    parser.add_argument("--sentences", type=int, default=20, help="sentences timed (20)")
    parser.add_argument("--number", type=int, default=200, help="calls per run (200)")
    parser.add_argument("--repeats", type=int, default=7, help="runs per stage (7)")
    args = parser.parse_args()

    import arabic_ner

    nlp = arabic_ner.load(args.model, backend=args.backend)
    texts = short_sentences(args.corpus, SAMPLE.read_text(encoding="utf-8"))[: args.sentences]
    if not texts:
        sys.exit(f"no sentence of 25 to 30 tokens in {args.corpus} or {SAMPLE}")
    for text in texts:  # warm: the caches hold every sentence's words
        nlp(text)
    timings: dict[str, list[float]] = {}
    for text in texts:
        runs = stages(nlp, text)
        # The stages one after another, as a call runs them (minus its lock and the like):
        # each evicts some of the others' data from the CPU's caches, which the stages
        # timed apart do not see.
        top = [name for name in runs if name[0] != " " and name != "whole call"]
        parts = [runs[name] for name in top]
        runs["stages in sequence"] = lambda parts=parts: [run() for run in parts]
        for name, run in runs.items():
            best = min(timeit.repeat(run, number=args.number, repeat=args.repeats))
            timings.setdefault(name, []).append(best / args.number * 1e6)
    print(f"{cpu_description()}; {len(texts)} sentences of 25 to 30 tokens, {args.backend!r}")
    print("median over the sentences of the fastest run, microseconds per call:")
    for name, values in timings.items():
        print(f"{name:32s} {statistics.median(values):8.1f}")
    apart = sum(statistics.median(timings[name]) for name in top)
    print(f"{'stages timed apart, summed':32s} {apart:8.1f}")


if __name__ == "__main__":
    main()
