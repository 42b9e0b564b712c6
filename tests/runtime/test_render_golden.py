"""Golden HTML: every layout × placeholder kind, Gatsby's snapshot vectors, a real record."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup

from staticimg import GatsbyImage

SIZES = {"constrained": "(min-width: 400px) 400px, 100vw", "fixed": "400px", "fullWidth": "100vw"}


def record(layout: str, placeholder: str) -> dict[str, Any]:
    """400×300 (fullWidth: 4:3) at 100/200/400 px, JPEG + WebP, like `staticimg build`."""
    width, height = (1, 0.75) if layout == "fullWidth" else (400, 300)
    sizes = SIZES[layout]
    data: dict[str, Any] = {
        "layout": layout,
        "width": width,
        "height": height,
        "images": {
            "fallback": {
                "src": "/i/a-400.jpg",
                "srcSet": "/i/a-100.jpg 100w,\n/i/a-200.jpg 200w,\n/i/a-400.jpg 400w",
                "sizes": sizes,
            },
            "sources": [
                {
                    "srcSet": "/i/a-100.webp 100w,\n/i/a-200.webp 200w,\n/i/a-400.webp 400w",
                    "type": "image/webp",
                    "sizes": sizes,
                }
            ],
        },
    }
    if placeholder in ("blurred", "dominantColor"):
        data["backgroundColor"] = "#102030"
    if placeholder == "blurred":
        data["placeholder"] = {"fallback": "data:image/jpeg;base64,/9j/AAAA"}
    return data


WRAPPER = {
    "constrained": (
        '<div data-gatsby-image-wrapper="" '
        'class="gatsby-image-wrapper gatsby-image-wrapper-constrained">'
    ),
    "fixed": (
        '<div data-gatsby-image-wrapper="" class="gatsby-image-wrapper" '
        'style="width:400px;height:300px">'
    ),
    "fullWidth": '<div data-gatsby-image-wrapper="" class="gatsby-image-wrapper">',
}
SIZER = {
    "constrained": (
        '<div style="max-width:400px;display:block"><img alt="" role="presentation" '
        'aria-hidden="true" src="data:image/svg+xml;charset=utf-8,%3Csvg%20height=\'300\''
        "%20width='400'%20xmlns='http://www.w3.org/2000/svg'%20version='1.1'%3E%3C/svg%3E\" "
        'style="max-width:100%;display:block;position:static"></div>'
    ),
    "fixed": "",
    "fullWidth": '<div aria-hidden="true" style="padding-top:75%"></div>',
}
COVER = "position:absolute;top:0;left:0;bottom:0;right:0"
BOX = {"constrained": COVER, "fixed": "width:400px;height:300px;position:relative"}
BOX["fullWidth"] = COVER


def placeholder_html(layout: str, kind: str) -> str:
    style = f"background-color:#102030;{BOX[layout]}"
    if kind == "blurred":
        return (
            f'<img aria-hidden="true" data-placeholder-image="" style="{style}" '
            'decoding="async" src="data:image/jpeg;base64,/9j/AAAA" alt="">'
        )
    if kind == "dominantColor":
        return f'<div aria-hidden="true" data-placeholder-image="" style="{style}"></div>'
    return ""


def main_html(layout: str) -> str:
    sizes = SIZES[layout]
    return (
        '<picture><source type="image/webp" '
        'srcset="/i/a-100.webp 100w,/i/a-200.webp 200w,/i/a-400.webp 400w" '
        f'sizes="{sizes}">'
        f'<img data-main-image="" width="400" height="300" sizes="{sizes}" decoding="async" '
        'loading="lazy" src="/i/a-400.jpg" '
        'srcset="/i/a-100.jpg 100w,/i/a-200.jpg 200w,/i/a-400.jpg 400w" alt="Alt"></picture>'
    )


@pytest.mark.parametrize("layout", ["constrained", "fixed", "fullWidth"])
@pytest.mark.parametrize("kind", ["blurred", "dominantColor", "none"])
def test_golden(layout: str, kind: str) -> None:
    expected = (
        WRAPPER[layout] + SIZER[layout] + placeholder_html(layout, kind) + main_html(layout)
    ) + "</div>"
    assert GatsbyImage(record(layout, kind), "Alt") == expected


def test_result_is_markup_with_html_and_str() -> None:
    html = GatsbyImage(record("constrained", "none"), "Alt")
    assert isinstance(html, Markup)
    assert html.__html__() == str(html)
    assert str(html).startswith("<div data-gatsby-image-wrapper")
    assert f"{html}" == str(html)  # an f-string page gets the HTML


def test_without_sources_there_is_no_picture() -> None:
    data = record("constrained", "none")
    data["images"]["sources"] = []
    html = str(GatsbyImage(data, "Alt"))
    assert "<picture>" not in html and "<source" not in html
    assert html.endswith('alt="Alt"></div>')


# Gatsby's snapshot vectors (components/__tests__/gatsby-image.server.tsx, §6.1 and §6.3):
# W = H = 100, backgroundColor red. The placeholder's `opacity` and `transition` live in the
# head CSS here (so nothing inline can trap an image), the rest is the same declarations.
def gatsby_vector(layout: str) -> dict[str, Any]:
    return {
        "layout": layout,
        "width": 100,
        "height": 100,
        "backgroundColor": "red",
        "images": {"fallback": {"src": "some-src-fallback.jpg", "sizes": "192x192"}},
    }


@pytest.mark.parametrize(
    ("layout", "wrapper_class"),
    [
        ("fullWidth", "gatsby-image-wrapper"),
        ("constrained", "gatsby-image-wrapper gatsby-image-wrapper-constrained"),
        ("fixed", "gatsby-image-wrapper"),
    ],
)
def test_gatsby_wrapper_classes(layout: str, wrapper_class: str) -> None:
    html = str(GatsbyImage(gatsby_vector(layout), "A fake image for testing purpose"))
    assert html.startswith(f'<div data-gatsby-image-wrapper="" class="{wrapper_class}"')


def test_gatsby_fixed_wrapper_style() -> None:
    html = str(GatsbyImage(gatsby_vector("fixed"), ""))
    assert 'class="gatsby-image-wrapper" style="width:100px;height:100px">' in html


@pytest.mark.parametrize(
    ("layout", "style"),
    [
        ("fullWidth", "background-color:red;position:absolute;top:0;left:0;bottom:0;right:0"),
        ("constrained", "background-color:red;position:absolute;top:0;left:0;bottom:0;right:0"),
        ("fixed", "background-color:red;width:100px;height:100px;position:relative"),
    ],
)
def test_gatsby_placeholder_style(layout: str, style: str) -> None:
    html = str(GatsbyImage(gatsby_vector(layout), ""))
    assert f'<div aria-hidden="true" data-placeholder-image="" style="{style}"></div>' in html


def test_gatsby_main_image_vector() -> None:
    # Gatsby: <img alt="A fake image for testing purpose" data-gatsby-image-ssr=""
    # data-main-image="" data-src="some-src-fallback.jpg" decoding="async" loading="lazy"
    # sizes="192x192" style="opacity: 0;">. Ours: a real src, no opacity, width and height.
    html = str(GatsbyImage(gatsby_vector("constrained"), "A fake image for testing purpose"))
    assert (
        '<img data-main-image="" width="100" height="100" sizes="192x192" decoding="async" '
        'loading="lazy" src="some-src-fallback.jpg" alt="A fake image for testing purpose">'
    ) in html
    assert "data-src" not in html and "opacity" not in html and "data-gatsby-image-ssr" not in html


def test_gatsby_srcset_vector() -> None:
    # A srcSet of `icon32px.png 32w,\nicon64px.png 64w,…` renders with `,` only.
    data = gatsby_vector("constrained")
    data["images"]["fallback"]["srcSet"] = (
        "icon32px.png 32w,\nicon64px.png 64w,icon-retina.png 2x,icon-ultra.png 3x,icon.svg"
    )
    html = str(GatsbyImage(data, ""))
    assert 'srcset="icon32px.png 32w,icon64px.png 64w,icon-retina.png 2x,' in html
    assert 'icon-ultra.png 3x,icon.svg"' in html


def test_gatsby_source_gets_the_fallback_sizes() -> None:
    # Gatsby's vector: the source's own sizes (192x192,56x56) is replaced by the fallback's.
    data = gatsby_vector("constrained")
    data["images"]["sources"] = [
        {"srcSet": "icon.webp 32w", "media": "some-media", "sizes": "192x192,56x56"}
    ]
    html = str(GatsbyImage(data, ""))
    assert '<source media="some-media" srcset="icon.webp 32w" sizes="192x192">' in html
