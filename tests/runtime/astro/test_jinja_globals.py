"""The Astro components as Jinja globals (the name `get_image` stays Gatsby's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from jinja2 import Environment

from staticimg import hooks
from staticimg.astro import settings as astro_settings
from staticimg.jinja import GLOBALS, install


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    astro_settings.reset()
    yield
    astro_settings.reset()


def test_globals() -> None:
    assert GLOBALS["get_image"] is hooks.get_image
    assert {"Image", "Picture", "Svg", "astro_get_image"} <= set(GLOBALS)


def test_templates_render_astro_images() -> None:
    astro_settings.configure(domains=("x.example",))
    env = install(Environment(autoescape=True))
    template = env.from_string(
        '{{ Image(src="https://x.example/a.jpg", alt=alt, width=10, height=5) }}'
        '{{ Picture(src="https://x.example/a.jpg", alt=alt, width=10, height=5) }}'
        '{% set r = astro_get_image(src="https://x.example/b.jpg", width=4, height=2) %}'
        "[{{ r.src }}]"
    )
    html = template.render(alt='<"x">')
    assert html.startswith(
        '<img src="/_image?href=https%3A%2F%2Fx.example%2Fa.jpg&amp;w=10&amp;h=5&amp;f=webp" '
        'alt="&lt;&#34;x&#34;&gt;"'
    )
    assert '<picture><source srcset="/_image?href=' in html and 'type="image/webp"' in html
    assert html.endswith(
        "[/_image?href=https%3A%2F%2Fx.example%2Fb.jpg&amp;w=4&amp;h=2&amp;f=webp]"
    )
