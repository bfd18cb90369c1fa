"""The item description: the one text that stands for a product (its caption in the browsing environment).

:func:`build_description` is the only place that decides what the caption says. Amazon items give it their
title, description paragraphs, feature bullets, category path and details table; MovieLens items give the
title, genres and (where the film table matched) director, writer, cast and country as details.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_TAG = re.compile(r"<[^>]+>")
FIELDS = ("title", "categories", "description", "features", "details")


def clean_text(value: Any) -> str:
    """Plain one-line text: HTML tags removed, entities unescaped, whitespace collapsed; ``""`` for null."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(filter(None, (clean_text(part) for part in value)))
    text = str(value)
    if "<" in text:  # the checks skip the regex and unescaping for the plain text most fields are
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def as_text_list(value: Any) -> list[str]:
    """A field that may be a string, a list of strings or null, as a list of non-empty cleaned strings."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        value = [value]
    return [text for text in (clean_text(part) for part in value) if text]


@dataclass(frozen=True)
class DescriptionOptions:
    """What goes into an item description, and how long it may be.

    Attributes:
        fields: which parts to include, in this order (a subset of ``title, categories, description,
            features, details``).
        max_features: at most this many feature bullets.
        max_details: at most this many ``key: value`` details.
        max_categories: at most this many categories (the most specific ones, i.e. the last of a path).
        max_chars: the description is cut at a word boundary to at most this many characters (0: no limit).
    """

    fields: tuple[str, ...] = FIELDS
    max_features: int = 5
    max_details: int = 4
    max_categories: int = 3
    max_chars: int = 600

    def __post_init__(self) -> None:
        unknown = [field for field in self.fields if field not in FIELDS]
        if unknown:
            raise ValueError(f"unknown description fields {unknown}; expected some of {FIELDS}")


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _truncate(text: str, max_chars: int) -> str:
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"


def build_description(title: Any, *, description: Any = None, features: Any = None,
                      categories: Iterable[str] | None = None, details: Mapping[str, Any] | None = None,
                      options: DescriptionOptions | None = None) -> str:
    """Build an item's description from its parts, cleaned and joined as sentences.

    Example:
        >>> build_description("Summer Dress", description=["<p>Light cotton.</p>"], features=["Pockets"],
        ...                   categories=["Clothing", "Women", "Dresses"], details={"Material": "cotton"})
        'Summer Dress. Clothing, Women, Dresses. Light cotton. Pockets. Material: cotton.'
    """
    options = options or DescriptionOptions()
    parts: dict[str, str] = {}
    parts["title"] = _sentence(clean_text(title))
    category_list = as_text_list(list(categories) if categories is not None else None)
    if options.max_categories > 0:
        category_list = category_list[-options.max_categories:]
    parts["categories"] = _sentence(", ".join(category_list)) if category_list else ""
    parts["description"] = " ".join(_sentence(text) for text in as_text_list(description))
    feature_list = as_text_list(features)[: options.max_features]
    parts["features"] = " ".join(_sentence(text) for text in feature_list)
    detail_items = [(clean_text(key), clean_text(value)) for key, value in (details or {}).items()]
    detail_items = [(key, value) for key, value in detail_items if key and value][: options.max_details]
    parts["details"] = " ".join(_sentence(f"{key}: {value}") for key, value in detail_items)
    text = " ".join(parts[field] for field in options.fields if parts[field])
    return _truncate(text, options.max_chars)
