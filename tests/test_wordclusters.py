"""Word clusters from unlabeled text reach the features of a word and its neighbours."""

from __future__ import annotations

from pathlib import Path

from arabic_ner.clitics import Lexicon
from arabic_ner.features import FeatureExtractor
from arabic_ner.gazetteer import Gazetteer
from arabic_ner.model import CRFBackend, default_model_path
from arabic_ner.tokenize import TokenKind
from arabic_ner.wordclusters import read_clusters, write_clusters

WORD = TokenKind.WORD


def test_a_word_takes_the_clusters_of_its_stem_and_shows_them_to_its_neighbours() -> None:
    clusters = {"موسكو": ("3", "17", "240"), "وصل": ("9", "30", "500")}
    fx = FeatureExtractor(Lexicon({"موسكو": 5}), Gazetteer({}), clusters=clusters)
    feats = fx.sentence(["وصل", "وموسكو"], [WORD, WORD])
    assert {"u0=3", "u1=17", "u2=240"} <= set(feats[1])  # the stem's, without و
    assert {"-1u0=9", "-1u1=30", "-1u2=500"} <= set(feats[1])
    assert {"+1u0=3", "+1u2=240"} <= set(feats[0])


def test_a_word_without_clusters_has_no_cluster_features() -> None:
    fx = FeatureExtractor(Lexicon({}), Gazetteer({}), clusters={"موسكو": ("3", "17", "240")})
    feats = fx.sentence(["تدمر"], [WORD])
    assert not [f for f in feats[0] if f.startswith("u")]


def test_tables_round_trip_and_an_empty_one_means_none(tmp_path: Path) -> None:
    path = tmp_path / "clusters.tsv"
    write_clusters(("k64", "k256"), {"بوتين": ("1", "2"), "الهلال": ("3", "4")}, path)
    assert read_clusters(path) == (("k64", "k256"), {"الهلال": ("3", "4"), "بوتين": ("1", "2")})
    write_clusters((), {}, path)
    assert read_clusters(path) == ((), {})


def test_the_shipped_model_puts_similar_names_in_the_same_clusters() -> None:
    backend = CRFBackend(default_model_path(), neural=False)
    clusters = backend.features.clusters
    assert len(clusters) > 50_000
    # Football players share all three clusters in ten million words of news (ANERcorp's
    # training part never names نيمار), and presidents theirs.
    assert clusters["ميسي"] == clusters["نيمار"] == clusters["رونالدو"]
    assert clusters["بوتين"] == clusters["اوباما"] != clusters["ميسي"]
