"""Jinja: `install(env)` and `StaticImageExtension` register the globals; with autoescape on,
the HTML is inserted once, not escaped again, and template values are escaped exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import jinja2
import orjson
import pytest

import staticimg.jinja
from staticimg import GatsbyImage, data_store, staticimg_head
from staticimg.data_store import DATA_DIR_ENV, DEVELOPMENT_ENV

REF = "27d8af4e3f3bbeb4ceb2"
DATA = {
    "layout": "constrained",
    "width": 320,
    "height": 240,
    "backgroundColor": "#283858",
    "images": {
        "fallback": {
            "src": "/_img/rocket-320w.jpg",
            "srcSet": "/_img/rocket-160w.jpg 160w,\n/_img/rocket-320w.jpg 320w",
            "sizes": "(min-width: 320px) 320px, 100vw",
        },
        "sources": [
            {
                "srcSet": "/_img/rocket-160w.webp 160w,\n/_img/rocket-320w.webp 320w",
                "type": "image/webp",
                "sizes": "(min-width: 320px) 320px, 100vw",
            }
        ],
    },
}

TEMPLATES = {
    "base.html": (
        "<html><head>{{ staticimg_head() }}</head><body>{% block content %}{% endblock %}"
        "</body></html>"
    ),
    "page.html": (
        '{% extends "base.html" %}{% block content %}'
        '{{ StaticImage(src="../images/rocket.jpg", alt=caption, width=320,'
        ' placeholder="dominantColor", class_name="card", __image_data=ref) }}'
        "<p>{{ caption }}</p>{% endblock %}"
    ),
    "missing.html": '{{ StaticImage(src="../images/new.jpg", alt="New") }}',
    "helpers.html": (
        "{% set img = get_image(node) %}{{ get_src(node) }}|{{ GatsbyImage(img, 'x') | length }}"
    ),
}


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(DEVELOPMENT_ENV, raising=False)
    data_store.reset()
    (tmp_path / f"{REF}.json").write_bytes(orjson.dumps(DATA))
    yield tmp_path
    data_store.reset()


def environment(**options: object) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=True,
        **options,  # type: ignore[arg-type]
    )


CAPTION = 'Tom & "Jerry" <3'


def check_page(html: str) -> None:
    expected_image = str(GatsbyImage(DATA, CAPTION, class_name="card"))
    assert expected_image in html  # inserted as it is: not escaped a second time
    assert 'alt="Tom &amp; &#34;Jerry&#34; &lt;3"' in html  # the value escaped exactly once
    assert "&amp;amp;" not in html and "&lt;div" not in html
    assert html.startswith(f"<html><head>{staticimg_head()}</head>")
    assert "<p>Tom &amp; &#34;Jerry&#34; &lt;3</p>" in html


def test_install(store: Path) -> None:
    env = staticimg.jinja.install(environment(), data_dir=store, development=True)
    assert set(staticimg.jinja.GLOBALS) <= set(env.globals)
    check_page(env.get_template("page.html").render(caption=CAPTION, ref=REF))


def test_extension(store: Path) -> None:
    data_store.configure(data_dir=store)
    env = environment(extensions=["staticimg.jinja.StaticImageExtension"])
    for name in (
        "StaticImage",
        "GatsbyImage",
        "staticimg_head",
        "get_image",
        "get_src",
        "get_src_set",
        "with_art_direction",
        "get_image_data",
        "get_low_resolution_image_url",
    ):
        assert name in env.globals
    check_page(env.get_template("page.html").render(caption=CAPTION, ref=REF))


def test_missing_data_in_a_template(store: Path) -> None:
    env = staticimg.jinja.install(environment(), data_dir=store, development=True)
    html = env.get_template("missing.html").render()
    assert html.startswith('<div class="staticimg-error" role="alert"')
    assert "run `staticimg build` (extract, then inject)" in html
    data_store.configure(development=False)
    assert env.get_template("missing.html").render() == (
        '<span data-staticimg-error="" hidden></span>'
    )


def test_helpers_in_a_template(store: Path) -> None:
    env = staticimg.jinja.install(environment(), data_dir=store)
    html = env.get_template("helpers.html").render(
        node={"childImageSharp": {"gatsbyImageData": DATA}}
    )
    assert html.startswith("/_img/rocket-320w.jpg|")


def test_without_autoescape_the_html_is_the_same(store: Path) -> None:
    env = staticimg.jinja.install(
        jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=False), data_dir=store
    )
    html = env.get_template("page.html").render(caption="Rocket", ref=REF)
    assert str(GatsbyImage(DATA, "Rocket", class_name="card")) in html
