"""plan_call: normalising and validating one call's props into an ImageRequest."""

from __future__ import annotations

from typing import Any

import pytest

from staticimg.compiler.diagnostics import Diagnostic, Span
from staticimg.compiler.props import (
    BUILD_PROP_ALIASES,
    BUILD_PROPS,
    HTML_ATTRIBUTES,
    RENDERING_PROPS,
    SI101_HINT,
    BlurredOptions,
    Duotone,
    ImageRequest,
    TransformOptions,
    plan_call,
)
from staticimg.compiler.scan.calls import Arg, ArgKind, FoundCall, Unresolved
from staticimg.hashing import props_hash

FILE = "pages/home.py"
NAME_SPAN = Span(1, 1, 1, 12)
CALL_SPAN = Span(1, 1, 1, 200)
SRC = "../images/hero.jpg"


def span(n: int) -> Span:
    """A distinct span per argument, so tests can tell which one a diagnostic points at."""
    return Span(2 + n, 5, 2 + n, 15)


def call(*args: tuple[str | int | None, Any], file: str = FILE) -> FoundCall:
    """Build a call. Each arg is (name, value): an int name is a positional index, None a
    `**` spread; a name starting with "**" is a keyword that came from an evaluated spread."""
    built: list[Arg] = []
    for n, (name, value) in enumerate(args):
        if name is None:
            built.append(Arg(ArgKind.SPREAD, None, -1, span(n), value))
        elif isinstance(name, int):
            built.append(Arg(ArgKind.POSITIONAL, None, name, span(n), value))
        elif name.startswith("**"):
            built.append(Arg(ArgKind.KEYWORD, name[2:], -1, span(n), value, from_spread=True))
        else:
            built.append(Arg(ArgKind.KEYWORD, name, -1, span(n), value))
    return FoundCall(file, "StaticImage", CALL_SPAN, NAME_SPAN, tuple(built))


def with_prop(prop: str, value: Any) -> FoundCall:
    """A valid call plus `prop`, whose value is at span(2) (src included)."""
    if prop == "src":
        return call(("alt", "A harbour"), ("title", "t"), ("src", value))
    return image((prop, value))


def image(*extra: tuple[str | int | None, Any], file: str = FILE) -> FoundCall:
    """A call with src and alt, then `extra` (whose spans are span(2), span(3), …)."""
    return call(("src", SRC), ("alt", "A harbour"), *extra, file=file)


def plan(*extra: tuple[str | int | None, Any]) -> ImageRequest:
    request, diagnostics = plan_call(image(*extra))
    assert diagnostics == []
    assert request is not None
    return request


def props(*extra: tuple[str | int | None, Any]) -> dict[str, Any]:
    return plan(*extra).props_dict()


def only(found: FoundCall) -> Diagnostic:
    request, diagnostics = plan_call(found)
    assert len(diagnostics) == 1, diagnostics
    if diagnostics[0].is_error:
        assert request is None
    else:
        assert request is not None
    return diagnostics[0]


def codes(found: FoundCall) -> list[str]:
    return [d.code for d in plan_call(found)[1]]


def unresolved(n: int = 90) -> Unresolved:
    return Unresolved("`user.width` is not a constant", Span(n, 20, n, 30), None)


# --- the request ----------------------------------------------------------------------------


def test_minimal_call() -> None:
    request, diagnostics = plan_call(image())
    assert diagnostics == []
    assert request == ImageRequest(
        file=FILE, callee="StaticImage", span=NAME_SPAN, src=SRC, src_span=span(0)
    )
    assert request.props_dict() == {"src": SRC}


def test_every_build_prop_normalised() -> None:
    request = plan(
        ("layout", "FULL_WIDTH"),
        ("aspect_ratio", 1.5),
        ("placeholder", "BLURRED"),
        ("formats", ("auto", "WEBP", "jpeg")),
        ("quality", 80.0),
        ("sizes", "100vw"),
        ("breakpoints", [480, 960.0]),
        ("output_pixel_densities", [0.5, 1, 2.0]),
        ("background_color", "#fff"),
        (
            "transform_options",
            {
                "fit": "Contain",
                "cropFocus": "right top",
                "grayscale": True,
                "duotone": {"highlight": "#f00e2e", "shadow": "#192550", "opacity": 50},
                "rotate": -90,
                "trim": 10,
            },
        ),
        ("blurredOptions", {"width": 32, "toFormat": "JPEG"}),
        ("jpg_options", {"quality": 70, "progressive": False}),
        ("png_options", {"compressionSpeed": 6}),
        ("webp_options", {"lossless": True, "effort": 6}),
        ("avif_options", {"quality": 40, "lossless": False, "speed": 0}),
    )
    assert request.layout == "fullWidth"
    assert request.formats == ("auto", "webp", "jpg")
    assert request.quality == 80
    assert isinstance(request.quality, int)
    assert request.breakpoints == (480, 960)
    assert request.transform_options == TransformOptions(
        fit="contain",
        crop_focus="northeast",
        grayscale=True,
        duotone=Duotone("#f00e2e", "#192550", 50),
        rotate=-90,
        trim=10,
    )
    assert request.blurred_options == BlurredOptions(width=32, to_format="jpg")
    assert request.props_dict() == {
        "src": SRC,
        "layout": "fullWidth",
        "aspect_ratio": 1.5,
        "placeholder": "blurred",
        "formats": ["auto", "webp", "jpg"],
        "quality": 80,
        "sizes": "100vw",
        "breakpoints": [480, 960],
        "output_pixel_densities": [0.5, 1, 2],
        "background_color": "#fff",
        "transform_options": {
            "fit": "contain",
            "crop_focus": "northeast",
            "grayscale": True,
            "duotone": {"highlight": "#f00e2e", "shadow": "#192550", "opacity": 50},
            "rotate": -90,
            "trim": 10,
        },
        "blurred_options": {"width": 32, "to_format": "jpg"},
        "jpg_options": {"quality": 70, "progressive": False},
        "png_options": {"compression_speed": 6},
        "webp_options": {"lossless": True, "effort": 6},
        "avif_options": {"quality": 40, "lossless": False, "speed": 0},
    }


def test_request_is_frozen() -> None:
    request = plan()
    with pytest.raises(AttributeError):
        request.width = 3  # type: ignore[misc]


def test_props_dict_keeps_only_given_props_and_empty_options() -> None:
    assert props(("transform_options", {}), ("formats", [])) == {
        "src": SRC,
        "transform_options": {},
        "formats": [],
    }


def test_none_means_not_given() -> None:
    assert props(("width", None), ("transform_options", {"fit": None})) == {
        "src": SRC,
        "transform_options": {},
    }


def test_duotone_false_is_kept() -> None:
    assert props(("transform_options", {"duotone": False, "grayscale": False})) == {
        "src": SRC,
        "transform_options": {"duotone": False, "grayscale": False},
    }


def test_positional_src_and_alt() -> None:
    request, diagnostics = plan_call(call((0, SRC), (1, "")))
    assert diagnostics == []
    assert request is not None
    assert request.props_dict() == {"src": SRC}


def test_hash_is_props_hash_of_props_dict() -> None:
    request = plan(("width", 800))
    assert request.hash == props_hash({"src": SRC, "width": 800}, FILE)
    assert request.hash == plan(("width", 800.0)).hash  # integral floats are tidied
    assert request.hash != plan(("width", 801)).hash


def test_hash_differs_by_file() -> None:
    here, _ = plan_call(image(file="pages/a.py"))
    there, _ = plan_call(image(file="pages/b.py"))
    assert here is not None and there is not None
    assert here.props_dict() == there.props_dict()
    assert here.hash != there.hash


def test_hash_ignores_rendering_props() -> None:
    plain = plan()
    styled = plan(("class_name", "hero"), ("loading", "eager"), ("title", "x"))
    assert styled.hash == plain.hash


# --- Gatsby's normalizeProps vectors (babel-utils tests) ------------------------------------


def test_gatsby_normalize_props_vector() -> None:
    # Gatsby turns layout "FLUID" into "fluid" and fails later; we reject it up front (SI205).
    # The vector also asks for jpg and png together, which Gatsby warns about later: SI252.
    found = image(
        ("formats", ["webP", "JPG", "png"]),
        ("placeholder", "DOMINANT_COLOR"),
        ("layout", "FLUID"),
    )
    request, diagnostics = plan_call(found)
    assert request is None
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [
        ("SI205", "layout", span(4)),
        ("SI252", "formats", span(2)),
    ]
    assert "fullWidth" in (diagnostics[0].hint or "")
    assert "constrained" in (diagnostics[0].hint or "")
    # Without the layout, the formats and placeholder parts normalise as in Gatsby.
    found = image(("formats", ["webP", "JPG", "png"]), ("placeholder", "DOMINANT_COLOR"))
    request, diagnostics = plan_call(found)
    assert request is not None
    assert [d.code for d in diagnostics] == ["SI252"]
    assert request.props_dict() == {
        "src": SRC,
        "formats": ["webp", "jpg", "png"],
        "placeholder": "dominantColor",
    }


@pytest.mark.parametrize("value", ["TRACED_SVG", "tracedSVG", "tracedSvg"])
def test_traced_svg_placeholder_becomes_dominant_color(value: str) -> None:
    request, diagnostics = plan_call(image(("placeholder", value)))
    assert request is not None
    assert request.placeholder == "dominantColor"
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [("SI254", "placeholder", span(2))]
    assert not diagnostics[0].is_error


# --- spellings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("constrained", "constrained"),
        ("CONSTRAINED", "constrained"),
        ("fixed", "fixed"),
        ("FIXED", "fixed"),
        ("fullWidth", "fullWidth"),
        ("FULL_WIDTH", "fullWidth"),
        ("full-width", "fullWidth"),
        ("full_width", "fullWidth"),
        ("Full Width", "fullWidth"),
        ("fullwidth", "fullWidth"),
    ],
)
def test_layout_spellings(value: str, expected: str) -> None:
    assert plan(("layout", value)).layout == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("dominantColor", "dominantColor"),
        ("DOMINANT_COLOR", "dominantColor"),
        ("dominant-color", "dominantColor"),
        ("blurred", "blurred"),
        ("BLURRED", "blurred"),
        ("blurhash", "blurhash"),
        ("BLURHASH", "blurhash"),
        ("blurHash", "blurhash"),
        ("none", "none"),
        ("NONE", "none"),
    ],
)
def test_placeholder_spellings(value: str, expected: str) -> None:
    assert plan(("placeholder", value)).placeholder == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["webP", "JPG", "png"], ("webp", "jpg", "png")),
        (("jpeg", "JPEG", "jpg"), ("jpg",)),
        (["", "webp"], ("webp",)),
        ([""], ()),
        ([], ()),
        (["AUTO", "avif", "webp", "avif"], ("auto", "avif", "webp")),
    ],
)
def test_formats_normalised(value: list[str], expected: tuple[str, ...]) -> None:
    request, diagnostics = plan_call(image(("formats", value)))
    assert not any(d.is_error for d in diagnostics)
    assert request is not None
    assert request.formats == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("center", "center"),
        ("CENTRE", "center"),
        ("North", "north"),
        ("NORTHEAST", "northeast"),
        ("attention", "attention"),
        ("ENTROPY", "entropy"),
        ("top", "north"),
        ("right top", "northeast"),
        ("right", "east"),
        ("right bottom", "southeast"),
        ("bottom", "south"),
        ("left bottom", "southwest"),
        ("left", "west"),
        ("left top", "northwest"),
        (0, "center"),
        (1, "north"),
        (2, "east"),
        (4, "south"),
        (8, "west"),
        (5, "northeast"),
        (6, "southeast"),
        (12, "southwest"),
        (9, "northwest"),
        (16, "entropy"),
        (17, "attention"),
        (17.0, "attention"),
    ],
)
def test_crop_focus(value: str | int, expected: str) -> None:
    transform = plan(("transform_options", {"crop_focus": value})).transform_options
    assert transform == TransformOptions(crop_focus=expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["cover", "CONTAIN", "Fill", "inside", "outside"])
def test_fit(value: str) -> None:
    transform = plan(("transform_options", {"fit": value})).transform_options
    assert transform is not None
    assert transform.fit == value.lower()


@pytest.mark.parametrize(
    ("snake", "camel", "value"),
    [
        ("aspect_ratio", "aspectRatio", 1.5),
        ("output_pixel_densities", "outputPixelDensities", [1, 2]),
        ("background_color", "backgroundColor", "transparent"),
        ("transform_options", "transformOptions", {"fit": "cover"}),
        ("blurred_options", "blurredOptions", {"width": 10}),
        ("jpg_options", "jpgOptions", {"quality": 90}),
        ("png_options", "pngOptions", {"quality": 90}),
        ("webp_options", "webpOptions", {"quality": 90}),
        ("avif_options", "avifOptions", {"quality": 90}),
        ("transform_options", "transform_options", {"cropFocus": "north"}),
        ("png_options", "png_options", {"compressionSpeed": 3}),
        ("blurred_options", "blurred_options", {"toFormat": "png"}),
    ],
)
def test_camel_case_aliases(snake: str, camel: str, value: Any) -> None:
    camel_request = plan((camel, value))
    snake_value = value
    if isinstance(value, dict):
        nested = {"cropFocus": "crop_focus", "compressionSpeed": "compression_speed"}
        nested["toFormat"] = "to_format"
        snake_value = {nested.get(k, k): v for k, v in value.items()}
    snake_request = plan((snake, snake_value))
    assert camel_request.props_dict() == snake_request.props_dict()
    assert snake in camel_request.props_dict()
    assert camel_request.hash == snake_request.hash


def test_every_alias_names_a_build_prop() -> None:
    assert set(BUILD_PROP_ALIASES.values()) <= BUILD_PROPS
    assert "traced_svg_options" in BUILD_PROPS
    assert not BUILD_PROPS & RENDERING_PROPS
    assert not {"src", "srcset", "sizes", "width", "height", "alt"} & HTML_ATTRIBUTES


# --- rendering props ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "class_name",
        "className",
        "class_",
        "class",
        "style",
        "img_style",
        "imgStyle",
        "img_class_name",
        "imgClassName",
        "loading",
        "object_fit",
        "objectFit",
        "object_position",
        "objectPosition",
        "as_",
        "as",
        "fade",
        "title",
        "id",
        "decoding",
        "fetchpriority",
        "fetchPriority",
        "crossorigin",
        "referrerpolicy",
        "usemap",
        "ismap",
        "draggable",
        "tabindex",
        "tabIndex",
        "role",
        "lang",
        "dir",
        "hidden",
        "itemprop",
        "elementtiming",
        "nonce",
        "translate",
        "data_track",
        "data-track",
        "aria_label",
        "aria-describedby",
        "__image_data",
    ],
)
def test_rendering_props_may_be_dynamic(name: str) -> None:
    request, diagnostics = plan_call(image((name, unresolved())))
    assert diagnostics == []
    assert request is not None
    assert request.props_dict() == {"src": SRC}


def test_dynamic_alt_is_accepted() -> None:
    request, diagnostics = plan_call(call(("src", SRC), ("alt", unresolved())))
    assert diagnostics == []
    assert request is not None


@pytest.mark.parametrize("value", [None, 3, ["a"], False])
def test_constant_alt_must_be_a_string(value: Any) -> None:
    d = only(call(("src", SRC), ("alt", value)))
    assert (d.code, d.prop, d.span, d.file) == ("SI204", "alt", span(1), FILE)


# --- errors ---------------------------------------------------------------------------------


def test_si101_unresolved_build_prop() -> None:
    value = Unresolved("`props.width` is a parameter", Span(9, 30, 9, 41), None)
    d = only(image(("width", value)))
    assert (d.code, d.prop, d.span) == ("SI101", "width", Span(9, 30, 9, 41))
    assert d.message == "build prop `width` cannot be evaluated at build time: " + value.reason
    assert d.hint == SI101_HINT


def test_si101_keeps_the_scanners_hint() -> None:
    value = Unresolved("`src` is imported", Span(3, 1, 3, 4), "Import hint.")
    d = only(call(("src", value), ("alt", "")))
    assert (d.code, d.prop, d.span, d.hint) == ("SI101", "src", Span(3, 1, 3, 4), "Import hint.")


def test_si102_unresolved_spread() -> None:
    value = Unresolved("`options` is a parameter", Span(7, 8, 7, 15), None)
    d = only(image((None, value)))
    assert (d.code, d.prop, d.span) == ("SI102", None, Span(7, 8, 7, 15))
    assert "`options` is a parameter" in d.message


def test_si103_too_many_positionals() -> None:
    request, diagnostics = plan_call(call((0, SRC), (1, "alt"), (2, 800), (3, 600)))
    assert request is None
    assert [(d.code, d.span) for d in diagnostics] == [("SI103", span(2)), ("SI103", span(3))]
    assert "argument 3" in diagnostics[0].message


def test_si201_missing_src() -> None:
    d = only(call(("alt", "x"), ("width", 100)))
    assert (d.code, d.prop, d.span) == ("SI201", "src", NAME_SPAN)


def test_si202_missing_alt() -> None:
    d = only(call(("src", SRC)))
    assert (d.code, d.prop, d.span) == ("SI202", "alt", NAME_SPAN)


def test_missing_both() -> None:
    assert codes(call()) == ["SI201", "SI202"]


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("widht", 'did you mean "width"?'),
        ("Width", 'did you mean "width"?'),
        ("aspectRatoi", 'did you mean "aspect_ratio"?'),
        ("placeholer", 'did you mean "placeholder"?'),
        ("breakpoint", 'did you mean "breakpoints"?'),
        ("classname", 'did you mean "class_name"?'),
    ],
)
def test_si203_unknown_prop_suggests(name: str, hint: str) -> None:
    d = only(image((name, 1)))
    assert (d.code, d.prop, d.span, d.hint) == ("SI203", name, span(2), hint)
    assert f'"{name}"' in d.message


def test_si203_without_a_close_match_lists_props() -> None:
    d = only(image(("zzzzzzzz", 1)))
    assert d.code == "SI203"
    assert d.hint is not None and "aspect_ratio" in d.hint and "data_*" in d.hint


def test_si203_even_when_dynamic() -> None:
    d = only(image(("widht", unresolved())))
    assert d.code == "SI203"


@pytest.mark.parametrize(
    ("prop", "value", "dotted", "hint"),
    [
        ("transform_options", {"cropfocus": "north"}, "transform_options.cropfocus", "crop_focus"),
        ("transform_options", {"grayscle": True}, "transform_options.grayscle", "grayscale"),
        ("blurred_options", {"widht": 10}, "blurred_options.widht", "width"),
        ("png_options", {"compression": 3}, "png_options.compression", "compression_speed"),
        ("webp_options", {"efort": 3}, "webp_options.efort", "effort"),
        (
            "transform_options",
            {"duotone": {"hilight": "#fff", "shadow": "#000"}},
            "transform_options.duotone.hilight",
            "highlight",
        ),
    ],
)
def test_si203_unknown_nested_key(prop: str, value: Any, dotted: str, hint: str) -> None:
    d = only(image((prop, value)))
    assert (d.code, d.prop, d.span, d.hint) == ("SI203", dotted, span(2), f'did you mean "{hint}"?')


def test_si206_alias_and_name() -> None:
    request, diagnostics = plan_call(image(("aspect_ratio", 1.5), ("aspectRatio", 2)))
    assert request is None
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [("SI206", "aspect_ratio", span(3))]
    assert "`aspect_ratio`" in diagnostics[0].message
    assert "`aspectRatio`" in diagnostics[0].message


def test_si206_kwarg_and_spread() -> None:
    d = only(image(("width", 800), ("**width", 400)))
    assert (d.code, d.prop, d.span) == ("SI206", "width", span(3))
    assert "spread" in d.message


def test_si206_positional_and_keyword() -> None:
    d = only(call((0, SRC), ("alt", ""), ("src", "other.jpg")))
    assert (d.code, d.prop, d.span) == ("SI206", "src", span(2))


def test_si206_rendering_aliases() -> None:
    d = only(image(("class_name", "a"), ("className", "b")))
    assert (d.code, d.prop) == ("SI206", "class_name")


def test_si206_nested_alias() -> None:
    d = only(image(("transform_options", {"crop_focus": "north", "cropFocus": "south"})))
    assert (d.code, d.prop, d.span) == ("SI206", "transform_options.crop_focus", span(2))


def test_evaluated_spread_props_are_planned() -> None:
    request, diagnostics = plan_call(image(("**width", 640), ("**data-id", "x")))
    assert diagnostics == []
    assert request is not None
    assert request.props_dict() == {"src": SRC, "width": 640}


# SI204: the wrong type, with the dotted prop name and the arg's span.
WRONG_TYPES: list[tuple[str, Any, str]] = [
    ("src", 3, "src"),
    ("src", None, "src"),
    ("layout", 1, "layout"),
    ("width", True, "width"),
    ("width", "800", "width"),
    ("height", False, "height"),
    ("aspect_ratio", "16/9", "aspect_ratio"),
    ("placeholder", True, "placeholder"),
    ("formats", "webp", "formats"),
    ("formats", ["webp", 3], "formats"),
    ("formats", ["webp", None], "formats"),
    ("quality", 50.5, "quality"),
    ("quality", True, "quality"),
    ("quality", "80", "quality"),
    ("sizes", 100, "sizes"),
    ("breakpoints", 750, "breakpoints"),
    ("breakpoints", [750, 1080.5], "breakpoints"),
    ("breakpoints", [True], "breakpoints"),
    ("output_pixel_densities", [1, "2"], "output_pixel_densities"),
    ("background_color", 0xFFFFFF, "background_color"),
    ("transform_options", "cover", "transform_options"),
    ("transform_options", {"fit": 1}, "transform_options.fit"),
    ("transform_options", {"crop_focus": True}, "transform_options.crop_focus"),
    ("transform_options", {"crop_focus": [1]}, "transform_options.crop_focus"),
    ("transform_options", {"grayscale": 1}, "transform_options.grayscale"),
    ("transform_options", {"duotone": True}, "transform_options.duotone"),
    ("transform_options", {"duotone": "#fff"}, "transform_options.duotone"),
    (
        "transform_options",
        {"duotone": {"highlight": 1, "shadow": "#000"}},
        "transform_options.duotone.highlight",
    ),
    ("transform_options", {"rotate": "90"}, "transform_options.rotate"),
    ("transform_options", {"rotate": True}, "transform_options.rotate"),
    ("transform_options", {"trim": "yes"}, "transform_options.trim"),
    ("blurred_options", {"width": 10.5}, "blurred_options.width"),
    ("blurred_options", {"to_format": 1}, "blurred_options.to_format"),
    ("jpg_options", {"progressive": "yes"}, "jpg_options.progressive"),
    ("jpg_options", [("quality", 1)], "jpg_options"),
    ("png_options", {"compression_speed": 4.5}, "png_options.compression_speed"),
    ("webp_options", {"lossless": 1}, "webp_options.lossless"),
    ("avif_options", {"speed": "fast"}, "avif_options.speed"),
]


@pytest.mark.parametrize(("prop", "value", "dotted"), WRONG_TYPES)
def test_si204_wrong_type(prop: str, value: Any, dotted: str) -> None:
    d = only(with_prop(prop, value))
    assert (d.code, d.prop, d.span, d.file) == ("SI204", dotted, span(2), FILE)
    assert f"`{dotted.split('.')[0]}" in d.message


# SI205: the right type, but a value that is not allowed.
BAD_VALUES: list[tuple[str, Any, str, str]] = [
    ("src", "", "src", "path"),
    ("layout", "fluid", "layout", '"fullWidth"'),
    ("layout", "responsive", "layout", '"constrained", "fixed" or "fullWidth"'),
    ("placeholder", "traced", "placeholder", '"blurhash"'),
    ("formats", ["gif"], "formats", '"avif"'),
    ("width", 0, "width", "from 1 to 65535"),
    ("width", 0.5, "width", "from 1 to 65535"),
    ("height", -3, "height", "from 1 to 65535"),
    ("aspect_ratio", 0, "aspect_ratio", "> 0 and ≤ 65535"),
    ("quality", 0, "quality", "from 1 to 100"),
    ("quality", 101, "quality", "from 1 to 100"),
    ("breakpoints", [750, 0], "breakpoints", "breakpoints[1]"),
    ("output_pixel_densities", [0], "output_pixel_densities", "> 0 and ≤ 16"),
    ("background_color", "not-a-colour", "background_color", '"transparent"'),
    ("transform_options", {"fit": "stretch"}, "transform_options.fit", '"outside"'),
    ("transform_options", {"crop_focus": "middle"}, "transform_options.crop_focus", "attention"),
    ("transform_options", {"crop_focus": 3}, "transform_options.crop_focus", "attention"),
    (
        "transform_options",
        {"duotone": {"highlight": "#fff"}},
        "transform_options.duotone",
        "shadow is missing",
    ),
    (
        "transform_options",
        {"duotone": {"shadow": "#000"}},
        "transform_options.duotone",
        "highlight is missing",
    ),
    (
        "transform_options",
        {"duotone": {"highlight": "#fff", "shadow": "#000", "opacity": 101}},
        "transform_options.duotone.opacity",
        "from 0 to 100",
    ),
    (
        "transform_options",
        {"duotone": {"highlight": "transparent", "shadow": "#000"}},
        "transform_options.duotone.highlight",
        "colour",
    ),
    ("transform_options", {"rotate": float("inf")}, "transform_options.rotate", "finite"),
    ("transform_options", {"trim": -1}, "transform_options.trim", "from 0 to 255"),
    ("blurred_options", {"width": 0}, "blurred_options.width", "from 1 to 65535"),
    ("blurred_options", {"to_format": "gif"}, "blurred_options.to_format", '"avif"'),
    ("jpg_options", {"quality": 0}, "jpg_options.quality", "from 1 to 100"),
    ("png_options", {"compression_speed": 11}, "png_options.compression_speed", "from 1 to 10"),
    ("webp_options", {"effort": 7}, "webp_options.effort", "from 0 to 6"),
    ("avif_options", {"speed": -1}, "avif_options.speed", "from 0 to 10"),
    ("avif_options", {"quality": 200}, "avif_options.quality", "from 1 to 100"),
]


@pytest.mark.parametrize(("prop", "value", "dotted", "allowed"), BAD_VALUES)
def test_si205_value_not_allowed(prop: str, value: Any, dotted: str, allowed: str) -> None:
    d = only(with_prop(prop, value))
    assert (d.code, d.prop, d.span) == ("SI205", dotted, span(2))
    assert allowed in d.message + (d.hint or "")


def test_nested_errors_are_all_reported() -> None:
    found = image(("transform_options", {"fit": "bad", "rotate": "x", "nope": 1}))
    request, diagnostics = plan_call(found)
    assert request is None
    assert [(d.code, d.prop) for d in diagnostics] == [
        ("SI205", "transform_options.fit"),
        ("SI204", "transform_options.rotate"),
        ("SI203", "transform_options.nope"),
    ]


@pytest.mark.parametrize(
    "value", ["#f5f0e8", "#FFF", "#11223344", "rgb(1, 2, 3)", "hsl(0, 50%, 50%)", "rebeccapurple"]
)
def test_background_colours(value: str) -> None:
    assert plan(("background_color", value)).background_color == value


def test_trim_and_rotate_values() -> None:
    transform = plan(("transform_options", {"trim": True, "rotate": 12.5})).transform_options
    assert transform == TransformOptions(trim=True, rotate=12.5)


def test_errors_collected_across_props() -> None:
    assert codes(call(("width", 0), ("widht", 1), (None, unresolved()))) == [
        "SI205",
        "SI203",
        "SI102",
        "SI201",
        "SI202",
    ]


# --- warnings keep the request --------------------------------------------------------------


def warned(*extra: tuple[str | int | None, Any]) -> tuple[ImageRequest, list[Diagnostic]]:
    request, diagnostics = plan_call(image(*extra))
    assert request is not None
    assert diagnostics
    assert not any(d.is_error for d in diagnostics)
    return request, diagnostics


def test_si250_size_with_full_width() -> None:
    request, diagnostics = warned(("layout", "fullWidth"), ("width", 800), ("height", 600))
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [
        ("SI250", "width", span(3)),
        ("SI250", "height", span(4)),
    ]
    assert request.width == 800  # kept as given: the image stage applies Gatsby's rule


def test_si250_replaces_si251_for_full_width() -> None:
    _, diagnostics = warned(("layout", "FULL_WIDTH"), ("height", 600), ("aspect_ratio", 2))
    assert [d.code for d in diagnostics] == ["SI250"]


def test_si251_aspect_ratio_with_width_and_height() -> None:
    _, diagnostics = warned(("width", 800), ("height", 600), ("aspectRatio", 2))
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [("SI251", "aspect_ratio", span(4))]


def test_no_si251_with_one_dimension() -> None:
    assert plan(("width", 800), ("aspect_ratio", 2)).aspect_ratio == 2


@pytest.mark.parametrize("formats", [["jpg", "png"], ["JPEG", "webp", "PNG"]])
def test_si252_jpg_and_png(formats: list[str]) -> None:
    _, diagnostics = warned(("formats", formats))
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [("SI252", "formats", span(2))]
    assert '"auto"' in diagnostics[0].message


@pytest.mark.parametrize("formats", [["avif"], ["AVIF", "avif", ""]])
def test_si253_avif_only(formats: list[str]) -> None:
    _, diagnostics = warned(("formats", formats))
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [("SI253", "formats", span(2))]


@pytest.mark.parametrize("formats", [["avif", "webp"], ["auto", "avif"], []])
def test_no_si253_with_a_fallback(formats: list[str]) -> None:
    plan(("formats", formats))


@pytest.mark.parametrize("name", ["traced_svg_options", "tracedSVGOptions"])
def test_si254_traced_svg_options_ignored(name: str) -> None:
    request, diagnostics = warned((name, {"color": "red"}))
    assert [(d.code, d.prop, d.span) for d in diagnostics] == [
        ("SI254", "traced_svg_options", span(2))
    ]
    assert request.props_dict() == {"src": SRC}


def test_si254_traced_svg_options_even_when_dynamic() -> None:
    _, diagnostics = warned(("traced_svg_options", unresolved()))
    assert [d.code for d in diagnostics] == ["SI254"]


def test_warnings_and_errors_together_drop_the_request() -> None:
    request, diagnostics = plan_call(image(("formats", ["avif"]), ("quality", 0)))
    assert request is None
    assert sorted(d.code for d in diagnostics) == ["SI205", "SI253"]


@pytest.mark.parametrize(
    ("prop", "value", "message"),
    [
        ("width", True, "`width` must be a finite number from 1 to 65535, got True (a bool)"),
        ("quality", 50.5, "`quality` must be a whole number from 1 to 100, got 50.5 (a float)"),
        ("formats", ["webp", 3], "`formats[1]` must be a format name, got 3 (an int)"),
    ],
)
def test_wrong_type_messages(prop: str, value: Any, message: str) -> None:
    assert only(image((prop, value))).message == message


@pytest.mark.parametrize(
    ("src", "ok"),
    [
        ("https://example.com/a.jpg", True),
        ("HTTP://example.com/a.jpg", True),
        ("../images/a.jpg", True),
        ("/static/a.jpg", True),
        ("C:/images/a.jpg", True),  # a drive letter is not a scheme (refused later as a path)
        ("ftp://example.com/a.jpg", False),
        ("data:image/png;base64,iVBORw0KGgo=", False),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
    ],
)
def test_src_schemes(src: str, ok: bool) -> None:
    span = Span(1, 1, 1, 2)
    call = FoundCall(
        "a.py",
        "StaticImage",
        span,
        span,
        (Arg(ArgKind.KEYWORD, "src", -1, span, src), Arg(ArgKind.KEYWORD, "alt", -1, span, "")),
    )
    request, problems = plan_call(call)
    assert (request is not None) == ok
    assert [p.code for p in problems] == ([] if ok else ["SI205"])


@pytest.mark.parametrize(
    ("prop", "value"),
    [
        ("width", 2**64),
        ("width", int("9" * 1100)),  # too large even to convert to a float
        ("transform_options", {"crop_focus": int("9" * 1100)}),
        ("width", 1e300),
        ("height", 65_536),
        ("breakpoints", [10**30]),
        ("output_pixel_densities", [1e300]),
        ("transform_options", {"rotate": 1e300}),
        ("src", "a\ud800.jpg"),
        ("sizes", "\udcff"),
    ],
)
def test_values_beyond_any_image_are_refused_and_never_break_the_hash(
    prop: str, value: Any
) -> None:
    span = Span(1, 1, 1, 2)
    args = [Arg(ArgKind.KEYWORD, "alt", -1, span, "")]
    if prop != "src":
        args.append(Arg(ArgKind.KEYWORD, "src", -1, span, "a.jpg"))
    args.append(Arg(ArgKind.KEYWORD, prop, -1, span, value))
    request, problems = plan_call(FoundCall("a.py", "StaticImage", span, span, tuple(args)))
    assert request is None
    assert [p.code for p in problems] == ["SI205"]
