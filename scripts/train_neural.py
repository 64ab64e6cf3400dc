"""Train the character-CNN + BiLSTM tagger of ``arabic_ner/neural.py`` with torch.

Torch is needed here only (the CPU build is enough; ``make model`` installs it into
``.venv-train``); the package runs the weights in numpy. The tagger joins a CRF model
folder written by ``arabic-ner train`` and is trained on the same sentences with the same
jackknifed features: the CRF's ``meta.json`` names the recipe (corpora, dev splits,
relabelings), the lists and the word clusters, and this script reads them from there::

    .venv-train/bin/python scripts/train_neural.py --model build/model-dev --report

It writes ``neural.npz`` into the folder and the tagger's settings and mixing weight into
its ``meta.json``, after checking that numpy reproduces torch's scores. With one torch
thread (the default) training is deterministic: the same data give the same weights.
``--fold K`` trains on four fifths of those sentences instead (cross-validation,
``bench/crossval.py --neural``). ``--report`` scores the held-out part (each corpus's dev
split, or the fold) with the CRF alone, the tagger alone and their sums at several
weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from arabic_ner.conll import Sentence
from arabic_ner.corpora import Corpus
from arabic_ner.crf import LinearChainCRF
from arabic_ner.manifest import write_manifest
from arabic_ner.model import CRFBackend
from arabic_ner.neural import NEURAL_FILE, NeuralTagger, char_ids_of, write_weights
from arabic_ner.scoring import score
from arabic_ner.train import build_resources, gold_tokens, jackknifed_features

ROOT = Path(__file__).resolve().parents[1]
MIN_FEATURE_COUNT = 2
MIN_CHAR_COUNT = 2
IDENTITY = ("w=", "s=", "c=")


def own(features: list[str]) -> list[str]:
    """The features of a token that the tagger reads: its own and its list matches.

    Not its neighbours' features nor the stem bigrams (``s|+1s=``): the LSTM reads the
    neighbours themselves.
    """
    return [f for f in features if not f.startswith(("+", "-", "s|")) and f not in ("BOS", "EOS")]


class Net(nn.Module):
    def __init__(
        self,
        features: Sequence[str],
        n_chars: int,
        n_labels: int,
        args: argparse.Namespace,
        word_vectors: np.ndarray | None = None,
    ):
        super().__init__()
        n_features = len(features)
        # Which features name the word itself; --word-dropout hides them all at once for
        # some tokens, so the tagger learns to read the letters and context of new words.
        self.identity = torch.tensor([f.startswith(IDENTITY) for f in features])
        self.word_dropout = args.word_dropout
        self.features = nn.EmbeddingBag(n_features, args.feature_dim, mode="sum")
        self.chars = nn.Embedding(n_chars, args.char_dim, padding_idx=0)
        self.conv = nn.Conv1d(args.char_dim, args.kernels, 3, padding=1)
        # Word vectors learned from unlabeled news, fixed: row 0 (zeros) for a word without one.
        vector_width = 0 if word_vectors is None else word_vectors.shape[1]
        self.vectors = None
        if word_vectors is not None:
            table = np.concatenate([np.zeros((1, vector_width)), word_vectors.astype(np.float32)])
            self.vectors = nn.Embedding.from_pretrained(torch.tensor(table, dtype=torch.float32))
        self.lstm = nn.LSTM(
            args.feature_dim + vector_width + args.kernels,
            args.hidden,
            batch_first=True,
            bidirectional=True,
        )
        self.out = nn.Linear(2 * args.hidden, n_labels)
        self.transitions = nn.Parameter(torch.zeros(n_labels, n_labels))
        self.drop = nn.Dropout(args.dropout)
        self.feature_dropout = args.feature_dropout
        self.hide_vectors = args.hide_vectors
        nn.init.normal_(self.features.weight, std=0.1)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        ids, offsets = batch["feature_ids"], batch["offsets"]
        weights = torch.ones(len(ids))
        hidden = None
        if self.training and self.feature_dropout:
            keep = 1.0 - self.feature_dropout
            weights = torch.bernoulli(torch.full((len(ids),), keep)) / keep
        if self.training and self.word_dropout:
            token_of = torch.bucketize(torch.arange(len(ids)), offsets, right=True) - 1
            hidden = torch.bernoulli(torch.full((len(offsets),), self.word_dropout)).bool()
            weights = weights * ~(hidden[token_of] & self.identity[ids])
        words = self.features(ids, offsets, per_sample_weights=weights)
        chars = self.conv(self.chars(batch["chars"]).transpose(1, 2))  # (tokens, K, len)
        chars = chars.masked_fill(~batch["char_mask"][:, None, :], float("-inf"))
        parts = [words, chars.max(dim=2).values.relu()]
        if self.vectors is not None:
            vectors = self.vectors(batch["vector_ids"])
            if self.hide_vectors and hidden is not None:  # with the word's own features
                vectors = vectors * ~hidden[:, None]
            parts.insert(1, vectors)
        x = torch.cat(parts, dim=1)
        lengths = batch["lengths"]
        x = pad_sequence(list(torch.split(x, lengths.tolist())), batch_first=True)
        packed = pack_padded_sequence(self.drop(x), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)
        return self.out(self.drop(out))

    def loss(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of a linear-chain CRF without start or end transitions."""
        trans = self.transitions
        gold = emissions[:, 0].gather(1, tags[:, :1]).squeeze(1)
        alpha = emissions[:, 0]
        for t in range(1, emissions.shape[1]):
            on = mask[:, t]
            step = emissions[:, t].gather(1, tags[:, t : t + 1]).squeeze(1)
            gold = gold + (step + trans[tags[:, t - 1], tags[:, t]]) * on
            moved = torch.logsumexp(alpha[:, :, None] + trans[None], dim=1) + emissions[:, t]
            alpha = torch.where(on[:, None], moved, alpha)
        return (torch.logsumexp(alpha, dim=1) - gold).sum()


Encoded = tuple[list[list[int]], list[list[int]], list[int], list[int]]


def read_vectors(path: Path) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The word vector arrays of ``path`` (vectors.npz or neural.npz), and each word's row."""
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in ("vector_words", "word_vectors")}
    return arrays, {w: i for i, w in enumerate(arrays["vector_words"].tolist())}


def encode(
    rows: Sequence[tuple[list[list[str]], Sentence]],
    feature_ids: dict[str, int],
    char_ids: dict[str, int],
    label_ids: dict[str, int],
    vector_rows: dict[str, int] | None = None,
) -> list[Encoded]:
    """Feature ids, character ids, label ids and word vector rows (+1; 0: none) per token.

    A token's vector is its stem's (the ``s=`` feature), else its word's, as
    ``NeuralTagger`` looks it up.
    """
    encoded = []
    rows_of = vector_rows or {}
    for features, sentence in rows:
        tokens = gold_tokens(sentence.tokens)
        feats = [[feature_ids[f] for f in own(fs) if f in feature_ids] for fs in features]
        chars = [char_ids_of(t.norm, char_ids) for t in tokens]
        vector_ids = []
        for fs, token in zip(features, tokens, strict=True):
            stem = next(f[2:] for f in fs if f.startswith("s="))  # every token has one
            row = rows_of.get(stem)
            vector_ids.append(1 + (row if row is not None else rows_of.get(token.norm, -1)))
        encoded.append((feats, chars, [label_ids[tag] for tag in sentence.tags], vector_ids))
    return encoded


def collate(batch: Sequence[Encoded]) -> dict:
    flat: list[int] = []
    offsets: list[int] = []
    chars: list[list[int]] = []
    vector_ids: list[int] = []
    for feats, word_chars, _, token_vector_ids in batch:
        for token in feats:
            offsets.append(len(flat))
            flat.extend(token)
        chars.extend(word_chars)
        vector_ids.extend(token_vector_ids)
    longest = max(map(len, chars))
    char_tensor = torch.zeros((len(chars), longest), dtype=torch.long)
    for row, ids in enumerate(chars):
        char_tensor[row, : len(ids)] = torch.tensor(ids)
    lengths = torch.tensor([len(tags) for _, _, tags, _ in batch])
    tags = pad_sequence([torch.tensor(tags) for _, _, tags, _ in batch], batch_first=True)
    return {
        "feature_ids": torch.tensor(flat, dtype=torch.long),
        "offsets": torch.tensor(offsets, dtype=torch.long),
        "chars": char_tensor,
        "vector_ids": torch.tensor(vector_ids, dtype=torch.long),
        "char_mask": char_tensor != 0,
        "lengths": lengths,
        "tags": tags,
        "mask": torch.arange(int(lengths.max()))[None, :] < lengths[:, None],
    }


def train_net(
    train: Sequence[Sentence], meta: dict, args: argparse.Namespace
) -> tuple[Net, dict[str, np.ndarray]]:
    """Train the tagger on ``train``; return it and the arrays of ``neural.npz``.

    The features are built from the lists and clusters the CRF's ``meta`` names.
    """
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    resources = build_resources(
        train, meta.get("gazetteers", ROOT / "data" / "gazetteers"), meta.get("clusters")
    )
    rows = list(jackknifed_features(train, resources))
    feature_counts = Counter(f for features, _ in rows for fs in features for f in own(fs))
    features = sorted(f for f, n in feature_counts.items() if n >= MIN_FEATURE_COUNT)
    feature_ids = {f: i for i, f in enumerate(features)}
    char_counts = Counter(c for _, s in rows for t in gold_tokens(s.tokens) for c in f"^{t.norm}$")
    chars = "".join(sorted(c for c, n in char_counts.items() if n >= MIN_CHAR_COUNT))
    char_ids = {c: i + 2 for i, c in enumerate(chars)}
    labels = sorted({tag for _, s in rows for tag in s.tags})
    label_ids = {label: i for i, label in enumerate(labels)}
    vectors: dict[str, np.ndarray] = {}
    vector_rows: dict[str, int] = {}
    if args.vectors is not None:
        vectors, vector_rows = read_vectors(args.vectors)
    data = encode(rows, feature_ids, char_ids, label_ids, vector_rows)
    covered = sum(v > 0 for *_, vs in data for v in vs) / sum(len(d[3]) for d in data)
    print(
        f"{len(data)} sentences, {len(features)} features, {len(chars)} characters, "
        f"{len(vector_rows)} word vectors ({covered:.1%} of the tokens have one)"
    )

    net = Net(features, len(chars) + 2, len(labels), args, vectors.get("word_vectors"))
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps = args.epochs * -(-len(data) // args.batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / steps)
    for epoch in range(args.epochs):
        net.train()
        random.shuffle(data)
        total = 0.0
        began = time.time()
        for start in range(0, len(data), args.batch):
            batch = collate(data[start : start + args.batch])
            loss = net.loss(net(batch), batch["tags"], batch["mask"])
            optimizer.zero_grad()
            (loss / len(batch["lengths"])).backward()
            nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            optimizer.step()
            schedule.step()
            total += float(loss.detach())
        print(f"epoch {epoch + 1}: loss {total / len(data):.3f} ({time.time() - began:.0f} s)")

    net.eval()
    state = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    return net, {
        "features": np.array(features),
        "feature_vectors": state["features.weight"],
        "chars": np.array(chars),
        "char_vectors": state["chars.weight"],
        "conv_weight": state["conv.weight"],
        "conv_bias": state["conv.bias"],
        "f_w_ih": state["lstm.weight_ih_l0"],
        "f_w_hh": state["lstm.weight_hh_l0"],
        "f_bias": state["lstm.bias_ih_l0"] + state["lstm.bias_hh_l0"],
        "b_w_ih": state["lstm.weight_ih_l0_reverse"],
        "b_w_hh": state["lstm.weight_hh_l0_reverse"],
        "b_bias": state["lstm.bias_ih_l0_reverse"] + state["lstm.bias_hh_l0_reverse"],
        "out_weight": state["out.weight"],
        "out_bias": state["out.bias"],
        "transitions": state["transitions"],
        "labels": np.array(labels),
        **vectors,
    }


def check_numpy(net: Net, model: Path, sentences: Sequence[Sentence]) -> float:
    """Return the largest difference between torch's and numpy's scores of ``sentences``.

    Both read the model folder's features (not the jackknifed training ones).
    """
    backend = CRFBackend(model, neural=False)  # the CRF and the features
    tagger = NeuralTagger(model / NEURAL_FILE)
    tokens = [gold_tokens(s.tokens) for s in sentences]
    rows = [
        (backend.features.sentence([t.norm for t in ts], [t.kind for t in ts]), s)
        for ts, s in zip(tokens, sentences, strict=True)
    ]
    labels = {label: i for i, label in enumerate(tagger.labels)}
    vector_rows = read_vectors(model / NEURAL_FILE)[1] if net.vectors is not None else {}
    batch = collate(encode(rows, tagger.feature_ids, tagger.char_ids, labels, vector_rows))
    with torch.no_grad():
        expected = net(batch).numpy()
    got = tagger.scores(tokens, backend.features)
    return max(float(np.abs(expected[i, : len(g)] - g).max()) for i, g in enumerate(got))


def report(
    model: Path,
    held: Sequence[Sentence],
    mixes: Sequence[float],
    view: Callable[[Sequence[str]], Sequence[str]] = tuple,
) -> dict[str, float]:
    """Score ``held`` with the CRF, the tagger alone and their sums; print and return F1.

    ``view`` rewrites gold and predicted tags before scoring (``Corpus.score_view``).
    """
    backend = CRFBackend(model, neural=False)  # the CRF and the features
    crf = backend.crf
    tagger = NeuralTagger(model / NEURAL_FILE, labels=crf.labels)
    tokens = [gold_tokens(s.tokens) for s in held]
    crf_scores = [
        backend.features.emissions([t.norm for t in s], [t.kind for t in s], crf) for s in tokens
    ]
    net_scores: list[np.ndarray] = [np.zeros(0)] * len(tokens)
    ranked = sorted(range(len(tokens)), key=lambda i: len(tokens[i]))
    for start in range(0, len(ranked), 256):
        group = ranked[start : start + 256]
        scores = tagger.scores([tokens[i] for i in group], backend.features)
        for i, s in zip(group, scores, strict=True):
            net_scores[i] = s
    net_transitions = tagger.transitions
    gold = [view(s.tags) for s in held]
    results = {}
    for name, mix in [("crf", 0.0), *((f"crf+{m}*net", m) for m in mixes), ("net", None)]:
        if mix is None:
            decoder = LinearChainCRF(crf.labels, {}, crf.state_weights, net_transitions)
            emissions = net_scores
        else:
            decoder = LinearChainCRF(
                crf.labels, {}, crf.state_weights, crf.transitions + mix * net_transitions
            )
            emissions = [c + mix * n for c, n in zip(crf_scores, net_scores, strict=True)]
        paths = decoder.viterbi(emissions)
        result = score(gold, [view([crf.labels[y] for y in p]) for p in paths])
        by_type = "  ".join(f"{t.type} {t.f1 * 100:5.2f}" for t in result.by_type)
        print(f"{name:>12}: micro {result.micro.f1 * 100:5.2f}  {by_type}")
        results[name] = result.micro.f1
    return results


def fit(train: Sequence[Sentence], model: Path, args: argparse.Namespace) -> None:
    """Train the tagger on ``train`` and add it to the CRF model folder ``model``."""
    meta_path = model / "meta.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    net, arrays = train_net(train, meta, args)
    if args.feature_precision == "half":
        # The largest array (features x dimensions) in half precision: 8 MiB less in every
        # process that loads it and in the package, and the same dev F1 on all three
        # corpora (docs/benchmarks.md). The net takes the rounded weights too, so that
        # check_numpy below compares numpy with the weights as written.
        half = arrays["feature_vectors"].astype(np.float16)
        if not np.isfinite(half).all():
            raise SystemExit(
                "a feature vector's weight overflows half precision: "
                "rerun with --feature-precision single"
            )
        arrays["feature_vectors"] = half
        with torch.no_grad():
            net.features.weight.copy_(torch.from_numpy(half.astype(np.float32)))
    write_weights(model / NEURAL_FILE, arrays)
    write_manifest(model)
    difference = check_numpy(net, model, train[:64])
    print(f"largest difference between torch and numpy scores: {difference:.2e}")
    if difference > 1e-3:
        raise SystemExit("numpy does not reproduce torch's scores")
    meta["neural"] = {
        "mix": args.mix,
        "outside_bias": args.outside_bias,
        **{k: getattr(args, k) for k in HYPERPARAMETERS},
    }
    if args.vectors is not None:
        digest = hashlib.sha256(args.vectors.read_bytes()).hexdigest()
        meta["neural"]["vectors"] = {"path": str(args.vectors), "sha256": digest}
    meta_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_manifest(model)


def parser() -> argparse.ArgumentParser:
    """The options of this script; ``bench/crossval.py --neural`` takes the same."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--model",
        type=Path,
        required=True,
        help="CRF model folder to join; its meta.json names the corpora, lists and clusters",
    )
    parser.add_argument("--fold", type=int, default=None, help="train on all fifths but this")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--report",
        action="store_true",
        help="score the held-out part at several weights, without the bias against O "
        "(bench/accuracy.py scores the folder with it)",
    )
    add_hyperparameters(parser)
    return parser


def add_hyperparameters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mix", type=float, default=1.0, help="weight of the tagger's scores")
    parser.add_argument(
        "--outside-bias",
        type=float,
        default=0.0,
        help="subtracted from O's score of every token when tagging (chosen on the dev "
        "splits with bench/accuracy.py --outside-bias; written to meta.json)",
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--feature-dim", type=int, default=48)
    parser.add_argument("--char-dim", type=int, default=24)
    parser.add_argument("--kernels", type=int, default=48)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--feature-dropout", type=float, default=0.1)
    parser.add_argument("--word-dropout", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: reproducible)")
    parser.add_argument(
        "--hide-vectors",
        action="store_true",
        help="--word-dropout hides a token's word vector too, with its own features",
    )
    parser.add_argument(
        "--feature-precision",
        choices=("half", "single"),
        default="half",
        help="precision of the feature vectors in neural.npz (half: 8 MiB less per process)",
    )
    parser.add_argument(
        "--vectors",
        type=Path,
        default=None,
        help="word vectors to read beside the features (scripts/build_clusters.py writes "
        "data/clusters/vectors.npz); stored in neural.npz",
    )


HYPERPARAMETERS = (
    "epochs",
    "batch",
    "lr",
    "feature_dim",
    "char_dim",
    "kernels",
    "hidden",
    "dropout",
    "feature_dropout",
    "word_dropout",
    "hide_vectors",
    "feature_precision",
    "seed",
)


def corpora_of(meta: dict) -> tuple[list[Corpus], bool]:
    """The corpora a CRF was trained on (its ``meta.json`` recipe) and whether with dev."""
    recipe = meta.get("recipe") or {}
    if not recipe.get("corpora"):
        raise SystemExit("the model's meta.json has no recipe: retrain the CRF with this code")
    corpora = [
        Corpus.from_dict(entry, Path("."), f"meta.json corpus {i + 1}")
        for i, entry in enumerate(recipe["corpora"])
    ]
    return corpora, bool(recipe.get("with_dev"))


def main() -> None:
    args = parser().parse_args()
    if not np.isfinite(args.outside_bias):
        raise SystemExit(f"--outside-bias {args.outside_bias} is not a finite number")
    torch.set_num_threads(args.threads)
    meta = json.loads((args.model / "meta.json").read_text("utf-8"))
    corpora, with_dev = corpora_of(meta)
    train = [s for c in corpora for s in c.split(with_dev=with_dev)[0]]
    if args.fold is None and meta["train_sentences"] != len(train):
        raise SystemExit(
            f"the CRF in {args.model} was trained on {meta['train_sentences']} sentences, "
            f"its recipe now gives {len(train)}: have the data files changed?"
        )
    if args.fold is not None:
        size = -(-len(train) // args.folds)
        held = train[args.fold * size : (args.fold + 1) * size]
        train = train[: args.fold * size] + train[(args.fold + 1) * size :]
    fit(train, args.model, args)
    if args.report and args.fold is not None:
        report(args.model, held, [0.5, 1.0, 1.5, 2.0])
    elif args.report and not with_dev:
        for corpus in corpora:
            print(f"dev of {corpus.name}:")
            report(args.model, corpus.dev_gold(), [0.5, 1.0, 1.5, 2.0], corpus.score_view)


if __name__ == "__main__":
    main()
