"""The ``arabic-ner`` command: ``extract``, ``train`` and ``evaluate``.

Errors go to stderr as one line starting with ``arabic-ner:`` and the exit code is
non-zero (1 for a failed input or model, 2 for a wrong command line).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from arabic_ner import __version__
from arabic_ner.entities import Entity, EntityType
from arabic_ner.errors import ArabicNERError

__all__ = ["main"]


def _read_inputs(paths: Sequence[str]) -> Iterator[tuple[str, str]]:
    """Yield (name, text) for each path; ``-`` reads standard input."""
    for path in paths:
        if path == "-":
            yield "<stdin>", sys.stdin.read()
            continue
        try:
            yield path, Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ArabicNERError(
                f"{path} is not valid UTF-8 (byte {error.start}): convert it, e.g. with "
                "'iconv -f WINDOWS-1256 -t UTF-8'"
            ) from error
        except OSError as error:
            raise ArabicNERError(f"cannot read {path}: {error.strerror}") from error


def _table(name: str, entities: list[Entity], out: TextIO) -> None:
    out.write(f"# {name}: {len(entities)} entities\n")
    out.write(f"{'type':<5} {'start':>6} {'end':>6} {'score':>5}  text\n")
    for e in entities:
        out.write(f"{e.type.value:<5} {e.start:>6} {e.end:>6} {e.score:>5.2f}  {e.text}\n")


def _extract(args: argparse.Namespace) -> int:
    from arabic_ner.pipeline import load

    nlp = load(args.model)
    wanted = {EntityType(t) for t in args.types.split(",")} if args.types else None
    out = sys.stdout
    for name, text in _read_inputs(args.inputs):
        entities = [e for e in nlp(text) if wanted is None or e.type in wanted]
        if args.format == "jsonl":
            record = {"source": name, "entities": [e.to_dict() for e in entities]}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            _table(name, entities, out)
    return 0


def _train(args: argparse.Namespace) -> int:
    from arabic_ner.conll import read_conll, split_train_dev
    from arabic_ner.train import TrainConfig, train_model

    train = read_conll(args.train)
    sources = {"train": args.train}
    if args.dev:
        dev = read_conll(args.dev)
        sources["dev"] = args.dev
    else:
        train, dev = split_train_dev(train, args.dev_fraction)
    gazetteers = Path(args.gazetteers)
    if not gazetteers.is_dir():
        raise ArabicNERError(
            f"gazetteer folder {gazetteers} not found: pass --gazetteers, the folder with "
            "loc.txt, org.txt and pers.txt (data/gazetteers in the source tree)"
        )
    config = TrainConfig(
        c1=args.c1, c2=args.c2, max_iterations=args.max_iterations, min_freq=args.min_freq
    )
    print(
        f"training on {len(train)} sentences, {len(dev)} dev sentences, {config}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    meta = train_model(
        train, args.out, gazetteer_dir=gazetteers, dev=dev, config=config, sources=sources
    )
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if "dev" in meta:
        from arabic_ner.model import CRFBackend
        from arabic_ner.train import evaluate

        print(evaluate(CRFBackend(args.out), dev).format())
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from arabic_ner.conll import read_conll
    from arabic_ner.model import load_backend
    from arabic_ner.train import evaluate

    report = evaluate(load_backend("crf", args.model), read_conll(args.file))
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.format())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="arabic-ner",
        description="Find people, places and organisations in Arabic text, offline.",
    )
    parser.add_argument("--version", action="version", version=f"arabic-ner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    extract = commands.add_parser(
        "extract",
        help="print the entities of text files",
        description="Print the entities of each input (a file, or - for standard input).",
    )
    extract.add_argument("inputs", nargs="+", metavar="FILE", help="UTF-8 text file, or -")
    extract.add_argument(
        "--format",
        choices=("table", "jsonl"),
        default="table",
        help="table: readable rows; jsonl: one JSON object per input (default: table)",
    )
    extract.add_argument("--model", help="model folder (default: the shipped model)")
    extract.add_argument("--types", help="comma-separated types to keep, e.g. PERS,LOC")
    extract.set_defaults(run=_extract)

    train = commands.add_parser(
        "train",
        help="train a CRF model folder from CoNLL data",
        description="Train a CRF on a CoNLL file and write a model folder. Training is "
        "deterministic: the same data and options rebuild the same model.",
    )
    train.add_argument("--train", required=True, metavar="FILE", help="CoNLL training file")
    train.add_argument("--dev", metavar="FILE", help="CoNLL dev file to score the model on")
    train.add_argument(
        "--dev-fraction",
        type=float,
        default=0.1,
        help="without --dev: hold out this last fraction of --train as dev (default: 0.1)",
    )
    train.add_argument("--out", required=True, metavar="DIR", help="model folder to write")
    train.add_argument(
        "--gazetteers",
        default="data/gazetteers",
        metavar="DIR",
        help="folder with loc.txt, org.txt, pers.txt (default: data/gazetteers)",
    )
    train.add_argument("--c1", type=float, default=0.05, help="L1 penalty (default: 0.05)")
    train.add_argument("--c2", type=float, default=0.01, help="L2 penalty (default: 0.01)")
    train.add_argument("--max-iterations", type=int, default=250, help="(default: 250)")
    train.add_argument("--min-freq", type=int, default=1, help="feature count cut-off (default: 1)")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a model on a CoNLL file",
        description="Tag the gold tokens of a CoNLL file and print per-type and micro "
        "precision, recall and F1 with exact span matching (conlleval rules).",
    )
    evaluate.add_argument("file", metavar="FILE", help="CoNLL file with gold tags")
    evaluate.add_argument("--model", help="model folder (default: the shipped model)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.set_defaults(run=_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except (ArabicNERError, ValueError) as error:
        print(f"arabic-ner: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
