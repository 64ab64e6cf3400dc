"""Shared fixtures: the sample article, the shipped pipeline, the shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

import arabic_ner
from arabic_ner.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ANERCORP = SHARED / "data" / "ner" / "anercorp" / "train.txt"


@pytest.fixture(scope="session")
def sample_text() -> str:
    return (ROOT / "data" / "samples" / "palmyra_news_ar.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def nlp() -> Pipeline:
    return arabic_ner.load()


@pytest.fixture(scope="session")
def anercorp() -> Path:
    if not ANERCORP.is_file():
        pytest.skip(f"{ANERCORP} not found: the shared data folder is not beside the project")
    return ANERCORP
