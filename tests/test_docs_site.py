"""The documentation site (mkdocs.yml, docs/) says what the code does.

Building the site (``make docs``: ``mkdocs build --strict``) checks its links; these tests
check what a link checker cannot: that every public name, page and command-line option is
documented, and that the examples of docs/normalization.md run.
"""

from __future__ import annotations

import argparse
import doctest
import importlib.util
import re
from pathlib import Path

import pytest

import arabic_ner
from arabic_ner.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def test_every_public_name_has_a_block_on_the_api_page() -> None:
    api = (DOCS / "api.md").read_text("utf-8")
    documented = set(re.findall(r"^::: arabic_ner(?:\.\w+)*\.(\w+)$", api, re.MULTILINE))
    assert set(arabic_ner.__all__) - {"__version__"} <= documented
    assert "__version__" in api


def test_every_page_is_in_the_nav() -> None:
    config = (ROOT / "mkdocs.yml").read_text("utf-8")
    in_nav = set(re.findall(r":\s*(\S+\.md)\s*$", config, re.MULTILINE))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages - in_nav == set()
    assert in_nav - pages == set()


def test_every_command_line_option_is_on_the_cli_page() -> None:
    cli = (DOCS / "cli.md").read_text("utf-8")
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, parser in commands.choices.items():
        assert f"## `{name}`" in cli
        for action in parser._actions:
            missing += [
                f"{name} {option}"
                for option in action.option_strings
                if option not in ("-h", "--help") and f"`{option}" not in cli
            ]
    assert not missing


def test_the_examples_of_the_normalization_page_run() -> None:
    page = (DOCS / "normalization.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(>>>.*?)```", page, re.DOTALL)
    assert len(blocks) >= 3
    # One test for the page: later examples use the names of earlier ones.
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, "normalization.md", None, 0)
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_docstrings_are_read_as_markdown_on_the_site() -> None:
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location(
        "griffe_docstrings", ROOT / "scripts" / "griffe_docstrings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    docstring = (
        "Return entities, see :func:`load` and :class:`~arabic_ner.errors.ModelError`::\n"
        "\n"
        "    indented = 'code'\n"
        "\n"
        "Text.\n"
        ">>> [1]\n"
        "[1]\n"
        "\n"
        "After."
    )
    assert module.as_markdown(docstring) == (
        "Return entities, see `load` and `ModelError`:\n"
        "\n"
        "    indented = 'code'\n"
        "\n"
        "Text.\n"
        "\n"
        "```pycon\n"
        ">>> [1]\n"
        "[1]\n"
        "```\n"
        "\n"
        "After."
    )
