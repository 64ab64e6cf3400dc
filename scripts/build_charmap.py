"""Build ``arabic_ner/resources/charmap.json``, the character tables of ``normalize``.

The tables are data, not code: each entry names the code point it maps from, what it maps
to and the Unicode name, so a reader can check a mapping without a Unicode table at hand.
Hand-picked groups are listed below; the presentation-form group is derived from Unicode's
compatibility decompositions (NFKC) of U+FB50..U+FDFF and U+FE70..U+FEFF.

Run from the project root (standard library only)::

    python scripts/build_charmap.py arabic_ner/resources/charmap.json
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

ALEF = "\u0627"
YEH = "\u064a"
HEH = "\u0647"
KAF = "\u0643"

# Letters that carry hamza or madda on an alef, and the rarer alef forms, all to bare alef.
ALEF_FORMS = {
    "\u0622": ALEF,  # alef with madda above
    "\u0623": ALEF,  # alef with hamza above
    "\u0625": ALEF,  # alef with hamza below
    "\u0671": ALEF,  # alef wasla
    "\u0672": ALEF,  # alef with wavy hamza above
    "\u0673": ALEF,  # alef with wavy hamza below
    "\u0675": ALEF,  # high hamza alef
}
ALEF_MAKSURA = {"\u0649": YEH}
TEH_MARBUTA = {"\u0629": HEH}
HAMZA_CARRIERS = {"\u0624": "\u0648", "\u0626": YEH}

# Persian, Urdu, Kurdish and Maghrebi letters seen in Arabic news text, folded to the Arabic
# letter a reader would take them for (CAMeL Tools folds the same groups).
PERSIAN_LETTERS = {
    "\u06a9": KAF,  # keheh
    "\u06aa": KAF,  # swash kaf
    "\u06af": KAF,  # gaf
    "\u06ad": KAF,  # ng
    "\u06cc": YEH,  # farsi yeh
    "\u06cd": YEH,  # yeh with tail
    "\u06d0": YEH,  # e
    "\u06d2": YEH,  # yeh barree
    "\u06c1": HEH,  # heh goal
    "\u06be": HEH,  # heh doachashmee
    "\u06d5": HEH,  # ae
    "\u06c0": HEH,  # heh with yeh above
    "\u06c3": "\u0629",  # teh marbuta goal
    "\u067e": "\u0628",  # peh
    "\u0686": "\u062c",  # tcheh
    "\u0698": "\u0632",  # jeh
    "\u06a4": "\u0641",  # veh
    "\u06a8": "\u0642",  # qaf with three dots above
    "\u06a5": "\u0641",  # feh with three dots below
}
DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {chr(0x06F0 + i): str(i) for i in range(10)}
# Arabic decimal and thousands separators and percent sign, to their ASCII twins.
NUMBER_SIGNS = {"\u066b": ".", "\u066c": ",", "\u066a": "%"}

DIACRITICS = (
    [chr(c) for c in range(0x0610, 0x061B)]  # honorifics and small high letters
    + [chr(c) for c in range(0x064B, 0x0660)]  # harakat, tanween, shadda, sukun, hamza marks
    + ["\u0670"]  # superscript (dagger) alef
    + [chr(c) for c in range(0x06D6, 0x06DD)]  # Quranic annotation signs
    + [chr(c) for c in range(0x06DF, 0x06E5)]
    + ["\u06e7", "\u06e8"]
    + [chr(c) for c in range(0x06EA, 0x06EE)]
    + [chr(c) for c in range(0x08D3, 0x08E2)]
    + [chr(c) for c in range(0x08E3, 0x0900)]
)
TATWEEL = ["\u0640"]
# Zero-width and bidirectional controls and variation selectors: invisible, they split
# words for a regex (a selector is a combining mark of no script, glued to the next word).
FORMAT_CHARS = [
    "\u00ad",  # soft hyphen
    "\u061c",  # arabic letter mark
    "\u200b",
    "\u200c",
    "\u200d",  # zero width space, non-joiner, joiner
    "\u200e",
    "\u200f",  # left-to-right and right-to-left marks
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # embeddings and overrides
    "\u2060",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",  # word joiner, isolates
    "\ufeff",  # byte order mark / zero width no-break space
    *(chr(c) for c in range(0xFE00, 0xFE10)),  # variation selectors (emoji style ️)
]


def presentation_forms() -> dict[str, str]:
    """Map each Arabic presentation form to its NFKC letters (spacing marks dropped)."""
    table: dict[str, str] = {}
    for start, end in ((0xFB50, 0xFE00), (0xFE70, 0xFF00)):
        for code in range(start, end):
            char = chr(code)
            if unicodedata.category(char) == "Cn":
                continue
            folded = unicodedata.normalize("NFKC", char)
            if folded == char:
                continue
            # Isolated and medial forms of marks decompose to a space (or tatweel) plus the
            # mark: keep the mark alone, so that diacritic removal treats it like any other.
            if folded[0] in " \u0640":
                folded = folded[1:]
            table[char] = folded
    return table


def entries(mapping: dict[str, str]) -> list[dict[str, str]]:
    """Render a mapping as readable entries."""
    return [
        {
            "from": f"U+{ord(src):04X}",
            "to": " ".join(f"U+{ord(c):04X}" for c in dst),
            "name": unicodedata.name(src, "?"),
        }
        for src, dst in sorted(mapping.items())
    ]


def code_points(chars: list[str]) -> list[dict[str, str]]:
    """Render a list of characters as readable entries."""
    return [{"char": f"U+{ord(c):04X}", "name": unicodedata.name(c, "?")} for c in chars]


def main(out: str) -> None:
    table = {
        "_about": "Character tables of arabic_ner.normalize; rebuilt by scripts/build_charmap.py",
        "_unicode_version": unicodedata.unidata_version,
        "alef_forms": entries(ALEF_FORMS),
        "alef_maksura": entries(ALEF_MAKSURA),
        "teh_marbuta": entries(TEH_MARBUTA),
        "hamza_carriers": entries(HAMZA_CARRIERS),
        "persian_letters": entries(PERSIAN_LETTERS),
        "digits": entries(DIGITS | NUMBER_SIGNS),
        "presentation_forms": entries(presentation_forms()),
        "diacritics": code_points(DIACRITICS),
        "tatweel": code_points(TATWEEL),
        "format_chars": code_points(FORMAT_CHARS),
    }
    Path(out).write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}: " + ", ".join(f"{k} {len(v)}" for k, v in table.items() if k[0] != "_"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "arabic_ner/resources/charmap.json")
