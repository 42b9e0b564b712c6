"""The small HTML helpers the renderer is built on."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from staticimg.html import attribute_name, attribute_value, css_name, number, style_text


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("data_testid", "data-testid"),
        ("aria_label", "aria-label"),
        ("data_user_id", "data-user-id"),
        ("tabIndex", "tabindex"),
        ("crossOrigin", "crossorigin"),
        ("data-x", "data-x"),
        ("itemprop", "itemprop"),
        ("xml:lang", "xml:lang"),
    ],
)
def test_attribute_names(key: str, name: str) -> None:
    assert attribute_name(key) == name


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("backgroundColor", "background-color"),
        ("background_color", "background-color"),
        ("background-color", "background-color"),
        ("WebkitTransition", "-webkit-transition"),
        ("--brand-Color", "--brand-Color"),
        ("zIndex", "z-index"),
    ],
)
def test_css_names(key: str, name: str) -> None:
    assert css_name(key) == name


def test_style_text() -> None:
    assert style_text(None) == ""
    assert style_text("  color: red; ") == "color: red"
    assert style_text({"opacity": 0.5, "zIndex": 2, "hidden": False}) == "opacity:0.5;z-index:2"
    with pytest.raises(TypeError, match="CSS string or a mapping"):
        style_text(["color:red"])  # type: ignore[arg-type]


def test_attribute_values() -> None:
    assert attribute_value("a\"b<c>&'") == "a&#34;b&lt;c&gt;&amp;&#39;"
    assert attribute_value(3) == "3"
    # Markup is HTML already: entities stay, a quote cannot end the attribute
    assert attribute_value(Markup('x &amp; "y"')) == "x &amp; &#34;y&#34;"


@pytest.mark.parametrize(("value", "text"), [(480, "480"), (480.0, "480"), (418.56, "418.56")])
def test_numbers(value: float, text: str) -> None:
    assert number(value) == text
