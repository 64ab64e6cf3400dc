"""Map the pipeline over Dask collections: a bag of texts, a bag of records, a dataframe.

Needs the ``dask`` extra (``pip install 'arabic-ner[dask]'``); ``import arabic_ner``
never imports Dask, and these functions import it when called.

Each function adds one ``map_partitions`` step to the collection it is given and returns
the new, still lazy, collection. The task graph carries only the model *path* (a string,
or ``None`` for the shipped model), never a loaded pipeline: each worker process calls
:func:`arabic_ner.load`, which loads the model on the first partition it sees and keeps
it for every later one. The path is read on the workers, so it must exist there.

Entities come out as :meth:`Entity.to_dict` dicts, which travel between processes
cheaply and go straight into JSON or ``Bag.to_dataframe``.

>>> import dask.bag as db
>>> bag = db.from_sequence(["زار بوتين دمشق"], npartitions=1)
>>> [[e["text"] for e in ents] for ents in extract_bag(bag).compute(scheduler="sync")]
[['بوتين', 'دمشق']]
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arabic_ner.entities import EntityType
from arabic_ner.errors import BackendNotAvailableError, InputError, check_text
from arabic_ner.pipeline import Pipeline, load

if TYPE_CHECKING:
    import dask.bag
    import dask.dataframe
    import pandas as pd

__all__ = ["extract_bag", "extract_dataframe", "extract_records"]

INSTALL_HINT = "pip install 'arabic-ner[dask]'"

EntityDicts = list[dict[str, Any]]

# Dask runs the tasks of one worker process in threads. A Pipeline serializes its own
# calls, but two threads could both find no model loaded yet and load it twice; one lock
# per process around load and tagging keeps it to one load. For speed, run more worker
# processes with one thread each (see docs/dask.md).
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Spec:
    """What a partition task needs: plain data only, so the task graph stays small."""

    model: str | None
    types: frozenset[str] | None


def _spec(model: str | os.PathLike[str] | None, types: Iterable[EntityType | str] | None) -> _Spec:
    wanted = None if types is None else frozenset(EntityType(t).value for t in types)
    return _Spec(None if model is None else os.fspath(model), wanted)


def _require(module: str) -> None:
    """Import ``module`` (``dask.bag`` or ``dask.dataframe``) or say how to install it."""
    try:
        __import__(module)
    except ImportError as error:
        raise BackendNotAvailableError(
            f"arabic_ner.dask needs {module}, which is not installed ({error}); "
            f"install it with: {INSTALL_HINT}"
        ) from error


def _entities(nlp: Pipeline, text: str) -> EntityDicts:
    return [e.to_dict() for e in nlp(text)]  # nlp was loaded with the wanted types


def _tag_texts(texts: Iterable[Any], spec: _Spec) -> list[EntityDicts]:
    with _LOCK:
        nlp = load(spec.model, types=spec.types)
        # pipe: the partition's sentences are tagged in batches (see Pipeline.pipe).
        return [[e.to_dict() for e in found] for found in nlp.pipe(list(texts))]


def extract_bag(
    bag: dask.bag.Bag,
    *,
    model: str | os.PathLike[str] | None = None,
    types: Iterable[EntityType | str] | None = None,
) -> dask.bag.Bag:
    """Return a bag with, for each text of ``bag``, the list of its entity dicts.

    The output keeps the order and partitions of the input. ``model`` is a model folder
    as seen by the workers (default: the shipped model); ``types`` keeps only entities of
    those types. An item that is not a ``str`` fails the job with :class:`InputError`
    (use :func:`extract_records` to carry bad items along instead).
    """
    _require("dask.bag")
    spec = _spec(model, types)
    mapper: Any = bag.map_partitions  # unannotated in dask: typed by the line below
    out: dask.bag.Bag = mapper(_tag_texts, spec)
    return out


@dataclass(frozen=True, slots=True)
class _RecordSpec:
    tagging: _Spec
    text_field: str
    entities_field: str
    error_field: str | None


def _tag_record(nlp: Pipeline, record: Any, spec: _RecordSpec) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise InputError(
            f"each record must be a mapping with a {spec.text_field!r} field, "
            f"got {type(record).__name__}: use extract_bag for a bag of plain texts"
        )
    out = dict(record)
    try:
        if spec.text_field not in record:
            raise InputError(
                f"record has no {spec.text_field!r} field (fields: {', '.join(map(str, record))})"
            )
        text = check_text(record[spec.text_field], name=f"record[{spec.text_field!r}]")
    except InputError as error:
        if spec.error_field is None:
            raise
        out[spec.entities_field] = None
        out[spec.error_field] = str(error)
        return out
    out[spec.entities_field] = _entities(nlp, text)
    if spec.error_field is not None:
        out[spec.error_field] = None
    return out


def _tag_records(records: Iterable[Any], spec: _RecordSpec) -> list[dict[str, Any]]:
    with _LOCK:
        nlp = load(spec.tagging.model, types=spec.tagging.types)
        return [_tag_record(nlp, record, spec) for record in records]


def extract_records(
    bag: dask.bag.Bag,
    *,
    text_field: str = "text",
    entities_field: str = "entities",
    error_field: str | None = "error",
    model: str | os.PathLike[str] | None = None,
    types: Iterable[EntityType | str] | None = None,
) -> dask.bag.Bag:
    """Return a bag of the records of ``bag``, each a new dict with its entities added.

    Every record (a mapping) comes out as a copy with two more fields, so the output has
    one schema and ``Bag.to_dataframe`` keeps every column: ``entities_field``, the list
    of entity dicts of ``record[text_field]``, and ``error_field``, ``None``. A record
    whose text is missing or not a ``str`` does not stop the job: its ``entities_field``
    is ``None`` and its ``error_field`` says what was wrong. Records in = records out, in
    order. With ``error_field=None`` no error field is added and such a record fails the
    job with :class:`InputError` instead.
    """
    _require("dask.bag")
    spec = _RecordSpec(_spec(model, types), text_field, entities_field, error_field)
    mapper: Any = bag.map_partitions  # unannotated in dask: typed by the line below
    out: dask.bag.Bag = mapper(_tag_records, spec)
    return out


@dataclass(frozen=True, slots=True)
class _FrameSpec:
    tagging: _Spec
    column: str
    out_column: str
    error_column: str | None


def _tag_frame(part: pd.DataFrame, spec: _FrameSpec) -> pd.DataFrame:
    import pandas as pd

    found: list[EntityDicts | None] = []
    errors: list[str | None] = []
    with _LOCK:
        nlp = load(spec.tagging.model, types=spec.tagging.types)
        for label, value in part[spec.column].items():
            shown = repr(label) if isinstance(label, str) else str(label)  # not np.int64(1)
            where = f"column {spec.column!r} at index {shown}"
            try:
                if pd.api.types.is_scalar(value) and pd.isna(value):
                    raise InputError(
                        f"{where} is missing ({value}): fill it with '' or drop the row first"
                    )
                text = check_text(value, name=where)
            except InputError as error:
                if spec.error_column is None:
                    raise
                found.append(None)
                errors.append(str(error))
                continue
            found.append(_entities(nlp, text))
            errors.append(None)
    columns = {spec.out_column: pd.Series(found, index=part.index, dtype=object)}
    if spec.error_column is not None:
        columns[spec.error_column] = pd.Series(errors, index=part.index, dtype="string")
    return part.assign(**columns)


def extract_dataframe(
    df: dask.dataframe.DataFrame,
    *,
    column: str = "text",
    out_column: str = "entities",
    error_column: str | None = "error",
    model: str | os.PathLike[str] | None = None,
    types: Iterable[EntityType | str] | None = None,
) -> dask.dataframe.DataFrame:
    """Return ``df`` with a column ``out_column`` of the entities of ``df[column]``.

    Each cell of ``out_column`` is a list of entity dicts (object dtype). Like
    :func:`extract_records`, a cell of ``column`` that is not a ``str`` (``None``,
    ``NaN``) gets ``None`` entities and a message in ``error_column`` (``string`` dtype,
    ``<NA>`` for the others); with ``error_column=None`` it fails the job with :class:`InputError`.
    """
    _require("dask.dataframe")
    import pandas as pd

    if column not in df.columns:
        raise ValueError(
            f"column {column!r} is not in the dataframe (columns: "
            f"{', '.join(map(str, df.columns))}); pass column= the name of the text column"
        )
    spec = _FrameSpec(_spec(model, types), column, out_column, error_column)
    columns = {out_column: pd.Series([], index=df._meta.index, dtype=object)}
    if error_column is not None:
        columns[error_column] = pd.Series([], index=df._meta.index, dtype="string")
    meta = df._meta.assign(**columns)
    mapper: Any = df.map_partitions  # unannotated in dask: typed by the line below
    out: dask.dataframe.DataFrame = mapper(_tag_frame, spec, meta=meta)
    return out
