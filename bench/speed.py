"""Measure the speed and memory of arabic-ner, all on this machine in one run.

Prints:

- model load time (import + first call, one process);
- the ceiling: tokens/s of normalize + tokenize alone (with offsets);
- end-to-end tokens/s, one process: ``nlp(text)`` per article, and ``nlp.pipe`` in
  batches, on the sample article repeated to about ``--size`` bytes (1 MB), after one
  warm-up pass; and the ratio pipeline / ceiling;
- one call per paragraph: ``nlp(paragraph)`` for each line of the sample article, on the
  same input, and one call per sentence: ``nlp(sentence)`` for the sentences of 25 to 30
  tokens of ``--corpus`` (their words joined by spaces; the sample article's when there
  is no corpus), after one warm-up pass: tokens/s, its ratio to the ceiling, and the
  median and 99th percentile of the time of one call, in ms, over all timed calls; for
  paragraphs also tokens/s as a share of ``nlp.pipe``'s;
- ``nlp.pipe(..., n_process=2)``: tokens/s and speed-up over one process; and the
  speed-up of two forked processes that each pipe half of the texts with nothing sent
  back, what two workers could reach on this machine;
- on varied text (``--corpus``, default: ANERcorp's training file in ../shared, one
  sentence per line), tokens/s of a fresh pipeline's first pass, when every word is new
  to the feature cache, and of its second pass;
- peak resident memory (RSS) of this process and of the largest worker process;
- and, first, the CPU, the backend and the file the compiled loops were loaded from.

Run it with the project's venv: ``make bench`` or ``.venv/bin/python bench/speed.py``;
``--backend crf-only`` measures the CRF without the BiLSTM.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "palmyra_news_ar.txt"
CORPUS = ROOT.parent / "shared" / "data" / "ner" / "anercorp" / "train.txt"


def short_sentences(corpus: Path, article: str) -> list[str]:
    """Texts of 25 to 30 tokens, the length of the per-sentence figures.

    The sentences of ``corpus`` (a CoNLL file, words joined by spaces) if it is a file,
    else those of ``article``.
    """
    from arabic_ner.tokenize import sentences, tokenize

    if corpus.is_file():
        from arabic_ner.conll import read_conll

        texts = [" ".join(s.tokens) for s in read_conll(corpus)]
    else:
        texts = [article[s[0].start : s[-1].end] for s in sentences(tokenize(article), article)]
    return [t for t in texts if 25 <= len(tokenize(t)) <= 30]


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident set size in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(who).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


# The vector extensions that decide which of the compiled LSTM's versions runs (AVX-512 or
# AVX2, arabic_ner/_lstm.h) and whether bf16 training is fast: this project's machine has
# been, from one session to the next, a CPU with AVX512-BF16, an AVX-512 Xeon without it
# and an AVX2-only EPYC, with figures that differ by 2x and more.
CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")


def cpu_description(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    r"""The CPU's model name and which of :data:`CPU_FLAGS` it has (Linux; else the platform).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     info = Path(folder, "cpuinfo")
    ...     _ = info.write_text("model name\t: Xeon\nflags\t\t: fpu avx2 fma avx512f\n")
    ...     cpu_description(info)
    'Xeon; avx2 avx512f'
    """
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine()
    # The first processor's block: every core of one machine lists the same model and flags.
    block = text.split("\n\n", 1)[0]
    fields = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in block.splitlines())
    )
    flags = set(fields.get("flags", "").split())
    have = " ".join(flag for flag in CPU_FLAGS if flag in flags)
    model = fields.get("model name", platform.machine())
    return f"{model}; {have}" if have else model


def compiled_loops() -> str:
    """The file the compiled loops were loaded from, or why none run."""
    import arabic_ner

    # A commit from before them (bench/compare_speed.py runs those too) has no kernels.py;
    # an editable install of another tree would still hand it that tree's.
    if not (Path(arabic_ner.__file__).parent / "kernels.py").is_file():
        return "none (before arabic_ner/kernels.py)"
    from arabic_ner import kernels

    module = kernels.module()
    return str(module.__file__) if module is not None else "none (numpy loops)"


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Return the fastest of ``repeats`` timings of ``run()`` in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def per_call(
    repeats: int, call: Callable[[str], object], texts: list[str]
) -> tuple[float, list[float]]:
    """Call ``call(text)`` for each of ``texts``, ``repeats`` times over.

    Return the fastest pass in seconds and the time of every call of every pass.
    """
    passes, calls = [], []
    clock = time.perf_counter
    for _ in range(repeats):
        pass_started = clock()
        for text in texts:
            started = clock()
            call(text)
            calls.append(clock() - started)
        passes.append(clock() - pass_started)
    return min(passes), calls


def forked_halves(nlp: Callable[..., object], texts: list[str]) -> float | None:
    """Seconds for two forked copies of this process to ``nlp.pipe`` half of ``texts`` each.

    What two workers could reach on this machine: the same work as
    ``nlp.pipe(texts, n_process=2)`` with nothing sent to them or back, so the gap to it
    is pipe's own cost, and the gap from 2x is the machine's (two processes sharing its
    memory and last-level cache). None where there is no fork.
    """
    if not hasattr(os, "fork"):
        return None
    started = time.perf_counter()
    children = []
    for half in (texts[: len(texts) // 2], texts[len(texts) // 2 :]):
        child = os.fork()
        if child == 0:
            code = 1
            try:
                list(nlp.pipe(half, batch_size=64))  # type: ignore[attr-defined]
                code = 0
            finally:
                os._exit(code)
        children.append(child)
    for child in children:
        if os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) != 0:
            raise RuntimeError("a forked process failed to tag its half of the texts")
    return time.perf_counter() - started


def latency(calls: list[float]) -> str:
    """The median and 99th percentile of call times (seconds), in ms."""
    p99 = statistics.quantiles(calls, n=100)[98]
    return f"latency median {statistics.median(calls) * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="bytes of input (~1 MB)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="CoNLL file for varied text")
    parser.add_argument("--processes", type=int, default=2, help="workers for the pipe test")
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument(
        "--backend", default="crf", help="tagger: crf (the shipped CRF + BiLSTM) or crf-only"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    import arabic_ner
    from arabic_ner.model import load_backend
    from arabic_ner.pipeline import Pipeline
    from arabic_ner.tokenize import tokenize

    nlp = arabic_ner.load(args.model, backend=args.backend)
    nlp("تحميل")
    load_seconds = time.perf_counter() - started

    article = SAMPLE.read_text(encoding="utf-8")
    copies = max(1, args.size // len(article.encode("utf-8")))
    docs = [article] * copies
    n_bytes = copies * len(article.encode("utf-8"))
    n_tokens = copies * len(tokenize(article))

    def rate(seconds: float, tokens: int = n_tokens) -> str:
        return f"{tokens / seconds:,.0f} tokens/s"

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"cpu: {cpu_description()}")
    print(f"backend: {nlp.backend!r}")
    print(f"compiled loops: {compiled_loops()}")
    print(f"input: sample article x {copies} = {n_bytes / 1e6:.2f} MB, {n_tokens:,} tokens")
    print(f"model load (import + first call): {load_seconds:.2f} s")
    ceiling = best_of(args.repeats, lambda: [tokenize(d) for d in docs])
    print(f"ceiling, normalize + tokenize only: {rate(ceiling)}")
    nlp(article)
    single = best_of(args.repeats, lambda: [nlp(d) for d in docs])
    print(f"end to end, nlp(text) per article: {rate(single)} ({n_bytes / 1e6 / single:.2f} MB/s)")
    piped = best_of(args.repeats, lambda: list(nlp.pipe(docs, batch_size=64)))
    print(f"end to end, nlp.pipe(batch_size=64): {rate(piped)}")
    print(f"pipeline / ceiling: {ceiling / piped:.2f}")

    paragraphs = [line for line in article.splitlines() if line.strip()] * copies
    paragraph_tokens = sum(len(tokenize(p)) for p in paragraphs)
    best, calls = per_call(args.repeats, nlp, paragraphs)
    print(
        f"end to end, nlp(paragraph) per paragraph: {rate(best, paragraph_tokens)}, "
        f"{ceiling / n_tokens * paragraph_tokens / best:.3f} of the ceiling; {latency(calls)} "
        f"({len(paragraphs):,} calls of {paragraph_tokens / len(paragraphs):.1f} tokens)"
    )
    # Issue 12 asks for at least half of nlp.pipe's tokens/s from one call per paragraph.
    print(f"per paragraph / nlp.pipe: {paragraph_tokens / best / (n_tokens / piped):.2f}")
    source = args.corpus.name if args.corpus.is_file() else SAMPLE.name
    short = short_sentences(args.corpus, article)
    short = short * max(1, 500 // len(short))  # the sample article has only five
    short_tokens = sum(len(tokenize(t)) for t in short)
    for text in short:
        nlp(text)
    best, calls = per_call(args.repeats, nlp, short)
    print(
        f"end to end, nlp(sentence) per sentence of 25-30 tokens: {rate(best, short_tokens)}, "
        f"{ceiling / n_tokens * short_tokens / best:.3f} of the ceiling; {latency(calls)} "
        f"({len(short):,} calls of {short_tokens / len(short):.1f} tokens, from {source})"
    )

    workers = args.processes
    big = docs * 4
    one = best_of(1, lambda: list(nlp.pipe(big, batch_size=64)))
    startup = best_of(1, lambda: list(nlp.pipe(["بيروت"] * 2, batch_size=1, n_process=workers)))
    parallel = best_of(1, lambda: list(nlp.pipe(big, batch_size=64, n_process=workers)))
    print(
        f"nlp.pipe(n_process={workers}) on {4 * n_tokens:,} tokens: "
        f"{rate(parallel, 4 * n_tokens)}, "
        f"speed-up {one / parallel:.2f}x over one process ({rate(one, 4 * n_tokens)}); "
        f"starting the workers and loading their models takes {startup:.2f} s, without it "
        f"{one / (parallel - startup):.2f}x"
    )
    worker_rss = peak_rss_mb(resource.RUSAGE_CHILDREN)  # before the forked halves add theirs
    halves = forked_halves(nlp, big)
    if halves is not None:
        print(
            f"two forked processes, nlp.pipe over half of the same texts each, nothing sent "
            f"back: speed-up {one / halves:.2f}x over one process (what two workers could "
            "reach on this machine)"
        )

    if args.corpus.is_file():
        from arabic_ner.conll import read_conll

        lines = [" ".join(s.tokens) for s in read_conll(args.corpus)]
        corpus_tokens = sum(len(tokenize(line)) for line in lines)
        fresh = Pipeline(
            load_backend(args.backend, args.model)
        )  # an empty feature cache: every word is new
        cold = best_of(1, lambda: list(fresh.pipe(lines, batch_size=256)))
        warm = best_of(1, lambda: list(fresh.pipe(lines, batch_size=256)))
        print(
            f"varied text ({args.corpus.name}, {len(lines):,} lines, {corpus_tokens:,} tokens), "
            f"nlp.pipe: first pass {rate(cold, corpus_tokens)}, "
            f"second pass {rate(warm, corpus_tokens)}"
        )
    print(f"peak RSS: this process {peak_rss_mb():.0f} MiB, largest worker {worker_rss:.0f} MiB")


if __name__ == "__main__":
    main()
