"""Planning Astro-style calls: static ones become requests, dynamic ones are left to the
runtime, and Astro's validation errors are coded diagnostics. Calls are scanned from real
Python and Jinja sources."""

from __future__ import annotations

import pytest

from staticimg.compiler.astro_props import AstroRequest
from staticimg.compiler.config import JinjaSettings
from staticimg.compiler.plan import PlannedCall, plan_scan, template_environment
from staticimg.compiler.scan.jinja import scan_template
from staticimg.compiler.scan.python import scan_python
from staticimg.hashing import props_hash

HEADER = "from staticimg.astro import Image, Picture, Svg, get_image\n"


def planned(body: str) -> list[PlannedCall]:
    scan = scan_python((HEADER + body).encode(), "app/page.py")
    assert scan.diagnostics == ()
    return plan_scan(scan)


def one(body: str) -> PlannedCall:
    calls = planned(body)
    assert len(calls) == 1, calls
    return calls[0]


def codes(call: PlannedCall) -> list[str]:
    return [d.code for d in call.diagnostics]


def request(body: str) -> AstroRequest:
    call = one(body)
    assert call.errors == (), call.diagnostics
    assert isinstance(call.request, AstroRequest)
    return call.request


def test_static_image_call_is_a_request_with_normalised_build_options() -> None:
    r = request(
        'x = Image(src="hero.jpg", alt="Harbour", width="800", height=600.4, '
        'layout="fullWidth", quality="high", format="JPEG", class_="hero", priority=True)'
    )
    assert r.kind == "image" and r.callee == "Image" and r.src == "hero.jpg"
    assert r.options == {
        "src": "hero.jpg",
        "width": 800,
        "height": 600,
        "layout": "full-width",
        "quality": "high",
        "format": "jpeg",
    }
    # Rendering props (alt, class, priority) are not hashed: they may change freely.
    assert r.hash == props_hash({"astro": "image", **r.options}, "app/page.py")


def test_dynamic_calls_are_left_to_the_runtime_without_errors() -> None:
    body = (
        "def card(photo, w):\n"
        '    a = Image(src=photo, alt="")\n'
        '    b = Image(src="hero.jpg", alt="", width=w)\n'
        '    c = Picture(src="hero.jpg", alt="", **photo)\n'
        '    d = Image(src="hero.jpg", alt=photo.title, width=300)\n'
    )
    calls = planned(body)
    # Only `d` is static: its alt is a rendering prop, which may be dynamic.
    assert [c.span.line for c in calls] == [6]
    assert calls[0].errors == ()


def test_missing_alt_is_si202_for_image_and_picture_but_not_get_image() -> None:
    assert codes(one('x = Image(src="hero.jpg")')) == ["SI202"]
    assert codes(one('x = Picture(src="hero.jpg", alt=None)')) == ["SI202"]
    assert codes(one('x = get_image(src="hero.jpg")')) == []
    assert codes(one('x = Image(src="hero.jpg", alt="")')) == []  # decorative is fine


def test_missing_src_is_si201() -> None:
    assert codes(one('x = Image(alt="x")')) == ["SI201"]


def test_widths_with_densities_is_si207() -> None:
    call = one('x = Image(src="a.jpg", alt="", widths=[100, 200], densities=[1, 2])')
    assert codes(call) == ["SI207"]
    assert call.diagnostics[0].prop == "densities"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("width=800", ["SI208"]),
        ("", ["SI208"]),
        ("width=800, height=600", []),
        ("infer_size=True", []),
        ("inferSize=True, width=300", []),
    ],
)
def test_remote_image_needs_both_dimensions_or_infer_size(args: str, expected: list[str]) -> None:
    sep = ", " if args else ""
    call = one(f'x = Image(src="https://images.example.com/a.jpg", alt=""{sep}{args})')
    assert codes(call) == expected


def test_picture_only_props_are_refused_on_image() -> None:
    call = one('x = Image(src="a.jpg", alt="", formats=["avif", "webp"])')
    assert codes(call) == ["SI203"]


def test_picture_options() -> None:
    r = request(
        'x = Picture(src="a.jpg", alt="", formats=["avif", "webp"], fallbackFormat="png", '
        'picture_attributes={"class": "frame"}, densities=["1.5x", 2])'
    )
    assert r.kind == "picture"
    assert r.options == {
        "src": "a.jpg",
        "formats": ["avif", "webp"],
        "fallback_format": "png",
        "densities": [1.5, 2],
    }


@pytest.mark.parametrize(
    ("prop", "code"),
    [
        ('quality="best"', "SI205"),
        ("quality=0", "SI205"),
        ("quality=[1]", "SI204"),
        ('format="bmp"', "SI205"),
        ('fit="squash"', "SI205"),
        ('layout="fluid"', "SI205"),
        ("width=-3", "SI205"),
        ('position="somewhere"', "SI205"),
        ('position="25% 75%"', "SI205"),
        ('background="not a colour"', "SI205"),
        ("widths=[0]", "SI205"),
        ("densities=[-1]", "SI205"),
    ],
)
def test_bad_values(prop: str, code: str) -> None:
    assert codes(one(f'x = Image(src="a.jpg", alt="", {prop})')) == [code]


@pytest.mark.parametrize(
    "position", ["center", "right top", "top-right", "southeast", "attention", "top"]
)
def test_positions(position: str) -> None:
    assert (
        request(f'x = Image(src="a.jpg", alt="", position="{position}")').options["position"]
        == position
    )


def test_positional_src_and_too_many_positionals() -> None:
    assert request('x = Svg("icons/logo.svg", width=64, fill="currentColor")').options == {
        "src": "icons/logo.svg"
    }
    assert request('x = Image("a.jpg", "Harbour")').options == {"src": "a.jpg"}
    assert codes(one('x = Image("a.jpg", "Harbour", 300)')) == ["SI103"]
    assert codes(one('x = get_image("a.jpg", 300)')) == ["SI103"]


def test_svg_call_hashes_only_its_src() -> None:
    r = request('x = Svg(src="icons/logo.svg", width=64, aria_hidden="true")')
    assert r.kind == "svg" and r.options == {"src": "icons/logo.svg"}


def test_injected_values_are_ignored_so_a_second_extract_plans_the_same() -> None:
    first = request('x = Image(src="a.jpg", alt="", width=300)')
    again = request(f'x = Image(src="a.jpg", alt="", width=300, __image_data="{first.hash}")')
    assert again == first


def test_templates_use_the_astro_get_image_name() -> None:
    env = template_environment(JinjaSettings())
    text = (
        '{{ Image(src="a.jpg", alt="A", width=300) }}\n'
        '{% set r = astro_get_image(src="a.jpg", width=200) %}\n'
        '{{ Picture(src="a.jpg", alt="", formats=["avif"]) }}\n'
        '{{ Svg("logo.svg", width=10) }}\n'
        "{{ get_image(node) }}\n"  # Gatsby's helper: not a build call
    )
    from staticimg.compiler.plan import TEMPLATE_CALLEES

    scan = scan_template(text, "templates/page.html", env, TEMPLATE_CALLEES)
    calls = plan_scan(scan)
    assert [(c.callee, c.span.line) for c in calls] == [
        ("Image", 1),
        ("astro_get_image", 2),
        ("Picture", 3),
        ("Svg", 4),
    ]
    assert all(isinstance(c.request, AstroRequest) for c in calls)
