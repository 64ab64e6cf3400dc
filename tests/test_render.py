"""HTML output: ``render_html`` and ``extract --format html``, read back with html.parser."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

import arabic_ner
from arabic_ner import ConfigError, Entity, EntityType, InputError, Value, render_html
from arabic_ner.cli import main
from arabic_ner.corpus import Record
from arabic_ner.writers import format_html, html_footer, html_header


@dataclass
class Span:
    classes: list[str]
    attrs: dict[str, str]
    start: int  # where the span starts and ends in the text read back
    end: int


@dataclass
class Section:
    classes: list[str]
    heading: str = ""
    error: str = ""
    text: str | None = None
    text_dir: str | None = None
    spans: list[Span] = field(default_factory=list)


class Page(HTMLParser):
    """Reads a page back: the <html> attributes, its sections, their text and spans."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, str] = {}
        self.sections: list[Section] = []
        self.legend: list[str] = []
        self.references: list[str] = []  # attributes that would load something
        self.tags: list[str] = []
        self._in: str | None = None  # "heading", "error", "text", "legend"
        self._chunks: list[str] = []
        self._span: tuple[list[str], dict[str, str], int] | None = None
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        classes = values.get("class", "").split()
        self.tags.append(tag)
        self.references += [key for key in values if key in ("src", "href", "srcset", "action")]
        if tag == "html":
            self.root = values
        elif tag == "section":
            self.sections.append(Section(classes))
        elif tag == "h2":
            self._start("heading")
        elif tag == "p" and "error" in classes:
            self._start("error")
        elif tag == "div" and "text" in classes:
            if not self.sections or self.sections[-1].text is not None:
                self.sections.append(Section([]))  # a page of one text has no sections
            self.sections[-1].text_dir = values.get("dir")
            self._start("text")
        elif tag == "span" and self._in == "text":
            self._span = (classes, values, len("".join(self._chunks)))
        elif tag == "span" and "key" in classes:
            self._start("legend")

    def handle_endtag(self, tag: str) -> None:
        done = "".join(self._chunks)
        if tag == "span" and self._span is not None:
            classes, values, start = self._span
            self.sections[-1].spans.append(Span(classes, values, start, len(done)))
            self._span = None
        elif tag == "span" and self._in == "legend":
            self.legend.append(done)
            self._in = None
        elif tag == "h2" and self._in == "heading":
            self.sections[-1].heading = done
            self._in = None
        elif tag == "p" and self._in == "error":
            self.sections[-1].error = done
            self._in = None
        elif tag == "div" and self._in == "text":
            self.sections[-1].text = done
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._chunks.append(data)

    def _start(self, what: str) -> None:
        self._in, self._chunks = what, []


def entity(text: str, kind: EntityType, surface: str, nth: int = 0, **extra: object) -> Entity:
    """The entity ``surface`` (its ``nth`` occurrence) in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return Entity(surface, kind, start, start + len(surface), 0.875, surface, **extra)  # type: ignore[arg-type]


TRICKY = (
    "زار <script>alert('x')</script> بوتين\r\nدمشق, \"حلب\"\tو😀 تدمر\nفي 5 ايار/مايو 2015 & بعد"
)


def tricky_entities(text: str = TRICKY) -> list[Entity]:
    return [
        entity(text, EntityType.PERS, "بوتين", canonical="فلاديمير بوتين", cluster=0),
        entity(text, EntityType.LOC, "دمشق"),
        entity(text, EntityType.LOC, "حلب"),
        entity(text, EntityType.LOC, "تدمر"),
        entity(text, EntityType.DATE, "5 ايار/مايو 2015", value=Value(year=2015, month=5, day=5)),
    ]


def check_spans(section: Section, text: str, entities: list[Entity]) -> None:
    """The section shows ``text`` whole, and each entity as its own span, in order."""
    assert section.text == text
    assert section.text_dir == "rtl"
    assert len(section.spans) == len(entities)
    for span, e in zip(section.spans, sorted(entities), strict=True):
        assert span.classes == ["ent", f"ent-{e.type.value}"]
        assert span.attrs["data-type"] == e.type.value
        assert (int(span.attrs["data-start"]), int(span.attrs["data-end"])) == (e.start, e.end)
        assert (span.start, span.end) == (e.start, e.end)  # where the span is in the text
        assert text[span.start : span.end] == e.text


def test_page_has_a_span_per_entity_with_class_and_data_attributes() -> None:
    entities = tricky_entities()
    page = Page(render_html(TRICKY, entities))
    assert page.root == {"lang": "ar", "dir": "rtl"}
    [section] = page.sections
    check_spans(section, TRICKY, entities)


def test_script_in_the_text_is_escaped_and_nothing_external_is_loaded() -> None:
    html = render_html(TRICKY, tricky_entities())
    page = Page(html)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.references == []
    for reference in ("http", "src=", "href=", "url(", "@import"):
        assert reference not in html
    assert "white-space:pre-wrap" in html  # line breaks are kept


def test_title_gives_type_score_canonical_and_value_on_hover() -> None:
    entities = tricky_entities()
    [section] = Page(render_html(TRICKY, entities)).sections
    titles = {
        span.attrs["data-type"] + span.attrs["data-start"]: span.attrs["title"]
        for span in section.spans
    }
    person = titles[f"PERS{entities[0].start}"]
    assert person.splitlines() == ["PERS, score 0.88", "canonical: فلاديمير بوتين", "cluster: 0"]
    date = titles[f"DATE{entities[4].start}"]
    assert date.splitlines() == ["DATE, score 0.88", "value: year=2015, month=5, day=5"]


def test_legend_lists_the_types_present_with_their_counts() -> None:
    html = render_html(TRICKY, tricky_entities())
    assert Page(html).legend == ["PERS", "LOC", "DATE"]
    assert "places (3)" in html and "organisations" not in html


def test_entities_may_come_in_any_order_and_a_text_without_any_renders() -> None:
    entities = tricky_entities()
    assert render_html(TRICKY, entities[::-1]) == render_html(TRICKY, entities)
    [section] = Page(render_html("لا شيء هنا\n", [])).sections
    assert section.text == "لا شيء هنا\n" and section.spans == []


def test_an_entity_that_does_not_match_the_text_is_refused_by_name() -> None:
    text = "زار بوتين دمشق"
    wrong = Entity("دمشق", EntityType.LOC, 3, 7, 1.0, "دمشق")
    with pytest.raises(ConfigError, match=r"Entity\(LOC, 'دمشق', 3:7.*does not match"):
        render_html(text, [wrong])
    outside = Entity("دمشق", EntityType.LOC, 12, 16, 1.0, "دمشق")
    with pytest.raises(ConfigError, match="not a span of the text"):
        render_html(text, [outside])


def test_overlapping_entities_are_refused_by_name() -> None:
    text = "زار فلاديمير بوتين"
    whole = entity(text, EntityType.PERS, "فلاديمير بوتين")
    part = entity(text, EntityType.PERS, "بوتين")
    with pytest.raises(ConfigError, match=r"overlaps Entity\(PERS, 'فلاديمير بوتين'"):
        render_html(text, [whole, part])


def test_text_and_entities_of_the_wrong_type_raise_input_error() -> None:
    with pytest.raises(InputError, match="got bytes"):
        render_html("زار دمشق".encode(), [])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="Entity objects, got dict"):
        render_html("زار دمشق", [{"start": 4, "end": 8}])  # type: ignore[list-item]


def test_pipeline_entities_of_the_sample_all_render(sample_text: str) -> None:
    found = arabic_ner.extract_entities(sample_text)
    [section] = Page(render_html(sample_text, found)).sections
    check_spans(section, sample_text, found)


# --- extract --format html ----------------------------------------------------------------


def test_html_writer_round_trips_records_and_shows_error_records() -> None:
    records = [
        Record("d<1>", "a.jsonl", 1, TRICKY),
        Record("a.jsonl:2", "a.jsonl", 2, error="malformed JSON (<here>)"),
        Record("news/c.txt", "news/c.txt", None, "سطر\n\nسطر آخر"),
    ]
    found = [tricky_entities(), [], []]
    html = html_header("run", [EntityType.PERS, EntityType.LOC])
    html += "".join(format_html(r, e) for r, e in zip(records, found, strict=True))
    html += html_footer()
    page = Page(html)
    assert page.root == {"lang": "ar", "dir": "rtl"} and page.references == []
    assert [s.heading for s in page.sections] == ["d<1>", "a.jsonl:2", "news/c.txt"]
    assert [s.classes for s in page.sections] == [["record"], ["record", "error"], ["record"]]
    check_spans(page.sections[0], TRICKY, found[0])
    assert page.sections[1].error == "error: malformed JSON (<here>)"
    assert page.sections[1].text is None
    check_spans(page.sections[2], records[2].text, [])
    assert page.legend == ["PERS", "LOC"]
    assert html.endswith("</body>\n</html>\n")


def test_extract_format_html_writes_one_section_per_input_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"id": "d1", "text": 'زار بوتين دمشق\r\nثم وصل الى "حلب", <b>'},
        [1],
        {"id": "d3", "text": "لا شيء"},
    ]
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    assert main(["extract", "-q", str(data), "--format", "jsonl"]) == 1
    expected = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    out = tmp_path / "page.html"
    assert main(["extract", "-q", str(data), "-o", str(out)]) == 1  # html by the extension
    with open(out, encoding="utf-8", newline="") as handle:  # keep \r\n as written
        page = Page(handle.read())
    assert [s.heading for s in page.sections] == ["d1", f"{data}:2", "d3"]
    assert "expected a JSON object" in page.sections[1].error
    for section, row, record in zip(page.sections, expected, rows, strict=True):
        if isinstance(record, dict):
            spans = [(s.attrs["data-type"], s.start, s.end) for s in section.spans]
            assert spans == [(e["type"], e["start"], e["end"]) for e in row["entities"]]
            assert section.text == record["text"]
    assert not (tmp_path / "page.html.progress.json").exists()

    code = main(["extract", "-q", str(data), "-o", str(out), "--resume"])
    assert code == 2 and "--resume does not work with --format html" in capsys.readouterr().err
