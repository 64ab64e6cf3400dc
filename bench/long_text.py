"""Check that one long text costs time linear in its size and bounded extra memory.

Builds one string of ``--mb`` megabytes (the sample article repeated, without line
breaks between copies when ``--one-line``), runs ``nlp(text)`` on it, and prints the time,
tokens/s, entity count and peak RSS, for each size given::

    .venv/bin/python bench/long_text.py --mb 5 10 20
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "palmyra_news_ar.txt"


def run_one(mb: float, one_line: bool) -> None:
    import arabic_ner

    nlp = arabic_ner.load()
    article = SAMPLE.read_text(encoding="utf-8")
    if one_line:
        article = article.replace("\n", " ")
    copies = max(1, int(mb * 1e6 / len(article.encode("utf-8"))))
    text = " ".join([article] * copies)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    found = nlp(text)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tokens = copies * len(arabic_ner.tokenize(article))
    assert all(text[e.start : e.end] == e.text for e in found[:: max(1, len(found) // 1000)])
    print(
        f"{len(text.encode('utf-8')) / 1e6:6.1f} MB{' (one line)' if one_line else ''}: "
        f"{seconds:6.1f} s, {tokens / seconds:,.0f} tokens/s, {len(found):,} entities, "
        f"peak RSS {peak:,.0f} MiB (text and model loaded: {before:,.0f} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[5.0, 10.0, 20.0])
    parser.add_argument("--one-line", action="store_true", help="no line breaks at all")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_one(args.mb[0], args.one_line)
        return
    for mb in args.mb:  # each size in a fresh process, so peak RSS is its own
        command = [sys.executable, __file__, "--child", "--mb", str(mb)]
        subprocess.run(command + (["--one-line"] if args.one_line else []), check=True)


if __name__ == "__main__":
    main()
