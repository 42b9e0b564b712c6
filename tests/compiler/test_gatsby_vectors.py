"""Gatsby's normalisation vectors (reference/gatsby.md §1.5), through both real scanners.

The same props written as a Python call and as a Jinja call must plan to the same
normalised props, and the same warnings.
"""

from __future__ import annotations

from typing import Any

import pytest

from staticimg.compiler.config import JinjaSettings
from staticimg.compiler.props import plan_call
from staticimg.compiler.scan.calls import FileScan
from staticimg.compiler.scan.jinja import scan_template
from staticimg.compiler.scan.python import scan_python

# (props as written, in a syntax both languages share; normalised props; codes reported)
VECTORS: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        'formats=["webP", "JPG", "png"], placeholder="DOMINANT_COLOR"',
        {"formats": ["webp", "jpg", "png"], "placeholder": "dominantColor"},
        ["SI252"],  # jpg and png together, as Gatsby warns
    ),
    ('layout="FULL_WIDTH"', {"layout": "fullWidth"}, []),
    ('layout="full-width"', {"layout": "fullWidth"}, []),
    ('layout="fullWidth"', {"layout": "fullWidth"}, []),
    ('layout="CONSTRAINED"', {"layout": "constrained"}, []),
    ('layout="FIXED"', {"layout": "fixed"}, []),
    ('placeholder="TRACED_SVG"', {"placeholder": "dominantColor"}, ["SI254"]),
    ('placeholder="tracedSVG"', {"placeholder": "dominantColor"}, ["SI254"]),
    ('placeholder="tracedSvg"', {"placeholder": "dominantColor"}, ["SI254"]),
    ('placeholder="BLURRED"', {"placeholder": "blurred"}, []),
    ('placeholder="NONE"', {"placeholder": "none"}, []),
    ('formats=["JPEG", "AVIF"]', {"formats": ["jpg", "avif"]}, []),
    ('formats=["avif"]', {"formats": ["avif"]}, ["SI253"]),
    ('formats=[""]', {"formats": []}, []),
    ('layout="fullWidth", width=300', {"layout": "fullWidth", "width": 300}, ["SI250"]),
    (
        "width=300, height=200, aspectRatio=2",
        {"width": 300, "height": 200, "aspect_ratio": 2},
        ["SI251"],
    ),
    (
        "aspectRatio=16 / 8, outputPixelDensities=[1, 2]",
        {"aspect_ratio": 2.0, "output_pixel_densities": [1, 2]},
        [],
    ),
    ('layout="FLUID"', {}, ["SI205"]),
]


def python_scan(props: str) -> FileScan:
    source = f'from staticimg import StaticImage\nStaticImage(src="a.jpg", alt="", {props})\n'
    return scan_python(source.encode(), "page.py")


def jinja_scan(props: str) -> FileScan:
    source = f'{{{{ StaticImage(src="a.jpg", alt="", {props}) }}}}\n'
    return scan_template(source, "page.html", JinjaSettings().environment())


@pytest.mark.parametrize(("written", "normalised", "codes"), VECTORS)
@pytest.mark.parametrize("scan", [python_scan, jinja_scan], ids=["python", "jinja"])
def test_vector(scan: Any, written: str, normalised: dict[str, Any], codes: list[str]) -> None:
    result = scan(written)
    (call,) = result.calls
    request, problems = plan_call(call)
    assert sorted(p.code for p in problems) == codes
    if "SI205" in codes:
        assert request is None
    else:
        assert request is not None
        assert request.props_dict() == {"src": "a.jpg", **normalised}
