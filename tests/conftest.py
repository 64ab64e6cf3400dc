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


# Hypothesis profiles for the property tests (tests/test_properties.py): "ci", the default,
# is quick and reproducible (the same examples every run); "long" searches much further.
# Choose with HYPOTHESIS_PROFILE=long. A test's own @settings still wins over the profile.
import os  # noqa: E402

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=3000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
