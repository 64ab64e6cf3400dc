"""Build ``arabic_ner/resources/calendar.json``, the word tables of ``arabic_ner.rules``.

The rules that find DATE, TIME, NUM, MONEY and PERCENT entities look words up in these
tables; the tables are data, kept here so that they can be checked and rebuilt.

Sources:

- Gregorian month names (``ar``), the Levantine/Iraqi names (``ar_SY``, ``ar_IQ``,
  ``ar_LB``, ``ar_JO``, ``ar_PS``), the Maghrebi ones (``ar_DZ``, ``ar_TN``, ``ar_MA``,
  ``ar_MR``), weekday names (``ar``) and the Arabic currency names (``ar``) come from CLDR
  through ``babel`` (``get_month_names``, ``get_day_names``, ``Locale.currencies``).
- Hand lists, below: common spelling variants of month names (``يونيه``, ``كانون ثاني``),
  the Hijri month names (babel ships only the Gregorian calendar's names), which month names
  are ambiguous words, the time and number words, currency word forms and the percent
  phrases.

Every entry is stored in its normalized form (``arabic_ner.normalize.normalize_word``:
alef forms folded, ``ى`` to ``ي``, diacritics removed), which is what the rules see. Words
ending in ``ة`` are also stored with ``ه``, the common informal spelling (and what the
``teh_marbuta`` fold of ``normalize`` gives).

Run from the project root (needs ``babel``: ``pip install -e '.[data]'``)::

    python scripts/build_calendar.py arabic_ner/resources/calendar.json
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import babel
from babel import Locale
from babel.core import get_cldr_version
from babel.dates import get_day_names, get_month_names
from babel.numbers import get_territory_currencies

from arabic_ner.normalize import normalize_word

COMMAND = "python scripts/build_calendar.py arabic_ner/resources/calendar.json"

# Locales whose month names we take, and the name of the system they belong to.
MONTH_LOCALES = (
    ("ar", "gregorian"),
    ("ar_SY", "levantine"),
    ("ar_IQ", "levantine"),
    ("ar_LB", "levantine"),
    ("ar_JO", "levantine"),
    ("ar_PS", "levantine"),
    ("ar_DZ", "maghrebi"),
    ("ar_TN", "maghrebi"),
    ("ar_MA", "maghrebi"),
    ("ar_MR", "maghrebi"),
)

# Spelling variants seen in news text that CLDR does not list (month number, name, system).
MONTH_VARIANTS = (
    (1, "كانون ثاني", "levantine"),
    (4, "إبريل", "gregorian"),
    (6, "يونيه", "gregorian"),  # Egyptian spelling
    (7, "يوليه", "gregorian"),  # Egyptian spelling
    (8, "اغسطس", "gregorian"),
    (10, "تشرين أول", "levantine"),
    (11, "تشرين ثاني", "levantine"),
    (12, "كانون أول", "levantine"),
)

# The Hijri months (babel has no names for the Islamic calendar). Variants follow the
# first name: the genitive ذي of ذو, الآخر / الثاني, الأولى / الأول.
HIJRI_MONTHS = (
    (1, ("محرم", "المحرم")),
    (2, ("صفر",)),
    (3, ("ربيع الأول", "ربيع أول")),
    (4, ("ربيع الآخر", "ربيع الثاني", "ربيع ثاني")),
    (5, ("جمادى الأولى", "جمادى الأول")),
    (6, ("جمادى الآخرة", "جمادى الثانية", "جمادى الآخر", "جمادى الثاني")),
    (7, ("رجب",)),
    (8, ("شعبان",)),
    (9, ("رمضان",)),
    (10, ("شوال",)),
    (11, ("ذو القعدة", "ذي القعدة")),
    (12, ("ذو الحجة", "ذي الحجة")),
)

# Month names that are also common words or names, after normalization: they are read
# as months only next to a day number, a year, the other name of a double form
# (آب/أغسطس) or the word شهر. Compared in normalized form.
AMBIGUOUS_MONTHS = (
    "آب",  # August; also أب "father"
    "ماي",  # May (Maghreb)
    "مارس",  # March; also the verb "practised"
    "جوان",  # June (Maghreb); also a given name
    "غشت",  # August (Morocco); also "she cheated"
    "نيسان",  # April; also the car maker Nissan
    "محرم",  # also "forbidden"
    "المحرم",
    "صفر",  # also "zero"
    "رجب",  # also a given name
    "شعبان",  # also a given name
    "رمضان",  # also a given name
)

# Weekday spelling variants that CLDR does not list (ISO weekday, name).
WEEKDAY_VARIANTS = ((2, "الثلثاء"),)

TRIGGERS = {
    "day": ("يوم",),  # يوم الخميس، يوم 30 سبتمبر
    "month": ("شهر",),  # شهر رمضان
    "year": ("عام", "العام", "سنة", "السنة"),  # عام 2015
    "hour": ("الساعة",),  # الساعة 10، الساعة الثالثة
}

# Markers after a year: هـ (normalized to ه), هجري ...; م, ميلادي ... ("م" is read as a
# marker only after a year that already belongs to a date, since "100 م" is 100 metres).
CALENDAR_MARKERS = {
    "hijri": ("هـ", "ه", "هجري", "هجرية", "للهجرة", "الهجري", "الهجرية"),
    "gregorian": ("م", "ميلادي", "ميلادية", "للميلاد", "الميلادي", "الميلادية"),
}
WEAK_MARKERS = ("م",)

# Hours written as feminine ordinals after الساعة.
HOUR_WORDS = (
    (1, "الواحدة"),
    (2, "الثانية"),
    (3, "الثالثة"),
    (4, "الرابعة"),
    (5, "الخامسة"),
    (6, "السادسة"),
    (7, "السابعة"),
    (8, "الثامنة"),
    (9, "التاسعة"),
    (10, "العاشرة"),
    (11, "الحادية عشرة"),
    (11, "الحادية عشر"),
    (12, "الثانية عشرة"),
    (12, "الثانية عشر"),
)

# Minutes after an hour word: added to the hour (negative: before the next hour).
MINUTE_WORDS = (
    (30, "والنصف"),
    (30, "ونصف"),
    (15, "والربع"),
    (15, "وربع"),
    (20, "والثلث"),
    (-15, "إلا ربعا"),
    (-15, "إلا ربع"),
    (-15, "الا الربع"),
    (-20, "إلا ثلثا"),
    (-20, "إلا ثلث"),
)

# Parts of the day after a time, and how the hour changes (see rules.py).
DAY_PERIODS = (
    ("am", "صباحا"),
    ("am", "صباحاً"),
    ("am", "فجرا"),
    ("am", "ص"),
    ("pm", "مساء"),
    ("pm", "مساءً"),
    ("pm", "مساءا"),
    ("pm", "م"),
    ("noon", "ظهرا"),
    ("noon", "عصرا"),
    ("noon", "بعد الظهر"),
    ("night", "ليلا"),
)

# Number words. Masculine and feminine forms, the case forms news text uses (nominative
# ان/ون, oblique ين/ين, accusative with tanween alef), and both spellings of مئة.
UNIT_WORDS = {
    1: ("واحد", "واحدة", "واحدا"),
    2: ("اثنان", "اثنين", "اثنتان", "اثنتين"),
    3: ("ثلاث", "ثلاثة"),
    4: ("أربع", "أربعة"),
    5: ("خمس", "خمسة"),
    6: ("ست", "ستة"),
    7: ("سبع", "سبعة"),
    8: ("ثمان", "ثماني", "ثمانية"),
    9: ("تسع", "تسعة"),
    10: ("عشر", "عشرة"),
}
# First parts of 11 and 12 that are numbers only before عشر/عشرة: أحد alone is "one of,
# anyone" (and الأحد is Sunday), إحدى is "one of", اثنا/اثني only appear in 12.
TEEN_ONLY_WORDS = {
    1: ("أحد", "إحدى"),
    2: ("اثنا", "اثني", "اثنتا", "اثنتي"),
}
TENS_WORDS = {
    20: ("عشرون", "عشرين"),
    30: ("ثلاثون", "ثلاثين"),
    40: ("أربعون", "أربعين"),
    50: ("خمسون", "خمسين"),
    60: ("ستون", "ستين"),
    70: ("سبعون", "سبعين"),
    80: ("ثمانون", "ثمانين"),
    90: ("تسعون", "تسعين"),
}
_HUNDRED_PREFIXES = {
    3: ("ثلاث",),
    4: ("أربع",),
    5: ("خمس",),
    6: ("ست",),
    7: ("سبع",),
    8: ("ثمان", "ثماني"),
    9: ("تسع",),
}
HUNDRED_WORDS: dict[int, tuple[str, ...]] = {
    100: ("مئة", "مائة"),
    200: ("مئتان", "مئتين", "مئتا", "مئتي", "مائتان", "مائتين", "مائتا", "مائتي"),
}
for _n, _prefixes in _HUNDRED_PREFIXES.items():
    HUNDRED_WORDS[_n * 100] = tuple(p + h for p in _prefixes for h in ("مئة", "مائة"))

# Scale words: value, and form: "singular" (alone = 1 x scale, or after a count),
# "dual" (2 x scale, alone), "plural" (only after a count: آلاف alone is "thousands of").
SCALE_WORDS = (
    (1e3, "singular", ("ألف", "ألفا")),
    (1e3, "dual", ("ألفان", "ألفين")),
    (1e3, "plural", ("آلاف", "ألوف")),
    (1e6, "singular", ("مليون", "مليونا")),
    (1e6, "dual", ("مليونان", "مليونين")),
    (1e6, "plural", ("ملايين",)),
    (1e9, "singular", ("مليار", "مليارا", "بليون", "بليونا")),
    (1e9, "dual", ("ملياران", "مليارين", "بليونان", "بليونين")),
    (1e9, "plural", ("مليارات", "بلايين")),
    (1e12, "singular", ("تريليون", "تريليونا", "ترليون", "ترليونا")),
    (1e12, "dual", ("تريليونان", "تريليونين", "ترليونان", "ترليونين")),
    (1e12, "plural", ("تريليونات", "ترليونات")),
)
# نصف before a scale word: نصف مليون = 500,000. ونصف after one: مليون ونصف = 1,500,000.
HALF_WORDS = ("نصف",)
AND_HALF_WORDS = ("ونصف",)
# Whole words that start with a proclitic letter + a number word but are other words:
# لست "I am not", لتسع "so that it holds".
NUMBER_STOPLIST = ("لست", "ولست", "فلست", "لتسع", "ولتسع", "فلتسع")

# Currency words: the word forms of each currency noun (singular, accusative, plural,
# dual) and the currency it means when no adjective follows. None: the noun names the
# currency of several countries (دينار، ليرة، فرنك، روبية) and the text must say which.
CURRENCY_NOUNS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "دولار": ("USD", ("دولار", "دولارا", "دولارات", "دولاران", "دولارين")),
    "يورو": ("EUR", ("يورو",)),
    "جنيه": ("EGP", ("جنيه", "جنيها", "جنيهات", "جنيهان", "جنيهين")),
    "ليرة": (None, ("ليرة", "ليرات", "ليرتان", "ليرتين")),
    "ريال": ("SAR", ("ريال", "ريالا", "ريالات", "ريالان", "ريالين")),
    "درهم": ("AED", ("درهم", "درهما", "دراهم", "درهمان", "درهمين")),
    "دينار": (None, ("دينار", "دينارا", "دنانير", "ديناران", "دينارين")),
    "روبل": ("RUB", ("روبل", "روبلا", "روبلات")),
    "ين": ("JPY", ("ين",)),
    "يوان": ("CNY", ("يوان",)),
    "فرنك": (None, ("فرنك", "فرنكا", "فرنكات")),
    "روبية": (None, ("روبية", "روبيات")),
    "شيكل": ("ILS", ("شيكل", "شيكلا", "شواكل", "شيقل")),
}
# Adjectives CLDR does not give (CLDR calls the Lebanese pound جنيه لبناني).
CURRENCY_ADJECTIVES_EXTRA = (
    ("دولار", "أمريكي", "USD"),
    ("دولار", "أميركي", "USD"),
    ("ليرة", "لبنانية", "LBP"),
    ("ليرة", "سورية", "SYP"),
    ("ليرة", "سوري", "SYP"),
    ("جنيه", "استرليني", "GBP"),
    ("جنيه", "مصري", "EGP"),
    ("دينار", "أردني", "JOD"),
    ("روبية", "هندية", "INR"),
)
# Currencies in legal tender on this date are taken from CLDR (not ITL, TRL, SDD ...).
CURRENCY_DATE = datetime.date(2025, 1, 1)
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}

PERCENT_PHRASES = (
    "%",
    "في المئة",
    "في المائة",
    "في المية",
    "بالمئة",
    "بالمائة",
    "بالمية",
)


def norm(word: str) -> str:
    """Normalize a table entry as the rules see it."""
    return normalize_word(word)


def spellings(word: str) -> list[str]:
    """The normalized word, and its ``ه`` spelling if it ends in ``ة`` (per word)."""
    words = norm(word).split()
    options = [""]
    for w in words:
        forms = [w, w[:-1] + "ه"] if w.endswith("ة") else [w]
        options = [f"{o} {f}".strip() for o in options for f in forms]
    return options


def adjective_forms(adjective: str) -> list[str]:
    """Masculine, feminine and accusative forms of a nisba adjective (سوري، سورية، سوريا).

    A word that is not a nisba adjective (the country name in دولار غيانا) is kept as is.
    """
    a = norm(adjective)
    base = a[:-1] if a.endswith("ة") else a
    if not base.endswith("ي"):
        return [a]
    return sorted({base, base + "ة", base + "ه", base + "ا"})


def current_currencies() -> set[str]:
    """ISO codes of the currencies in legal tender somewhere on ``CURRENCY_DATE``."""
    codes: set[str] = set()
    for territory in Locale("en").territories:
        codes.update(
            get_territory_currencies(
                str(territory), start_date=CURRENCY_DATE, tender=True, non_tender=False
            )
        )
    return codes


def months() -> list[dict[str, Any]]:
    ambiguous = {norm(w) for w in AMBIGUOUS_MONTHS}
    seen: dict[str, dict[str, Any]] = {}

    def add(name: str, month: int, calendar: str, system: str, source: str) -> None:
        for form in spellings(name):
            if form in seen:
                continue
            seen[form] = {
                "name": form,
                "month": month,
                "calendar": calendar,
                "system": system,
                "ambiguous": form in ambiguous,
                "source": source,
            }

    for locale, system in MONTH_LOCALES:
        for number, name in get_month_names("wide", "format", locale=locale).items():
            add(name, number, "gregorian", system, f"CLDR {locale}")
    for number, name, system in MONTH_VARIANTS:
        add(name, number, "gregorian", system, "hand list")
    for number, names in HIJRI_MONTHS:
        for name in names:
            add(name, number, "hijri", "hijri", "hand list")
    return list(seen.values())


def weekdays() -> dict[str, int]:
    out: dict[str, int] = {}
    for index, name in get_day_names("wide", "format", locale="ar").items():
        out[norm(name)] = index + 1  # babel: 0 = Monday; ISO: 1 = Monday
    for iso, name in WEEKDAY_VARIANTS:
        out.setdefault(norm(name), iso)
    return out


def currencies() -> dict[str, Any]:
    nouns: dict[str, Any] = {}
    adjectives: dict[str, dict[str, str]] = {}
    for noun, (code, forms) in CURRENCY_NOUNS.items():
        key = norm(noun)
        nouns[key] = {"code": code, "forms": sorted({s for f in forms for s in spellings(f)})}
        adjectives[key] = {}
    # CLDR: "دينار كويتي" -> KWD, for every currency named as one of our nouns + adjective.
    current = current_currencies()
    for code, name in sorted(Locale("ar").currencies.items()):
        words = norm(name).split()
        if code not in current or len(words) != 2 or words[0] not in adjectives:
            continue
        for form in adjective_forms(words[1]):
            adjectives[words[0]].setdefault(form, code)
    for noun, adjective, code in CURRENCY_ADJECTIVES_EXTRA:
        for form in adjective_forms(adjective):
            adjectives[norm(noun)][form] = code
    return {
        "nouns": nouns,
        "adjectives": {k: dict(sorted(v.items())) for k, v in adjectives.items()},
        "signs": CURRENCY_SIGNS,
    }


def word_table(table: Mapping[int, tuple[str, ...]]) -> dict[str, int]:
    return {s: value for value, words in table.items() for w in words for s in spellings(w)}


def numbers() -> dict[str, Any]:
    scales: dict[str, list[Any]] = {}
    for value, form, words in SCALE_WORDS:
        for w in words:
            for s in spellings(w):
                scales[s] = [value, form]
    return {
        "units": word_table(UNIT_WORDS),
        "teen_only": word_table(TEEN_ONLY_WORDS),
        "tens": word_table(TENS_WORDS),
        "hundreds": word_table(HUNDRED_WORDS),
        "scales": scales,
        "half": sorted({s for w in HALF_WORDS for s in spellings(w)}),
        "and_half": sorted({s for w in AND_HALF_WORDS for s in spellings(w)}),
        "stoplist": sorted({norm(w) for w in NUMBER_STOPLIST}),
    }


def build() -> dict[str, Any]:
    return {
        "_about": {
            "what": "Word tables of arabic_ner.rules (DATE, TIME, NUM, MONEY, PERCENT), "
            "normalized with arabic_ner.normalize.normalize_word.",
            "source": f"Month, weekday and currency names: Unicode CLDR {get_cldr_version()} "
            f"through babel {babel.__version__}; Hijri months, spelling variants, "
            "time, number, currency and percent words: hand lists in "
            "scripts/build_calendar.py.",
            "licence": "CLDR data: Unicode License (Unicode-3.0); babel: BSD-3-Clause; "
            "hand lists: MIT, as the project.",
            "rebuild": COMMAND,
        },
        "months": months(),
        "weekdays": weekdays(),
        "triggers": {k: sorted({norm(w) for w in v}) for k, v in TRIGGERS.items()},
        "calendar_markers": {k: sorted({norm(w) for w in v}) for k, v in CALENDAR_MARKERS.items()},
        "weak_markers": sorted({norm(w) for w in WEAK_MARKERS}),
        "hours": {s: h for h, w in HOUR_WORDS for s in spellings(w)},
        "minutes": {s: m for m, w in MINUTE_WORDS for s in spellings(w)},
        "day_periods": {s: p for p, w in DAY_PERIODS for s in spellings(w)},
        "numbers": numbers(),
        "currencies": currencies(),
        "percent": sorted({s for w in PERCENT_PHRASES for s in spellings(w)}),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {COMMAND}", file=sys.stderr)
        return 2
    out = Path(argv[1])
    text = json.dumps(build(), ensure_ascii=False, indent=1) + "\n"
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(text.encode('utf-8'))} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
