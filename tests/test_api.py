"""The public API is what README documents."""

from __future__ import annotations

import re
from pathlib import Path

import arabic_ner

README = Path(__file__).resolve().parents[1] / "README.md"


def test_all_matches_the_api_list_in_readme() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## API", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^- `([A-Za-z_]+)", section, flags=re.MULTILINE))
    assert documented == set(arabic_ner.__all__)


def test_every_public_name_exists_and_has_a_docstring() -> None:
    for name in arabic_ner.__all__:
        obj = getattr(arabic_ner, name)
        if name != "__version__":
            assert obj.__doc__, name


def test_package_is_typed() -> None:
    assert (Path(arabic_ner.__file__).parent / "py.typed").is_file()
