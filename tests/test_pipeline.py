"""The pipeline end to end: entities of the sample article, offsets, batches, types."""

from __future__ import annotations

import gc
import itertools
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import arabic_ner
from arabic_ner import Entity, EntityType, extract_entities
from arabic_ner.errors import ModelError
from arabic_ner.normalize import NormalizeConfig
from arabic_ner.pipeline import Pipeline, _pieces

REQUIRED = [
    ("ORG", "داعش"),
    ("LOC", "تدمر"),
    ("LOC", "حمص"),
    ("LOC", "سوريا"),
    ("LOC", "بيروت"),
    ("LOC", "موسكو"),
    ("PERS", "فلاديمير بوتين"),
    ("PERS", "دميتري بيسكوف"),
    ("ORG", "حزب الله"),
]


def occurrences(text: str, surface: str) -> set[tuple[int, int]]:
    found, at = set(), text.find(surface)
    while at != -1:
        found.add((at, at + len(surface)))
        at = text.find(surface, at + 1)
    return found


@pytest.mark.parametrize(("kind", "surface"), REQUIRED)
def test_sample_article_entity_is_found_with_exact_offsets(
    nlp: Pipeline, sample_text: str, kind: str, surface: str
) -> None:
    spans = {(e.start, e.end) for e in nlp(sample_text) if e.type == kind and e.text == surface}
    assert spans, f"{kind} {surface} not found"
    assert spans <= occurrences(sample_text, surface)


def test_sample_article_entities_slice_sort_and_never_overlap(
    nlp: Pipeline, sample_text: str
) -> None:
    found = nlp(sample_text)
    assert found == sorted(found)
    for e in found:
        assert sample_text[e.start : e.end] == e.text
        assert 0.0 <= e.score <= 1.0
        assert isinstance(e.type, EntityType)
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start


def test_offsets_hold_on_a_few_hundred_generated_strings(nlp: Pipeline, sample_text: str) -> None:
    rng = random.Random(7)
    noise = ["َ", "ُ", "ّ", "ـ", "\u200f", "&amp;", "&", "ﻻ", "ﺑ", "٣", "\n", "  ", "أ", "ی"]
    words = sample_text.split()
    for _ in range(300):
        pieces = []
        for word in rng.sample(words, 12):
            pieces.append(word)
            if rng.random() < 0.4:
                pieces.append(rng.choice(noise))
            pieces.append(rng.choice([" ", " ", "", "\n"]))
        text = "".join(pieces)
        for e in nlp(text):
            assert text[e.start : e.end] == e.text, (text, e)


def test_diacritized_and_stretched_text_gives_the_original_surface(nlp: Pipeline) -> None:
    text = "وَقَالَ الرَّئِيسُ الرُّوسِيُّ فْلادِيمِير بُوتِين فِي مُوسْكُـــو"
    found = {(e.type.value, e.text) for e in nlp(text)}
    assert ("PERS", "فْلادِيمِير بُوتِين") in found
    assert ("LOC", "مُوسْكُـــو") in found


def test_normalized_form_drops_the_proclitic_and_the_marks(nlp: Pipeline) -> None:
    (entity,) = [e for e in nlp("واعلنت وَمُوسْكُو ذلك") if e.type is EntityType.LOC]
    assert entity.text == "مُوسْكُو" and entity.normalized == "موسكو"


def test_empty_and_whitespace_text_returns_no_entities(nlp: Pipeline) -> None:
    assert nlp("") == [] and nlp("  \n\t ") == [] and extract_entities("") == []


def test_text_without_words_has_no_names_only_numbers(nlp: Pipeline) -> None:
    assert [(e.type, e.text) for e in nlp("12345 ... !!!")] == [(EntityType.NUM, "12345")]


def test_long_text_is_cut_in_pieces_with_exact_offsets(nlp: Pipeline, sample_text: str) -> None:
    text = sample_text * 40  # about 145,000 characters: more than one piece
    single = nlp(sample_text)
    found = nlp(text)
    assert len(found) == 40 * len(single)
    for e in found:
        assert text[e.start : e.end] == e.text


def test_pieces_cover_the_text_exactly() -> None:
    text = ("كلمة " * 50 + "\n") * 30 + "x" * 700
    pieces = list(_pieces(text, limit=300))
    assert "".join(p for _, p in pieces) == text
    assert all(len(p) <= 300 for _, p in pieces)
    assert [o for o, _ in pieces] == [
        sum(len(p) for _, p in pieces[:i]) for i in range(len(pieces))
    ]


def test_pipe_keeps_order_and_matches_single_calls(nlp: Pipeline, sample_text: str) -> None:
    texts = [p for p in sample_text.split("\n") if p.strip()]
    assert list(nlp.pipe(iter(texts), batch_size=3)) == [nlp(t) for t in texts]


def test_pipe_as_tuples_carries_context(nlp: Pipeline) -> None:
    out = list(nlp.pipe([("زار بيروت", 1), ("", 2)], as_tuples=True))
    assert [ctx for _, ctx in out] == [1, 2]
    assert [e.text for e in out[0][0]] == ["بيروت"] and out[1][0] == []


def test_pipe_with_two_processes_equals_one(nlp: Pipeline, sample_text: str) -> None:
    texts = [p for p in sample_text.split("\n") if p.strip()] * 2
    assert list(nlp.pipe(texts, batch_size=4, n_process=2)) == list(nlp.pipe(texts))


def test_batches_of_a_list_shrink_at_the_end_and_a_stream_is_read_as_it_comes() -> None:
    from arabic_ner.pipeline import _checked_batches

    texts = [f"t{i}" for i in range(300)]
    sizes = []
    for chunk, _ in _checked_batches(texts, 64, False, tail=128):
        assert chunk == texts[sum(sizes) : sum(sizes) + len(chunk)]
        sizes.append(len(chunk))
    assert sum(sizes) == 300 and sizes[:3] == [64, 64, 44] and sizes[3] == 16
    assert sizes[3:] == sorted(sizes[3:], reverse=True) and sizes[-8:] == [1] * 8
    stream = [len(c) for c, _ in _checked_batches(iter(texts), 64, False, tail=128)]
    assert stream == [64, 64, 64, 64, 44]
    # A list shortened while it is read ends the batches early; nothing raises.
    shrinking, read = list(texts), []
    for chunk, _ in _checked_batches(shrinking, 64, False, tail=128):
        read += chunk
        del shrinking[-40:]
    assert read == texts[: len(read)] and 0 < len(read) < 300


def test_pipe_names_the_position_of_a_bad_item(nlp: Pipeline) -> None:
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str, got bytes"):
        list(nlp.pipe(["زار بيروت", b"\xd8\xa8"]))


def test_types_filter_keeps_only_the_asked_types(sample_text: str) -> None:
    found = extract_entities(sample_text, types={"PERS"})
    assert found and all(e.type is EntityType.PERS for e in found)


def test_load_returns_the_same_pipeline() -> None:
    assert arabic_ner.load() is arabic_ner.load()


def test_entity_repr_to_dict_and_order() -> None:
    a = Entity("بوتين", EntityType.PERS, 10, 15, 0.912, "بوتين")
    b = Entity("موسكو", EntityType.LOC, 2, 7, 0.5, "موسكو")
    assert repr(a) == "Entity(PERS, 'بوتين', 10:15, score=0.91)"
    assert a.to_dict() == {
        "text": "بوتين",
        "type": "PERS",
        "start": 10,
        "end": 15,
        "score": 0.912,
        "normalized": "بوتين",
    }
    assert sorted([a, b]) == [b, a]
    with pytest.raises(AttributeError):
        a.start = 3  # type: ignore[misc]


def test_entity_pickles_and_copies_with_every_field() -> None:
    # Entity.__reduce__ and Value.__reduce__ list the fields by hand, and entities._entity
    # and ._value set them through the slots (faster than the dataclass's own state): a
    # field added to a class and not to them would come back as its default.
    import copy
    import dataclasses
    import pickle

    value = arabic_ner.Value(
        number=5.0,
        unit="USD",
        year=2015,
        month=5,
        day=5,
        weekday=2,
        hour=10,
        minute=30,
        calendar="gregorian",
    )
    entity = Entity(
        "5 ايار/مايو 2015",
        EntityType.DATE,
        3,
        18,
        0.75,
        "5 ايار/مايو 2015",
        value=value,
        canonical="canonical",
        cluster=2,
    )
    defaults = Entity("x", EntityType.PERS, 0, 1, 1.0, "x")
    assert all(
        getattr(entity, field.name) != getattr(defaults, field.name)
        for field in dataclasses.fields(Entity)
    ), "give every field a value unlike the defaults, so that a field left out shows"
    assert all(getattr(value, field.name) is not None for field in dataclasses.fields(value))
    for protocol in range(2, pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(entity, protocol=protocol))
        assert back == entity and type(back) is Entity and back.type is EntityType.DATE
        assert back.value == value and type(back.value) is arabic_ner.Value
        assert hash(back) == hash(entity) and back.to_dict() == entity.to_dict()
        with pytest.raises(dataclasses.FrozenInstanceError):
            back.start = 4  # type: ignore[misc]
    assert copy.deepcopy(entity) == entity
    assert copy.copy(entity) == entity


def test_import_is_light_and_loads_no_model() -> None:
    code = (
        "import sys, arabic_ner, arabic_ner.pipeline as p; "
        "print(len(p._LOADED), 'torch' in sys.modules, 'camel_tools' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "False", "False"]


def test_sample_article_dates_and_numbers_carry_values(nlp: Pipeline, sample_text: str) -> None:
    found = {(e.type.value, e.text): e.value for e in nlp(sample_text) if e.value is not None}
    assert found[("DATE", "ايار/مايو 2015")] == arabic_ner.Value(
        year=2015, month=5, calendar="gregorian"
    )
    assert found[("DATE", "30 ايلول/سبتمبر")].day == 30
    assert found[("DATE", "الخميس")].weekday == 4
    assert found[("NUM", "خمسة")].number == 5


def test_types_skip_the_work_for_other_types(sample_text: str) -> None:
    names_only = arabic_ner.load(types={"PERS", "LOC", "ORG", "MISC"})
    rules_only = arabic_ner.load(types=["DATE", "NUM"])
    everything = arabic_ner.load()
    assert not {e.type for e in names_only(sample_text)} & {EntityType.DATE, EntityType.NUM}
    assert {e.type for e in rules_only(sample_text)} == {EntityType.DATE, EntityType.NUM}
    assert sorted(names_only(sample_text) + rules_only(sample_text)) == everything(sample_text)
    assert rules_only.backend is everything.backend  # one model loaded, shared


def test_unknown_type_is_refused_with_the_list() -> None:
    with pytest.raises(ValueError, match="PERS, LOC"):
        extract_entities("بيروت", types={"PLACE"})


def test_rule_entity_inside_a_name_is_dropped(nlp: Pipeline) -> None:
    found = nlp("وصل الى شارع 30 يونيو في القاهرة")
    spans = [(e.start, e.end) for e in found]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_pipe_spawns_workers_when_forking_is_unsafe(
    nlp: Pipeline, sample_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setattr(threading, "active_count", lambda: 2)  # as if a thread were running
    texts = [p for p in sample_text.split("\n") if p.strip()]
    assert list(nlp.pipe(texts, batch_size=3, n_process=2)) == [nlp(t) for t in texts]


def test_spawned_workers_keep_the_bias_the_backend_was_given(
    sample_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from arabic_ner.model import CRFBackend, default_model_path

    # A bias large enough to change the entities: a worker that reloaded the model's own
    # (1.5) would give other ones.
    given = Pipeline(CRFBackend(default_model_path(), outside_bias=-6.0))
    texts = [p for p in sample_text.split("\n") if p.strip()]
    alone = [given(t) for t in texts]
    assert alone != [arabic_ner.load()(t) for t in texts]
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # spawn, as on macOS
    assert list(given.pipe(texts, batch_size=3, n_process=2)) == alone


def test_a_worker_that_cannot_load_its_model_raises_instead_of_hanging(tmp_path: Path) -> None:
    from arabic_ner import pipeline

    spec = pipeline._WorkerSpec(
        backend="crf",
        path=str(tmp_path / "no-such-model"),
        normalize_config=NormalizeConfig(),
        consistency=True,
        types=frozenset(),
        aliases=None,
    )
    try:
        pipeline._init_worker(spec)  # what a spawned worker runs first: it must not raise
        with pytest.raises(ModelError, match="no-such-model"):
            pipeline._work(["بيروت"])
    finally:
        pipeline._WORKER_ERROR = None


def test_a_name_stops_before_the_weekday_after_it(nlp: Pipeline) -> None:
    # Without the full stop the tagger runs موسكو into الخميس; the rules know a weekday.
    found = nlp("وصل الرئيس الروسي فلاديمير بوتين الى موسكو الخميس")
    assert [(e.type.value, e.text) for e in found][-2:] == [("LOC", "موسكو"), ("DATE", "الخميس")]
    only_places = arabic_ner.load(types={"LOC"})("وصل بوتين الى موسكو الخميس")
    assert [e.text for e in only_places] == ["موسكو"]


def test_the_garbage_collector_is_paused_only_while_a_batch_is_tagged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nlp = arabic_ner.load()  # shared: its backend is patched only for this test
    seen: list[bool] = []
    tag = nlp.backend.tag

    def spy(sentences: Any) -> Any:
        seen.append(gc.isenabled())
        return tag(sentences)

    monkeypatch.setattr(nlp.backend, "tag", spy)
    assert gc.isenabled()
    assert [e.text for e in nlp("وصل بوتين الى موسكو")] == ["بوتين", "موسكو"]
    assert seen == [False] and gc.isenabled()  # paused inside, on again after
    gc.disable()  # a program that turned it off keeps it off
    try:
        list(nlp.pipe(["وصل بوتين الى موسكو"] * 3))
        assert not gc.isenabled()
    finally:
        gc.enable()

    def broken(sentences: Any) -> Any:
        raise RuntimeError("tagger failed")

    monkeypatch.setattr(nlp.backend, "tag", broken)
    with pytest.raises(RuntimeError, match="tagger failed"):
        nlp("وصل بوتين الى موسكو")
    assert gc.isenabled()  # and on again after an error


def test_the_collector_is_paused_while_the_parent_waits_for_a_workers_batch() -> None:
    # With n_process > 1 the parent unpickles each batch's entities meanwhile (the
    # executor's thread): collections set off by them were most of the parent's CPU.
    from concurrent.futures import Future

    from arabic_ner.pipeline import _result

    seen: list[bool] = []

    class Watched(Future[list[list[Any]]]):
        def result(self, timeout: float | None = None) -> list[list[Any]]:
            seen.append(gc.isenabled())
            return super().result(timeout)

    done = Watched()
    done.set_result([[]])
    assert gc.isenabled()
    assert _result(done, 2) == [[]]
    assert seen == [False] and gc.isenabled()
    failed = Watched()
    failed.set_exception(RuntimeError("lost"))
    with pytest.raises(RuntimeError, match="lost"):
        _result(failed, 2)
    assert gc.isenabled()  # on again after an error
