"""Entities and values rebuilt in C (arabic_ner/_slots.c) and in Python (entities.py).

pipe(n_process) pickles every entity in its workers and rebuilds it in the parent. Where
the package was compiled, ``entities._entity`` and ``._value`` are ``Slots`` objects and
copyreg takes entities apart in C; elsewhere (or with ARABIC_NER_NO_KERNELS=1) the Python
functions do it. Both must give the same objects, and a pickle made by either must load
with the other.
"""

from __future__ import annotations

import copy
import copyreg
import dataclasses
import gc
import os
import pickle
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

import arabic_ner
from arabic_ner import entities
from arabic_ner.entities import Entity, EntityType, Value
from arabic_ner.kernels import ENV_VARIABLE

try:
    from arabic_ner._slots import Slots
except ImportError:  # built without a C compiler
    Slots = None

needs_c = pytest.mark.skipif(Slots is None, reason="arabic_ner._slots is not built (no compiler?)")

# Every field unlike every other, so that two fields swapped in a rebuild show.
VALUE = Value(5.5, "USD", 2015, 4, 7, 2, 10, 30, "gregorian")
ENTITY = Entity("7 نيسان 2015", EntityType.DATE, 3, 15, 0.75, "٧ نيسان ٢٠١٥", VALUE, "c", 2)


def _fields(instance: object) -> tuple[object, ...]:
    return tuple(getattr(instance, f.name) for f in dataclasses.fields(instance))  # type: ignore[arg-type]


@pytest.mark.parametrize("build", ["active", "python"])
def test_both_rebuilds_give_equal_frozen_hashable_instances(build: str) -> None:
    make_entity, make_value = (
        (entities._entity, entities._value)
        if build == "active"
        else (entities._python_entity, entities._python_value)
    )
    value = make_value(*_fields(VALUE))
    entity = make_entity(*_fields(ENTITY)[:6], value, *_fields(ENTITY)[7:])
    assert type(entity) is Entity and type(value) is Value
    assert entity == ENTITY and hash(entity) == hash(ENTITY) and entity.value == VALUE
    assert repr(entity) == repr(ENTITY) and entity.to_dict() == ENTITY.to_dict()
    assert _fields(entity)[:6] == _fields(ENTITY)[:6] and _fields(value) == _fields(VALUE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entity.start = 4  # type: ignore[misc]
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(entity, protocol=protocol))
        assert back == ENTITY and _fields(back.value) == _fields(VALUE)
    assert copy.copy(entity) == ENTITY and copy.deepcopy(entity) == ENTITY


@pytest.mark.skipif(
    os.environ.get("ARABIC_NER_REQUIRE_KERNELS") != "1" or os.environ.get(ENV_VARIABLE) == "1",
    reason="set ARABIC_NER_REQUIRE_KERNELS=1 (as .ci/run does) to require the C rebuild",
)
def test_the_c_rebuild_is_in_use_where_required() -> None:
    # entities.py falls back to the Python rebuild when Slots refuses a class (a field
    # added with a __weakref__, say): CI must see that.
    assert Slots is not None and isinstance(entities._entity, Slots)
    assert isinstance(entities._value, Slots)


@pytest.mark.skipif(
    os.environ.get("ARABIC_NER_REQUIRE_KERNELS") != "1",
    reason="set ARABIC_NER_REQUIRE_KERNELS=1 (as .ci/run does) to require the compiled parts",
)
def test_the_c_rebuild_is_built_from_the_current_source() -> None:
    # As test_kernels' check: pip builds it as optional, and an editable install keeps the
    # last module built when a compile fails.
    assert Slots is not None, "arabic_ner._slots did not build: pip install -v -e ."
    from arabic_ner import _slots

    built = Path(_slots.__file__).stat().st_mtime
    assert (Path(arabic_ner.__file__).parent / "_slots.c").stat().st_mtime <= built


@pytest.mark.skipif(
    Slots is None or not isinstance(entities._entity, Slots),
    reason="the C rebuild is not built, or switched off by ARABIC_NER_NO_KERNELS",
)
def test_the_c_rebuild_is_in_use_and_takes_entities_apart() -> None:
    assert Slots is not None
    assert copyreg.dispatch_table[Entity] == entities._entity.parts
    assert copyreg.dispatch_table[Value] == entities._value.parts
    assert repr(entities._entity) == "<arabic_ner.entities._entity: Entity from its slots>"
    assert Slots.__module__ == "arabic_ner._slots"
    assert entities._entity.__module__ == "arabic_ner.entities"
    builder, fields = entities._entity.parts(ENTITY)
    assert builder is entities._entity and fields == _fields(ENTITY)
    assert entities._value.parts(VALUE) == (entities._value, _fields(VALUE))
    assert pickle.loads(pickle.dumps(entities._entity)) is entities._entity
    with pytest.raises(TypeError, match=r"_entity.parts\(\) takes a Entity, not a Value"):
        entities._entity.parts(VALUE)
    with pytest.raises(TypeError, match=r"_entity\(\) takes 9 arguments \(2 given\)"):
        entities._entity("x", EntityType.LOC)
    with pytest.raises(TypeError, match="no keyword arguments"):
        entities._entity(*_fields(ENTITY)[:8], cluster=1)


@needs_c
def test_slots_refuses_a_class_it_could_not_fill() -> None:
    @dataclasses.dataclass(slots=True)
    class Base:
        x: int

    class Child(Base):
        __slots__ = ("y",)

    class WithDict:
        __slots__ = ("__dict__", "x")

    class WithWeakref:
        __slots__ = ("__weakref__", "x")

    class Twice:
        __slots__ = ("x", "x")

    class Renamed:
        __slots__ = ("a", "b")

    Renamed.__slots__ = ("a", "a")  # type: ignore[assignment]

    class Shadowed:
        __slots__ = ("x",)

    Shadowed.x = property(lambda self: 1)  # type: ignore[assignment]
    assert Slots is not None
    for builtin in (dict, int, object):
        with pytest.raises(TypeError, match=f"{builtin.__name__} is not one"):
            Slots(builtin, "m", "n")
    for cls in (Child, WithDict, WithWeakref):
        with pytest.raises(TypeError, match="own __slots__ hold all its state"):
            Slots(cls, "m", "n")
    for cls in (Twice, Renamed):
        with pytest.raises(TypeError, match="that another name of __slots__ names too"):
            Slots(cls, "m", "n")
    with pytest.raises(TypeError, match=r"Shadowed\.x is not a slot"):
        Slots(Shadowed, "m", "n")
    assert Slots(Base, "m", "n")(3) == Base(3)


@needs_c
def test_slots_keeps_and_releases_references() -> None:
    # An instance holds each of its fields once and lets them go when it goes, and parts()
    # hands each out once more; nothing leaks, whichever field it is.
    class Field:
        pass

    assert Slots is not None
    build = Slots(Entity, "arabic_ner.entities", "_entity")
    fields = [Field() for _ in dataclasses.fields(Entity)]
    refs = [weakref.ref(f) for f in fields]
    before = [sys.getrefcount(f) for f in fields]
    made = [build(*fields) for _ in range(100)]
    assert [sys.getrefcount(f) for f in fields] == [n + 100 for n in before]
    assert _fields(made[0]) == tuple(fields)
    parts = [build.parts(m) for m in made]
    assert [sys.getrefcount(f) for f in fields] == [n + 200 for n in before]
    del made, parts
    gc.collect()
    assert [sys.getrefcount(f) for f in fields] == before
    del fields
    assert all(ref() is None for ref in refs)


# Run in a fresh process, with or without the C rebuild: "dump PATH" writes the sample
# sentence's entities and ENTITY pickled, "load PATH" prints whether a pickle holds them
# and which kind of rebuild this process uses.
_ROUND_TRIP = """
import pickle, sys
import arabic_ner
from arabic_ner import entities
from tests.test_slots import ENTITY, SENTENCE
expected = [arabic_ner.extract_entities(SENTENCE), ENTITY]
action, path = sys.argv[1:]
if action == "dump":
    open(path, "wb").write(pickle.dumps(expected, 5))
else:
    print(pickle.loads(open(path, "rb").read()) == expected, type(entities._entity).__name__)
"""
SENTENCE = "زار بوتين موسكو في 5 ايار 2015 مع 3 ملايين دولار"


def test_pickles_load_whichever_rebuild_made_them(tmp_path: Path) -> None:
    # A pickle names arabic_ner.entities._entity whichever rebuild made it: one made
    # with the C rebuild loads with the Python one, and the other way round.
    assert any(e.value is not None for e in arabic_ner.extract_entities(SENTENCE))
    root = str(Path(__file__).resolve().parents[1])
    envs = {
        "python": {**os.environ, ENV_VARIABLE: "1", "PYTHONPATH": root},
        "active": {**os.environ, ENV_VARIABLE: "0", "PYTHONPATH": root},
    }

    def run(action: str, path: Path, env: dict[str, str]) -> str:
        command = [sys.executable, "-c", _ROUND_TRIP, action, str(path)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    for name, env in envs.items():
        run("dump", tmp_path / name, env)
    kinds = set()
    for made, loader in (("python", "active"), ("active", "python")):
        equal, kind = run("load", tmp_path / made, envs[loader]).split()
        assert equal == "True"
        kinds.add(kind)
    assert kinds == ({"function", "Slots"} if Slots is not None else {"function"})
