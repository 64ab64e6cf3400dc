"""Fuzz arabic-ner: entity offsets on arbitrary text, the JSONL reader on arbitrary bytes.

Two targets share one input: its first byte chooses.

- ``extract`` (odd first byte): the rest is decoded to a ``str`` (UTF-8 with
  ``surrogateescape``, or UTF-16 with ``surrogatepass``, so lone surrogates occur) and
  given to :func:`arabic_ner.extract_entities`; every entity must slice the text
  (``text[e.start:e.end] == e.text``, ``0 <= start < end <= len(text)``), sorted by
  ``(start, end)``, never overlapping.
- ``jsonl`` (even first byte): the rest is read by the CLI's reader,
  ``read_records(["-"], ReadOptions(input_format="jsonl"), stdin=BytesIO(rest))``: every
  non-blank line must give exactly one record (a text or an error record), in order,
  each one writable as a UTF-8 JSON line by ``format_jsonl``, and nothing may raise.

Engines: `atheris <https://github.com/google/atheris>`_ (coverage-guided libFuzzer over
raw bytes, seeded with the sample article and a dictionary of Arabic and JSON tokens)
and a Hypothesis-driven loop (random and structured inputs: Arabic words, marks, lone
surrogates, JSON objects; each failure shrunk). By default both run, half the time each,
when atheris is installed (``pip install atheris``), else the Hypothesis loop alone::

    python fuzz/fuzz_extract.py --seconds 60                    # both engines
    python fuzz/fuzz_extract.py --seconds 60 --engine atheris   # or hypothesis
    python fuzz/fuzz_extract.py --replay fuzz/crashes/*.bin     # run saved inputs again

It prints how many inputs it tried and how many failed, saves each failing input (one per
distinct failure) under ``fuzz/crashes/``, and exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CRASHES = HERE / "crashes"
SAMPLE = ROOT / "data" / "samples" / "palmyra_news_ar.txt"
MAX_SAVED = 50  # distinct failures saved per run

# Filled in by _load(): the library, imported under atheris's instrumentation if used.
_API: dict[str, Any] = {}


def _load() -> None:
    import arabic_ner
    from arabic_ner.corpus import ReadOptions, format_jsonl, read_records

    _API.update(
        extract=arabic_ner.extract_entities,
        read_records=read_records,
        options=ReadOptions(input_format="jsonl"),
        format_jsonl=format_jsonl,
    )
    _API["extract"]("زار بوتين دمشق")  # load the model before the clock starts


# --- the targets ---------------------------------------------------------------------------


def decode(body: bytes, selector: int) -> str:
    """The text of an ``extract`` input: UTF-8 or UTF-16, lone surrogates allowed."""
    if (selector >> 1) % 2:
        return body[: len(body) // 2 * 2].decode("utf-16-le", "surrogatepass")
    return body.decode("utf-8", "surrogateescape")


def check_extract(text: str) -> None:
    found = _API["extract"](text)
    for e in found:
        assert 0 <= e.start < e.end <= len(text), f"offsets out of range: {e!r}"
        assert text[e.start : e.end] == e.text, f"{e!r} does not slice the text"
    for a, b in itertools.pairwise(found):
        assert (a.start, a.end) <= (b.start, b.end), f"not sorted: {a!r} before {b!r}"
        assert a.end <= b.start, f"overlap: {a!r} and {b!r}"


def non_blank_lines(data: bytes) -> list[int]:
    """The 1-based numbers of the lines that must give a record: all but blank ones.

    Lines end at ``\\n`` only (as a binary file iterates); a BOM starts line 1 at most;
    a line that is not UTF-8 is never blank (it gives an error record).
    """
    numbers = []
    for number, raw in enumerate(_lines(data), start=1):
        body = raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw
        try:
            blank = not body.decode("utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            numbers.append(number)
    return numbers


def _lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def check_jsonl(data: bytes) -> None:
    stream = io.BytesIO(data)
    records = list(_API["read_records"](["-"], _API["options"], stdin=stream))
    lines = [r.line for r in records]
    expected = non_blank_lines(data)
    assert lines == expected, f"records for lines {lines}, expected {expected}"
    for record in records:
        assert isinstance(record.id, str) and isinstance(record.text, str)
        assert record.error is None or (isinstance(record.error, str) and not record.text)
        written = _API["format_jsonl"](record, []).encode("utf-8")  # what the CLI writes
        back = json.loads(written)
        assert back["id"] == record.id and back.get("error") == record.error


def one_input(data: bytes) -> None:
    """Run the target the first byte chooses; raise on a failure."""
    if not data:
        return
    selector, body = data[0], data[1:]
    if selector % 2:
        check_extract(decode(body, selector))
    else:
        check_jsonl(body)


# --- counting and saving failures ----------------------------------------------------------


class Tally:
    """Inputs tried, failures, and the distinct failures seen (saved under fuzz/crashes/)."""

    def __init__(self, stats: Path | None = None, *, keep: bool = True) -> None:
        self.tried = 0
        self.failures = 0
        self.signatures: dict[str, str] = {}  # signature -> saved file
        self._stats = stats
        self._keep = keep  # save failing inputs under fuzz/crashes/

    def run(self, data: bytes) -> bool:
        """Run one input; count it; on a failure save it (once per signature). True if ok."""
        self.tried += 1
        try:
            one_input(data)
        except Exception as error:
            self.failures += 1
            signature = _signature(data, error)
            if signature not in self.signatures and len(self.signatures) < MAX_SAVED:
                self.signatures[signature] = str(save(data)) if self._keep else "(not saved)"
                print(
                    f"\nFAILURE {signature} (saved {self.signatures[signature]}):\n"
                    + "".join(traceback.format_exception(error))[-3000:],
                    file=sys.stderr,
                    flush=True,
                )
            self.write()
            return False
        self.write()
        return True

    def write(self) -> None:
        """Save the counts for the parent process (atheris exits without Python's atexit)."""
        if self._stats is None:
            return
        payload = {"tried": self.tried, "failures": self.failures, "saved": self.signatures}
        partial = self._stats.with_suffix(".tmp")
        partial.write_text(json.dumps(payload), "utf-8")
        partial.replace(self._stats)


def _signature(data: bytes, error: BaseException) -> str:
    target = "extract" if data[0] % 2 else "jsonl"
    frames = traceback.extract_tb(error.__traceback__)
    inner = [f for f in frames if "arabic_ner" in f.filename] or frames
    where = f"{Path(inner[-1].filename).name}:{inner[-1].lineno}" if inner else "?"
    return f"{target}:{type(error).__name__}@{where}"


def save(data: bytes) -> Path:
    CRASHES.mkdir(parents=True, exist_ok=True)
    target = "extract" if data[0] % 2 else "jsonl"
    path = CRASHES / f"{target}-{hashlib.sha1(data).hexdigest()[:12]}.bin"
    path.write_bytes(data)
    return path


# --- seeds and dictionary ------------------------------------------------------------------

WORDS = [
    "بوتين",
    "موسكو",
    "دمشق",
    "داعش",
    "تدمر",
    "وموسكو",
    "فلاديمير",
    "الرئيس",
    "الروسي",
    "الكرملين",
    "للعراق",
    "بدمشق",
    "والرئيس",
    "الخميس",
    "ايار/مايو",
    "2015",
    "خمسة",
    "مليون",
    "دولار",
    "في",
    "المئة",
    "الساعة",
    "الثالثة",
    "ﻻ",
    "ﷲ",
    "ﷺ",
    "٢٠١٥",
]
TOKENS = [
    *WORDS,
    "\u064e",
    "\u0651",
    "\u0640",
    "\u200d",
    "\u200c",
    "\u200f",
    "\u202e",
    "\u2067",
    "\ufe0f",
    "\U0001f3fd",
    "\u0301",
    "&amp;",
    "&#1576;",
    "&nbsp;",
    "&#x628;",
    "&quot;",
    "\r\n",
    "\x00",
]
JSON_TOKENS = [
    '{"id": ',
    '"text": ',
    '"body": ',
    '"\\ud800"',
    '"\\udc00 x"',
    '"\\u0628"',
    "9" * 4301,
    "1e999",
    "NaN",
    "-Infinity",
    "[" * 50,
    "null",
    "true",
    "\ufeff",
]


def seeds() -> list[bytes]:
    """Starting inputs: sample sentences as text, and good and bad JSONL, each short."""
    lines = [s[:1000] for s in SAMPLE.read_text("utf-8").splitlines() if s.strip()][:6]
    texts = [*lines, " ".join(WORDS), "قالَ بـوتين: &quot;ﻻ&quot; ٣٠%\u200f 👍🏽"]
    out = [b"\x01" + t.encode("utf-8") for t in texts]
    out += [b"\x03" + t.encode("utf-16-le") for t in texts[-2:]]
    rows = [
        json.dumps({"id": f"d{i}", "text": t[:200]}, ensure_ascii=i % 2 == 0)
        for i, t in enumerate(texts)
    ]
    rows += ['{"id": "s", "text": "\\ud800 x"}', '{"id": 7, "text": 5}', '{"id": "x"}', "[1]"]
    rows += ['{"text": "x"', '{"id": "b", "text": "x", "n": ' + "9" * 4301 + "}"]
    for i in range(0, len(rows), 3):
        out.append(b"\x00" + "\n".join(rows[i : i + 3]).encode("utf-8") + b"\n")
    out.append(b"\x00\xef\xbb\xbf" + rows[0].encode() + b"\r\n\xff\xfe\n  \n")
    return out


def dictionary() -> str:
    """A libFuzzer dictionary: the tokens above, in UTF-8 and UTF-16."""
    entries = []
    for token in TOKENS + JSON_TOKENS:
        for raw in {token.encode("utf-8"), token.encode("utf-16-le")}:
            escaped = "".join(
                chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\x{b:02x}" for b in raw
            )
            entries.append(f'"{escaped}"')
    return "\n".join(entries) + "\n"


# --- engines -------------------------------------------------------------------------------


def run_atheris(seconds: int) -> tuple[int, int, list[str]]:
    """Run libFuzzer in a child process; return (tried, failures, saved files)."""
    with tempfile.TemporaryDirectory(prefix="arabic-ner-fuzz-") as work:
        corpus = Path(work) / "corpus"
        corpus.mkdir()
        for i, seed in enumerate(seeds()):
            (corpus / f"seed-{i}").write_bytes(seed)
        (Path(work) / "tokens.dict").write_text(dictionary(), "utf-8")
        stats = Path(work) / "stats.json"
        CRASHES.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            str(stats),
            "--",
            f"-max_total_time={seconds}",
            f"-artifact_prefix={CRASHES}/",
            f"-dict={Path(work) / 'tokens.dict'}",
            "-timeout=30",
            "-rss_limit_mb=4096",
            "-max_len=8192",
            "-print_final_stats=1",
            str(corpus),
        ]
        code = subprocess.run(command, cwd=ROOT).returncode
        counts = json.loads(stats.read_text("utf-8")) if stats.exists() else {}
    tried, failures = int(counts.get("tried", 0)), int(counts.get("failures", 0))
    saved = sorted(set(counts.get("saved", {}).values()))
    if code != 0:  # a crash, hang or out-of-memory that libFuzzer caught: it saved the input
        failures += 1
        saved.append(f"{CRASHES}/ (libFuzzer exit code {code}: crash-*, timeout-* or oom-*)")
    return tried, failures, saved


def atheris_child(stats: Path, libfuzzer_args: Sequence[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["arabic_ner", "json"]):
        _load()
    tally = Tally(stats)
    tally.write()

    def target(data: bytes) -> None:
        tally.run(data)  # a failure is counted and saved, and the fuzzing goes on

    atheris.Setup([sys.argv[0], *libfuzzer_args], target)
    atheris.Fuzz()


def run_hypothesis(seconds: int) -> tuple[int, int, list[str]]:
    """Hypothesis runs of 200 inputs, a new seed each, until the time is up."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as with_seed
    from hypothesis import strategies as st

    _load()
    piece = st.one_of(
        st.sampled_from(TOKENS),
        st.sampled_from(TOKENS),
        st.sampled_from([" ", "\n", "، ", ". "]),
        st.characters(codec=None, exclude_categories=()),
        st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates
    )
    text = st.lists(piece, max_size=30).map("".join)
    json_line = st.one_of(
        st.dictionaries(
            st.sampled_from(["id", "text", "body"]),
            st.one_of(text, st.integers(), st.none(), st.lists(st.integers(), max_size=2)),
            max_size=3,
        ).map(json.dumps),
        st.lists(st.sampled_from([*JSON_TOKENS, ",", "}", "]", ":"]), max_size=8).map("".join),
    )
    inputs = st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda s, t: bytes([s * 4 + 1]) + t.encode("utf-8", "surrogatepass"),
            st.integers(0, 63),
            text,
        ),
        st.builds(
            lambda t: b"\x03" + t.encode("utf-16-le", "surrogatepass"),
            text,
        ),
        st.builds(
            lambda rows, end: b"\x00" + b"\n".join(rows) + end,
            st.lists(
                st.one_of(
                    json_line.map(lambda s: s.encode("utf-8", "surrogatepass")),
                    st.binary(max_size=20),
                ),
                max_size=5,
            ),
            st.sampled_from([b"", b"\n", b"\r\n"]),
        ),
    )
    deadline = time.monotonic() + seconds
    tally = Tally()
    last: list[bytes] = [b""]

    def check(data: bytes) -> None:
        # No early return when the time is up: a replay while shrinking must fail again.
        last[0] = data
        tally.tried += 1
        one_input(data)

    for round_number in itertools.count():
        if time.monotonic() > deadline:
            break
        test: Callable[[], None] = with_seed(round_number)(
            settings(
                max_examples=200,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )(given(inputs)(check))
        )
        try:
            test()
        except Exception as error:  # Hypothesis shrank it: `last` is the smallest failing input
            tally.failures += 1
            signature = _signature(last[0], error)
            if signature not in tally.signatures and len(tally.signatures) < MAX_SAVED:
                tally.signatures[signature] = str(save(last[0]))
                print(f"\nFAILURE {signature}: {error!r}"[:3000], file=sys.stderr, flush=True)
    return tally.tried, tally.failures, sorted(set(tally.signatures.values()))


def replay(paths: Sequence[str]) -> int:
    _load()
    tally = Tally(keep=False)
    for path in paths:
        ok = tally.run(Path(path).read_bytes())
        print(f"{'ok  ' if ok else 'FAIL'} {path}")
    print(f"fuzz_extract: replayed {tally.tried} inputs, {tally.failures} failures")
    return 1 if tally.failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--child"]:  # the atheris process started by run_atheris
        atheris_child(Path(args[1]), args[3:] if args[2:3] == ["--"] else args[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="time budget (default 60)")
    parser.add_argument(
        "--engine",
        choices=["auto", "both", "atheris", "hypothesis"],
        default="auto",
        help="auto (the default): both if atheris is installed (half the time each), "
        "else hypothesis",
    )
    parser.add_argument("--replay", nargs="+", metavar="FILE", help="run saved inputs again")
    options = parser.parse_args(args)
    if options.replay:
        return replay(options.replay)
    engine = options.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine = "hypothesis"
        else:
            engine = "both"
    started = time.monotonic()
    if engine == "both":  # coverage-guided bytes, then structured inputs: half the time each
        first = max(1, options.seconds // 2)
        tried, failures, saved = run_atheris(first)
        more = run_hypothesis(max(1, options.seconds - round(time.monotonic() - started)))
        tried, failures, saved = tried + more[0], failures + more[1], saved + more[2]
    else:
        run = run_atheris if engine == "atheris" else run_hypothesis
        tried, failures, saved = run(options.seconds)
    took = time.monotonic() - started
    print(
        f"fuzz_extract ({engine}, {took:.0f} s): {tried} inputs tried, {failures} failures",
        flush=True,
    )
    for path in saved:
        print(f"  saved: {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
