"""Bad input and bad model files give clear errors that say what to do."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import arabic_ner
from arabic_ner import ArabicNERError, InputError, ModelError, extract_entities
from arabic_ner.model import CRFBackend, default_model_path, load_backend


@pytest.mark.parametrize(
    ("value", "name", "hint"),
    [
        (b"\xd8\xa8", "bytes", "decode"),
        (None, "NoneType", "''"),
        (42, "int", "str"),
        (["بيروت"], "list", "str"),
    ],
)
def test_non_str_text_raises_type_error_naming_the_type(
    value: object, name: str, hint: str
) -> None:
    with pytest.raises(TypeError, match=name) as caught:
        extract_entities(value)  # type: ignore[arg-type]
    assert isinstance(caught.value, InputError) and isinstance(caught.value, ArabicNERError)
    assert hint in str(caught.value)


def test_normalize_and_tokenize_check_their_input_too() -> None:
    with pytest.raises(InputError, match="bytes"):
        arabic_ner.normalize(b"x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="NoneType"):
        arabic_ner.tokenize(None)  # type: ignore[arg-type]


def test_missing_model_folder_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(ModelError, match=re.escape(str(missing))):
        arabic_ner.load(missing)


def test_model_folder_missing_a_file_names_the_file(tmp_path: Path) -> None:
    model = tmp_path / "model"
    _copy_without_manifest(model)
    (model / "lexicon.tsv").unlink()
    with pytest.raises(ModelError, match=r"lexicon\.tsv"):
        CRFBackend(model, trust=True)


def test_corrupt_model_file_names_the_path(tmp_path: Path) -> None:
    model = tmp_path / "model"
    _copy_without_manifest(model)
    (model / "model.crfsuite").write_bytes(b"not a crfsuite model")
    with pytest.raises(ModelError, match=r"model\.crfsuite"):
        CRFBackend(model, trust=True)


def test_truncated_model_file_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "model"
    _copy_without_manifest(model)
    data = (model / "model.crfsuite").read_bytes()
    (model / "model.crfsuite").write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match=re.escape(str(model))):
        CRFBackend(model, trust=True)


def test_model_of_another_feature_version_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "model"
    _copy_without_manifest(model)
    meta = (model / "meta.json").read_text("utf-8")
    (model / "meta.json").write_text(meta.replace('"feature_version": ', '"feature_version": 9'))
    with pytest.raises(ModelError, match="retrain"):
        CRFBackend(model, trust=True)


def test_unknown_backend_lists_the_known_ones() -> None:
    with pytest.raises(ModelError, match="crf"):
        load_backend("nope")


def test_bad_pipe_options_raise_config_errors_that_name_the_value() -> None:
    nlp = arabic_ner.load()
    with pytest.raises(arabic_ner.ConfigError, match="batch_size must be at least 1, got 0"):
        list(nlp.pipe(["بيروت"], batch_size=0))
    with pytest.raises(arabic_ner.ConfigError, match="n_process"):
        list(nlp.pipe(["بيروت"], n_process=0))
    with pytest.raises(arabic_ner.InputError, match=r"texts\[0\] must be a \(text, context\)"):
        list(nlp.pipe(["بيروت"], as_tuples=True))


def test_entity_types_are_read_in_any_case() -> None:
    assert {e.type.value for e in extract_entities("زار بوتين دمشق", types={"pers"})} == {"PERS"}


def test_a_pipeline_cannot_be_pickled_and_says_what_to_do() -> None:
    import pickle

    with pytest.raises(TypeError, match=r"arabic_ner\.load"):
        pickle.dumps(arabic_ner.load())


def test_one_pipeline_shared_by_threads_gives_the_same_results(sample_text: str) -> None:
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from arabic_ner.model import CRFBackend, default_model_path
    from arabic_ner.pipeline import Pipeline

    paragraphs = [p for p in sample_text.split("\n") if p.strip()] * 4
    expected = [Pipeline(CRFBackend(default_model_path()))._many([p])[0] for p in paragraphs[:1]]
    shared = Pipeline(CRFBackend(default_model_path()))  # empty caches, filled concurrently
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(shared, paragraphs))
    finally:
        sys.setswitchinterval(interval)
    reference = Pipeline(CRFBackend(default_model_path()))
    assert results == [reference(p) for p in paragraphs]
    assert results[0] == expected[0]


def test_malformed_cluster_table_names_the_file_and_line(tmp_path: Path) -> None:
    model = tmp_path / "model"
    _copy_without_manifest(model)
    table = (model / "clusters.tsv").read_text("utf-8").splitlines()
    table[2] = table[2].split("\t")[0] + "\tnot-a-number"
    (model / "clusters.tsv").write_text("\n".join(table) + "\n", encoding="utf-8")
    with pytest.raises(ModelError, match=r"clusters\.tsv:3"):
        CRFBackend(model, trust=True)


def _copy_without_manifest(model: Path) -> None:
    """Copy the default model, less its manifest: what its readers do with damage is tested."""
    shutil.copytree(default_model_path(), model)
    (model / "manifest.json").unlink()
