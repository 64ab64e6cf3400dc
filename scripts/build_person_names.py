"""Build ``data/gazetteers/person_names.tsv``: parts of person names, from Wikidata.

The source is the name index shipped in the ``arabic-name-romanizer`` package (UNICEF,
MIT code): its ``units`` table lists the parts of people's names (given names and
surnames) in Arabic script with how many Wikidata people carry them. Only the rows whose
source is Wikidata (CC0) are used. A part is kept when at least ``--min-count`` people
carry it; its role is the one it has most often (``given``, ``surname`` or ``unknown``).

The package is needed only to build the file (the ``[data]`` extra); the script reads the
SQLite file from the installed package without importing it (its import loads ONNX
Runtime). Run from the project root::

    python scripts/build_person_names.py --out data/gazetteers/person_names.tsv
"""

from __future__ import annotations

import argparse
import importlib.util
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path


def find_index() -> Path:
    """Locate ``names.sqlite3`` inside the installed arabic-name-romanizer package."""
    spec = importlib.util.find_spec("arabic_name_romanizer")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("install the data extra first: pip install -e '.[data]'")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "names.sqlite3"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("data/gazetteers/person_names.tsv"))
    parser.add_argument("--sqlite", type=Path, help="names.sqlite3 (default: from the package)")
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args()

    index = args.sqlite or find_index()
    roles: defaultdict[str, Counter[str]] = defaultdict(Counter)
    with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
        query = (
            "SELECT arabic_key, role, SUM(count) FROM units "
            "WHERE source = 'wikidata' GROUP BY arabic_key, role"
        )
        for key, role, count in db.execute(query):
            roles[key][role] += count
    rows = []
    for key, counts in roles.items():
        total = sum(counts.values())
        if total >= args.min_count and " " not in key:
            role = max(counts, key=lambda r: (counts[r], r))
            rows.append(f"{key}\t{role}\t{total}\n")
    rows.sort()
    args.out.write_text("".join(rows), encoding="utf-8")
    print(f"{args.out}: {len(rows)} name parts (of {len(roles)} in {index.name})")


if __name__ == "__main__":
    main()
