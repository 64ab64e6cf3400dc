"""Training recipes: corpora, their dev splits, relabelings, and scoring on a corpus's terms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arabic_ner.conll import Sentence, write_conll
from arabic_ner.corpora import Corpus, read_recipe, relabel_tags
from arabic_ner.errors import ConfigError
from arabic_ner.scoring import score


def _sentences(n: int, tag: str = "B-MISC") -> list[Sentence]:
    return [Sentence((f"w{i}", "بيروت"), (tag, "B-LOC")) for i in range(n)]


def test_relabel_drops_a_type_and_renames_another() -> None:
    tags = ["B-MISC", "I-MISC", "B-GPE", "I-GPE", "O", "B-PERS"]
    assert relabel_tags(tags, {"MISC": "O", "GPE": "LOC"}) == (
        "O",
        "O",
        "B-LOC",
        "I-LOC",
        "O",
        "B-PERS",
    )


def test_split_takes_the_tail_as_dev_and_relabels_both_parts(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    write_conll(_sentences(10), path)
    corpus = Corpus("c", path, dev_fraction=0.2, relabel={"MISC": "O"})
    train, dev = corpus.split()
    assert (len(train), len(dev)) == (8, 2)
    assert [s.tokens[0] for s in dev] == ["w8", "w9"]
    assert all(s.tags == ("O", "B-LOC") for s in train + dev)
    everything, none = corpus.split(with_dev=True)
    assert (len(everything), none) == (10, [])
    # The dev gold keeps the corpus's own tags; the score view leaves MISC out.
    assert corpus.dev_gold()[0].tags == ("B-MISC", "B-LOC")
    assert corpus.score_view(corpus.dev_gold()[0].tags) == ("O", "B-LOC")


def test_a_dev_file_is_the_dev_split(tmp_path: Path) -> None:
    write_conll(_sentences(5), tmp_path / "train.txt")
    write_conll(_sentences(3, "B-ORG"), tmp_path / "dev.txt")
    corpus = Corpus("c", tmp_path / "train.txt", dev=tmp_path / "dev.txt")
    train, dev = corpus.split()
    assert (len(train), len(dev)) == (5, 3)
    assert len(corpus.split(with_dev=True)[0]) == 8


def test_score_view_leaves_a_dropped_type_out_on_both_sides() -> None:
    corpus = Corpus("wikifane", Path("t.txt"), relabel={"MISC": "O"})
    gold = [corpus.score_view(["B-MISC", "O", "B-LOC"])]
    predicted = [corpus.score_view(["O", "O", "B-LOC"])]
    report = score(gold, predicted)
    assert report.micro.f1 == 1.0 and [t.type for t in report.by_type] == ["LOC"]


def test_recipe_paths_are_relative_to_the_base_and_round_trip(tmp_path: Path) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "corpora": [
                    {"train": "ner/anercorp/train.txt", "dev_fraction": 0.1},
                    {
                        "name": "aq",
                        "train": "ner/aqmar/train.txt",
                        "dev": "ner/aqmar/dev.txt",
                        "relabel": {"MISC": "O"},
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    corpora = read_recipe(recipe, tmp_path)
    assert [c.name for c in corpora] == ["anercorp", "aq"]
    assert corpora[1].dev == tmp_path / "ner/aqmar/dev.txt"
    again = [Corpus.from_dict(c.to_dict(), Path("."), "meta") for c in corpora]
    assert again == corpora


def test_recipe_paths_with_a_dot_are_relative_to_the_recipe(tmp_path: Path) -> None:
    recipe = tmp_path / "recipes" / "recipe.json"
    recipe.parent.mkdir()
    recipe.write_text(
        '{"corpora": [{"name": "s", "train": "../silver/s.conll"}, {"train": "./t/x.txt"}]}',
        encoding="utf-8",
    )
    corpora = read_recipe(recipe, tmp_path / "shared")
    assert corpora[0].train == tmp_path / "recipes" / "../silver/s.conll"
    assert corpora[1].train == tmp_path / "recipes" / "t/x.txt"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "expected {'corpora'"),
        ('{"corpora": []}', "at least one corpus"),
        ('{"corpora": [{"path": "x"}]}', "needs 'train'"),
        ('{"corpora": [{"train": "x", "relabel": {"MISC": "B-O"}}]}', "cannot relabel"),
        ('{"corpora": [{"train": "x", "dev_fraction": 2}]}', "between 0 and 1"),
        ('{"corpora": [{"train": "a/x"}, {"train": "a/y"}]}', "names must differ"),
        ("{not json", "cannot read recipe"),
    ],
)
def test_a_bad_recipe_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    recipe = tmp_path / "recipe.json"
    recipe.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as error:
        read_recipe(recipe, tmp_path)
    assert "recipe.json" in str(error.value)


def test_the_projects_recipes_read(anercorp: Path) -> None:
    shared = anercorp.parents[3]
    for recipe in sorted((Path(__file__).parents[1] / "data" / "recipes").glob("*.json")):
        for corpus in read_recipe(recipe, shared):
            assert corpus.train.is_file(), (recipe, corpus)
            assert corpus.dev is None or corpus.dev.is_file(), (recipe, corpus)
            assert corpus.not_names is None or corpus.not_names.is_file(), (recipe, corpus)
            assert corpus.titles is None or corpus.titles.is_file(), (recipe, corpus)


def test_groups_of_people_are_untagged_in_training_and_dev_gold(tmp_path: Path) -> None:
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "groups.txt").write_text("# groups\nالمسلمين\nالروس\n", "utf-8")
    sentences = [
        Sentence(("قاتل", "المسلمين", "والروس", "صلاح"), ("O", "B-PERS", "B-PERS", "B-PERS")),
        Sentence(("جامعة", "المسلمين"), ("B-ORG", "I-ORG")),
    ]
    write_conll(sentences, tmp_path / "train.txt")
    write_conll(sentences, tmp_path / "dev.txt")
    recipe = tmp_path / "lists" / "recipe.json"
    recipe.write_text(
        json.dumps(
            {"corpora": [{"train": "train.txt", "dev": "dev.txt", "not_names": "groups.txt"}]}
        ),
        encoding="utf-8",
    )
    (corpus,) = read_recipe(recipe, tmp_path)
    assert corpus.not_names == tmp_path / "lists" / "groups.txt"
    train, dev = corpus.split()
    expected = [("O", "O", "O", "B-PERS"), ("B-ORG", "I-ORG")]
    assert [s.tags for s in train] == [s.tags for s in dev] == expected
    assert [s.tags for s in corpus.dev_gold()] == expected
    assert Corpus.from_dict(corpus.to_dict(), Path("."), "meta") == corpus


def test_titles_move_out_of_names_in_training_and_dev_gold(tmp_path: Path) -> None:
    (tmp_path / "titles.txt").write_text("# titles\nالشيخ\nالملك\nد\n", "utf-8")
    sentences = [
        Sentence(("قال", "الشيخ", "يوسف", "القرضاوي"), ("O", "B-PERS", "I-PERS", "I-PERS")),
        Sentence(("د", "طه", "حسين", "و", "الملك"), ("B-PERS", "I-PERS", "I-PERS", "O", "B-PERS")),
        Sentence(("الشيخ", "زايد"), ("B-LOC", "I-LOC")),  # a place named for him: kept
    ]
    write_conll(sentences, tmp_path / "train.txt")
    recipe = tmp_path / "recipe.json"
    entry = {"train": "train.txt", "dev": "train.txt", "titles": "titles.txt"}
    recipe.write_text(json.dumps({"corpora": [entry]}), encoding="utf-8")
    (corpus,) = read_recipe(recipe, tmp_path)
    expected = [
        ("O", "O", "B-PERS", "I-PERS"),
        ("O", "B-PERS", "I-PERS", "O", "B-PERS"),  # a title alone is the name: it stays
        ("B-LOC", "I-LOC"),
    ]
    train, dev = corpus.split()
    assert [s.tags for s in train] == [s.tags for s in dev] == expected
    assert [s.tags for s in corpus.dev_gold()] == expected
    assert Corpus.from_dict(corpus.to_dict(), Path("."), "meta") == corpus
