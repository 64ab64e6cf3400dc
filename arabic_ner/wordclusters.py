"""Word clusters learned from unlabeled news: what a word resembles, as a few ids.

``scripts/build_clusters.py`` trains word2vec vectors on ten million words of Arabic news
and groups them with k-means at several sizes (64, 256, 1024 groups). Each stem then has
one cluster id per size: a minister the training data never showed shares its ids with
the ministers it did show. The features (``features.py``) read the ids, so the CRF and
the BiLSTM learn how a cluster behaves rather than how each word does.

The table is a tab-separated file: a header line starting with ``#`` that names the sizes,
then ``stem<TAB>id<TAB>id...``. An empty table (the header only, or no file in training)
means no cluster features.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from arabic_ner.errors import DataFormatError

__all__ = ["WordClusters", "read_clusters", "write_clusters"]

WordClusters = Mapping[str, tuple[str, ...]]
"""Stem → one cluster id per clustering size, coarsest first."""


def read_clusters(
    path: str | os.PathLike[str],
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Read a cluster table; return the names of its sizes and the ids of each stem.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "clusters.tsv"
    ...     _ = path.write_text("# stem\\tk64\\tk256\\nموسكو\\t3\\t17\\n", encoding="utf-8")
    ...     read_clusters(path)
    (('k64', 'k256'), {'موسكو': ('3', '17')})
    """
    table: dict[str, tuple[str, ...]] = {}
    # One tuple per distinct line of ids, checked once: stems share them.
    known: dict[str, tuple[str, ...]] = {}
    with open(path, encoding="utf-8") as stream:
        header = stream.readline().rstrip("\n").split("\t")
        if not header[0].startswith("#"):
            raise DataFormatError(
                f"{path}:1: expected a header '# stem<TAB>k64...', found {header!r}"
            )
        sizes = tuple(header[1:])
        for number, line in enumerate(stream, 2):
            stem, tab, rest = line.rstrip("\n").partition("\t")
            ids = known.get(rest)
            if ids is None:
                ids = tuple(rest.split("\t"))
                if not tab or len(ids) != len(sizes) or not all(i.isdigit() for i in ids):
                    raise DataFormatError(
                        f"{path}:{number}: expected a stem and {len(sizes)} cluster ids, "
                        f"found {line!r}"
                    )
                known[rest] = ids
            table[stem] = ids
    return sizes, table


def write_clusters(
    sizes: tuple[str, ...], table: WordClusters, path: str | os.PathLike[str]
) -> None:
    """Write a cluster table sorted by stem (an empty ``table`` writes the header only)."""
    lines = ["\t".join(("# stem", *sizes)) + "\n"]
    lines += ["\t".join((stem, *ids)) + "\n" for stem, ids in sorted(table.items())]
    Path(path).write_text("".join(lines), encoding="utf-8")
