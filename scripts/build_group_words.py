"""List the words that name groups of people (المسلمين، الروس، العثمانيين) in WikiFANE.

AQMAR tags groups of people as PERS; ANERcorp and WikiFANE leave them untagged (WikiFANE
has a fine class for them, ``Group``, mapped to O in its coarse tags). A recipe turns
AQMAR's group spans into O with this list (``"not_names"``, ``arabic_ner/corpora.py``),
so that a model trained on all three does not learn that ``جنود روس`` names a person.

The words come from the training part of WikiFANE's fine-grained file only (its first
90%, as the recipe's dev split leaves it): normalized words seen at least twice inside a
``Group`` span and more often there than anywhere else, Arabic, three letters or more.
Run::

    .venv/bin/python scripts/build_group_words.py --shared ../shared \
        --out data/recipes/groups.txt

WikiFANE Gold is CC BY-SA 3.0 (Alotaibi & Lee 2014); so is this list.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from arabic_ner.conll import read_conll, split_train_dev
from arabic_ner.normalize import normalize_word
from arabic_ner.scoring import chunks
from arabic_ner.tokenize import TokenKind, token_kind

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "recipes" / "groups.txt")
    parser.add_argument("--dev-fraction", type=float, default=0.1)
    args = parser.parse_args()

    fine = args.shared / "data" / "ner" / "wikifane" / "train.fine.txt"
    train, _ = split_train_dev(read_conll(fine), args.dev_fraction)
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for sentence in train:
        group = {i for kind, a, b in chunks(sentence.tags) if kind == "Group" for i in range(a, b)}
        for i, word in enumerate(sentence.tokens):
            (inside if i in group else outside)[normalize_word(word)] += 1
    words = sorted(
        w
        for w, n in inside.items()
        if n >= 2 and n > outside[w] and len(w) >= 3 and token_kind(w) is TokenKind.WORD
    )
    header = (
        f"# Words naming groups of people: WikiFANE Gold's fine class Group, first "
        f"{1 - args.dev_fraction:.0%} of {fine.name}\n"
        "# (CC BY-SA 3.0, Alotaibi & Lee 2014); built by scripts/build_group_words.py\n"
    )
    args.out.write_text(header + "".join(f"{w}\n" for w in words), encoding="utf-8")
    print(f"{args.out}: {len(words)} words")


if __name__ == "__main__":
    main()
