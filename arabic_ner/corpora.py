"""Training corpora: which CoNLL files a model learns from, and how their tags are read.

Annotated Arabic corpora disagree on what a name is. ANERcorp's MISC is events, products
and nationalities used as nouns; AQMAR's MISC is whatever each article chose (software,
sports events, particles) and it tags groups of people (العرب) as PERS; WikiFANE's MISC is
vehicles, weapons and products, and it puts buildings under LOC (each corpus's SOURCE.md).
A model trained on several corpora reads each one through a :class:`Corpus`: its training
file, its dev split (a file, or the last fraction of the training file) and a ``relabel``
map that renames a type, or turns it into ``O`` where a corpus's notion of it would teach
the model something else than the others do.

A *recipe* is a JSON file listing corpora, paths relative to a base folder (``../shared``
for the project's recipes in ``data/recipes/``), or, when they start with ``./`` or
``../``, to the recipe's own folder (the project's silver labels, ``data/silver/``)::

    {"corpora": [
      {"name": "anercorp", "train": "data/ner/anercorp/train.txt", "dev_fraction": 0.1},
      {"name": "aqmar", "train": "data/ner/aqmar/train.txt", "dev": "data/ner/aqmar/dev.txt",
       "relabel": {"MISC": "O"}}
    ]}

Each dev split is scored on its own corpus's terms: a type the recipe turns into ``O`` for
a corpus is left out of that corpus's score, on both sides (:meth:`Corpus.score_view`).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arabic_ner.clitics import Lexicon, split_proclitic
from arabic_ner.conll import Sentence, read_conll, split_train_dev
from arabic_ner.errors import ConfigError
from arabic_ner.normalize import normalize_word
from arabic_ner.scoring import chunks

__all__ = ["Corpus", "read_recipe", "relabel_tags"]

_TYPE = re.compile(r"[^\W_]\w*")  # an entity type (PERS, Population_Center); "O" too


def relabel_tags(tags: Sequence[str], relabel: Mapping[str, str]) -> tuple[str, ...]:
    """Rename the types of BIO tags; a type mapped to ``O`` becomes ``O``.

    >>> relabel_tags(["B-MISC", "I-MISC", "B-PERS", "O"], {"MISC": "O"})
    ('O', 'O', 'B-PERS', 'O')
    >>> relabel_tags(["B-GPE", "I-GPE"], {"GPE": "LOC"})
    ('B-LOC', 'I-LOC')
    """
    out = []
    for tag in tags:
        new = relabel.get(tag[2:]) if tag != "O" else None
        out.append(tag if new is None else "O" if new == "O" else f"{tag[:2]}{new}")
    return tuple(out)


@functools.cache
def read_word_list(path: Path) -> frozenset[str]:
    """The normalized words of a list file, one a line, ``#`` lines left out."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as error:
        raise ConfigError(f"cannot read word list {path}: {error}") from error
    return frozenset(normalize_word(w.strip()) for w in lines if w.strip() and w[0] != "#")


def _listed(word: str, words: frozenset[str]) -> bool:
    """Whether a normalized word, or the word without a leading proclitic, is listed.

    The proclitic is split as the pipeline splits it (``clitics.split_proclitic``), with
    the list's words as the known names: ``والروس`` and ``للمسلمين`` count.
    """
    return word in words or split_proclitic(word, Lexicon({}, words))[1] in words


def untag_words(
    tokens: Sequence[str], tags: Sequence[str], words: frozenset[str]
) -> tuple[str, ...]:
    """Untag the entities all of whose words are in ``words`` (proclitics allowed).

    >>> untag_words(["قاتل", "المسلمين", "والروس"], ["O", "B-PERS", "B-PERS"],
    ...             frozenset({"المسلمين", "الروس"}))
    ('O', 'O', 'O')
    >>> untag_words(["جامعة", "المسلمين"], ["B-ORG", "I-ORG"], frozenset({"المسلمين"}))
    ('B-ORG', 'I-ORG')
    """
    out = list(tags)
    for _, start, end in chunks(tags):
        if all(_listed(normalize_word(w), words) for w in tokens[start:end]):
            out[start:end] = ["O"] * (end - start)
    return tuple(out)


def untag_titles(
    tokens: Sequence[str], tags: Sequence[str], titles: frozenset[str]
) -> tuple[str, ...]:
    """Move the titles that open a person's name out of it, as ANERcorp tags them.

    A name is never emptied: its last word stays, title or not.

    >>> untag_titles(["الشيخ", "يوسف", "القرضاوي"], ["B-PERS", "I-PERS", "I-PERS"],
    ...              frozenset({"الشيخ"}))
    ('O', 'B-PERS', 'I-PERS')
    >>> untag_titles(["الملك"], ["B-PERS"], frozenset({"الملك"}))
    ('B-PERS',)
    """
    out = list(tags)
    for kind, start, end in chunks(tags):
        if kind != "PERS":
            continue
        first = start
        while first < end - 1 and normalize_word(tokens[first]) in titles:
            out[first] = "O"
            first += 1
        out[first] = "B-PERS"
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Corpus:
    """One training corpus of a recipe.

    Attributes:
        name: a short name, used in reports (``anercorp``).
        train: the CoNLL training file.
        dev: a CoNLL dev file; without it, the last ``dev_fraction`` of ``train`` is dev.
        dev_fraction: see ``dev``; the project's fixed split (``split_train_dev``).
        relabel: type → new type, or ``O`` to leave the type out of this corpus.
        not_names: a word list (``data/recipes/groups.txt``): entities made only of its
            words are untagged, in training and in the dev gold alike.
        titles: a word list (``data/recipes/titles.txt``): titles that open a person's
            name (``الشيخ``, ``الملك``) are moved out of it, in training and in the dev
            gold alike, for a corpus that tags them inside only some of the time.
    """

    name: str
    train: Path
    dev: Path | None = None
    dev_fraction: float = 0.1
    relabel: Mapping[str, str] = field(default_factory=dict)
    not_names: Path | None = None
    titles: Path | None = None

    def _read(self, path: Path, *, relabel: bool = True) -> list[Sentence]:
        sentences = read_conll(path)
        if self.not_names is not None:
            words = read_word_list(self.not_names)
            sentences = [
                Sentence(s.tokens, untag_words(s.tokens, s.tags, words)) for s in sentences
            ]
        if self.titles is not None:
            titles = read_word_list(self.titles)
            sentences = [
                Sentence(s.tokens, untag_titles(s.tokens, s.tags, titles)) for s in sentences
            ]
        if not (relabel and self.relabel):
            return sentences
        return [Sentence(s.tokens, relabel_tags(s.tags, self.relabel)) for s in sentences]

    def split(self, *, with_dev: bool = False) -> tuple[list[Sentence], list[Sentence]]:
        """Return the training and dev sentences, relabeled.

        With ``with_dev``, the dev sentences are trained on too (a model to ship, which
        no dev split can then measure) and the dev part comes back empty.
        """
        if self.dev is not None:
            train, dev = self._read(self.train), self._read(self.dev)
        else:
            train, dev = split_train_dev(self._read(self.train), self.dev_fraction)
        return (train + dev, []) if with_dev else (train, dev)

    def dev_gold(self) -> list[Sentence]:
        """The dev sentences as the corpus tags them, its ``not_names`` spans untagged.

        Types that the recipe renames or leaves out keep their tags here: scoring leaves
        them out on both sides (:meth:`score_view`).
        """
        if self.dev is not None:
            return self._read(self.dev, relabel=False)
        return split_train_dev(self._read(self.train, relabel=False), self.dev_fraction)[1]

    def score_view(self, tags: Sequence[str]) -> tuple[str, ...]:
        """Tags as this corpus is scored: the types it leaves out become ``O``.

        >>> Corpus("wikifane", Path("t.txt"), relabel={"MISC": "O"}).score_view(["B-MISC"])
        ('O',)
        """
        dropped = {kind: "O" for kind, new in self.relabel.items() if new == "O"}
        return relabel_tags(tags, dropped) if dropped else tuple(tags)

    def to_dict(self) -> dict[str, Any]:
        """The corpus as a recipe entry (absolute paths), for a model's ``meta.json``."""
        entry: dict[str, Any] = {"name": self.name, "train": str(self.train)}
        if self.dev is not None:
            entry["dev"] = str(self.dev)
        else:
            entry["dev_fraction"] = self.dev_fraction
        if self.relabel:
            entry["relabel"] = dict(self.relabel)
        if self.not_names is not None:
            entry["not_names"] = str(self.not_names)
        if self.titles is not None:
            entry["titles"] = str(self.titles)
        return entry

    @classmethod
    def from_dict(
        cls, entry: Mapping[str, Any], base: Path, where: str, lists: Path = Path(".")
    ) -> Corpus:
        """Read a recipe entry; ``where`` names it in errors.

        ``train`` and ``dev`` are relative to ``base`` (or, written as ``./…`` or
        ``../…``, to ``lists``), ``not_names`` and ``titles`` to ``lists``.
        """
        keys = {"name", "train", "dev", "dev_fraction", "relabel", "not_names", "titles"}
        if set(entry) - keys or "train" not in entry:
            raise ConfigError(
                f"{where}: a corpus needs 'train' and may have 'name', 'dev', 'dev_fraction', "
                f"'relabel', 'not_names' and 'titles'; found keys {sorted(entry)}"
            )
        relabel = dict(entry.get("relabel", {}))
        for old, new in relabel.items():
            if not (_TYPE.fullmatch(str(old)) and _TYPE.fullmatch(str(new))):
                raise ConfigError(f"{where}: cannot relabel {old!r} as {new!r}")
        fraction = entry.get("dev_fraction", 0.1)
        if not isinstance(fraction, int | float) or not 0 <= fraction <= 1:
            raise ConfigError(f"{where}: dev_fraction must be between 0 and 1, got {fraction!r}")
        train = _data_path(entry["train"], base, lists)
        return cls(
            name=str(entry.get("name", train.parent.name)),
            train=train,
            dev=_data_path(entry["dev"], base, lists) if entry.get("dev") else None,
            dev_fraction=float(fraction),
            relabel=relabel,
            not_names=lists / entry["not_names"] if entry.get("not_names") else None,
            titles=lists / entry["titles"] if entry.get("titles") else None,
        )


def _data_path(path: str, base: Path, lists: Path) -> Path:
    """``path`` under ``base``, or under ``lists`` (the recipe's folder) if it starts with a dot."""
    return (lists if path.startswith(("./", "../")) else base) / path


def read_recipe(path: str | os.PathLike[str], base: str | os.PathLike[str]) -> list[Corpus]:
    """Read a recipe file; its corpus paths are relative to ``base``, its word lists to
    the recipe's own folder.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     recipe = Path(folder) / "recipe.json"
    ...     _ = recipe.write_text('{"corpora": [{"train": "ner/anercorp/train.txt"}]}')
    ...     [c.name for c in read_recipe(recipe, "/shared")]
    ['anercorp']
    """
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read recipe {path}: {error}") from error
    corpora = data.get("corpora") if isinstance(data, dict) else None
    if not isinstance(corpora, list) or not corpora:
        raise ConfigError(f"{path}: expected {{'corpora': [...]}} with at least one corpus")
    out = [
        Corpus.from_dict(entry, Path(base), f"{path}, corpus {i + 1}", Path(path).parent)
        for i, entry in enumerate(corpora)
    ]
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: corpus names must differ, found {names}")
    return out
