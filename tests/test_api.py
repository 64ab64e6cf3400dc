"""The public API is what README documents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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


INDEX = README.parent / "docs" / "index.md"


@pytest.mark.parametrize("page", [README, INDEX], ids=lambda p: p.name)
def test_readme_examples_print_what_readme_shows(page: Path) -> None:
    # The documentation site's front page repeats README's example; both must hold.
    text = page.read_text(encoding="utf-8")
    block = text.split("```python\nfrom arabic_ner import extract_entities", 1)[1]
    block = block.split("```", 1)[0]
    shown = [line[2:] for line in block.splitlines() if line.startswith("# ") and "..." not in line]
    sample = (README.parent / "data" / "samples" / "palmyra_news_ar.txt").read_text("utf-8")
    printed = [
        f"{e.type} {e.text} {e.start} {e.end} {round(e.score, 2)}"
        for e in arabic_ner.extract_entities(sample)
    ]
    assert shown and printed[: len(shown)] == shown

    found = arabic_ner.load()("وصل الرئيس الروسي فلاديمير بوتين الى موسكو الخميس")
    for item in map(repr, found):
        assert item in text, item
