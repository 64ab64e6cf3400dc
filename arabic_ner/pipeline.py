"""The pipeline: normalize → tokenize → tag → entities, for one text or a stream of them.

>>> import arabic_ner
>>> nlp = arabic_ner.load()
>>> [(e.type.value, e.text) for e in nlp("وصل الرئيس الروسي فلاديمير بوتين الى موسكو")]
[('PERS', 'فلاديمير بوتين'), ('LOC', 'موسكو')]

For each text: normalize (``normalize.py``), tokenize and split sentences
(``tokenize.py``), tag the sentences of many texts in one batch (``model.py``), propagate
confident names within each text, or each 100,000-character piece of a longer one
(``consistency.py``), build name entities
(``entities.py``), add dates, numbers and amounts (``rules.py``), then canonical names
and clusters (``aliases.py``).

A text is processed in pieces of at most :data:`CHUNK_CHARS` characters, cut at line
breaks (or, failing that, at spaces), and tagged in batches of about
:data:`BATCH_TOKENS` tokens, so a 50 MB string costs time linear in its size and working
memory bounded by a batch; only the list of entities returned grows with the text.
Offsets always point into the whole original string.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from operator import attrgetter
from pathlib import Path
from typing import Any, Literal, overload

from arabic_ner.aliases import AliasTable, default_aliases, resolve
from arabic_ner.consistency import propagate
from arabic_ner.entities import (
    NAME_TYPES,
    Entity,
    EntityType,
    entities_from_labels,
    trim_labels,
)
from arabic_ner.errors import ArabicNERError, ConfigError, InputError, WorkerError, check_text
from arabic_ner.model import Backend, load_backend
from arabic_ner.normalize import NormalizeConfig, Normalized, normalize
from arabic_ner.rules import RULE_TYPES, rule_entities
from arabic_ner.tokenize import Token, sentences, tokens_of

__all__ = ["BATCH_TOKENS", "CHUNK_CHARS", "Pipeline", "entity_types", "extract_entities", "load"]

CHUNK_CHARS = 100_000
BATCH_TOKENS = 20_000


def _pieces(text: str, limit: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """Yield ``(offset, piece)`` cuts of ``text``, each at most ``limit`` characters.

    A cut falls after the last line break of the window, else after its last space; a
    window with neither (``limit`` characters without a space) is cut where it ends.
    """
    start = 0
    while len(text) - start > limit:
        end = text.rfind("\n", start, start + limit) + 1
        if end <= start:
            end = text.rfind(" ", start, start + limit) + 1
        if end <= start:
            end = start + limit
        yield start, text[start:end]
        start = end
    yield start, text[start:]


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while one batch of texts is tagged.

    A batch allocates several tracked containers per token (tokens, feature and label
    lists), all freed by reference counting, none in a cycle; the collector's passes
    over them, and over the model's own containers, were 13% of ``nlp.pipe``'s time
    (timed with ``gc.callbacks``). If the collector was on, it is on again afterwards,
    and anything a batch did leave in a cycle is collected then.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(frozen=True, slots=True)
class _WorkerSpec:
    """What a worker process needs to rebuild the pipeline (the tagger is not picklable)."""

    backend: str
    path: str
    normalize_config: NormalizeConfig
    consistency: bool
    types: frozenset[EntityType]
    aliases: str | None
    # Settings given to the backend rather than read from its folder, set again on the
    # worker's copy: (attribute, value) pairs, e.g. CRFBackend's outside_bias.
    settings: tuple[tuple[str, Any], ...] = ()


# The backend attributes a caller may have set that a reloaded backend would not have.
_BACKEND_SETTINGS = ("outside_bias", "transformer_mix")

_WORKER: Pipeline | None = None
_WORKER_ERROR: ArabicNERError | None = None


def _init_worker(spec: _WorkerSpec, inherited: Pipeline | None = None) -> None:
    global _WORKER, _WORKER_ERROR
    if inherited is not None:  # forked: the parent's pipeline, model loaded, is here already
        _WORKER = inherited
        return
    # An error here is kept and raised by the first task, with its message: an
    # initializer that raises only breaks the pool, with a message that names nothing.
    # The parent checked the folder (or was told to trust it); a manifest is checked again.
    try:
        backend = load_backend(spec.backend, spec.path, trust=True)
        for name, value in spec.settings:
            setattr(backend, name, value)
        _WORKER = Pipeline(
            backend,
            normalize_config=spec.normalize_config,
            consistency=spec.consistency,
            types=spec.types,
            aliases=spec.aliases,
        )
    except ArabicNERError as error:
        _WORKER_ERROR = error


def _work(texts: list[str]) -> list[list[Entity]]:
    if _WORKER_ERROR is not None:
        raise _WORKER_ERROR
    assert _WORKER is not None
    return _WORKER._many(texts)


@dataclass(frozen=True, slots=True)
class _Piece:
    """A piece of one text, tokenized and split into sentences, waiting to be tagged."""

    index: int  # which text of the batch
    offset: int  # where the piece starts in that text
    normalized: Normalized
    sentences: list[list[Token]]


class _WordCounts(Mapping[str, int]):
    """How often each normalized word occurs in a piece, counted on first use.

    Only an entity that starts with a proclitic the lexicon cannot decide needs them.
    """

    def __init__(self, sentences: list[list[Token]]) -> None:
        self._sentences = sentences
        self._counts: Counter[str] | None = None

    def _all(self) -> Counter[str]:
        if self._counts is None:
            self._counts = Counter(t.norm for sentence in self._sentences for t in sentence)
        return self._counts

    def __getitem__(self, word: str) -> int:
        return self._all()[word]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


class Pipeline:
    """A loaded model with its normalization settings; call it on text.

    Build one with :func:`load`. It is cheap to call and keeps its model loaded.
    With ``consistency`` (the default), a name tagged confidently in a text is also
    tagged at its other mentions in that text (see ``consistency.py``). ``types`` limits
    what is found (default: every :class:`EntityType`); work for the other types is
    skipped. Name entities get a ``canonical`` name and a per-text ``cluster`` from the
    shipped alias table, plus ``aliases`` (a path) if given (see ``aliases.py``).

    A pipeline may be shared between threads; their calls run one at a time. For
    parallel work use processes: ``pipe(n_process=N)``, or one ``load()`` per process.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        normalize_config: NormalizeConfig | None = None,
        consistency: bool = True,
        types: Iterable[EntityType | str] | None = None,
        aliases: str | os.PathLike[str] | None = None,
    ) -> None:
        self.backend = backend
        self.normalize_config = normalize_config or NormalizeConfig()
        self.consistency = consistency
        self._lock = threading.Lock()
        self.types = frozenset(EntityType) if types is None else entity_types(types)
        self.aliases_path = str(aliases) if aliases is not None else None
        table = default_aliases()
        self.aliases = table.merged(AliasTable.read(aliases)) if aliases is not None else table
        self._names = bool(self.types & NAME_TYPES)
        self._stem = lru_cache(maxsize=200_000)(backend.lexicon.stem)
        self._rules = self.types & RULE_TYPES

    def __repr__(self) -> str:
        return f"Pipeline(backend={self.backend.name!r}, path={str(self.backend.path)!r})"

    def __call__(self, text: str) -> list[Entity]:
        """Return the entities of ``text``, sorted by position, never overlapping."""
        return self._many([check_text(text)])[0]

    def __getstate__(self) -> None:
        raise TypeError(
            "a Pipeline cannot be pickled (its model is loaded in memory): send the model "
            "path and call arabic_ner.load(path) in the other process, or use pipe(n_process=N)"
        )

    def _many(self, texts: Sequence[str]) -> list[list[Entity]]:
        """Return the entities of each text; sentences are tagged in batches across texts.

        Batching lets the tagger decode many sentences in one step (see ``crf.py``);
        a batch holds at most about :data:`BATCH_TOKENS` tokens, which bounds memory
        however long one text is.
        """
        # The lock: the feature caches are not safe to grow from two threads at once.
        with self._lock, _cyclic_gc_paused():
            return self._many_unlocked(texts)

    def _many_unlocked(self, texts: Sequence[str]) -> list[list[Entity]]:
        found: list[list[Entity]] = [[] for _ in texts]
        batch: list[_Piece] = []
        size = 0
        for index, text in enumerate(texts):
            for offset, piece in _pieces(text):
                normalized = normalize(piece, self.normalize_config)
                tokens = list(tokens_of(normalized))
                if not tokens:
                    continue
                batch.append(_Piece(index, offset, normalized, list(sentences(tokens, piece))))
                size += len(tokens)
                if size >= BATCH_TOKENS:
                    self._tag(batch, found)
                    batch, size = [], 0
        if batch:
            self._tag(batch, found)
        if self._names:
            # After resolving: the alias table may correct a type (see aliases.py).
            found = [
                [e for e in resolve(entities, self.aliases) if e.type in self.types]
                for entities in found
            ]
        return found

    def _tag(self, batch: list[_Piece], found: list[list[Entity]]) -> None:
        tagged = (
            self.backend.tag([s for piece in batch for s in piece.sentences]) if self._names else []
        )
        position = 0
        for piece in batch:
            size = len(piece.sentences)
            # Found whatever types are asked for: names stop short of the dates and times
            # at their edges (trim_labels), so that asking for fewer types changes nothing
            # else.
            tokens = [t for sentence in piece.sentences for t in sentence]
            rules = rule_entities(piece.normalized, tokens, offset=piece.offset)
            part = tagged[position : position + size]
            names = self._names_of(piece, part, rules) if part else []
            position += size
            if self._rules:
                names = _merge(names, [r for r in rules if r.type in self._rules])
            found[piece.index] += names

    def _names_of(
        self,
        piece: _Piece,
        tagged: list[tuple[list[str], list[float]]],
        rules: Sequence[Entity],
    ) -> list[Entity]:
        lexicon = self.backend.lexicon
        counts = _WordCounts(piece.sentences)
        if self.consistency:
            tagged = propagate(piece.sentences, tagged, self._stem)
        # Original offsets (in the piece) where a date or time found by the rules starts
        # and ends: the tokens inside are not part of a name at its edges.
        times = [
            (r.start - piece.offset, r.end - piece.offset)
            for r in rules
            if r.type in (EntityType.DATE, EntityType.TIME)
        ]
        names: list[Entity] = []
        for sentence, (labels, scores) in zip(piece.sentences, tagged, strict=True):
            if times and labels.count("O") != len(labels):
                labels = trim_labels(labels, _inside(sentence, times))
            names += entities_from_labels(
                piece.normalized,
                sentence,
                labels,
                scores,
                lexicon,
                offset=piece.offset,
                doc_counts=counts,
            )
        return names

    @overload
    def pipe(
        self,
        texts: Iterable[str],
        *,
        batch_size: int = ...,
        n_process: int = ...,
        as_tuples: Literal[False] = ...,
    ) -> Iterator[list[Entity]]: ...

    @overload
    def pipe(
        self,
        texts: Iterable[tuple[str, Any]],
        *,
        batch_size: int = ...,
        n_process: int = ...,
        as_tuples: Literal[True],
    ) -> Iterator[tuple[list[Entity], Any]]: ...

    def pipe(
        self,
        texts: Iterable[Any],
        *,
        batch_size: int = 64,
        n_process: int = 1,
        as_tuples: bool = False,
    ) -> Iterator[Any]:
        """Yield the entities of each text, in input order, streaming any iterable.

        With ``as_tuples=True`` the input is ``(text, context)`` pairs and the output
        ``(entities, context)`` pairs, so an id travels with its text. ``n_process > 1``
        tags in that many worker processes (``-1``: one per CPU): forked with the model
        already loaded on Linux when no other thread runs, else spawned, each loading it
        once. At most ``2 * n_process`` batches of ``batch_size`` texts are in flight, so
        the input is never read far ahead; of a list, the last ``n_process`` batches'
        worth goes out in ever smaller batches, so that the workers finish together.

        >>> nlp = load()
        >>> [[e.text for e in ents] for ents in nlp.pipe(["زار بيروت", "وصل الى دمشق"])]
        [['بيروت'], ['دمشق']]
        """
        if isinstance(texts, (str, bytes)) or texts is None or not hasattr(texts, "__iter__"):
            raise InputError(
                f"texts must be an iterable of texts (a list, a generator), got "
                f"{type(texts).__name__}: for one text call the pipeline, nlp(text), or pass [text]"
            )
        _check_count("batch_size", batch_size, minimum=1)
        if (
            not isinstance(n_process, int)
            or isinstance(n_process, bool)
            or n_process == 0
            or n_process < -1
        ):
            raise ConfigError(
                f"n_process must be an integer, at least 1 (or -1: one per CPU), got {n_process!r}"
            )
        if n_process == -1:
            n_process = os.cpu_count() or 1
        # Where the number of texts is known (a list), the last n_process batches' worth
        # goes out in ever smaller batches, so that the workers finish at about the same
        # time instead of one tagging a whole last batch while the others wait.
        tail = batch_size * n_process if n_process > 1 else 0
        batches = _checked_batches(texts, batch_size, as_tuples, tail=tail)
        if n_process == 1:
            for chunk, contexts in batches:
                yield from _emit(self._many(chunk), contexts, as_tuples)
            return
        spec = _WorkerSpec(
            self.backend.name,
            str(self.backend.path),
            self.normalize_config,
            self.consistency,
            self.types,
            self.aliases_path,
            tuple(
                (name, getattr(self.backend, name))
                for name in _BACKEND_SETTINGS
                if hasattr(self.backend, name)
            ),
        )
        # Fork where it is safe (Linux, and no other thread in this process that a child
        # could inherit mid-operation): workers start with the model already in memory.
        # Elsewhere spawn, and each worker loads the model once.
        # concurrent.futures rather than multiprocessing.Pool: when a worker dies (killed
        # by the out-of-memory killer, a crash in a C library) its futures fail at once
        # with BrokenProcessPool, where Pool would wait for its results forever.
        forking = sys.platform == "linux" and threading.active_count() == 1
        context = multiprocessing.get_context("fork" if forking else "spawn")
        initargs: tuple[Any, ...] = (spec, self) if forking else (spec,)
        pool = ProcessPoolExecutor(
            n_process, mp_context=context, initializer=_init_worker, initargs=initargs
        )
        try:
            pending: deque[tuple[Future[list[list[Entity]]], list[Any]]] = deque()
            for chunk, contexts in batches:
                try:
                    future = pool.submit(_work, chunk)
                except BrokenProcessPool as error:
                    # A worker died after the last result was read: the executor then
                    # refuses new batches before any future reports the death.
                    raise _worker_died(n_process) from error
                pending.append((future, contexts))
                if len(pending) >= 2 * n_process:
                    result, contexts = pending.popleft()
                    yield from _emit(_result(result, n_process), contexts, as_tuples)
            while pending:
                result, contexts = pending.popleft()
                yield from _emit(_result(result, n_process), contexts, as_tuples)
        except BaseException:
            # Not waiting for the batches in flight when the caller stops early or a
            # worker died; the rest are cancelled and the workers end.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        # Waited for: the executor's threads end with it, so the next pipe() finds this
        # process single-threaded again and forks (with the model loaded) instead of
        # spawning workers that each load the model.
        pool.shutdown(wait=True)


def _result(future: Future[list[list[Entity]]], n_process: int) -> list[list[Entity]]:
    """The entities of a batch tagged by a worker; a dead worker raises :class:`WorkerError`.

    The wait pauses the cyclic garbage collector, as tagging a batch in this process does:
    meanwhile the executor's thread unpickles the workers' entities, thousands of tracked
    objects a batch, and with the results a caller keeps growing, the collections they
    set off were 0.29 s of the parent's 0.48 s of CPU in a two-worker run over 1,920
    articles, CPU that the two workers on two cores lack.
    """
    try:
        with _cyclic_gc_paused():
            return future.result()
    except BrokenProcessPool as error:
        raise _worker_died(n_process) from error


def _worker_died(n_process: int) -> WorkerError:
    """The error of a ``pipe(n_process=N)`` whose worker died, saying what to do next."""
    return WorkerError(
        f"a worker process of pipe(n_process={n_process}) died while tagging (killed by "
        "a signal, e.g. the out-of-memory killer, or crashed); the texts from this batch "
        "on were not tagged: give the workers more memory or use fewer processes, and "
        "restart from the last text you received"
    )


def _check_count(name: str, value: object, *, minimum: int) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an int (not a bool) ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value!r}: pass an integer")


def _checked_batches(
    texts: Iterable[Any], batch_size: int, as_tuples: bool, *, tail: int = 0
) -> Iterator[tuple[list[str], list[Any]]]:
    """Read ``texts`` lazily in batches of (texts, contexts), checking every item.

    With ``tail``, where ``texts`` has a length, its last ``tail`` texts come in batches
    that shrink with what is left, from a quarter of ``batch_size`` down to one text (as
    guided self-scheduling does: the last batches, the ones a worker may finish alone,
    are the shortest); a stream of unknown length is read as without it.

    >>> [len(chunk) for chunk, _ in _checked_batches(["t"] * 40, 8, False, tail=16)]
    [8, 8, 8, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    """
    stream = iter(texts)
    position = 0
    total = len(texts) if tail and isinstance(texts, Sized) else None
    while True:
        size = batch_size
        if total is not None:
            left = total - position  # (below 1 if the caller shortened the list meanwhile)
            if left > tail:
                size = min(batch_size, left - tail)
            else:  # in the tail: a quarter batch per n_process batches' worth still left
                size = max(1, -(-left * batch_size // (4 * tail)))
        batch = list(islice(stream, size))
        if not batch:
            break
        chunk: list[str] = []
        contexts: list[Any] = []
        for item in batch:
            if as_tuples:
                if not (isinstance(item, tuple) and len(item) == 2):
                    raise InputError(
                        f"texts[{position}] must be a (text, context) pair with as_tuples=True, "
                        f"got {type(item).__name__}"
                    )
                chunk.append(check_text(item[0], name=f"texts[{position}][0]"))
                contexts.append(item[1])
            else:
                chunk.append(check_text(item, name=f"texts[{position}]"))
            position += 1
        yield chunk, contexts


def entity_types(types: Iterable[EntityType | str]) -> frozenset[EntityType]:
    """Return the entity types named, in any case; a string may list them with commas.

    >>> sorted(t.value for t in entity_types("pers, Loc"))
    ['LOC', 'PERS']
    """
    if isinstance(types, str):
        types = types.split(",")
    try:
        return frozenset(EntityType(t.strip().upper() if isinstance(t, str) else t) for t in types)
    except ValueError as error:
        known = ", ".join(t.value for t in EntityType)
        raise ConfigError(f"{error}; entity types are {known}") from error


def _inside(tokens: Sequence[Token], spans: Sequence[tuple[int, int]]) -> Callable[[int], bool]:
    """Whether token ``i`` of ``tokens`` lies inside one of the ``(start, end)`` spans."""
    return lambda i: any(a <= tokens[i].start and tokens[i].end <= b for a, b in spans)


def _merge(names: list[Entity], rules: list[Entity]) -> list[Entity]:
    """Merge sorted name and rule entities; a rule entity that overlaps a name is dropped."""
    kept: list[Entity] = []
    j = 0
    for rule in rules:
        while j < len(names) and names[j].end <= rule.start:
            j += 1
        if j == len(names) or names[j].start >= rule.end:
            kept.append(rule)
    return sorted(names + kept, key=attrgetter("start", "end"))


def _emit(results: list[list[Entity]], contexts: list[Any], as_tuples: bool) -> Iterator[Any]:
    return iter(zip(results, contexts, strict=True)) if as_tuples else iter(results)


_BACKENDS: dict[tuple[str, str], Backend] = {}
_LOADED: dict[tuple[object, ...], Pipeline] = {}


def load(
    model: str | os.PathLike[str] | None = None,
    *,
    backend: str = "crf",
    normalize_config: NormalizeConfig | None = None,
    types: Iterable[EntityType | str] | None = None,
    consistency: bool = True,
    aliases: str | os.PathLike[str] | None = None,
    trust_model: bool = False,
) -> Pipeline:
    """Return a pipeline for the model folder ``model`` (default: the shipped model).

    Pipelines are cached, and so are models: loading the same model twice returns the
    same object, and pipelines that differ only in options share one loaded model.
    See :class:`Pipeline` for the options. The model's files are checked against its
    ``manifest.json`` before they are read; ``trust_model=True`` loads a folder that has
    none (see ``manifest.py``).

    >>> load() is load()
    True
    """
    config = normalize_config or NormalizeConfig()
    wanted = frozenset(EntityType) if types is None else entity_types(types)
    where = str(Path(model).resolve()) if model is not None else ""
    key = (backend, where, config, wanted, consistency, str(aliases) if aliases else None)
    pipeline = _LOADED.get(key)
    if pipeline is None:
        tagger = _BACKENDS.get((backend, where))
        if tagger is None:
            tagger = _BACKENDS[(backend, where)] = load_backend(backend, model, trust=trust_model)
        pipeline = Pipeline(
            tagger,
            normalize_config=config,
            types=wanted,
            consistency=consistency,
            aliases=aliases,
        )
        _LOADED[key] = pipeline
    return pipeline


def extract_entities(
    text: str,
    *,
    model: str | os.PathLike[str] | None = None,
    types: Iterable[EntityType | str] | None = None,
) -> list[Entity]:
    """Return the entities of ``text``, with offsets into ``text``.

    ``types`` keeps only entities of those types (``{"PERS", "LOC"}``); the work for
    the others is skipped.

    >>> text = 'أعلن تنظيم "داعش" سيطرته على مدينة تدمر'
    >>> [(e.type.value, e.text, text[e.start:e.end]) for e in extract_entities(text)]
    [('ORG', 'داعش', 'داعش'), ('LOC', 'تدمر', 'تدمر')]
    """
    return load(model, types=types)(text)
