"""Canonical names and clusters: one actor, one cluster, within a document."""

from __future__ import annotations

from pathlib import Path

import pytest

import arabic_ner
from arabic_ner import DataFormatError, EntityType
from arabic_ner.aliases import AliasTable, default_aliases, resolve
from arabic_ner.entities import Entity
from arabic_ner.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]


def entity(text: str, kind: EntityType, start: int) -> Entity:
    return Entity(text, kind, start, start + len(text), 1.0, text)


def test_shipped_alias_table_is_the_documented_data_file() -> None:
    shipped = ROOT / "arabic_ner" / "resources" / "aliases.tsv"
    assert shipped.read_bytes() == (ROOT / "data" / "aliases.tsv").read_bytes(), "make aliases"


def test_daesh_and_the_islamic_state_are_one_actor() -> None:
    found = resolve(
        [
            entity("داعش", EntityType.ORG, 0),
            entity("تنظيم الدولة الاسلامية", EntityType.ORG, 10),
            entity("الدولة الإسلامية", EntityType.ORG, 40),
        ],
        default_aliases(),
    )
    assert {e.cluster for e in found} == {0}
    assert {e.canonical for e in found} == {"الدولة الإسلامية"}


def test_family_name_joins_the_full_name_before_it() -> None:
    found = resolve(
        [
            entity("فلاديمير بوتين", EntityType.PERS, 0),
            entity("سوريا", EntityType.LOC, 20),
            entity("بوتين", EntityType.PERS, 30),
        ],
        AliasTable({}),
    )
    assert [e.cluster for e in found] == [0, 1, 0]
    assert found[2].canonical == "فلاديمير بوتين"


def test_family_name_shared_by_two_people_joins_the_nearest_before() -> None:
    found = resolve(
        [
            entity("بشار الاسد", EntityType.PERS, 0),
            entity("ماهر الاسد", EntityType.PERS, 20),
            entity("الاسد", EntityType.PERS, 40),
        ],
        AliasTable({}),
    )
    assert found[2].cluster == found[1].cluster != found[0].cluster


def test_same_name_different_type_are_different_actors() -> None:
    found = resolve(
        [entity("عمان", EntityType.LOC, 0), entity("عمان", EntityType.ORG, 10)], AliasTable({})
    )
    assert found[0].cluster != found[1].cluster


def test_a_name_python_splits_into_no_words_is_its_own_canonical() -> None:
    # Found by fuzz/fuzz_extract.py: U+001D (and U+001C-U+001F) are whitespace to
    # str.split but not to the tokenizer, so a tagged run of them has no words.
    (found,) = resolve([entity("\x1d\x1d", EntityType.MISC, 0)], AliasTable({}))
    assert found.canonical == "\x1d\x1d" and found.cluster == 0


def test_table_type_overrides_a_confused_tagger() -> None:
    (found,) = resolve([entity("فرانس برس", EntityType.PERS, 0)], default_aliases())
    assert found.type is EntityType.ORG and found.canonical == "وكالة فرانس برس"


def test_rule_entities_get_no_cluster(nlp: Pipeline, sample_text: str) -> None:
    for e in nlp(sample_text):
        if e.type in (EntityType.DATE, EntityType.NUM):
            assert e.cluster is None and e.canonical is None
        else:
            assert e.cluster is not None and e.canonical


def test_sample_article_clusters_putin_and_daesh(nlp: Pipeline, sample_text: str) -> None:
    found = nlp(sample_text)
    putin = {e.cluster for e in found if e.canonical == "فلاديمير بوتين"}
    assert len(putin) == 1
    assert {e.text for e in found if e.cluster in putin} == {"فلاديمير بوتين", "بوتين"}
    daesh = {e.text for e in found if e.canonical == "الدولة الإسلامية"}
    assert {"داعش", "تنظيم الدولة الاسلامية"} <= daesh


def test_user_alias_file_extends_the_table(tmp_path: Path) -> None:
    extra = tmp_path / "aliases.tsv"
    extra.write_text("# mine\nحمص\tLOC\tمدينة حمص|Homs\n", encoding="utf-8")
    nlp = arabic_ner.load(aliases=extra)
    (homs,) = [e for e in nlp("قتل جنود في مدينة حمص") if e.text == "حمص"]
    assert homs.canonical == "حمص"
    assert AliasTable.read(extra).canonical["Homs"] == ("حمص", EntityType.LOC)


def test_malformed_alias_line_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("ok\tLOC\tx\nno tabs here\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"bad\.tsv:2"):
        AliasTable.read(bad)
