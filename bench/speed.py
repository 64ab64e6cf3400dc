"""Measure end-to-end speed, model load time and peak memory of arabic-ner.

Prints, for one process on this machine:

- model load time (first ``load()`` of the shipped model, cold import included);
- tokens/s of tokenization alone (normalize + tokenize, with offsets): the ceiling;
- tokens/s end to end (``nlp(text)``, warm), and its ratio to the ceiling;
- peak resident memory (RSS) of the process;
- with ``--corpus`` (default: ANERcorp's training file in ../shared, if present), tokens/s
  on that text, one sentence per line, with a fresh model: every word is new to the
  feature cache at first, unlike in the repeated article, so this is the honest figure
  for varied text.

The input is the sample article repeated to about ``--size`` bytes (1 MB by default),
processed as one document per copy of the article. Run it with the project's venv::

    .venv/bin/python bench/speed.py            # or: make bench
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "palmyra_news_ar.txt"
CORPUS = ROOT.parent / "shared" / "data" / "ner" / "anercorp" / "train.txt"


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def best_of(repeats: int, run: object) -> float:
    """Return the fastest of ``repeats`` timings of ``run()`` in seconds."""
    assert callable(run)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes of input (~1 MB)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="CoNLL file for varied text")
    args = parser.parse_args()

    started = time.perf_counter()
    import arabic_ner
    from arabic_ner.tokenize import tokenize

    nlp = arabic_ner.load()
    nlp("تحميل")  # the first call finishes any lazy set-up
    load_seconds = time.perf_counter() - started

    article = SAMPLE.read_text(encoding="utf-8")
    copies = max(1, args.size // len(article.encode("utf-8")))
    docs = [article] * copies
    n_bytes = copies * len(article.encode("utf-8"))
    n_tokens = copies * len(tokenize(article))

    tokenize_s = best_of(args.repeats, lambda: [tokenize(d) for d in docs])
    nlp(article)  # warm the feature cache as a long run would
    pipeline_s = best_of(args.repeats, lambda: [nlp(d) for d in docs])
    entities = sum(len(e) for e in nlp.pipe(docs[:10]))

    print(f"machine: {platform.machine()}, Python {platform.python_version()}, 1 process")
    print(f"input: sample article x {copies} = {n_bytes / 1e6:.2f} MB, {n_tokens:,} tokens")
    print(f"model load (import + first call): {load_seconds:.2f} s")
    print(f"tokenize only (ceiling): {n_tokens / tokenize_s:,.0f} tokens/s")
    print(
        f"end to end: {n_tokens / pipeline_s:,.0f} tokens/s ({n_bytes / 1e6 / pipeline_s:.2f} MB/s)"
    )
    print(f"pipeline / ceiling: {tokenize_s / pipeline_s:.2f}")
    print(f"entities per article: {entities / 10:.0f}")
    if args.corpus.is_file():
        from arabic_ner.conll import read_conll
        from arabic_ner.model import load_backend
        from arabic_ner.pipeline import Pipeline

        lines = [" ".join(s.tokens) for s in read_conll(args.corpus)]
        text = "\n".join(lines)
        corpus_tokens = len(tokenize(text))
        for label, run in (
            ("one call per line", lambda nlp: [nlp(line) for line in lines]),
            ("pipe, batch_size=256", lambda nlp: list(nlp.pipe(lines, batch_size=256))),
        ):
            fresh = Pipeline(load_backend())  # an empty feature cache: every word is new
            cold_s = best_of(1, lambda fresh=fresh, run=run: run(fresh))
            warm_s = best_of(1, lambda fresh=fresh, run=run: run(fresh))
            print(
                f"varied text ({args.corpus.name}, {corpus_tokens:,} tokens), {label}: "
                f"{corpus_tokens / cold_s:,.0f} tokens/s first pass (cold cache), "
                f"{corpus_tokens / warm_s:,.0f} tokens/s second pass"
            )
    print(f"peak RSS: {peak_rss_mb():.0f} MiB")


if __name__ == "__main__":
    main()
