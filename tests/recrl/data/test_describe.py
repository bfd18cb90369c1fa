"""The item-description builder: cleaning, order of parts, limits."""

from __future__ import annotations

import doctest

import pytest

from recrl.data import describe
from recrl.data.describe import DescriptionOptions, build_description, clean_text


def test_docstring_example():
    assert doctest.testmod(describe).failed == 0


def test_clean_text_strips_html_and_whitespace():
    assert clean_text("<b>Soft</b>&nbsp;cotton\n\n tee") == "Soft cotton tee"
    assert clean_text(None) == "" and clean_text(["a", None, " b "]) == "a b"


def test_options_choose_and_limit_parts():
    parts = dict(description=["Long text here."], features=["f1", "f2", "f3"], categories=["A", "B", "C", "D"],
                 details={"Color": "Red", "Size": "M", "Empty": ""})
    text = build_description("Shirt", options=DescriptionOptions(fields=("title", "features"), max_features=2),
                             **parts)
    assert text == "Shirt. f1. f2."
    text = build_description("Shirt", options=DescriptionOptions(max_categories=2), **parts)
    assert text.startswith("Shirt. C, D. Long text here. f1. f2. f3. Color: Red. Size: M.")
    cut = build_description("Shirt " * 50, options=DescriptionOptions(max_chars=40))
    assert len(cut) <= 40 and cut.endswith("…")


def test_unknown_field_is_an_error():
    with pytest.raises(ValueError, match="unknown description fields"):
        DescriptionOptions(fields=("title", "plot"))
