"""Train the CRF model on CoNLL data and evaluate a model on gold-tokenized data.

``train_model`` writes a model folder (see ``model.py``) from training sentences and the
plain name lists in ``data/gazetteers/``; ``evaluate`` tags the gold tokens of a CoNLL
file and scores the labels with conlleval's exact-span rules. Both back the CLI commands
``arabic-ner train`` and ``arabic-ner evaluate``.

CRFsuite's L-BFGS training has no random component: the same data and parameters give
the same weights, so the shipped model can be rebuilt byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pycrfsuite

from arabic_ner.clitics import Lexicon
from arabic_ner.conll import Sentence
from arabic_ner.consistency import propagate
from arabic_ner.corpora import Corpus
from arabic_ner.features import FEATURE_VERSION, FeatureExtractor, core_of
from arabic_ner.gazetteer import Gazetteer, read_person_names, write_person_names
from arabic_ner.manifest import write_manifest
from arabic_ner.model import MODEL_FORMAT, Backend, CRFBackend, write_lexicon
from arabic_ner.namelike import NameLikeness
from arabic_ner.neural import NEURAL_FILE
from arabic_ner.normalize import normalize_word
from arabic_ner.scoring import Report, chunks, score
from arabic_ner.tokenize import Token, TokenKind, token_kind
from arabic_ner.wordclusters import WordClusters, read_clusters, write_clusters

__all__ = [
    "TrainConfig",
    "build_lexicon",
    "evaluate",
    "evaluate_corpora",
    "gold_tokens",
    "train_model",
]

GAZETTEER_FILES = (
    ("LOC", "loc.txt"),
    ("ORG", "org.txt"),
    ("ORG", "curated_org.txt"),
    ("PERS", "pers.txt"),
)
PERSON_NAMES = "person_names.tsv"
NAMELIKE_FOLDS = 5
MEMORY_FOLDS = 5
# A list entry seen at least this often in the training text, and inside an entity in
# fewer than half of those places, is an everyday word there: it is dropped.
PRUNE_MIN_SEEN = 3
PRUNE_MAX_ENTITY_RATE = 0.5


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """CRF training parameters. The defaults built the shipped model.

    Attributes:
        c1: L1 penalty (drops useless features; keeps the model small).
        c2: L2 penalty.
        max_iterations: L-BFGS iterations.
        min_freq: features seen fewer times than this in training are dropped.
    """

    c1: float = 0.05
    c2: float = 0.01
    max_iterations: int = 250
    min_freq: int = 1


def gold_tokens(words: Sequence[str]) -> list[Token]:
    """Make tokens for pre-tokenized words, as if they were separated by single spaces."""
    tokens = []
    position = 0
    for word in words:
        norm = normalize_word(word)
        end = position + len(word)
        tokens.append(Token(word, position, end, norm, position, end, token_kind(norm)))
        position = end + 1
    return tokens


def build_lexicon(sentences: Iterable[Sentence], gazetteer: Gazetteer) -> Lexicon:
    """Count the normalized words of the training sentences and collect known names.

    Known names are the words of gazetteer entries and training entity words that do not
    begin with a proclitic letter (``وموسكو`` is an entity token but not a name).
    """
    counts: Counter[str] = Counter()
    names = {word for key in gazetteer.entries for word in key.split(" ")}
    for sentence in sentences:
        norms = [normalize_word(w) for w in sentence.tokens]
        counts.update(norms)
        for _, start, end in chunks(sentence.tags):
            names.update(n for n in norms[start:end] if n and n[0] not in "وفبلك")
    return Lexicon(dict(counts), frozenset(names))


def prune_gazetteer(
    gazetteer: Gazetteer, sentences: Iterable[Sentence], features: FeatureExtractor
) -> Gazetteer:
    """Drop list entries that the training text mostly uses as ordinary words."""
    seen: Counter[str] = Counter()
    in_entity: Counter[str] = Counter()
    for sentence in sentences:
        stems = [features.stem(normalize_word(w)) for w in sentence.tokens]
        inside = [tag != "O" for tag in sentence.tags]
        for start, end, _ in gazetteer.matches(stems):
            key = " ".join(stems[start:end])
            seen[key] += 1
            in_entity[key] += all(inside[start:end])
    return gazetteer.without(
        key
        for key, n in seen.items()
        if n >= PRUNE_MIN_SEEN and in_entity[key] < PRUNE_MAX_ENTITY_RATE * n
    )


def namelike_examples(
    sentences: Iterable[Sentence], gazetteer: Gazetteer, features: FeatureExtractor
) -> dict[str, str]:
    """Label each Arabic word type with the class it takes most often, or O.

    Words are taken as the features see them (without proclitic and article); the
    gazetteer's words are added with their list's type where training has not seen them.
    """
    votes: dict[str, Counter[str]] = {}
    for sentence in sentences:
        for word, tag in zip(sentence.tokens, sentence.tags, strict=True):
            norm = normalize_word(word)
            if token_kind(norm) is TokenKind.WORD:
                core = core_of(features.stem(norm))
                votes.setdefault(core, Counter())[tag[2:] if tag != "O" else "O"] += 1
    examples = {word: counts.most_common(1)[0][0] for word, counts in votes.items()}
    for key, kinds in sorted(gazetteer.entries.items()):
        for word in key.split(" "):
            examples.setdefault(core_of(word), sorted(kinds)[0])
    return examples


def entity_memory(sentences: Sequence[Sentence], features: FeatureExtractor) -> Gazetteer:
    """The entities of tagged sentences as a gazetteer keyed by their stems.

    A name keeps the type it has most often; names that the same sentences mostly use as
    ordinary words are dropped, as in :func:`prune_gazetteer`.
    """
    types: dict[str, Counter[str]] = {}
    for sentence in sentences:
        stems = [features.stem(normalize_word(w)) for w in sentence.tokens]
        for kind, start, end in chunks(sentence.tags):
            types.setdefault(" ".join(stems[start:end]), Counter())[kind] += 1
    memory = Gazetteer({key: {c.most_common(1)[0][0]} for key, c in types.items()})
    return prune_gazetteer(memory, sentences, features)


def jackknifed_guesses(
    examples: Mapping[str, str], folds: int = NAMELIKE_FOLDS
) -> dict[str, tuple[str, float]]:
    """Guess each example word with a model trained on the other folds of words.

    The CRF is trained on these guesses, which are as unsure as the guesses for words
    it will meet later; a model that had seen the word would always be right about it.
    """
    guesses: dict[str, tuple[str, float]] = {}
    for fold in range(folds):
        held = {w for w in examples if zlib.crc32(w.encode("utf-8")) % folds == fold}
        model = NameLikeness.fit((w, c) for w, c in examples.items() if w not in held)
        guesses.update((w, model.predict(w)) for w in sorted(held))
    return guesses


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True, slots=True)
class Resources:
    """What a model is built from besides its weights: the lists and word models.

    ``guesses`` are the jackknifed name-likeness guesses for the training words and
    ``plain`` a feature extractor without the word models, used to find stems.
    """

    lexicon: Lexicon
    gazetteer: Gazetteer
    person_names: Mapping[str, tuple[str, int]]
    namelike: NameLikeness
    memory: Gazetteer
    guesses: Mapping[str, tuple[str, float]]
    plain: FeatureExtractor
    cluster_sizes: tuple[str, ...] = ()
    clusters: WordClusters = field(default_factory=dict)

    def write(self, out: Path) -> None:
        """Write the model folder's files other than the weights and ``meta.json``."""
        write_lexicon(self.lexicon, out / "lexicon.tsv")
        self.gazetteer.write(out / "gazetteer.tsv")
        self.namelike.write(out / "namelike.tsv")
        self.memory.write(out / "memory.tsv")
        write_person_names(self.person_names, out / PERSON_NAMES)
        write_clusters(self.cluster_sizes, self.clusters, out / "clusters.tsv")

    def features(self, memory: Gazetteer | None = None) -> FeatureExtractor:
        """A feature extractor over these resources, with ``memory`` as the names seen."""
        return FeatureExtractor(
            self.lexicon,
            self.gazetteer,
            person_names=self.person_names,
            namelike=self.namelike,
            namelike_guesses=self.guesses,
            memory=memory,
            clusters=self.clusters,
        )


def build_resources(
    train: Sequence[Sentence],
    gazetteer_dir: str | os.PathLike[str],
    clusters: str | os.PathLike[str] | None = None,
) -> Resources:
    """Build the lists and word models of a model from ``train`` and ``gazetteer_dir``.

    ``clusters`` is a word cluster table (``scripts/build_clusters.py``), or None for none.
    """
    gazetteer_dir = Path(gazetteer_dir)
    sizes, table = read_clusters(clusters) if clusters is not None else ((), {})
    stoplist_path = gazetteer_dir / "stoplist.txt"
    stoplist = stoplist_path.read_text("utf-8").split() if stoplist_path.exists() else []
    gazetteer = Gazetteer.from_lists(
        [
            (kind, gazetteer_dir / name)
            for kind, name in GAZETTEER_FILES
            if (gazetteer_dir / name).exists()
        ],
        stoplist=stoplist,
    )
    # Pruning splits proclitics with a first lexicon; the final one knows only kept names.
    gazetteer = prune_gazetteer(
        gazetteer, train, FeatureExtractor(build_lexicon(train, gazetteer), gazetteer)
    )
    lexicon = build_lexicon(train, gazetteer)
    names_path = gazetteer_dir / PERSON_NAMES
    person_names = read_person_names(names_path) if names_path.exists() else {}
    plain = FeatureExtractor(lexicon, gazetteer)
    examples = namelike_examples(train, gazetteer, plain)
    return Resources(
        lexicon=lexicon,
        gazetteer=gazetteer,
        person_names=person_names,
        namelike=NameLikeness.fit(examples.items()),
        memory=entity_memory(train, plain),
        guesses=jackknifed_guesses(examples),
        plain=plain,
        cluster_sizes=sizes,
        clusters=table,
    )


def jackknifed_features(
    train: Sequence[Sentence], resources: Resources
) -> Iterator[tuple[list[list[str]], Sentence]]:
    """Yield the training features of each sentence of ``train``, in order.

    The names of the training data are a feature at run time. In training, each fold of
    sentences sees only the names of the other folds (jackknifing), so a tagger learns how
    far to trust the feature on text it has not seen, not that it is always right; the
    name-likeness guesses are jackknifed the same way (:func:`jackknifed_guesses`).
    """
    fold_size = -(-len(train) // MEMORY_FOLDS)
    for start in range(0, len(train), fold_size):
        part = train[start : start + fold_size]
        rest = [*train[:start], *train[start + fold_size :]]
        features = resources.features(entity_memory(rest, resources.plain))
        for sentence in part:
            tokens = gold_tokens(sentence.tokens)
            yield features.sentence([t.norm for t in tokens], [t.kind for t in tokens]), sentence


def train_model(
    train: Sequence[Sentence],
    out: str | os.PathLike[str],
    *,
    gazetteer_dir: str | os.PathLike[str],
    dev: Sequence[Corpus] = (),
    config: TrainConfig | None = None,
    sources: Mapping[str, str] | None = None,
    clusters: str | os.PathLike[str] | None = None,
    recipe: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Train a CRF on ``train``, write the model folder ``out`` and return its metadata.

    The dev splits of the ``dev`` corpora are scored with the trained model (each on its
    own terms, :func:`evaluate_corpora`) and the reports go into ``meta.json``.
    ``sources`` (name → path) are recorded with their SHA-256, and so is the
    ``clusters`` table the features read. ``recipe`` (the corpora and options the
    sentences came from, see ``corpora.py``) goes into ``meta.json`` as it is, so that
    ``scripts/train_neural.py`` can rebuild the same sentences.
    """
    config = config or TrainConfig()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    resources = build_resources(train, gazetteer_dir, clusters)
    trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
    trainer.set_params(
        {
            "c1": config.c1,
            "c2": config.c2,
            "max_iterations": config.max_iterations,
            "feature.minfreq": config.min_freq,
            "feature.possible_transitions": True,
        }
    )
    for features, sentence in jackknifed_features(train, resources):
        trainer.append(features, sentence.tags)
    trainer.train(str(out / "model.crfsuite"))
    resources.write(out)
    # A BiLSTM left from an earlier model was trained with other features: drop it.
    (out / NEURAL_FILE).unlink(missing_ok=True)

    meta: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "feature_version": FEATURE_VERSION,
        "backend": "crf",
        "train_config": asdict(config),
        "train_sentences": len(train),
        "train_tokens": sum(len(s.tokens) for s in train),
        "sources": {
            name: {"path": Path(path).name, "sha256": _sha256(Path(path))}
            for name, path in {
                **(sources or {}),
                **({"clusters": clusters} if clusters else {}),
            }.items()
        },
        "gazetteers": str(gazetteer_dir),
        "clusters": str(clusters) if clusters else None,
        "recipe": dict(recipe or {}),
        "gazetteer_entries": len(resources.gazetteer),
        "lexicon_words": len(resources.lexicon.counts),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    write_manifest(out)
    reports = evaluate_corpora(CRFBackend(out), dev)
    if reports:
        meta["dev"] = {name: report.to_dict() for name, report in reports.items()}
    (out / "meta.json").write_text(
        json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_manifest(out)
    return meta


def evaluate(
    backend: Backend,
    sentences: Iterable[Sentence],
    *,
    document_size: int = 0,
    view: Callable[[Sequence[str]], Sequence[str]] | None = None,
) -> Report:
    """Tag the gold tokens of ``sentences`` and score against their gold tags.

    With ``document_size`` > 0, runs of that many consecutive sentences are treated as
    documents and names are propagated within each, as the pipeline does within a text
    (CoNLL files such as ANERcorp do not mark where articles begin). ``view`` rewrites
    gold and predicted tags alike before scoring (``Corpus.score_view``).
    """
    sentences = list(sentences)
    tokens = [gold_tokens(s.tokens) for s in sentences]
    tagged = backend.tag(tokens)
    if document_size > 0:
        stem = backend.lexicon.stem
        tagged = [
            result
            for i in range(0, len(tokens), document_size)
            for result in propagate(
                tokens[i : i + document_size], tagged[i : i + document_size], stem
            )
        ]
    gold: list[Sequence[str]] = [s.tags for s in sentences]
    predicted: list[Sequence[str]] = [labels for labels, _ in tagged]
    if view is not None:
        gold, predicted = [view(t) for t in gold], [view(t) for t in predicted]
    return score(gold, predicted)


def evaluate_corpora(
    backend: Backend, corpora: Sequence[Corpus], *, document_size: int = 0
) -> dict[str, Report]:
    """Score each corpus's dev split on its own terms (``Corpus.score_view``).

    The gold tags are the corpus's own; a type its recipe leaves out is left out of the
    score on both sides.
    """
    return {
        corpus.name: evaluate(
            backend, corpus.dev_gold(), document_size=document_size, view=corpus.score_view
        )
        for corpus in corpora
        if corpus.dev is not None or corpus.dev_fraction > 0
    }
