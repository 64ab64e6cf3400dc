"""The optional backends' registry entries, label mapping and errors, without the tools.

These run in both environments: the normal suite (.venv, where CAMeL Tools and Stanza
are missing) and ``make test-backends`` (.venv-backends, where they are installed and
hidden here by putting None in ``sys.modules``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from arabic_ner import BackendNotAvailableError, ModelError
from arabic_ner.backends.common import default_lexicon, to_bio, tool_words
from arabic_ner.model import BACKENDS, load_backend
from arabic_ner.tokenize import tokenize


def test_camel_and_stanza_are_registered() -> None:
    assert {"camel", "stanza"} <= set(BACKENDS)


@pytest.mark.parametrize(
    ("theirs", "ours"),
    [
        ("B-PERS", "B-PERS"),
        ("I-MISC", "I-MISC"),
        ("S-PER", "B-PERS"),
        ("E-PER", "I-PERS"),
        ("B-LOC", "B-LOC"),
        ("E-ORG", "I-ORG"),
        ("S-GPE", "B-LOC"),
        ("B-PERSON", "B-PERS"),
        ("B-DATE", "O"),
        ("S-NORP", "O"),
        ("O", "O"),
        ("", "O"),
        ("LOC", "O"),
    ],
)
def test_tool_labels_map_to_ours_or_to_o(theirs: str, ours: str) -> None:
    assert to_bio(theirs) == ours


def test_tools_read_words_without_diacritics_or_tatweel() -> None:
    assert tool_words(tokenize("وصل الرئيسُ بـوتين إلى ﻻذقية")) == [
        "وصل",
        "الرئيس",
        "بوتين",
        "إلى",
        "لاذقية",
    ]


def test_backends_split_proclitics_with_the_shipped_lexicon() -> None:
    assert default_lexicon().stem("وموسكو") == "موسكو"


@pytest.mark.parametrize(
    ("backend", "install"), [("camel", "camel_data -i ner-arabert"), ("stanza", "stanza.download")]
)
def test_backend_without_a_model_folder_says_how_to_install_one(backend: str, install: str) -> None:
    with pytest.raises(ModelError, match="model=DIR") as caught:
        load_backend(backend)
    assert install in str(caught.value)


@pytest.mark.parametrize(
    ("backend", "hidden"),
    [("camel", ["camel_tools", "camel_tools.ner"]), ("stanza", ["stanza"])],
)
def test_missing_extra_names_the_pip_command(
    backend: str, hidden: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in hidden:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(BackendNotAvailableError, match=rf"pip install 'arabic-ner\[{backend}\]'"):
        load_backend(backend, tmp_path)
