"""Render: a text and its entities as a self-contained HTML page, to read them by eye.

What: :func:`render_html` returns one HTML page (inline CSS, no script, no external
file, font or link) that shows the text right to left with each entity highlighted in
the colour of its type, a legend of the types present, and the details of an entity
(type, score, canonical name, value) in its ``title``, shown on hover.

Why: a table of offsets is exact but hard to read; a page shows at a glance what the
model found and missed, and can be sent to someone without arabic-ner installed.

How: the original text is cut at the entities' offsets, every piece is HTML-escaped
(:func:`html.escape`), and each entity becomes a ``<span class="ent ent-LOC">`` with
``data-type``, ``data-start`` and ``data-end`` attributes (offsets into the original
string, in code points), so that tests and scripts can find the spans again. Line breaks
are kept (``white-space: pre-wrap``). The pieces (:func:`page_start`, :func:`legend_html`,
:func:`text_html`, :func:`page_end`) are public so that ``arabic-ner extract --format
html`` (``writers.py``) can stream a page of many records.

>>> from arabic_ner import Entity, EntityType
>>> page = render_html("زار دمشق", [Entity("دمشق", EntityType.LOC, 4, 8, 0.97, "دمشق")])
>>> '<span class="ent ent-LOC" data-type="LOC" data-start="4" data-end="8"' in page
True
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence

from arabic_ner.entities import Entity, EntityType
from arabic_ner.errors import ConfigError, InputError, check_text

__all__ = [
    "TYPE_COLOURS",
    "TYPE_NAMES",
    "legend_html",
    "page_end",
    "page_start",
    "render_html",
    "text_html",
]

TYPE_COLOURS: Mapping[EntityType, tuple[str, str]] = {
    EntityType.PERS: ("#ffd6d6", "#c62828"),
    EntityType.LOC: ("#d5f2d5", "#2e7d32"),
    EntityType.ORG: ("#d8e4ff", "#1d4ed8"),
    EntityType.MISC: ("#eedcff", "#7b2cbf"),
    EntityType.DATE: ("#ffe7c4", "#d35400"),
    EntityType.TIME: ("#fff3b0", "#9a7d00"),
    EntityType.NUM: ("#e6e6e6", "#616161"),
    EntityType.MONEY: ("#cdf3ee", "#00796b"),
    EntityType.PERCENT: ("#ffd8ef", "#ad1457"),
}
"""The (background, border) colours of each type's highlight, one pair per type."""

TYPE_NAMES: Mapping[EntityType, str] = {
    EntityType.PERS: "people",
    EntityType.LOC: "places",
    EntityType.ORG: "organisations",
    EntityType.MISC: "other names",
    EntityType.DATE: "dates",
    EntityType.TIME: "times",
    EntityType.NUM: "numbers",
    EntityType.MONEY: "amounts of money",
    EntityType.PERCENT: "percentages",
}
"""What each type stands for, as the legend explains it."""


def _style() -> str:
    rules = [
        "body{font-family:'Noto Naskh Arabic','Noto Sans Arabic','Segoe UI',Tahoma,"
        "'Arial Unicode MS',sans-serif;line-height:2;max-width:60em;margin:2em auto;"
        "padding:0 1em;color:#1b1b1b;background:#fff}",
        "h1{font-size:1.3em}h2{font-size:1.1em;margin:1.6em 0 .2em}",
        ".text{white-space:pre-wrap;overflow-wrap:anywhere;font-size:1.25em}",
        ".ent,.key{border-radius:.25em;padding:0 .1em;border-bottom:2px solid;"
        "-webkit-box-decoration-break:clone;box-decoration-break:clone}",
        ".legend{list-style:none;padding:0;margin:.5em 0 1em;display:flex;flex-wrap:wrap;"
        "gap:.4em 1.2em}",
        ".where{color:#555;font-size:.9em;margin:0}",
        ".error{color:#b00020}",
        "section{border-top:1px solid #ddd}",
    ]
    for kind, (background, border) in TYPE_COLOURS.items():
        rules.append(
            f".ent-{kind.value},.key-{kind.value}{{background:{background};border-color:{border}}}"
        )
    return "\n".join(rules)


def page_start(title: str = "arabic-ner") -> str:
    """The start of a page: doctype, ``<html lang="ar" dir="rtl">``, head with the CSS.

    >>> page_start("news").splitlines()[:2]
    ['<!DOCTYPE html>', '<html lang="ar" dir="rtl">']
    """
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<title dir="auto">{html.escape(title)}</title>\n<style>\n{_style()}\n</style>\n'
        "</head>\n<body>\n"
    )


def page_end() -> str:
    """The end of a page, after :func:`page_start` and the content.

    >>> page_end()
    '</body>\\n</html>\\n'
    """
    return "</body>\n</html>\n"


def legend_html(types: Iterable[EntityType], counts: Mapping[EntityType, int] | None = None) -> str:
    """A legend of ``types`` (in :class:`EntityType` order), with their counts if given.

    >>> print(legend_html([EntityType.LOC], {EntityType.LOC: 2}), end="")
    <ul class="legend"><li><span class="key key-LOC">LOC</span> places (2)</li></ul>
    """
    shown = set(types)
    items = []
    for kind in EntityType:
        if kind in shown:
            count = "" if counts is None else f" ({counts.get(kind, 0)})"
            items.append(
                f'<li><span class="key key-{kind.value}">{kind.value}</span> '
                f"{TYPE_NAMES[kind]}{count}</li>"
            )
    return f'<ul class="legend">{"".join(items)}</ul>\n'


def text_html(text: str, entities: Sequence[Entity]) -> str:
    """The text as a ``<div class="text" dir="rtl">``, each entity a highlighted span.

    Entities are sorted by ``(start, end)`` first. Raises :class:`InputError` when
    ``text`` is not a ``str`` or an entity is not an :class:`Entity`, and
    :class:`ConfigError` when an entity does not match the text (``text[e.start:e.end]
    != e.text``, or offsets outside it) or overlaps the one before it.

    >>> from arabic_ner import Entity, EntityType
    >>> print(text_html("زار <دمشق>", [Entity("دمشق", EntityType.LOC, 5, 9, 1.0, "دمشق")]))
    <div class="text" dir="rtl">زار &lt;<span class="ent ent-LOC" data-type="LOC" data-start="5" data-end="9" data-score="1.0" title="LOC, score 1.00">دمشق</span>&gt;</div>
    """  # noqa: E501
    text = check_text(text)
    pieces = ['<div class="text" dir="rtl">']
    at = 0
    previous: Entity | None = None
    for e in _checked(text, entities):
        if previous is not None and e.start < previous.end:
            raise ConfigError(
                f"entity {e!r} overlaps {previous!r}; pass entities that do not overlap, "
                "as the pipeline returns them (keep one of each overlapping pair)"
            )
        pieces.append(html.escape(text[at : e.start]))
        pieces.append(_span(e))
        at, previous = e.end, e
    pieces.append(html.escape(text[at:]))
    pieces.append("</div>")
    return "".join(pieces)


def render_html(text: str, entities: Sequence[Entity], *, title: str = "arabic-ner") -> str:
    """Return a self-contained HTML page showing ``text`` with ``entities`` highlighted.

    The page is right to left (``<html lang="ar" dir="rtl">``), keeps the text's line
    breaks, has a legend of the types present with their counts, and gives each entity
    a ``title`` (shown on hover) with its type, score, canonical name, cluster and value
    where set. Each entity is a ``<span class="ent ent-TYPE">`` with ``data-type``,
    ``data-start`` and ``data-end`` (offsets into ``text``, in code points). The page
    loads nothing: no script, font, image or link. Raises :class:`InputError` for a
    ``text`` that is not a ``str``, :class:`ConfigError` for entities that do not match
    it or overlap (see :func:`text_html`).

    >>> import arabic_ner
    >>> text = "زار بوتين دمشق"
    >>> page = render_html(text, arabic_ner.extract_entities(text))
    >>> page.count('class="ent ent-'), 'dir="rtl"' in page, "http" in page
    (2, True, False)
    """
    body = text_html(text, entities)  # validates first
    counts: dict[EntityType, int] = {}
    for e in entities:
        counts[e.type] = counts.get(e.type, 0) + 1
    return "".join(
        [
            page_start(title),
            f'<h1 dir="auto">{html.escape(title)}</h1>\n',
            legend_html(counts, counts),
            body,
            "\n",
            page_end(),
        ]
    )


def _checked(text: str, entities: Sequence[Entity]) -> list[Entity]:
    """The entities sorted, each checked against ``text``."""
    for e in entities:
        if not isinstance(e, Entity):
            raise InputError(
                f"entities must be Entity objects, got {type(e).__name__}: pass the list "
                "that extract_entities() or a Pipeline returns for this text"
            )
        if not 0 <= e.start < e.end <= len(text):
            raise ConfigError(
                f"entity {e!r} is not a span of the text ({len(text)} characters): expected "
                "0 <= start < end <= len(text); pass the entities found in this very text"
            )
        if text[e.start : e.end] != e.text:
            raise ConfigError(
                f"entity {e!r} does not match the text, where {e.start}:{e.end} is "
                f"{text[e.start : e.end]!r}; pass the entities found in this very text "
                "(their offsets index the original string, not a normalized copy)"
            )
    return sorted(entities)


def _span(e: Entity) -> str:
    kind = e.type.value
    return (
        f'<span class="ent ent-{kind}" data-type="{kind}" data-start="{e.start}" '
        f'data-end="{e.end}" data-score="{round(e.score, 4)}" '
        f'title="{html.escape(_details(e))}">{html.escape(e.text)}</span>'
    )


def _details(e: Entity) -> str:
    """What the hover shows: type and score, then the fields that are set, one a line."""
    lines = [f"{e.type.value}, score {e.score:.2f}"]
    if e.canonical is not None:
        lines.append(f"canonical: {e.canonical}")
    if e.cluster is not None:
        lines.append(f"cluster: {e.cluster}")
    if e.value is not None:
        fields = ", ".join(f"{key}={value}" for key, value in e.value.to_dict().items())
        lines.append(f"value: {fields}")
    if e.normalized != e.text:
        lines.append(f"normalized: {e.normalized}")
    return "\n".join(lines)
