"""Learn word clusters from the unlabeled Arabic news in ``../shared/data/unlabeled/``.

Names never seen in training are half of the errors (docs/model.md). Words that occur in
the same contexts in ten million words of news (a new minister beside the ministers the
model did see, a club beside the clubs) get vectors that lie close together; grouping the
vectors with k-means at several sizes gives each word a few cluster ids, which the CRF
reads as features and the BiLSTM as learned vectors (``features.py``). Clusters at several
granularities, read by a linear model, is the recipe of Guo et al. (2014, "Revisiting
embedding features for simple semi-supervised learning"); word2vec with gensim and
k-means with scikit-learn do the work, so no learning code is written here.

Steps, each written under ``--work`` (default ``build/clusters``; use another folder for
other ``--corpora``) so that a run that stops loses only the step it was in:

1. ``stems.txt``: the articles normalized and tokenized as the pipeline does it, one
   sentence a line, Arabic words without their proclitic (``وموسكو`` → ``موسكو``), split
   with a lexicon counted on the same text (``clitics.py``); numbers become ``<num>``,
   punctuation is dropped.
2. ``vectors.kv``: word2vec skip-gram vectors of the stems seen ``--min-count`` times.
3. ``--out`` (``data/clusters/clusters.tsv``): a header line, then ``stem<TAB>id<TAB>id...``
   with one k-means cluster id per size in ``--sizes``, for every stem that has a vector.
4. ``--vectors-out`` (``data/clusters/vectors.npz``): the vectors themselves, which the
   BiLSTM reads beside its features (``scripts/train_neural.py --vectors``): reduced to
   ``--vector-dim`` dimensions by PCA and stored in half precision (6 MB instead of 26),
   arrays ``vector_words`` and ``word_vectors`` as ``neural.npz`` holds them.

Needs ``gensim`` and ``scikit-learn`` (``pip install -e '.[vectors]'``; ``make clusters``
does it in ``.venv-train``). The data are SaudiNewsNet (CC BY-NC-SA 4.0) and the ANT
Corpus (Apache-2.0); the clusters are derived from both (see docs/model.md).
"""

from __future__ import annotations

import argparse
import json
import lzma
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from arabic_ner.clitics import Lexicon, split_proclitic
from arabic_ner.neural import write_weights
from arabic_ner.tokenize import TokenKind, sentences, tokenize

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ("saudinewsnet.jsonl.xz", "antcorpus.jsonl.xz")


def articles(folder: Path, corpora: tuple[str, ...] = CORPORA) -> Iterator[str]:
    """Yield the title and text of each article of the unlabeled corpora."""
    for name in corpora:
        with lzma.open(folder / name, "rt", encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                yield f"{record.get('title') or ''}\n{record.get('text') or ''}"


def word_sentences(folder: Path, corpora: tuple[str, ...]) -> Iterator[list[str]]:
    """Yield sentences as normalized Arabic words and ``<num>``, punctuation dropped."""
    for text in articles(folder, corpora):
        for sentence in sentences(tokenize(text), text):
            words = [
                t.norm if t.kind is TokenKind.WORD else "<num>"
                for t in sentence
                if t.kind in (TokenKind.WORD, TokenKind.NUMBER)
            ]
            if len(words) > 1:
                yield words


def write_stems(folder: Path, out: Path, corpora: tuple[str, ...] = CORPORA) -> None:
    """Step 1: tokenize the corpora, count words, split proclitics, write stem sentences."""
    started = time.perf_counter()
    raw = out.with_suffix(".words.tmp")
    counts: Counter[str] = Counter()
    with raw.open("w", encoding="utf-8") as sink:
        for words in word_sentences(folder, corpora):
            counts.update(words)
            sink.write(" ".join(words) + "\n")
    lexicon = Lexicon(dict(counts))
    stems: dict[str, str] = {}
    tmp = out.with_suffix(".tmp")
    n_words = 0
    with raw.open(encoding="utf-8") as lines, tmp.open("w", encoding="utf-8") as sink:
        for line in lines:
            words = line.split()
            n_words += len(words)
            out_words = []
            for word in words:
                stem = stems.get(word)
                if stem is None:
                    stem = stems[word] = split_proclitic(word, lexicon)[1]
                out_words.append(stem)
            sink.write(" ".join(out_words) + "\n")
    raw.unlink()
    tmp.rename(out)
    print(
        f"{out}: {n_words:,} words, {len(counts):,} word types, "
        f"{len(set(stems.values())):,} stems ({time.perf_counter() - started:.0f} s)"
    )


def train_vectors(stems: Path, out: Path, args: argparse.Namespace) -> None:
    """Step 2: word2vec skip-gram vectors of the stems."""
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    started = time.perf_counter()
    model = Word2Vec(
        LineSentence(str(stems)),
        vector_size=args.dim,
        window=args.window,
        min_count=args.min_count,
        sg=1,
        negative=5,
        sample=1e-4,
        epochs=args.epochs,
        workers=args.workers,
        seed=args.seed,
    )
    model.wv.save(str(out))
    print(f"{out}: {len(model.wv):,} vectors of {args.dim} ({time.perf_counter() - started:.0f} s)")


def write_clusters(vectors: Path, out: Path, args: argparse.Namespace) -> None:
    """Step 3: k-means over the unit-length vectors at each size; one id per size."""
    from gensim.models import KeyedVectors
    from sklearn.cluster import MiniBatchKMeans

    started = time.perf_counter()
    wv = KeyedVectors.load(str(vectors))
    matrix = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    ids = []
    for size in args.sizes:
        kmeans = MiniBatchKMeans(
            n_clusters=size, batch_size=4096, n_init=3, random_state=args.seed, max_iter=100
        )
        ids.append(kmeans.fit_predict(matrix))
        print(f"  k={size}: {time.perf_counter() - started:.0f} s")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as sink:
        sink.write("# stem\t" + "\t".join(f"k{size}" for size in args.sizes) + "\n")
        for row, word in enumerate(wv.index_to_key):
            if word == "<num>":
                continue
            sink.write(word + "\t" + "\t".join(str(int(c[row])) for c in ids) + "\n")
    print(f"{out}: {len(wv.index_to_key):,} stems ({time.perf_counter() - started:.0f} s)")


def write_vectors(vectors: Path, out: Path, args: argparse.Namespace) -> None:
    """Step 4: the unit-length vectors, reduced by PCA, scaled and in half precision."""
    from gensim.models import KeyedVectors
    from sklearn.decomposition import PCA

    wv = KeyedVectors.load(str(vectors))
    matrix = wv.vectors / np.linalg.norm(wv.vectors, axis=1, keepdims=True)
    reduced = PCA(n_components=args.vector_dim, random_state=args.seed).fit_transform(matrix)
    reduced /= reduced.std() * 2  # values of about ±0.5, as the sums of learned features
    out.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"vector_words": np.array(wv.index_to_key), "word_vectors": reduced.astype(np.float16)}
    write_weights(out, arrays)  # as neural.npz: the words deflated, the numbers stored
    print(f"{out}: {len(wv.index_to_key):,} vectors of {args.vector_dim}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "clusters")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "clusters" / "clusters.tsv")
    parser.add_argument(
        "--vectors-out", type=Path, default=ROOT / "data" / "clusters" / "vectors.npz"
    )
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--vector-dim", type=int, default=50, help="dimensions kept (PCA)")
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--corpora",
        nargs="+",
        default=list(CORPORA),
        help="unlabeled files to learn from (default: both; antcorpus.jsonl.xz alone gives "
        "clusters under Apache-2.0, without SaudiNewsNet's non-commercial licence)",
    )
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    stems = args.work / "stems.txt"
    vectors = args.work / "vectors.kv"
    if not stems.exists():
        write_stems(args.shared / "data" / "unlabeled", stems, tuple(args.corpora))
    if not vectors.exists():
        train_vectors(stems, vectors, args)
    write_clusters(vectors, args.out, args)
    write_vectors(vectors, args.vectors_out, args)


if __name__ == "__main__":
    main()
