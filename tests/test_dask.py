"""arabic_ner.dask: the pipeline mapped over Dask bags and dataframes, on a real cluster too."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest

dask = pytest.importorskip("dask")
db = pytest.importorskip("dask.bag")
dd = pytest.importorskip("dask.dataframe")
pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed")

import arabic_ner  # noqa: E402
from arabic_ner import InputError  # noqa: E402
from arabic_ner.dask import extract_bag, extract_dataframe, extract_records  # noqa: E402
from arabic_ner.pipeline import Pipeline  # noqa: E402

# Warnings are errors here (pyproject: filterwarnings = error). Starting and closing the
# two-process LocalCluster below emits none with dask/distributed 2026.8, so no filter is
# set; if a later distributed warns at shutdown (ResourceWarning for worker pipes, say),
# mark the cluster tests with pytest.mark.filterwarnings for that one warning class.


@pytest.fixture(scope="module")
def paragraphs(sample_text: str) -> list[str]:
    found = [p.strip() for p in sample_text.split("\n\n") if p.strip()]
    return (found * (40 // len(found) + 1))[:40]


def expected(nlp: Pipeline, texts: list[str]) -> list[list[dict[str, Any]]]:
    return [[e.to_dict() for e in nlp(text)] for text in texts]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def test_bag_on_a_two_process_cluster_matches_a_single_process(
    client: Any, nlp: Pipeline, paragraphs: list[str]
) -> None:
    bag = db.from_sequence(paragraphs, npartitions=4)
    assert extract_bag(bag).compute() == expected(nlp, paragraphs)


def test_model_loads_once_per_worker_process_not_once_per_partition(
    client: Any, paragraphs: list[str]
) -> None:
    # Defined here, not at module level, so that cloudpickle ships them by value: the
    # workers cannot import this test module.
    def count_loads() -> None:
        from arabic_ner import pipeline

        real = pipeline.load_backend

        def counting(*args: Any, **kwargs: Any) -> Any:
            pipeline.LOAD_CALLS += 1  # type: ignore[attr-defined]
            return real(*args, **kwargs)

        pipeline._LOADED.clear()
        pipeline._BACKENDS.clear()
        pipeline.LOAD_CALLS = 0  # type: ignore[attr-defined]
        pipeline.load_backend = counting  # type: ignore[assignment]

    def loads() -> tuple[int, int]:
        from arabic_ner import pipeline

        return pipeline.LOAD_CALLS, len(pipeline._BACKENDS)  # type: ignore[attr-defined]

    client.run(count_loads)
    bag = db.from_sequence(paragraphs, npartitions=16)
    assert len(extract_bag(bag).compute()) == len(paragraphs)
    per_worker = client.run(loads)
    assert len(per_worker) == 2
    assert all(calls <= 1 and cached == calls for calls, cached in per_worker.values())
    assert sum(calls for calls, _ in per_worker.values()) >= 1  # and never 16


def test_task_graph_holds_the_model_path_not_a_loaded_pipeline(tmp_path: Any) -> None:
    bag = extract_bag(db.from_sequence(["زار بوتين دمشق"], npartitions=1), model=tmp_path)
    graph = pickle.dumps(dict(bag.__dask_graph__()))  # a CRF tagger cannot be pickled
    assert str(tmp_path).encode() in graph
    assert len(graph) < 10_000


def test_bag_keeps_order_and_filters_types(nlp: Pipeline, paragraphs: list[str]) -> None:
    bag = db.from_sequence(paragraphs[:14], npartitions=3)
    got = extract_bag(bag, types=["PERS", "LOC"]).compute(scheduler="sync")
    want = [
        [e for e in ents if e["type"] in ("PERS", "LOC")] for ents in expected(nlp, paragraphs[:14])
    ]
    assert got == want
    assert any(want)


def test_bag_item_that_is_not_a_str_fails_the_job_with_input_error() -> None:
    bag = extract_bag(db.from_sequence(["زار بوتين دمشق", b"bytes"], npartitions=1))
    with pytest.raises(InputError, match="got bytes"):
        bag.compute(scheduler="sync")


def test_records_get_an_entities_field_and_keep_their_other_fields(
    nlp: Pipeline, paragraphs: list[str]
) -> None:
    records = [{"id": i, "body": text} for i, text in enumerate(paragraphs[:10])]
    bag = db.from_sequence(records, npartitions=3)
    got = extract_records(bag, text_field="body", entities_field="ents").compute(scheduler="sync")
    want = [
        {**r, "ents": ents, "error": None}
        for r, ents in zip(records, expected(nlp, paragraphs[:10]), strict=True)
    ]
    assert got == want


def test_bad_records_get_an_error_field_and_no_entities(nlp: Pipeline) -> None:
    moscow = "وصل الرئيس الروسي فلاديمير بوتين الى موسكو"
    records = [
        {"id": 0, "text": "زار بوتين دمشق"},
        {"id": 1, "text": None},
        {"id": 2, "text": 42},
        {"id": 3, "title": "no text field"},
        {"id": 4, "text": moscow},
    ]
    got = extract_records(db.from_sequence(records, npartitions=2)).compute(scheduler="sync")
    assert [r["id"] for r in got] == [0, 1, 2, 3, 4]  # records in = records out
    assert [r["error"] is None for r in got] == [True, False, False, False, True]
    assert [r["entities"] is None for r in got] == [False, True, True, True, False]
    assert "got NoneType" in got[1]["error"]
    assert "got int" in got[2]["error"]
    assert "no 'text' field" in got[3]["error"]
    assert got[4]["entities"] == expected(nlp, [moscow])[0] != []
    assert records[0] == {"id": 0, "text": "زار بوتين دمشق"}  # inputs are not mutated


def test_bad_record_fails_the_job_without_an_error_field() -> None:
    bag = db.from_sequence([{"text": "زار بوتين دمشق"}, {"text": None}], npartitions=1)
    with pytest.raises(InputError, match=r"record\['text'\] must be a str"):
        extract_records(bag, error_field=None).compute(scheduler="sync")


def test_records_to_dataframe_keeps_the_error_column() -> None:
    records = [{"id": 0, "text": "زار بوتين دمشق"}, {"id": 1, "text": None}]
    bag = extract_records(db.from_sequence(records, npartitions=1))
    with dask.config.set(scheduler="sync"):
        frame = bag.to_dataframe().compute()
    assert list(frame.columns) == ["id", "text", "entities", "error"]


def test_dataframe_gets_a_column_of_entity_lists_with_matching_meta(
    nlp: Pipeline, paragraphs: list[str]
) -> None:
    texts = paragraphs[:12]
    frame = dd.from_pandas(pd.DataFrame({"doc": range(12), "body": texts}), npartitions=3)
    out = extract_dataframe(frame, column="body", out_column="ents")
    assert list(out.columns) == ["doc", "body", "ents", "error"]
    assert pd.api.types.is_object_dtype(out.dtypes["ents"])
    got = out.compute(scheduler="sync")
    assert list(got.columns) == list(out.columns)
    assert list(got.dtypes) == list(out.dtypes)
    assert got["ents"].tolist() == expected(nlp, texts)
    assert got["error"].isna().all()
    assert got["doc"].tolist() == list(range(12))


def test_dataframe_missing_text_gets_an_error_not_a_crash() -> None:
    pdf = pd.DataFrame({"text": ["زار بوتين دمشق", None, "قصفت الطائرات حلب"]})
    got = extract_dataframe(dd.from_pandas(pdf, npartitions=2)).compute(scheduler="sync")
    assert [ents is None for ents in got["entities"]] == [False, True, False]
    assert "index 1 is missing" in got["error"][1]
    strict = extract_dataframe(dd.from_pandas(pdf, npartitions=1), error_column=None)
    assert "error" not in strict.columns
    with pytest.raises(InputError, match="index 1 is missing"):
        strict.compute(scheduler="sync")


def test_dataframe_without_the_text_column_is_refused_before_any_work() -> None:
    frame = dd.from_pandas(pd.DataFrame({"body": ["زار بوتين دمشق"]}), npartitions=1)
    with pytest.raises(ValueError, match="column 'text' is not in the dataframe"):
        extract_dataframe(frame)


def test_importing_arabic_ner_does_not_import_dask() -> None:
    import subprocess
    import sys

    code = "import sys, arabic_ner, arabic_ner.dask; print('dask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "dask.bag", None)
    with pytest.raises(arabic_ner.BackendNotAvailableError, match=r"arabic-ner\[dask\]"):
        extract_bag(db.from_sequence(["x"]))
