"""Read this project's docstrings as Markdown, for the documentation site (mkdocs.yml).

The docstrings are written for ``help()`` and doctest: examples are bare ``>>>`` blocks and
references are Sphinx roles. mkdocstrings reads a docstring as Markdown, where a doctest
would run into the text around it and its output (``[('ORG', 'داعش')]`` after a line in
brackets) would read as a reference link. This griffe extension, named in mkdocs.yml,
rewrites each docstring as the site is built; the source is left as it is:

- a doctest (a ``>>>`` line and the lines after it, up to a blank line) becomes a fenced
  ``pycon`` block;
- a role becomes code: ``:func:`normalize``` gives ``normalize``, and
  ``:class:`~arabic_ner.errors.ModelError``` gives ``ModelError``;
- a paragraph ending in reST's literal-block marker ``::`` ends in ``:`` (the indented
  block after it is a code block in Markdown too).

``tests/test_docs_site.py`` has examples.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)([^`<]+?)`")
_PROMPT = re.compile(r"^(\s*)>>>")


def _role(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


def as_markdown(docstring: str) -> str:
    """The docstring with doctests fenced, roles as code and ``::`` as ``:``."""
    out: list[str] = []
    lines = docstring.split("\n")
    i = 0
    while i < len(lines):
        prompt = _PROMPT.match(lines[i])
        if prompt is None:
            line = _ROLE.sub(_role, lines[i])
            if line.endswith("::") and not line.endswith(":::"):
                line = line[:-1]
            out.append(line)
            i += 1
            continue
        indent = prompt.group(1)
        if out and out[-1].strip():
            out.append("")
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
        if i < len(lines):
            out.append("")
            i += 1
    return "\n".join(out)


class MarkdownDocstrings(griffe.Extension):
    """Rewrite every docstring with :func:`as_markdown` once the objects are loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = as_markdown(obj.docstring.value)
