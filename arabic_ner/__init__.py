"""arabic-ner: offline Arabic named-entity recognition with exact character offsets.

>>> from arabic_ner import extract_entities
>>> text = "وقال المتحدث باسم الكرملين دميتري بيسكوف"
>>> [(e.type.value, e.text, e.start, e.end) for e in extract_entities(text)]
[('ORG', 'الكرملين', 18, 26), ('PERS', 'دميتري بيسكوف', 27, 40)]

Nothing heavy happens on import: the model loads on the first call and is kept.
"""

from __future__ import annotations

from arabic_ner.entities import Entity, EntityType, Value
from arabic_ner.errors import (
    ArabicNERError,
    BackendNotAvailableError,
    ConfigError,
    DataFormatError,
    InputError,
    ModelError,
    WorkerError,
)
from arabic_ner.normalize import NormalizeConfig, Normalized, normalize
from arabic_ner.pipeline import Pipeline, extract_entities, load
from arabic_ner.render import render_html
from arabic_ner.tokenize import Token, TokenKind, tokenize

__version__ = "0.1.0"

__all__ = [
    "ArabicNERError",
    "BackendNotAvailableError",
    "ConfigError",
    "DataFormatError",
    "Entity",
    "EntityType",
    "InputError",
    "ModelError",
    "NormalizeConfig",
    "Normalized",
    "Pipeline",
    "Token",
    "TokenKind",
    "Value",
    "WorkerError",
    "__version__",
    "extract_entities",
    "load",
    "normalize",
    "render_html",
    "tokenize",
]
