"""Count the instructions arabic-ner executes per token, under valgrind's callgrind.

Timings on a shared machine drift by 10% and more from one run to the next; the number of
instructions a fixed workload executes barely moves, so it is the figure to compare
across changes. The workload, in one process: load the model, warm up (one pass over the
texts below, so the feature caches hold their words, as in ``bench/speed.py``), then

- ``--sentences`` (200) calls ``nlp(sentence)``, one per sentence of 25 to 30 tokens of
  ``--corpus`` (ANERcorp's training file in ../shared, words joined by spaces; the sample
  article's own sentences when there is no corpus);
- one ``nlp.pipe(paragraphs, batch_size=64)`` over ``--paragraphs`` (140) lines of the
  sample article (``data/samples``), repeated;
- one call ``nlp(paragraph)`` per paragraph, the same paragraphs;
- ``pickle.dumps`` of the entities that ``nlp.pipe`` returned, then ``pickle.loads``:
  what ``nlp.pipe(n_process=N)`` does to send each worker's entities to the parent
  process (the dump in the worker, the load in the parent, which shares the cores);
- ``nlp.pipe`` over ``--articles`` (96) copies of the sample article in batches of 16,
  in one process, then with ``n_process=2``: the instructions of the parent and of the
  two workers (forked, and counted by callgrind too, each in a file of its own), and by
  how much their sum exceeds the one process's: what sending texts and entities between
  processes costs, which the clock cannot tell from two processes slowing each other
  down (issue 12).

Callgrind dumps its counters each time ``getppid`` is called (``--dump-before=getppid``),
and the workload calls ``os.getppid()`` between its parts and nowhere else, so each dump
holds the instructions of one part; this script checks that it got one dump per part.
With ``--cache-mib N`` callgrind also simulates the caches, the last level of N MiB,
and the script prints its misses per token for each part: run it with the machine's
last-level cache and with half of it (what each of two processes has) to see what two
workers lose to each other (issue 12: ``--cache-mib 32`` and ``--cache-mib 16`` on the
development machine; slower, and the simulated hierarchy is callgrind's two levels).
It prints the instructions (callgrind's ``Ir``) of each part and, for the measured
parts, per token, and the paragraphs' instructions per token in ``nlp.pipe`` as a share
of those in one call per paragraph (issue 12 asks for tokens/s at least half). Run it
with ``make bench-callgrind`` or ``.venv/bin/python bench/callgrind.py``; it takes a few
minutes (valgrind runs Python about 50 times slower).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from speed import CORPUS, SAMPLE, short_sentences  # bench/speed.py, beside this script

PARTS = [
    "load + warm-up",
    "nlp(sentence) per sentence",
    "nlp.pipe over paragraphs",
    "nlp(paragraph) per paragraph",
    "pickle.dumps of nlp.pipe's entities",
    "pickle.loads of them",
    "nlp.pipe over articles, one process",
    "nlp.pipe(n_process=2) over them, the parent",
]


def workload(args: argparse.Namespace) -> None:
    """Run the workload, marking the end of each part with ``os.getppid()``."""
    import arabic_ner
    from arabic_ner.tokenize import tokenize

    nlp = arabic_ner.load(args.model, backend=args.backend)
    article = SAMPLE.read_text(encoding="utf-8")
    short = short_sentences(args.corpus, article)
    short = (short * (args.sentences // len(short) + 1))[: args.sentences]
    lines = [line for line in article.splitlines() if line.strip()]
    paragraphs = (lines * (args.paragraphs // len(lines) + 1))[: args.paragraphs]
    for text in short:
        nlp(text)
    list(nlp.pipe(paragraphs, batch_size=64))
    os.getppid()  # end of load + warm-up

    for text in short:
        nlp(text)
    os.getppid()  # end of the per-sentence calls

    found = list(nlp.pipe(paragraphs, batch_size=64))
    os.getppid()  # end of nlp.pipe

    for text in paragraphs:
        nlp(text)
    os.getppid()  # end of the per-paragraph calls

    gc.disable()  # as nlp.pipe's worker does while tagging, and its parent while waiting
    blob = pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)
    os.getppid()  # end of the dump
    pickle.loads(blob)
    os.getppid()  # end of the load
    gc.enable()

    articles = [article] * args.articles
    list(nlp.pipe(articles, batch_size=16))
    os.getppid()  # end of the one-process pipe over the articles
    list(nlp.pipe(articles, batch_size=16, n_process=2))
    os.getppid()  # end of the two-process pipe (the workers' counts are in their own files)

    paragraph_tokens = sum(len(tokenize(p)) for p in paragraphs)
    tokens = [sum(len(tokenize(t)) for t in short), paragraph_tokens, paragraph_tokens]
    calls = [len(short), len(paragraphs), len(paragraphs)]
    entities = sum(len(e) for e in found)
    print(json.dumps({"calls": calls, "tokens": tokens, "entities": entities}))


def events(path: Path) -> dict[str, int]:
    """The totals of one callgrind output file, by event (``Ir``; with the cache
    simulation also ``DLmr`` and ``DLmw``, the last-level cache's read and write misses)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    names = re.search(r"^events: (.+)$", text, re.MULTILINE)
    match = re.search(r"^(?:totals|summary): (.+)$", text, re.MULTILINE)
    if not names or not match:
        sys.exit(f"no totals in {path}")
    return dict(zip(names.group(1).split(), map(int, match.group(1).split()), strict=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sentences", type=int, default=200, help="nlp(sentence) calls")
    parser.add_argument("--paragraphs", type=int, default=140, help="paragraphs for nlp.pipe")
    parser.add_argument(
        "--articles", type=int, default=96, help="copies of the sample article for n_process=2"
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="CoNLL file of sentences")
    parser.add_argument("--model", help="model folder (default: the shipped model)")
    parser.add_argument("--backend", default="crf", help="tagger: crf or crf-only")
    parser.add_argument(
        "--cache-mib",
        type=int,
        help="also simulate the caches, the last level this many MiB (e.g. 32, and 16: "
        "the half each of two processes has), and print its misses per token",
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        workload(args)
        return

    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    # Fixed hashing and one BLAS thread, so that two runs execute the same instructions.
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    inner = [a for a in sys.argv[1:]] + ["--inner"]
    with tempfile.TemporaryDirectory(prefix="callgrind-") as folder:
        # %p: the forked workers of nlp.pipe(n_process=2) write files of their own.
        out = Path(folder) / "callgrind.out.%p"
        command = [
            valgrind,
            "--tool=callgrind",
            "--dump-before=getppid",
            *(
                ["--cache-sim=yes", f"--LL={args.cache_mib * 2**20},16,64"]
                if args.cache_mib
                else []
            ),
            f"--callgrind-out-file={out}",
            sys.executable,
            str(Path(__file__).resolve()),
            *inner,
        ]
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, encoding="utf-8")
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"valgrind failed:\n{done.stderr[-4000:]}")
        # callgrind.out.PID.N: the workload's dumps, one per part; callgrind.out.PID: what
        # each process ran after its last dump (the workers: all they ran).
        files = list(Path(folder).glob("callgrind.out.*"))
        dumps = [p for p in files if p.name.count(".") == 3]
        dumps.sort(key=lambda p: int(p.suffix[1:]))
        if len(dumps) != len(PARTS):
            sys.exit(f"expected {len(PARTS)} dumps, one per part, got {len(dumps)}")
        parent = dumps[0].name.split(".")[2]
        workers = [p for p in files if p.name.count(".") == 2 and p.suffix[1:] != parent]
        if len(workers) != 2:
            sys.exit(f"expected the files of 2 workers, got {len(workers)}")
        totals = [events(p) for p in dumps]
        worker_counts = [events(p)["Ir"] for p in workers]
    counts = [total["Ir"] for total in totals]
    misses = [(total.get("DLmr", 0), total.get("DLmw", 0)) for total in totals]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    print(f"callgrind, backend {args.backend!r}: {seconds:.0f} s under valgrind")
    print(f"{PARTS[0]} (Python start-up included): {counts[0]:,} instructions")
    for part, count, calls, tokens in zip(
        PARTS[1:4], counts[1:4], result["calls"], result["tokens"], strict=True
    ):
        print(
            f"{part}: {count:,} instructions, {calls:,} calls, {tokens:,} tokens, "
            f"{count / tokens:,.0f} instructions/token"
        )
    print(f"per paragraph / nlp.pipe, instructions per token: {counts[2] / counts[3]:.2f}")
    if args.cache_mib:
        for part, (reads, writes), tokens in zip(
            PARTS[1:4], misses[1:4], result["tokens"], strict=True
        ):
            print(
                f"{part}, last-level cache of {args.cache_mib} MiB: {reads:,} read and "
                f"{writes:,} write misses, {(reads + writes) / tokens:.2f} per token"
            )
    entities = result["entities"]
    for part, count in zip(PARTS[4:6], counts[4:6], strict=True):
        print(f"{part}: {count:,} instructions, {count / entities:,.0f} per entity ({entities:,})")
    one, parent = counts[6], counts[7]
    print(f"nlp.pipe over {args.articles} articles, one process: {one:,} instructions")
    print(
        f"nlp.pipe(n_process=2) over them: the parent {parent:,} instructions, the workers "
        f"{' and '.join(f'{n:,}' for n in worker_counts)} (start-up and exit included); "
        f"together {(parent + sum(worker_counts)) / one - 1:+.1%} against one process"
    )


if __name__ == "__main__":
    main()
