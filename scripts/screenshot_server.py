"""Take docs/server.png: the page of ``arabic-ner serve`` with the sample article tagged.

Starts the server on a free loopback port in this process, opens the page in Debian's
chromium (headless, through Playwright; Playwright's own browser download is not used),
submits the sample article and saves a screenshot of the page.

    apt-get install -y chromium
    .venv/bin/pip install -e '.[server]' playwright
    .venv/bin/python scripts/screenshot_server.py              # writes docs/server.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

from arabic_ner.server import background_server, create_app

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "server.png"))
    parser.add_argument("--text", default=str(ROOT / "data" / "samples" / "palmyra_news_ar.txt"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument(
        "--height", type=int, default=1500, help="keep the top this many pixels (0: all)"
    )
    args = parser.parse_args()
    text = Path(args.text).read_text(encoding="utf-8")
    with background_server(create_app()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": 800})
        page.goto(url + "/")
        page.locator("#text").fill(text)
        page.locator("#submit").click()
        page.wait_for_selector("#result .ent")
        height = page.evaluate("document.documentElement.scrollHeight")
        if args.height:
            height = min(height, args.height)
        clip = {"x": 0, "y": 0, "width": args.width, "height": height}
        page.screenshot(path=args.out, full_page=True, clip=clip)
        browser.close()
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
