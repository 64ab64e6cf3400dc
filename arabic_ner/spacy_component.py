"""spaCy integration: arabic-ner as a spaCy pipeline component, and converters.

Install it with ``pip install 'arabic-ner[spacy]'``; no spaCy model is needed, a blank
Arabic pipeline is enough. The package declares the factory ``"arabic_ner"`` through
spaCy's ``spacy_factories`` entry point, so spaCy finds it without an import:

>>> import spacy
>>> nlp = spacy.blank("ar")
>>> _ = nlp.add_pipe("arabic_ner", config={"types": ["PERS", "LOC"]})
>>> doc = nlp("وصل الرئيس الروسي فلاديمير بوتين الى موسكو")
>>> [(span.text, span.label_) for span in doc.ents]
[('فلاديمير بوتين', 'PERS'), ('موسكو', 'LOC')]

The component runs arabic-ner's own pipeline on ``doc.text`` (it does not read spaCy's
tokens) and maps each :class:`~arabic_ner.entities.Entity` onto the doc's tokens with
``doc.char_span(start, end, alignment_mode=...)``. spaCy's blank Arabic tokenizer does
not split proclitics, so ``وموسكو`` is one spaCy token while arabic-ner's entity is
``موسكو``: with ``alignment_mode="expand"`` (the default) its span covers the whole
token ``وموسكو``; with ``"strict"`` or ``"contract"`` it cannot be placed. An entity that
cannot be placed in ``doc.ents`` (no tokens fit its offsets, or its tokens already belong
to an earlier span) is never dropped: it is kept in ``doc._.arabic_ner_unaligned`` and
one warning per doc is logged (logger ``arabic_ner.spacy_component``).
``doc._.arabic_ner_entities`` always holds every entity with its exact offsets.

Extensions set by the component and by :func:`entities_to_doc`:

- ``span._.arabic_ner_entity``: the :class:`~arabic_ner.entities.Entity` itself (exact
  offsets, which differ from the span's when it was expanded);
- ``span._.arabic_ner_score``, ``._.arabic_ner_canonical``, ``._.arabic_ner_cluster``,
  ``._.arabic_ner_value`` (the value as a JSON-ready dict, or ``None``);
- ``doc._.arabic_ner_entities`` (every entity) and ``doc._.arabic_ner_unaligned`` (those
  not in ``doc.ents``).

A ``Doc`` from the component can be saved with ``DocBin(store_user_data=True)``: this
module registers a msgpack encoder and decoder with ``srsly`` (spaCy's serializer, as
thinc does for numpy arrays), so the :class:`~arabic_ner.entities.Entity` objects in the
extensions are written as plain maps and read back as ``Entity`` objects in any process
where this module is imported (spaCy imports it through the entry point).

Importing :mod:`arabic_ner` never imports spaCy; importing this module without spaCy
works, and every function here then raises
:class:`~arabic_ner.errors.BackendNotAvailableError` naming the pip command.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from arabic_ner.entities import Entity, EntityType, Value
from arabic_ner.errors import BackendNotAvailableError, ConfigError
from arabic_ner.normalize import normalize
from arabic_ner.pipeline import Pipeline, entity_types, load

try:
    import srsly
    from spacy.language import Language
    from spacy.tokens import Doc, Span
except ImportError:  # the extra is not installed: every entry point below says so
    HAVE_SPACY = False
else:
    HAVE_SPACY = True

__all__ = [
    "ALIGNMENT_MODES",
    "DEFAULT_CONFIG",
    "DOC_EXTENSIONS",
    "FACTORY",
    "HAVE_SPACY",
    "INSTALL",
    "SPAN_EXTENSIONS",
    "ArabicNERComponent",
    "blank_arabic",
    "check_alignment_mode",
    "doc_to_entities",
    "docbin_doc",
    "entities_to_doc",
    "make_component",
    "register_extensions",
    "require_spacy",
]

FACTORY = "arabic_ner"
"""The name of the component factory: ``nlp.add_pipe("arabic_ner")``."""

INSTALL = "pip install 'arabic-ner[spacy]'"
"""The command that installs what this module needs."""

ALIGNMENT_MODES = ("strict", "contract", "expand")
"""spaCy's ``Doc.char_span`` alignment modes: keep a span only when the entity's offsets
fall on token boundaries (``strict``), shrink it to the tokens wholly inside
(``contract``), or grow it to every token it touches (``expand``)."""

DEFAULT_CONFIG: Mapping[str, Any] = {
    "types": None,
    "backend": "crf",
    "model": None,
    "trust_model": False,
    "alignment_mode": "expand",
    "overwrite_ents": True,
}
"""The component's configuration and its defaults (see :class:`ArabicNERComponent`)."""

SPAN_EXTENSIONS = (
    "arabic_ner_entity",
    "arabic_ner_score",
    "arabic_ner_canonical",
    "arabic_ner_cluster",
    "arabic_ner_value",
)
"""The ``Span._`` extensions this module sets (default ``None``)."""

DOC_EXTENSIONS = ("arabic_ner_entities", "arabic_ner_unaligned")
"""The ``Doc._`` extensions this module sets (default ``None``)."""

logger = logging.getLogger(__name__)


def require_spacy() -> None:
    """Raise :class:`BackendNotAvailableError` naming the pip command unless spaCy imports.

    >>> require_spacy()  # spaCy is installed here
    """
    if not HAVE_SPACY:
        raise BackendNotAvailableError(
            f"the spaCy integration needs spaCy 3.7 or later, which is not installed: {INSTALL}"
        )


def register_extensions() -> None:
    """Register the ``Span._`` and ``Doc._`` extensions (default ``None``), once.

    A name another package registered already is left as it is.

    >>> from spacy.tokens import Span
    >>> register_extensions()
    >>> Span.has_extension("arabic_ner_score")
    True
    """
    require_spacy()
    for name in SPAN_EXTENSIONS:
        if not Span.has_extension(name):
            Span.set_extension(name, default=None)
    for name in DOC_EXTENSIONS:
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=None)


def check_alignment_mode(mode: str) -> str:
    """Return ``mode`` if it is one of :data:`ALIGNMENT_MODES`; raise :class:`ConfigError`.

    >>> check_alignment_mode("strict")
    'strict'
    """
    if mode not in ALIGNMENT_MODES:
        raise ConfigError(
            f"alignment_mode must be one of {', '.join(ALIGNMENT_MODES)}, got {mode!r}: "
            "'expand' (the default) grows a span to the whole token, proclitic included"
        )
    return mode


class ArabicNERComponent:
    """The spaCy pipeline component: arabic-ner's entities as ``doc.ents``.

    Create it with ``nlp.add_pipe("arabic_ner", config={...})``; the configuration:

    - ``types``: entity type names to find, e.g. ``["PERS", "LOC"]`` (``None``: all);
      the work for the others is skipped.
    - ``backend``: the tagging backend, as in :func:`arabic_ner.load` (``"crf"``).
    - ``model``: a model folder (``None``: the shipped model); ``trust_model``: load a
      folder without ``manifest.json``.
    - ``alignment_mode``: ``"expand"`` (default), ``"contract"`` or ``"strict"``, how an
      entity's character offsets map onto spaCy's tokens (``Doc.char_span``). spaCy's
      blank Arabic tokenizer keeps proclitics on their word, so the entity ``موسكو`` in
      ``وموسكو`` becomes the span ``وموسكو`` with ``"expand"`` and cannot be placed with
      the other two.
    - ``overwrite_ents``: replace ``doc.ents`` (default) or keep the entities already
      there and add arabic-ner's where their tokens are free.

    An entity that cannot be placed in ``doc.ents`` is kept in
    ``doc._.arabic_ner_unaligned`` and counted in one logged warning per doc.
    :meth:`pipe` tags the texts of a stream of docs in batches with
    :meth:`Pipeline.pipe <arabic_ner.pipeline.Pipeline.pipe>`, so ``nlp.pipe(texts)``
    is batched.

    >>> import spacy
    >>> nlp = spacy.blank("ar")
    >>> _ = nlp.add_pipe("arabic_ner", config={"alignment_mode": "strict"})
    >>> doc = nlp("زار بوتين دمشق وموسكو")
    >>> [span.text for span in doc.ents], doc._.arabic_ner_unaligned
    (['بوتين', 'دمشق'], [Entity(LOC, 'موسكو', 16:21, score=1.00)])
    """

    def __init__(
        self,
        name: str = FACTORY,
        *,
        types: Iterable[str] | None = None,
        backend: str = "crf",
        model: str | None = None,
        trust_model: bool = False,
        alignment_mode: str = "expand",
        overwrite_ents: bool = True,
    ) -> None:
        require_spacy()
        register_extensions()
        self.name = name
        self.alignment_mode = check_alignment_mode(alignment_mode)
        self.overwrite_ents = overwrite_ents
        # Type names as given (a list, or "PERS,LOC"), checked and kept sorted.
        self.types = None if types is None else tuple(sorted(t.value for t in entity_types(types)))
        self.backend = backend
        self.model = model
        self.trust_model = trust_model
        self.pipeline: Pipeline = load(
            model, backend=backend, types=self.types, trust_model=trust_model
        )

    def __repr__(self) -> str:
        return (
            f"ArabicNERComponent(name={self.name!r}, backend={self.backend!r}, "
            f"model={self.model!r}, alignment_mode={self.alignment_mode!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its configuration; the other process loads the model itself
        # (a Pipeline holds a loaded model and refuses to be pickled).
        config = {
            "types": self.types,
            "backend": self.backend,
            "model": self.model,
            "trust_model": self.trust_model,
            "alignment_mode": self.alignment_mode,
            "overwrite_ents": self.overwrite_ents,
        }
        return (_rebuild, (self.name, config))

    def __call__(self, doc: Doc) -> Doc:
        """Find the entities of ``doc.text`` and set ``doc.ents`` and the extensions."""
        return self._set(doc, self.pipeline(doc.text))

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 64) -> Iterator[Doc]:
        """Process a stream of docs in input order, tagging ``batch_size`` texts at a time."""
        pairs = self.pipeline.pipe(
            ((doc.text, doc) for doc in docs), batch_size=batch_size, as_tuples=True
        )
        for found, doc in pairs:
            yield self._set(doc, found)

    def _set(self, doc: Doc, entities: Sequence[Entity]) -> Doc:
        unaligned = _fill(
            doc, entities, self.alignment_mode, overwrite=self.overwrite_ents, objects=True
        )
        if unaligned:
            _warn(unaligned, len(entities), self.alignment_mode)
        return doc


def _rebuild(name: str, config: dict[str, Any]) -> ArabicNERComponent:
    return ArabicNERComponent(name, **config)


def make_component(
    nlp: Language,
    name: str,
    types: list[str] | None,
    backend: str,
    model: str | None,
    trust_model: bool,
    alignment_mode: str,
    overwrite_ents: bool,
) -> ArabicNERComponent:
    """The factory behind ``nlp.add_pipe("arabic_ner", config=...)`` (see the component).

    spaCy calls it with the configuration merged over :data:`DEFAULT_CONFIG`; ``nlp`` is
    not used (the component reads only ``doc.text``).

    >>> import spacy
    >>> make_component(spacy.blank("ar"), "ner", None, "crf", None, False, "expand", True)
    ArabicNERComponent(name='ner', backend='crf', model=None, alignment_mode='expand')
    """
    return ArabicNERComponent(
        name,
        types=types,
        backend=backend,
        model=model,
        trust_model=trust_model,
        alignment_mode=alignment_mode,
        overwrite_ents=overwrite_ents,
    )


_ENTITY_TAG = "__arabic_ner_entity__"


def _encode_entity(obj: Any, chain: Any = None) -> Any:
    """srsly's msgpack encoder hook: an :class:`Entity` as a tagged map, every field exact."""
    if isinstance(obj, Entity):
        return {
            _ENTITY_TAG: 1,
            "text": obj.text,
            "type": obj.type.value,
            "start": obj.start,
            "end": obj.end,
            "score": obj.score,
            "normalized": obj.normalized,
            "value": None if obj.value is None else obj.value.to_dict(),
            "canonical": obj.canonical,
            "cluster": obj.cluster,
        }
    return obj if chain is None else chain(obj)


def _decode_entity(obj: Any, chain: Any = None) -> Any:
    """srsly's msgpack decoder hook: a map tagged by :func:`_encode_entity` as an Entity."""
    if isinstance(obj, dict) and _ENTITY_TAG in obj:
        value = obj["value"]
        return Entity(
            obj["text"],
            EntityType(obj["type"]),
            obj["start"],
            obj["end"],
            obj["score"],
            obj["normalized"],
            value=None if value is None else Value(**value),
            canonical=obj["canonical"],
            cluster=obj["cluster"],
        )
    return obj if chain is None else chain(obj)


if HAVE_SPACY:
    register_extensions()
    srsly.msgpack_encoders.register("arabic_ner.entity", func=_encode_entity)
    srsly.msgpack_decoders.register("arabic_ner.entity", func=_decode_entity)
    Language.factory(
        FACTORY,
        default_config=dict(DEFAULT_CONFIG),
        assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
        func=make_component,
    )


# --- placing entities on a Doc ------------------------------------------------------------


def _fill(
    doc: Doc, entities: Iterable[Entity], mode: str, *, overwrite: bool, objects: bool
) -> list[Entity]:
    """Set ``doc.ents`` from ``entities``; return those that could not be placed.

    With ``objects``, the :class:`Entity` objects go into the extensions too (in memory);
    without, only JSON-ready extension values are set (for a ``DocBin``).
    """
    ordered = sorted(entities)
    taken: set[int] = set()
    if not overwrite:
        taken = {i for span in doc.ents for i in range(span.start, span.end)}
    spans: list[Span] = []
    unaligned: list[Entity] = []
    for entity in ordered:
        span = doc.char_span(entity.start, entity.end, label=entity.label, alignment_mode=mode)
        tokens = range(span.start, span.end) if span is not None else range(0)
        if span is None or not tokens or any(i in taken for i in tokens):
            unaligned.append(entity)
            continue
        taken.update(tokens)
        spans.append(span)
        span._.arabic_ner_score = entity.score
        span._.arabic_ner_canonical = entity.canonical
        span._.arabic_ner_cluster = entity.cluster
        span._.arabic_ner_value = None if entity.value is None else entity.value.to_dict()
        if objects:
            span._.arabic_ner_entity = entity
    doc.set_ents(spans, default="outside" if overwrite else "unmodified")
    if objects:
        doc._.arabic_ner_entities = ordered
        doc._.arabic_ner_unaligned = unaligned
    return unaligned


def _warn(unaligned: Sequence[Entity], total: int, mode: str) -> None:
    shown = ", ".join(repr(e) for e in unaligned[:3]) + (", ..." if len(unaligned) > 3 else "")
    logger.warning(
        "arabic-ner: %d of %d entities of this doc could not be placed in doc.ents with "
        "alignment_mode=%r (%s): no tokens fit their offsets, or their tokens belong to "
        "another span; they are kept in doc._.arabic_ner_unaligned (use alignment_mode="
        "'expand' to place entities inside a token)",
        len(unaligned),
        total,
        mode,
        shown,
    )


@functools.lru_cache(maxsize=1)
def blank_arabic() -> Language:
    """A blank Arabic spaCy pipeline (its tokenizer only), made once and kept.

    >>> [token.text for token in blank_arabic()("زار دمشق وموسكو.")]
    ['زار', 'دمشق', 'وموسكو', '.']
    """
    require_spacy()
    import spacy

    return spacy.blank("ar")


def _checked(text: str, entities: Iterable[Entity]) -> list[Entity]:
    out = []
    for e in entities:
        if text[e.start : e.end] != e.text:
            raise ConfigError(
                f"entity {e!r} does not match the text, where {e.start}:{e.end} is "
                f"{text[e.start : e.end]!r}; pass the entities found in this very text"
            )
        out.append(e)
    return out


def entities_to_doc(
    text: str,
    entities: Iterable[Entity],
    nlp: Language | None = None,
    alignment_mode: str = "expand",
) -> Doc:
    """A spaCy ``Doc`` of ``text`` with ``entities`` as ``doc.ents`` and the extensions set.

    The text is tokenized by ``nlp``'s tokenizer (no other component runs; default: a
    blank Arabic pipeline). Entities are placed as the component places them; those that
    cannot be are in ``doc._.arabic_ner_unaligned`` (a warning is logged). Raises
    :class:`ConfigError` for an entity whose text is not ``text[start:end]``.

    >>> from arabic_ner import Entity, EntityType
    >>> moscow = Entity("موسكو", EntityType.LOC, 10, 15, 1.0, "موسكو")
    >>> doc = entities_to_doc("زار دمشق وموسكو", [moscow])
    >>> [(span.text, span.label_, span._.arabic_ner_entity.text) for span in doc.ents]
    [('وموسكو', 'LOC', 'موسكو')]
    """
    require_spacy()
    mode = check_alignment_mode(alignment_mode)
    found = _checked(text, entities)
    doc = (nlp if nlp is not None else blank_arabic()).make_doc(text)
    unaligned = _fill(doc, found, mode, overwrite=True, objects=True)
    if unaligned:
        _warn(unaligned, len(found), mode)
    return doc


def docbin_doc(
    text: str,
    entities: Iterable[Entity],
    info: Mapping[str, Any],
    nlp: Language | None = None,
    alignment_mode: str = "expand",
) -> Doc:
    """A ``Doc`` that a ``DocBin`` can store: JSON-ready data only, no :class:`Entity`.

    ``doc.ents`` and the JSON-ready span extensions (score, canonical, cluster, value)
    are set as :func:`entities_to_doc` sets them; ``doc.user_data`` holds ``info`` (the
    record's id, source, line; error) and ``"entities"``, every entity as
    :meth:`Entity.to_dict` with its exact offsets, and ``"unaligned"``, the positions in
    that list of those not in ``doc.ents``. No warning is logged: nothing is lost.

    >>> from arabic_ner import Entity, EntityType
    >>> moscow = Entity("موسكو", EntityType.LOC, 5, 10, 1.0, "موسكو")
    >>> doc = docbin_doc("زار وموسكو", [moscow], {"id": "d1"}, alignment_mode="strict")
    >>> doc.ents, doc.user_data["id"], doc.user_data["unaligned"]
    ((), 'd1', [0])
    """
    require_spacy()
    mode = check_alignment_mode(alignment_mode)
    found = sorted(_checked(text, entities))
    doc = (nlp if nlp is not None else blank_arabic()).make_doc(text)
    unaligned = _fill(doc, found, mode, overwrite=True, objects=False)
    doc.user_data.update(info)
    doc.user_data["entities"] = [e.to_dict() for e in found]
    missing = {id(e) for e in unaligned}
    doc.user_data["unaligned"] = [i for i, e in enumerate(found) if id(e) in missing]
    return doc


def doc_to_entities(doc: Doc, *, unaligned: bool = True) -> list[Entity]:
    """The entities of ``doc``, sorted: the inverse of :func:`entities_to_doc`.

    For a span that carries ``span._.arabic_ner_entity`` (with the span's label) that
    entity is returned, with its exact offsets; any other span gives an entity of its
    label, offsets and text, with ``span._.arabic_ner_score`` (else 1.0) and the other
    extensions where set. With ``unaligned`` (default), the entities of
    ``doc._.arabic_ner_unaligned`` are added, so nothing the component found is lost.
    Raises :class:`ConfigError` for a span label that is not an arabic-ner type (spaCy
    models' ``GPE``, say): rename or remove such spans first.

    >>> import spacy
    >>> nlp = spacy.blank("ar")
    >>> doc = nlp.make_doc("زار دمشق")
    >>> doc.ents = [doc.char_span(4, 8, label="LOC")]
    >>> doc_to_entities(doc)
    [Entity(LOC, 'دمشق', 4:8, score=1.00)]
    """
    require_spacy()
    register_extensions()
    found: list[Entity] = []
    for span in doc.ents:
        entity = span._.arabic_ner_entity
        if isinstance(entity, Entity) and entity.label == span.label_:
            found.append(entity)
        else:
            found.append(_span_entity(span))
    if unaligned and doc._.arabic_ner_unaligned:
        found.extend(doc._.arabic_ner_unaligned)
    return sorted(found)


def _span_entity(span: Span) -> Entity:
    try:
        kind = EntityType(span.label_)
    except ValueError:
        known = ", ".join(t.value for t in EntityType)
        raise ConfigError(
            f"span {span.text!r} ({span.start_char}:{span.end_char}) has the label "
            f"{span.label_!r}, which is not an arabic-ner type ({known}); rename or remove "
            "such spans before converting"
        ) from None
    score = span._.arabic_ner_score
    value = span._.arabic_ner_value
    return Entity(
        span.text,
        kind,
        span.start_char,
        span.end_char,
        1.0 if score is None else float(score),
        normalize(span.text).text,
        value=Value(**value) if isinstance(value, dict) else None,
        canonical=span._.arabic_ner_canonical,
        cluster=span._.arabic_ner_cluster,
    )
