"""The ``arabic-ner`` command: ``extract``, ``train``, ``evaluate``, ``manifest``, ``serve``.

Errors go to stderr as one line starting with ``arabic-ner:`` and the exit code is
non-zero (1 for a failed input or model, 2 for a wrong command line).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from arabic_ner import __version__
from arabic_ner.corpus import (
    DEFAULT_GLOBS,
    RESUMABLE_FORMATS,
    ExtractOptions,
    ReadOptions,
    UsageError,
    run_extract,
)
from arabic_ner.entities import EntityType
from arabic_ner.errors import ArabicNERError, ConfigError, WorkerError
from arabic_ner.pipeline import entity_types
from arabic_ner.train import TrainConfig

__all__ = ["main"]


def _extract(args: argparse.Namespace) -> int:
    output = None if args.output in (None, "-") else args.output
    fmt = args.format
    if fmt is None:
        fmt = "table" if output is None else _format_of(output)
    writes_to_terminal = output is None and sys.stdout.isatty()
    options = ExtractOptions(
        read=ReadOptions(
            input_format=args.input_format,
            lines=args.lines,
            text_field=args.text_field,
            id_field=args.id_field,
            globs=tuple(args.glob) if args.glob else DEFAULT_GLOBS,
        ),
        format=fmt,
        model=args.model,
        trust_model=args.trust_model,
        types=args.types,
        n_process=args.jobs,
        resume=args.resume,
        progress=sys.stderr.isatty() and not args.quiet and not writes_to_terminal,
    )
    resumable = output is not None and fmt in RESUMABLE_FORMATS
    try:
        summary = run_extract(args.inputs, options, output=output)
    except UsageError as error:
        print(f"arabic-ner: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        again = f"; rerun with --resume to continue {output}" if resumable else ""
        print(f"arabic-ner: interrupted{again}", file=sys.stderr)
        return 130
    except WorkerError as error:
        again = f"; rerun with --resume to continue {output}" if resumable else ""
        print(f"arabic-ner: error: {error}{again}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except OSError as error:  # writing the output failed (a full disk, a lost mount)
        again = "; free the space and rerun with --resume" if resumable else ""
        print(f"arabic-ner: error: cannot write the output: {error}{again}", file=sys.stderr)
        return 1
    if summary.errors:
        print(
            f"arabic-ner: {summary.errors} of {summary.written + summary.skipped} records "
            "could not be processed (error records in the output)",
            file=sys.stderr,
        )
    return summary.exit_code


def _format_of(output: str) -> str:
    """The format that ``-o OUT`` implies without ``--format``: by OUT's extension, else jsonl."""
    extension = Path(output).suffix.lower()
    formats = {
        ".conll": "conll",
        ".csv": "csv",
        ".html": "html",
        ".htm": "html",
        ".spacy": "spacy",
    }
    return formats.get(extension, "jsonl")


def _entity_types(value: str) -> frozenset[EntityType]:
    """Parse ``--types PERS,LOC``."""
    try:
        return entity_types(value)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _jobs(value: str) -> int:
    """Parse ``-j N``: -1 (all cores) or a positive number of processes."""
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1 and jobs != -1:
        raise argparse.ArgumentTypeError(f"expected -1 (all cores) or a number >= 1, got {value!r}")
    return jobs


def _train(args: argparse.Namespace) -> int:
    from arabic_ner.conll import Sentence
    from arabic_ner.corpora import Corpus, read_recipe
    from arabic_ner.train import train_model

    if args.recipe:
        corpora = read_recipe(args.recipe, args.data_root)
    else:
        dev_file = Path(args.dev) if args.dev else None
        corpora = [Corpus("train", Path(args.train), dev=dev_file, dev_fraction=args.dev_fraction)]
    train: list[Sentence] = []
    for corpus in corpora:
        part, dev = corpus.split(with_dev=args.with_dev)
        train += part
        print(f"{corpus.name}: {len(part)} training, {len(dev)} dev sentences", file=sys.stderr)
    gazetteers = Path(args.gazetteers)
    if not gazetteers.is_dir():
        raise ArabicNERError(
            f"gazetteer folder {gazetteers} not found: pass --gazetteers, the folder with "
            "loc.txt, org.txt and pers.txt (data/gazetteers in the source tree)"
        )
    if args.clusters and not Path(args.clusters).is_file():
        raise ArabicNERError(
            f"cluster table {args.clusters} not found: build it with 'make clusters', or "
            "train without --clusters"
        )
    config = TrainConfig(
        c1=args.c1, c2=args.c2, max_iterations=args.max_iterations, min_freq=args.min_freq
    )
    print(f"training on {len(train)} sentences, {config}", file=sys.stderr)
    started = time.perf_counter()
    sources = {f"{c.name}.train": str(c.train) for c in corpora}
    sources.update({f"{c.name}.dev": str(c.dev) for c in corpora if c.dev is not None})
    meta = train_model(
        train,
        args.out,
        gazetteer_dir=gazetteers,
        dev=() if args.with_dev else corpora,
        config=config,
        sources=sources,
        clusters=args.clusters,
        recipe={"corpora": [c.to_dict() for c in corpora], "with_dev": args.with_dev},
    )
    print(f"wrote {args.out} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    for name, report in meta.get("dev", {}).items():
        by_type = "  ".join(f"{kind} {s['f1'] * 100:.2f}" for kind, s in report["by_type"].items())
        print(f"dev of {name}: micro F1 {report['micro']['f1'] * 100:.2f}  {by_type}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from arabic_ner.conll import read_conll
    from arabic_ner.model import load_backend
    from arabic_ner.train import evaluate

    report = evaluate(
        load_backend("crf", args.model, trust=args.trust_model),
        read_conll(args.file),
        document_size=args.document_size,
    )
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
        help="write the entities of texts, files, folders or JSONL corpora",
        description="Write the entities of each input record: a text file (one record, or "
        "one per line with --lines), every *.txt and *.jsonl file of a folder (recursively, "
        "in sorted order), a JSONL file (one record per line), or - for standard input. "
        "A record that cannot be processed gives an error record and a warning, and the "
        "exit status is 1; 2 means a wrong command line. See docs/corpus.md.",
    )
    extract.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="UTF-8 text or JSONL file, folder, or -"
    )
    extract.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="write to OUT instead of standard output (with --format brat, OUT is a "
        "folder); an existing OUT is overwritten unless --resume is given. Beside it, "
        "OUT.progress.json records the run",
    )
    extract.add_argument(
        "--format",
        choices=("table", "jsonl", "conll", "csv", "html", "brat", "spacy"),
        help="table: readable rows; jsonl: one JSON object per record; conll: 'token TAG' "
        "lines (BIO) per record; csv: one row per entity (a row for a record without "
        "entities or with an error); html: one page, each record's text right to left with "
        "its entities highlighted; brat: brat standoff, ID.txt and ID.ann per record in the "
        "folder -o FOLDER (new or empty), error records in FOLDER/errors.jsonl; spacy: a "
        "spaCy DocBin file -o FILE.spacy, one Doc per record (needs the [spacy] extra). "
        "--resume works with jsonl, conll and csv (default: table on standard output; "
        "with -o, by OUT's extension: .conll, .csv, .html or .htm, .spacy, else jsonl)",
    )
    extract.add_argument(
        "--input-format",
        choices=("auto", "text", "jsonl"),
        default="auto",
        help="auto: files ending in .jsonl are JSONL, the rest (and -) text (default: auto)",
    )
    extract.add_argument(
        "--lines", action="store_true", help="text inputs: one record per non-blank line"
    )
    extract.add_argument(
        "--text-field", default="text", help="JSONL field with the text (default: text)"
    )
    extract.add_argument(
        "--id-field",
        default="id",
        help="JSONL field with the record id (default: id; when absent: FILE:LINE)",
    )
    extract.add_argument(
        "--glob",
        action="append",
        metavar="PATTERN",
        help="file names to read in folders; repeat for several "
        f"(default: {' and '.join(DEFAULT_GLOBS)})",
    )
    extract.add_argument("--model", help="model folder (default: the shipped model)")
    extract.add_argument("--trust-model", action="store_true", help=TRUST_HELP)
    extract.add_argument(
        "--types", type=_entity_types, help="comma-separated types to keep, e.g. PERS,LOC"
    )
    extract.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="worker processes; -1: one per CPU (default: 1)",
    )
    extract.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run into the same -o OUT, with the same inputs and "
        "options: keep its complete records and append the rest",
    )
    extract.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    extract.set_defaults(run=_extract)

    train = commands.add_parser(
        "train",
        help="train a CRF model folder from CoNLL data",
        description="Train a CRF on a CoNLL file and write a model folder. Training is "
        "deterministic: the same data and options rebuild the same model.",
    )
    sources = train.add_mutually_exclusive_group(required=True)
    sources.add_argument("--train", metavar="FILE", help="CoNLL training file")
    sources.add_argument(
        "--recipe",
        metavar="FILE",
        help="JSON list of training corpora, their dev splits and relabelings "
        "(see arabic_ner/corpora.py; the project's are in data/recipes/)",
    )
    train.add_argument(
        "--data-root",
        default=".",
        metavar="DIR",
        help="folder the recipe's paths are relative to (default: the current folder)",
    )
    train.add_argument("--dev", metavar="FILE", help="with --train: CoNLL dev file to score on")
    train.add_argument(
        "--dev-fraction",
        type=float,
        default=0.1,
        help="with --train and no --dev: hold out this last fraction as dev (default: 0.1)",
    )
    train.add_argument(
        "--with-dev",
        action="store_true",
        help="train on the dev splits too (a model to ship; nothing is left to score it)",
    )
    train.add_argument(
        "--clusters",
        metavar="FILE",
        help="word cluster table for the features (data/clusters/clusters.tsv, "
        "built by 'make clusters'; default: none)",
    )
    train.add_argument("--out", required=True, metavar="DIR", help="model folder to write")
    train.add_argument(
        "--gazetteers",
        default="data/gazetteers",
        metavar="DIR",
        help="folder with loc.txt, org.txt, pers.txt (default: data/gazetteers)",
    )
    defaults = TrainConfig()
    train.add_argument(
        "--c1", type=float, default=defaults.c1, help=f"L1 penalty (default: {defaults.c1})"
    )
    train.add_argument(
        "--c2", type=float, default=defaults.c2, help=f"L2 penalty (default: {defaults.c2})"
    )
    train.add_argument(
        "--max-iterations",
        type=int,
        default=defaults.max_iterations,
        help=f"L-BFGS iterations (default: {defaults.max_iterations})",
    )
    train.add_argument(
        "--min-freq",
        type=int,
        default=defaults.min_freq,
        help=f"drop features seen fewer times (default: {defaults.min_freq})",
    )
    train.set_defaults(run=_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="score a model on a CoNLL file",
        description="Tag the gold tokens of a CoNLL file and print per-type and micro "
        "precision, recall and F1 with exact span matching (conlleval rules).",
    )
    evaluate.add_argument("file", metavar="FILE", help="CoNLL file with gold tags")
    evaluate.add_argument("--model", help="model folder (default: the shipped model)")
    evaluate.add_argument(
        "--document-size",
        type=int,
        default=0,
        metavar="N",
        help="treat runs of N sentences as documents and propagate names within them, as "
        "the pipeline does within a text (default: 0, sentence by sentence)",
    )
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--trust-model", action="store_true", help=TRUST_HELP)
    evaluate.set_defaults(run=_evaluate)

    manifest = commands.add_parser(
        "manifest",
        help="write a model folder's manifest (sizes and SHA-256 of its files)",
        description="Write FOLDER/manifest.json, listing every file of the folder with its "
        "size and SHA-256. Loading checks the files against it before reading them; a "
        "folder without one loads only with --trust-model. 'arabic-ner train' writes it "
        "itself: run this for a folder you built or changed yourself and trust.",
    )
    manifest.add_argument("folder", metavar="FOLDER", help="model folder")
    manifest.set_defaults(run=_manifest)

    serve = commands.add_parser(
        "serve",
        help="serve a web page and an HTTP API on this machine (extra [server])",
        description="Load the model once, then serve until Ctrl-C: GET / is a page to "
        "find the entities of a text, POST /v1/extract the JSON API, GET /health and GET "
        "/openapi.json describe it. No authentication: keep the default host 127.0.0.1 "
        "unless everyone who can reach the port may use it. Needs pip install "
        "'arabic-ner[server]'. See docs/server.md.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")
    serve.add_argument("--model", help="model folder (default: the shipped model)")
    serve.add_argument(
        "--backend",
        default="crf",
        choices=("crf", "crf-only", "transformer", "camel", "stanza"),
        help="backend, as arabic_ner.load's (default: crf)",
    )
    serve.add_argument(
        "--max-body-bytes",
        type=_positive,
        default=1 << 20,
        metavar="N",
        help="refuse request bodies of more than N bytes with 413 (default: 1048576)",
    )
    serve.add_argument("--trust-model", action="store_true", help=TRUST_HELP)
    serve.set_defaults(run=_serve)
    return parser


TRUST_HELP = (
    "load a model folder that has no manifest.json (one you built yourself); "
    "a manifest, when there is one, is still checked"
)


def _manifest(args: argparse.Namespace) -> int:
    from arabic_ner.manifest import write_manifest

    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"arabic-ner: error: {folder} is not a folder", file=sys.stderr)
        return 2
    path = write_manifest(folder)
    print(f"wrote {path}")
    return 0


def _positive(value: str) -> int:
    """Parse a number >= 1 (``--max-body-bytes``)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value!r}")
    return number


def _port(value: str) -> int:
    """Parse a TCP port, 0..65535 (0: any free port)."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port 0..65535, got {value!r}")
    return port


def _serve(args: argparse.Namespace) -> int:
    from arabic_ner.server import serve

    serve(
        args.host,
        args.port,
        model=args.model,
        backend=args.backend,
        max_body_bytes=args.max_body_bytes,
        trust_model=args.trust_model,
    )
    return 0


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
