"""The spaCy integration: the "arabic_ner" factory, its extensions, converters and DocBin."""

from __future__ import annotations

import doctest
import importlib
import json
import logging
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy")

import arabic_ner  # noqa: E402
from arabic_ner import (  # noqa: E402
    BackendNotAvailableError,
    ConfigError,
    DataFormatError,
    Entity,
    EntityType,
    Value,
)
from arabic_ner import spacy_component as component  # noqa: E402
from arabic_ner.cli import main  # noqa: E402
from arabic_ner.corpus import Record  # noqa: E402
from arabic_ner.spacy_component import (  # noqa: E402
    doc_to_entities,
    docbin_doc,
    entities_to_doc,
)
from arabic_ner.writers import DocBinWriter, read_docbin  # noqa: E402

SENTENCE = "وصل الرئيس الروسي فلاديمير بوتين الى موسكو"
PROCLITIC = "زار بوتين دمشق وموسكو"  # spaCy keeps وموسكو whole; the entity is موسكو
TEXTS = [
    SENTENCE,
    PROCLITIC,
    "وصل بوتين الى موسكو في 5 ايار/مايو 2015",
    'أعلن تنظيم "داعش" سيطرته على مدينة تدمر',
    "",
    "لا شيء هنا",
    "قصفت الطائرات الروسية مدينة حلب\r\nثم وصل الى دمشق 😀 بـ5 ملايين دولار",
]
LOGGER = "arabic_ner.spacy_component"


def ents(doc: object) -> list[tuple[str, str, int, int]]:
    return [(s.label_, s.text, s.start_char, s.end_char) for s in doc.ents]  # type: ignore[attr-defined]


def spans(entities: tuple[Entity, ...] | list[Entity]) -> list[tuple[str, int, int, str]]:
    return [(e.type.value, e.start, e.end, e.text) for e in entities]


def pipeline(**config: object) -> object:
    nlp = spacy.blank("ar")
    nlp.add_pipe("arabic_ner", config=config)
    return nlp


# --- the component ------------------------------------------------------------------------


def test_factory_comes_from_the_entry_point_and_arabic_ner_does_not_import_spacy() -> None:
    script = """
import json, sys
import arabic_ner, arabic_ner.cli, arabic_ner.corpus
before = sorted(m for m in ("spacy", "arabic_ner.spacy_component") if m in sys.modules)
import spacy
nlp = spacy.blank("ar")
nlp.add_pipe("arabic_ner", config={"types": ["PERS", "LOC"]})  # found via the entry point
doc = nlp(sys.argv[1])
print(json.dumps({"before": before, "ents": [[s.label_, s.text] for s in doc.ents]}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script, SENTENCE], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result["before"] == []
    assert result["ents"] == [["PERS", "فلاديمير بوتين"], ["LOC", "موسكو"]]


def test_add_pipe_by_factory_name_fills_doc_ents() -> None:
    nlp = pipeline(types=["PERS", "LOC"], backend="crf", model=None, alignment_mode="expand")
    doc = nlp(SENTENCE)  # type: ignore[operator]
    assert ents(doc) == [("PERS", "فلاديمير بوتين", 18, 32), ("LOC", "موسكو", 37, 42)]
    assert nlp.pipe_names == ["arabic_ner"]  # type: ignore[attr-defined]


def test_config_types_backend_and_model_are_passed_to_load() -> None:
    model = str(arabic_ner.load().backend.path)
    only_loc = pipeline(types=["loc"], model=model)(SENTENCE)  # type: ignore[operator]
    assert ents(only_loc) == [("LOC", "موسكو", 37, 42)]
    crf_only = pipeline(backend="crf-only")
    component_of = crf_only.get_pipe("arabic_ner")  # type: ignore[attr-defined]
    assert component_of.pipeline.backend.name == "crf-only"
    assert component_of.pipeline is arabic_ner.load(backend="crf-only")
    text = "وصل بوتين الى موسكو في 5 ايار/مايو 2015"
    assert ("DATE", "5 ايار/مايو 2015") in [(s.label_, s.text) for s in crf_only(text).ents]  # type: ignore[operator]


def test_bad_config_raises_config_error_saying_what_is_allowed() -> None:
    with pytest.raises(ConfigError, match="alignment_mode must be one of strict, contract, expand"):
        pipeline(alignment_mode="nearest")
    with pytest.raises(ConfigError, match="entity types are"):
        pipeline(types=["CITY"])


def test_proclitic_entity_expand_covers_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        doc = pipeline(alignment_mode="expand")(PROCLITIC)  # type: ignore[operator]
    assert ents(doc) == [
        ("PERS", "بوتين", 4, 9),
        ("LOC", "دمشق", 10, 14),
        ("LOC", "وموسكو", 15, 21),
    ]
    moscow = doc.ents[2]._.arabic_ner_entity
    assert (moscow.text, moscow.start, moscow.end) == ("موسكو", 16, 21)  # exact offsets kept
    assert doc._.arabic_ner_unaligned == []
    assert not caplog.records


@pytest.mark.parametrize("mode", ["strict", "contract"])
def test_proclitic_entity_strict_is_kept_unaligned_with_a_warning(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        doc = pipeline(alignment_mode=mode)(PROCLITIC)  # type: ignore[operator]
    assert ents(doc) == [("PERS", "بوتين", 4, 9), ("LOC", "دمشق", 10, 14)]
    [moscow] = doc._.arabic_ner_unaligned
    assert (moscow.type, moscow.text, moscow.start, moscow.end) == (EntityType.LOC, "موسكو", 16, 21)
    assert [e.text for e in doc._.arabic_ner_entities] == ["بوتين", "دمشق", "موسكو"]
    [warning] = [r for r in caplog.records if r.name == LOGGER]  # one per doc
    assert warning.levelno == logging.WARNING
    message = warning.getMessage()
    assert "1 of 3 entities" in message and "doc._.arabic_ner_unaligned" in message
    assert "موسكو" in message


def test_extensions_hold_score_canonical_cluster_value_and_entity() -> None:
    text = "وصل الرئيس فلاديمير بوتين الى موسكو في 5 ايار/مايو 2015 ثم التقى بوتين"
    found = arabic_ner.load()(text)
    doc = pipeline()(text)  # type: ignore[operator]
    assert len(doc.ents) == len(found) and doc._.arabic_ner_entities == found
    for span, entity in zip(doc.ents, found, strict=True):
        assert span._.arabic_ner_entity == entity
        assert span._.arabic_ner_score == entity.score
        assert span._.arabic_ner_canonical == entity.canonical
        assert span._.arabic_ner_cluster == entity.cluster
        assert span._.arabic_ner_value == (None if entity.value is None else entity.value.to_dict())
    [date] = [s for s in doc.ents if s.label_ == "DATE"]
    assert date._.arabic_ner_value == {"year": 2015, "month": 5, "day": 5, "calendar": "gregorian"}
    putin = [s for s in doc.ents if s.label_ == "PERS"]
    assert len(putin) == 2 and putin[0]._.arabic_ner_cluster == putin[1]._.arabic_ner_cluster
    assert putin[1]._.arabic_ner_canonical == "فلاديمير بوتين"


def test_nlp_pipe_equals_calling_one_by_one() -> None:
    nlp = pipeline()

    def seen(doc: object) -> list[object]:
        return [(*ents(doc), doc._.arabic_ner_entities, doc._.arabic_ner_unaligned)]  # type: ignore[attr-defined]

    one_by_one = [seen(nlp(text)) for text in TEXTS]  # type: ignore[operator]
    assert [seen(doc) for doc in nlp.pipe(TEXTS, batch_size=3)] == one_by_one  # type: ignore[attr-defined]
    assert [seen(doc) for doc in nlp.pipe(iter(TEXTS))] == one_by_one  # type: ignore[attr-defined]


def test_overwrite_ents_false_keeps_earlier_entities_and_keeps_ours_unaligned() -> None:
    nlp = spacy.blank("ar")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "GPE", "pattern": "موسكو"}])  # type: ignore[attr-defined]
    nlp.add_pipe("arabic_ner", config={"overwrite_ents": False})
    doc = nlp(SENTENCE)
    assert ents(doc) == [("PERS", "فلاديمير بوتين", 18, 32), ("GPE", "موسكو", 37, 42)]
    assert [e.text for e in doc._.arabic_ner_unaligned] == ["موسكو"]
    replaced = pipeline()(SENTENCE)  # type: ignore[operator]
    assert [s.label_ for s in replaced.ents] == ["PERS", "LOC"]


def test_component_pickles_as_its_configuration_and_pipeline_saves_to_disk(
    tmp_path: Path,
) -> None:
    nlp = pipeline(types=["PERS", "LOC"], alignment_mode="strict")
    again = pickle.loads(pickle.dumps(nlp.get_pipe("arabic_ner")))  # type: ignore[attr-defined]
    assert again.alignment_mode == "strict" and again.types == ("LOC", "PERS")
    assert ents(again(spacy.blank("ar").make_doc(SENTENCE))) == ents(nlp(SENTENCE))  # type: ignore[operator]
    nlp.to_disk(tmp_path / "nlp")  # type: ignore[attr-defined]
    loaded = spacy.load(tmp_path / "nlp")
    assert loaded.get_pipe_config("arabic_ner")["alignment_mode"] == "strict"
    assert ents(loaded(SENTENCE)) == ents(nlp(SENTENCE))  # type: ignore[operator]


# --- converters ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["expand", "strict"])
def test_entities_to_doc_and_back_gives_the_same_entities(mode: str) -> None:
    nlp = arabic_ner.load()
    for text in TEXTS:
        found = nlp(text)
        doc = entities_to_doc(text, found, alignment_mode=mode)
        assert doc.text == text
        assert doc_to_entities(doc) == found  # the Entity objects: every field
        assert spans(doc_to_entities(doc)) == spans(found)


def test_doc_to_entities_of_plain_spans_reads_label_offsets_and_text() -> None:
    doc = spacy.blank("ar").make_doc(PROCLITIC)
    doc.ents = [doc.char_span(4, 9, label="PERS"), doc.char_span(15, 21, label="LOC")]
    got = doc_to_entities(doc)
    assert spans(got) == [("PERS", 4, 9, "بوتين"), ("LOC", 15, 21, "وموسكو")]
    assert all(e.score == 1.0 for e in got)
    doc.ents = [doc.char_span(10, 14, label="GPE")]
    with pytest.raises(ConfigError, match="'GPE', which is not an arabic-ner type"):
        doc_to_entities(doc)


def test_doc_to_entities_without_unaligned_gives_what_doc_ents_holds() -> None:
    found = arabic_ner.load()(PROCLITIC)
    doc = entities_to_doc(PROCLITIC, found, nlp=spacy.blank("ar"), alignment_mode="strict")
    assert [e.text for e in doc_to_entities(doc, unaligned=False)] == ["بوتين", "دمشق"]


def test_entities_to_doc_refuses_entities_of_another_text() -> None:
    wrong = Entity("دمشق", EntityType.LOC, 0, 4, 1.0, "دمشق")
    with pytest.raises(ConfigError, match="does not match the text"):
        entities_to_doc(PROCLITIC, [wrong])


# --- DocBin -------------------------------------------------------------------------------


def test_docbin_writer_round_trip_keeps_records_and_every_entity_field(tmp_path: Path) -> None:
    text = "زار بوتين دمشق وموسكو في 5 ايار/مايو 2015"
    date = Value(year=2015, month=5, day=5, calendar="gregorian")
    found = [
        Entity("بوتين", EntityType.PERS, 4, 9, 0.8125, "بوتين", canonical="بوتين", cluster=0),
        Entity("موسكو", EntityType.LOC, 16, 21, 0.5, "موسكو"),
        Entity("5 ايار/مايو 2015", EntityType.DATE, 25, 41, 1.0, "5 ايار/مايو 2015", value=date),
    ]
    items = [
        (Record("d1", "in.jsonl", 1, text), found),
        (Record("in.jsonl:2", "in.jsonl", 2, error="malformed JSON"), []),
        (Record("d3", "a.txt", None, "لا شيء\r\nهنا"), []),
    ]
    with DocBinWriter(tmp_path / "out.spacy", alignment_mode="strict") as writer:
        for record, entities in items:
            writer.write(record, entities)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.spacy"]
    back = read_docbin(tmp_path / "out.spacy")
    assert [(r.id, r.source, r.line, r.text, r.error) for r in back] == [
        ("d1", "in.jsonl", 1, text, None),
        ("in.jsonl:2", "in.jsonl", 2, None, "malformed JSON"),
        ("d3", "a.txt", None, "لا شيء\r\nهنا", None),
    ]
    assert back[0].entities == tuple(found)
    docs = list(
        spacy.tokens.DocBin().from_disk(tmp_path / "out.spacy").get_docs(spacy.blank("ar").vocab)
    )
    assert [s.text for s in docs[0].ents] == ["بوتين", "5 ايار/مايو 2015"]  # strict
    assert docs[0].user_data["unaligned"] == (1,)  # موسكو, kept in user_data["entities"]
    assert docs[1].text == "" and docs[1].user_data["error"] == "malformed JSON"
    assert docs[0].ents[0]._.arabic_ner_canonical == "بوتين"


def test_docbin_writer_that_fails_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out.spacy"
    with pytest.raises(RuntimeError), DocBinWriter(out) as writer:
        writer.write(Record("d", "a", None, "زار دمشق"), [])
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_read_docbin_refuses_what_arabic_ner_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "junk.spacy").write_bytes(b"not a docbin")
    with pytest.raises(DataFormatError, match="not a spaCy DocBin"):
        read_docbin(tmp_path / "junk.spacy")
    plain = spacy.tokens.DocBin(docs=[spacy.blank("ar")("زار دمشق")], store_user_data=True)
    plain.to_disk(tmp_path / "plain.spacy")
    with pytest.raises(DataFormatError, match="doc 1: no user_data 'id'"):
        read_docbin(tmp_path / "plain.spacy")


def jsonl_input(path: Path) -> Path:
    rows: list[object] = [{"id": f"d{i}", "text": text} for i, text in enumerate(TEXTS)]
    rows.insert(2, [1])  # an error record
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_extract_format_spacy_holds_what_jsonl_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl_input(tmp_path / "in.jsonl")
    assert main(["extract", "-q", str(data), "--format", "jsonl"]) == 1
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["extract", "-q", str(data), "-o", str(tmp_path / "out.spacy")]) == 1  # by name
    assert "warning" in capsys.readouterr().err  # the error record, as for every format
    back = read_docbin(tmp_path / "out.spacy")
    assert len(back) == len(expected) == len(TEXTS) + 1  # records in = records out
    for row, got in zip(expected, back, strict=True):
        assert (got.id, got.source, got.line) == (row["id"], row["source"], row["line"])
        if "error" in row:
            assert got.error == row["error"] and got.entities == ()
            continue
        found = [(e["type"], e["start"], e["end"], e["text"]) for e in row["entities"]]
        assert spans(got.entities) == found
        assert [e.to_dict() for e in got.entities] == row["entities"]
    assert not (tmp_path / "out.spacy.progress.json").exists()
    assert not (tmp_path / "out.spacy.tmp").exists()


def test_extract_format_spacy_needs_a_file_and_refuses_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl_input(tmp_path / "in.jsonl")
    cases = {
        "name the file with -o FILE.spacy": [str(data), "--format", "spacy"],
        "not text for standard output": [str(data), "--format", "spacy", "-o", "-"],
        "--resume does not work with --format spacy": [
            *(str(data), "--format", "spacy", "-o", str(tmp_path / "x.spacy"), "--resume")
        ],
        "is a folder": [str(data), "--format", "spacy", "-o", str(tmp_path)],
    }
    for message, args in cases.items():
        assert main(["extract", "-q", *args]) == 2, message
        assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


# --- without spaCy ------------------------------------------------------------------------


def test_without_spacy_every_entry_point_names_the_pip_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [m for m in sys.modules if m == "spacy" or m.startswith("spacy.")]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now raises ImportError
    monkeypatch.delitem(sys.modules, "arabic_ner.spacy_component")
    monkeypatch.setattr(arabic_ner, "spacy_component", component)  # restored afterwards
    fresh = importlib.import_module("arabic_ner.spacy_component")
    assert fresh is not component and not fresh.HAVE_SPACY
    install = "pip install 'arabic-ner[spacy]'"
    calls = [
        fresh.require_spacy,
        lambda: fresh.entities_to_doc("زار دمشق", []),
        lambda: fresh.doc_to_entities(None),
        lambda: fresh.ArabicNERComponent(),
        lambda: DocBinWriter(tmp_path / "out.spacy"),
        lambda: read_docbin(tmp_path / "out.spacy"),
    ]
    for call in calls:
        with pytest.raises(BackendNotAvailableError, match=install.replace("[", r"\[")):
            call()
    data = jsonl_input(tmp_path / "in.jsonl")
    assert main(["extract", "-q", str(data), "-o", str(tmp_path / "out.spacy")]) == 1
    assert install in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_docstring_examples_run() -> None:
    result = doctest.testmod(component, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_component_docs_keep_their_entities_in_a_docbin_with_user_data() -> None:
    nlp = pipeline(alignment_mode="strict")
    docs = list(nlp.pipe(TEXTS))  # type: ignore[attr-defined]
    data = spacy.tokens.DocBin(docs=docs, store_user_data=True).to_bytes()
    back = list(spacy.tokens.DocBin().from_bytes(data).get_docs(spacy.blank("ar").vocab))
    for doc, again in zip(docs, back, strict=True):
        assert ents(again) == ents(doc)
        assert list(again._.arabic_ner_entities) == doc._.arabic_ner_entities  # Entity objects
        assert list(again._.arabic_ner_unaligned) == doc._.arabic_ner_unaligned
        assert doc_to_entities(again) == doc_to_entities(doc)
        for span in again.ents:
            assert isinstance(span._.arabic_ner_entity, Entity)


def test_docbin_doc_needs_no_entity_objects() -> None:
    found = arabic_ner.load()(PROCLITIC)
    doc = docbin_doc(PROCLITIC, found, {"id": "x"})
    assert all(not isinstance(v, Entity) for v in doc.user_data.values())
    assert spacy.tokens.DocBin(docs=[doc], store_user_data=True).to_bytes()


def test_help_lists_the_spacy_format(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "spacy: a spaCy DocBin file -o FILE.spacy" in text and "[spacy] extra" in text
