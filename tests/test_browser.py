"""The page in a real browser: Debian's chromium, headless, driven by Playwright.

Skipped unless /usr/bin/chromium exists (``apt-get install -y chromium``) and the
``playwright`` package is importable. Playwright's own browser download is never used:
the test launches the system chromium by its path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium", allow_module_level=True)
pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api")

from arabic_ner.pipeline import Pipeline  # noqa: E402
from arabic_ner.server import background_server, create_app  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with background_server(create_app()) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_the_sample_article_is_highlighted_in_the_browser_without_script(
    browser: Any, url: str, nlp: Pipeline, sample_text: str, tmp_path: Path
) -> None:
    # Script off: the page must work as a plain form.
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1100, "height": 900}
    )
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(url + "/")
    box = page.locator("#text")
    assert box.get_attribute("dir") == "rtl"
    box.fill(sample_text)
    page.locator("#submit").click()
    page.wait_for_selector("#result .ent")

    marked = page.eval_on_selector_all(
        '#result [dir="rtl"] .ent',
        "spans => spans.map(s => [s.dataset.type, s.textContent, +s.dataset.start, "
        "+s.dataset.end, s.className])",
    )
    expected = [(e.type.value, e.text, e.start, e.end) for e in nlp(sample_text)]
    assert [tuple(m[:4]) for m in marked] == expected
    assert all(m[4] == f"ent ent-{m[0]}" for m in marked)
    texts = {(m[0], m[1]) for m in marked}
    assert {("ORG", "داعش"), ("LOC", "تدمر"), ("PERS", "فلاديمير بوتين")} <= texts
    assert page.locator('#result [dir="rtl"] .ent-ORG', has_text="داعش").count() >= 1
    direction = page.eval_on_selector("#result .text", "e => getComputedStyle(e).direction")
    assert direction == "rtl"
    assert box.input_value() == sample_text  # the text stays in the box, line breaks too
    assert all(r.startswith(url) for r in requested), requested  # nothing from elsewhere

    shot = tmp_path / "sample.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    context.close()


def test_text_typed_key_by_key_is_tagged(browser: Any, url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/")
    page.locator("#text").press_sequentially("وصل الرئيس الروسي فلاديمير بوتين الى موسكو")
    page.locator("#submit").click()
    page.wait_for_selector("#result .ent")
    assert page.locator("#result .ent-PERS").all_inner_texts() == ["فلاديمير بوتين"]
    assert page.locator("#result .ent-LOC").all_inner_texts() == ["موسكو"]
    context.close()


def test_an_empty_box_is_not_sent_and_an_error_shows_in_the_page(browser: Any, url: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/")
    page.locator("#text").fill("   ")
    page.locator("#submit").click()
    page.wait_for_selector("#error")
    assert "the text is empty" in page.locator("#error").inner_text()
    context.close()
