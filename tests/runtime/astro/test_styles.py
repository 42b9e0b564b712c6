"""The responsive-image CSS (reference/astro.md §3.6) and its place in staticimg_head()."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from staticimg import staticimg_head
from staticimg.astro import settings as astro_settings
from staticimg.astro.styles import responsive_styles_css
from staticimg.astro.types import ImageSettings


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    astro_settings.reset()
    yield
    astro_settings.reset()


def test_css_contents() -> None:
    css = responsive_styles_css(ImageSettings())
    assert css.startswith("@layer staticimg.images{") and css.endswith("}}")
    assert ":where([data-astro-image]){height:auto}" in css
    assert ":where([data-astro-image=full-width]){width:100%}" in css
    assert ":where([data-astro-image=constrained]){max-width:100%}" in css
    assert "fixed" not in css
    for fit in ("fill", "contain", "cover", "scale-down"):
        assert f"[data-astro-image-fit={fit}]{{object-fit:{fit}}}" in css
    assert "[data-astro-image-pos=right-top]{object-position:right top}" in css
    assert "[data-astro-image-pos=center-top]{object-position:center top}" in css
    assert "top-top" not in css
    assert len(re.findall(r"\[data-astro-image-pos=[a-z-]+\]", css)) == 25
    assert ":not(" not in css  # no configured defaults
    assert css.count("{") == css.count("}")


def test_css_configured_defaults() -> None:
    css = responsive_styles_css(ImageSettings(object_fit="contain", object_position="25% 75%"))
    assert ":where([data-astro-image]:not([data-astro-image-fit])){object-fit:contain}" in css
    assert ":where([data-astro-image]:not([data-astro-image-pos])){object-position:25% 75%}" in css


def test_css_refuses_injection_through_the_position() -> None:
    css = responsive_styles_css(
        ImageSettings(object_position="top}</style><script>x</script>", object_fit="evil}")
    )
    assert "<" not in css and "evil" not in css and css.count("{") == css.count("}")


def test_head_includes_the_css_only_when_enabled() -> None:
    astro_settings.configure(ImageSettings())
    plain = str(staticimg_head())
    assert "data-astro-image" not in plain
    astro_settings.configure(responsive_styles=True)
    head = str(staticimg_head())
    assert head.startswith(plain)
    assert head.endswith(f"<style>{responsive_styles_css(ImageSettings())}</style>")
    with_nonce = str(staticimg_head(nonce="n1"))
    assert with_nonce.count('nonce="n1"') == 4 and "@layer staticimg.images" in with_nonce
