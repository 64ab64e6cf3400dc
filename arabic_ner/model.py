"""Taggers behind one small protocol, and the shipped model: a CRF with a BiLSTM.

A :class:`Backend` takes a batch of sentences (their tokens) and returns, for each, a BIO
label and a confidence per token. The registry :data:`BACKENDS` maps names to loaders;
the default, ``"crf"``, is a CRF (python-crfsuite) trained by this project, whose scores
are summed with a BiLSTM's where the model has one. A model is a folder of eight files:

- ``model.crfsuite``: the CRF weights;
- ``lexicon.tsv``: word counts of the training corpus and the known names, used to
  split proclitics (``word<TAB>count<TAB>is_name``);
- ``gazetteer.tsv``: the name lists matched as features (``phrase<TAB>TYPE``);
- ``person_names.tsv``: parts of person names with their role and frequency;
- ``namelike.tsv``: the character n-gram model of ``namelike.py``;
- ``memory.tsv``: the names tagged in the training data (``phrase<TAB>TYPE``);
- ``clusters.tsv``: word clusters learned from unlabeled text (``wordclusters.py``; the
  header alone when the model was trained without them);
- ``meta.json``: format and feature versions, training parameters and dev scores.

A folder may also hold ``neural.npz``, a character-CNN + BiLSTM tagger (``neural.py``)
trained on the same data by ``scripts/train_neural.py``, which records in ``meta.json``
the weight (``neural.mix``) of its scores in the sum with the CRF's. The shipped model has
one. Backend ``"crf"`` uses it when the folder has it; ``"crf-only"`` never does.

``arabic-ner train`` writes such a folder (the CRF); :func:`load_backend` reads one, checking that
every file is there and readable, and raises :class:`ModelError` naming the path if not.
"""

from __future__ import annotations

import contextlib
import functools
import json
import operator
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
from threadpoolctl import ThreadpoolController

from arabic_ner.clitics import Lexicon
from arabic_ner.crf import LinearChainCRF
from arabic_ner.errors import ConfigError, DataFormatError, ModelError
from arabic_ner.features import FEATURE_VERSION, FeatureExtractor
from arabic_ner.gazetteer import Gazetteer, read_person_names
from arabic_ner.manifest import verify_manifest
from arabic_ner.namelike import NameLikeness
from arabic_ner.neural import NEURAL_FILE, NeuralTagger
from arabic_ner.tokenize import Token
from arabic_ner.wordclusters import read_clusters

__all__ = [
    "BACKENDS",
    "MODEL_FORMAT",
    "Backend",
    "CRFBackend",
    "default_model_path",
    "load_backend",
    "read_lexicon",
    "write_lexicon",
]

MODEL_FORMAT = 1
DECODE_BATCH = 256  # sentences decoded together
SCORE_DIGITS = 6
MODEL_FILES = (
    "model.crfsuite",
    "lexicon.tsv",
    "gazetteer.tsv",
    "person_names.tsv",
    "namelike.tsv",
    "memory.tsv",
    "clusters.tsv",
    "meta.json",
)


class Backend(Protocol):
    """What the pipeline needs from a tagger: labels and confidences for sentences."""

    name: str
    path: Path
    lexicon: Lexicon  # for proclitic splits of entity starts; may be empty

    def tag(self, sentences: Sequence[Sequence[Token]]) -> list[tuple[list[str], list[float]]]:
        """Return, for each sentence, a BIO label and its confidence (0..1) per token."""
        ...


def default_model_path() -> Path:
    """Return the folder of the model shipped inside the package."""
    return Path(str(resources.files("arabic_ner").joinpath("models/default")))


def read_lexicon(path: str | os.PathLike[str]) -> Lexicon:
    """Read a ``word<TAB>count<TAB>is_name`` file."""
    counts: dict[str, int] = {}
    names: set[str] = set()
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in ("0", "1"):
                raise DataFormatError(
                    f"{path}:{number}: expected 'word<TAB>count<TAB>0|1', found {line!r}"
                )
            counts[parts[0]] = int(parts[1])
            if parts[2] == "1":
                names.add(parts[0])
    return Lexicon(counts, frozenset(names))


def write_lexicon(lexicon: Lexicon, path: str | os.PathLike[str]) -> None:
    """Write a lexicon as sorted ``word<TAB>count<TAB>is_name`` lines."""
    words = sorted(set(lexicon.counts) | lexicon.names)
    lines = (f"{w}\t{lexicon.count(w)}\t{int(w in lexicon.names)}\n" for w in words)
    Path(path).write_text("".join(lines), encoding="utf-8")


class CRFBackend:
    """The shipped tagger: a linear-chain CRF over the features of ``features.py``.

    Trained by CRFsuite, run by ``crf.py``. With ``neural`` (backend ``"crf"``) and a
    ``neural.npz`` in the folder, the BiLSTM's scores are added to the CRF's
    (``neural.py``); ``neural=False`` (backend ``"crf-only"``) tags with the CRF alone.
    The confidence of a label is its marginal probability under the model that decodes.

    ``transformer`` (backend ``"transformer"``) adds a fine-tuned transformer folder's
    log-probabilities, weighted by ``transformer_mix`` (default: its ``meta.json``'s).
    ``outside_bias`` is subtracted from every token's score of ``O`` before decoding
    (default: the model's ``meta.json``; 0 for the CRF alone): above 0 the tagger finds
    more entities at some cost in precision, below 0 fewer and surer ones.

    >>> backend = CRFBackend(default_model_path(), outside_bias=0.0)
    >>> backend.outside_bias, CRFBackend(default_model_path()).outside_bias
    (0.0, 1.5)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        neural: bool = True,
        trust: bool = False,
        transformer: str | os.PathLike[str] | None = None,
        transformer_mix: float | None = None,
        outside_bias: float | None = None,
    ) -> None:
        self.path = Path(path)
        # The registry name that loads it again.
        self.name = "transformer" if transformer is not None else "crf" if neural else "crf-only"
        missing = [f for f in MODEL_FILES if not (self.path / f).is_file()]
        if missing:
            raise ModelError(
                f"model folder {self.path} lacks {', '.join(missing)}; pass the folder that "
                "'arabic-ner train --out' wrote, or reinstall arabic-ner for the default model"
            )
        use_neural = neural and (self.path / NEURAL_FILE).is_file()
        # Every file is checked against the manifest before any is parsed (manifest.py).
        verify_manifest(
            self.path, [*MODEL_FILES, *([NEURAL_FILE] if use_neural else [])], trust=trust
        )
        meta = _read_part(self.path / "meta.json", lambda p: json.loads(p.read_text("utf-8")))
        if not isinstance(meta, dict):
            raise ModelError(
                f"{self.path / 'meta.json'} holds {type(meta).__name__}, not a JSON object; "
                "retrain the model with 'arabic-ner train' or reinstall arabic-ner"
            )
        self.meta: dict[str, Any] = meta
        self.lexicon = _read_part(self.path / "lexicon.tsv", read_lexicon)
        gazetteer = _read_part(self.path / "gazetteer.tsv", Gazetteer.read)
        person_names = _read_part(self.path / "person_names.tsv", read_person_names)
        namelike = _read_part(self.path / "namelike.tsv", NameLikeness.read)
        memory = _read_part(self.path / "memory.tsv", Gazetteer.read)
        _, clusters = _read_part(self.path / "clusters.tsv", read_clusters)
        version = self.meta.get("feature_version")
        if self.meta.get("format") != MODEL_FORMAT or version != FEATURE_VERSION:
            raise ModelError(
                f"model {self.path} has format {self.meta.get('format')} and feature version "
                f"{version}; this arabic-ner reads format {MODEL_FORMAT}, features "
                f"{FEATURE_VERSION}: retrain it with 'arabic-ner train'"
            )
        try:
            self.crf = LinearChainCRF.from_crfsuite(self.path / "model.crfsuite")
        except (OSError, ValueError, struct.error) as error:
            raise ModelError(
                f"cannot open CRF model {self.path / 'model.crfsuite'} (corrupt or truncated?): "
                f"{error}; retrain it with 'arabic-ner train' or reinstall arabic-ner"
            ) from error
        self.labels = self.crf.labels
        self._outside = self.labels.index("O") if "O" in self.labels else -1
        self.features = FeatureExtractor(
            self.lexicon,
            gazetteer,
            person_names=person_names,
            namelike=namelike,
            memory=memory,
            clusters=clusters,
        )
        # The BiLSTM's label scores, when the model has them, are added to the CRF's with
        # the weight chosen in training; the sum is decoded like a CRF (neural.py).
        self.neural: NeuralTagger | None = None
        self.decoder = self.crf
        self.outside_bias = 0.0
        """Subtracted from every token's score of ``O`` before decoding (see :meth:`_decode`)."""
        if use_neural:
            self.neural = NeuralTagger(
                self.path / NEURAL_FILE,
                labels=self.labels,
                strings=self.crf.attributes,
                words=clusters,
            )
            self.features.share_own = True
            mix = self.meta.get("neural", {}).get("mix")
            if not isinstance(mix, int | float):
                raise ModelError(
                    f"{self.path / 'meta.json'} does not give the weight of "
                    f"{NEURAL_FILE} ('neural': {{'mix': ...}}); retrain the neural tagger "
                    "for this model with scripts/train_neural.py"
                )
            self._mix = float(mix)
            self.outside_bias = _bias_of(self.meta.get("neural", {}), self.path / "meta.json")
            self.decoder = LinearChainCRF(
                self.labels,
                self.crf.attributes,
                self.crf.state_weights,
                self.crf.transitions + self._mix * self.neural.transitions,
            )

        # A fine-tuned transformer's log-probabilities, weighted, join the sum (backend
        # "transformer"; transformer.py): imported here only, its runtime is an extra.
        self.transformer: Any = None
        self.transformer_mix = 0.0
        """The weight of the transformer's scores in the sum (0.0 without one)."""
        if transformer is not None:
            from arabic_ner.transformer import TransformerScorer

            self.transformer = TransformerScorer(transformer, labels=self.labels, trust=trust)
            mix = self.transformer.meta.get("mix") if transformer_mix is None else transformer_mix
            if not isinstance(mix, int | float):
                raise ModelError(
                    f"{Path(transformer) / 'meta.json'} does not give the weight of the "
                    "transformer's scores ('mix'); re-export it with scripts/train_transformer.py"
                )
            self.transformer_mix = float(mix)
            # Its own bias: the scores it joins are on another scale than the default's.
            self.outside_bias = _bias_of(self.transformer.meta, Path(transformer) / "meta.json")
            # What load_backend("transformer", path) takes to load it again (in a worker).
            self.crf_path, self.path = self.path, Path(transformer)
        if outside_bias is not None:
            bias = _finite(outside_bias)
            if bias is None:
                raise ConfigError(
                    f"outside_bias must be a finite number, got {outside_bias!r}: pass the "
                    "value to subtract from O's scores (e.g. 1.5), or None for the model's own"
                )
            self.outside_bias = bias

    def __repr__(self) -> str:
        tagger = "CRF + BiLSTM" if self.neural is not None else "CRF"
        if self.transformer is not None:
            tagger += " + transformer"
        return f"CRFBackend({str(self.path)!r}, name={self.name!r}, tagger={tagger!r})"

    def tag(self, sentences: Sequence[Sequence[Token]]) -> list[tuple[list[str], list[float]]]:
        """Return the most likely labels of each sentence and their marginal probabilities.

        All sentences are decoded together (see ``crf.py``); marginals are computed only
        for the sentences that have an entity.
        """
        out: list[tuple[list[str], list[float]]] = [([], []) for _ in sentences]
        filled = [i for i, s in enumerate(sentences) if s]
        if not filled:
            return out
        # Decode sentences of similar length together, so little of a batch is padding.
        filled.sort(key=lambda i: len(sentences[i]))
        # One BLAS thread: the matrices are small, and BLAS threads busy-waiting for each
        # other made two pipe() workers on two cores five times slower than one process.
        with _one_blas_thread():
            for chunk in range(0, len(filled), DECODE_BATCH):
                group = filled[chunk : chunk + DECODE_BATCH]
                decoded = self._decode([sentences[i] for i in group])
                for i, result in zip(group, decoded, strict=True):
                    out[i] = result
        return out

    def _decode(self, sentences: list[Sequence[Token]]) -> list[tuple[list[str], list[float]]]:
        """Sum the taggers' scores and decode, all sentences laid end to end in one array."""
        keys = [list(map(_NORM_AND_KIND, s)) for s in sentences]
        emissions = self.features.emissions_many(keys, self.crf)
        if self.neural is not None:
            emissions += self._mix * self.neural.scores_flat(keys, self.features)
        if self.transformer is not None:
            encoded = self.transformer.log_probs(sentences)
            emissions += self.transformer_mix * np.concatenate(encoded)
        if self.outside_bias and self._outside >= 0:
            # The taggers are surer of O than they should be for the best F1 (precision
            # above recall on every dev split): a bias chosen on the dev splits lowers O's
            # scores, as Minkov et al. (2006) tune a CRF's recall-precision trade-off.
            emissions[:, self._outside] -= self.outside_bias
        lengths = np.array([len(s) for s in sentences], dtype=np.intp)
        starts = np.zeros(len(lengths), dtype=np.intp)
        np.cumsum(lengths[:-1], out=starts[1:])
        crf = self.decoder
        flat_paths = crf.viterbi_flat(emissions, starts, lengths)
        # Marginals only for the sentences with an entity: the others score 1.0.
        named_sentences = np.add.reduceat(flat_paths != self._outside, starts) > 0
        named_tokens = np.repeat(named_sentences, lengths)
        scores = np.ones(len(flat_paths))
        if named_tokens.any():
            named = np.flatnonzero(named_sentences)
            marginals = crf.marginals_flat(emissions, starts[named], lengths[named])
            chosen = marginals[np.flatnonzero(named_tokens), flat_paths[named_tokens]]
            # Rounded: the last bits of a float depend on which sentences share a
            # batch, and the same text must give the same entities however it is fed.
            scores[named_tokens] = np.round(chosen, SCORE_DIGITS)
        labels = [crf.labels[y] for y in flat_paths.tolist()]
        score_list = scores.tolist()
        return [
            (labels[start : start + n], score_list[start : start + n])
            for start, n in zip(starts.tolist(), lengths.tolist(), strict=True)
        ]


def _bias_of(settings: Any, path: Path) -> float:
    """The ``outside_bias`` of a meta.json section (0.0 when it has none)."""
    given = settings.get("outside_bias", 0.0) if isinstance(settings, dict) else 0.0
    bias = _finite(given)
    if bias is None:
        raise ModelError(
            f"{path} gives outside_bias {given!r}, not a finite number; set it to the value "
            "chosen on the dev splits (bench/accuracy.py --outside-bias), or remove it for 0"
        )
    return bias


def _finite(value: object) -> float | None:
    """``value`` as a float if it is a finite int or float (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return None
    return float(value)


# (token.norm, token.kind), read in C: a generator of attribute reads was a tenth of tagging.
_NORM_AND_KIND = operator.itemgetter(Token._fields.index("norm"), Token._fields.index("kind"))

_T = TypeVar("_T")
# What a damaged file makes the readers raise: a short or garbled line (ValueError,
# IndexError, KeyError), a file of the wrong kind (TypeError, AttributeError), bytes that
# are not UTF-8 (UnicodeDecodeError, a ValueError).
_DAMAGE = (OSError, ValueError, IndexError, KeyError, TypeError, AttributeError)


def _read_part(path: Path, reader: Callable[[Path], _T]) -> _T:
    """Read one file of a model folder with ``reader``; damage raises :class:`ModelError`."""
    try:
        return reader(path)
    except ModelError:
        raise
    except _DAMAGE as error:
        raise ModelError(
            f"cannot read {path} ({type(error).__name__}: {error}): the model file is damaged; "
            "retrain the model with 'arabic-ner train' or reinstall arabic-ner"
        ) from error


@functools.cache
def _blas_libraries() -> list[Any]:
    """The controllers of the BLAS libraries numpy loaded (looked up once per process)."""
    return list(ThreadpoolController().select(user_api="blas").lib_controllers)


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread, then give each library back its own number.

    What ``ThreadpoolController().limit(limits=1, user_api="blas")`` does, through the
    libraries' controllers and only for those that run more than one thread: ``limit``
    builds the libraries' info on every call, 17 us, and a short sentence takes 1.2 ms.

    >>> with _one_blas_thread():
    ...     all(library.num_threads == 1 for library in _blas_libraries())
    True
    """
    changed = []
    for library in _blas_libraries():
        threads = library.num_threads
        if threads is not None and threads != 1:
            library.set_num_threads(1)
            changed.append((library, threads))
    try:
        yield
    finally:
        for library, threads in changed:
            library.set_num_threads(threads)


BACKENDS: dict[str, Callable[[Path | None, bool], Backend]] = {
    "crf": lambda path, trust: CRFBackend(path or default_model_path(), trust=trust),
    "crf-only": lambda path, trust: CRFBackend(
        path or default_model_path(), neural=False, trust=trust
    ),
    "transformer": lambda path, trust: _transformer_backend(path, trust),
    "camel": lambda p, t: __import__("arabic_ner.backends.camel", fromlist=["*"]).load(p, t),
    "stanza": lambda p, t: __import__("arabic_ner.backends.stanza", fromlist=["*"]).load(p, t),
}
"""Backend loaders by name; each takes a model path (None: its default model) and whether
to load a folder without a manifest (``manifest.py``)."""


def _transformer_backend(path: Path | None, trust: bool) -> Backend:
    """The shipped CRF and BiLSTM with the transformer at ``path`` (default: the shipped one)."""
    from arabic_ner.transformer import default_transformer_path

    return CRFBackend(
        default_model_path(), trust=trust, transformer=path or default_transformer_path()
    )


def load_backend(
    name: str = "crf", path: str | os.PathLike[str] | None = None, *, trust: bool = False
) -> Backend:
    """Load the backend ``name`` with the model at ``path`` (its default model if None).

    The folder's files are checked against its ``manifest.json`` first; ``trust=True``
    loads a folder that has none (one you built yourself).

    >>> load_backend("crf").name
    'crf'
    """
    loader = BACKENDS.get(name)
    if loader is None:
        raise ModelError(f"unknown backend {name!r}; choose one of {', '.join(sorted(BACKENDS))}")
    return loader(Path(path) if path is not None else None, trust)
