"""`plan_transform`: sharp's geometry under Astro, without pixels (reference: astro.md §2.1,
§9.3)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staticimg.astro.types import ImageError
from staticimg.compiler.services.pillow import (
    Crop,
    TransformPlan,
    crop_focus,
    output_format,
    plan_transform,
)

SOURCE = (600, 400)


# Astro's T/units/assets/image-service.test.ts: a 600×400 JPEG through sharp, to webp.
@pytest.mark.parametrize(
    ("transform", "size"),
    [
        ({"width": 300, "height": 400, "fit": "cover"}, (300, 400)),
        ({"width": 300}, (300, 200)),
        ({"height": 400}, (600, 400)),
        ({"width": 300, "height": 400, "fit": "inside"}, (300, 200)),
        ({"width": 300, "height": 400, "fit": "contain"}, (300, 200)),
        ({"width": 300, "height": 400, "fit": "outside"}, (600, 400)),
        ({"width": 3000, "height": 2000, "fit": "cover"}, (600, 400)),
        ({"width": 3000, "height": 2000}, (600, 400)),
        ({"width": 3000, "fit": "cover"}, (600, 400)),
    ],
)
def test_astro_sharp_table(transform: dict[str, Any], size: tuple[int, int]) -> None:
    plan = plan_transform(transform, SOURCE)
    assert (plan.width, plan.height) == size
    assert plan.format == "webp"


def test_cover_crops_to_the_output_aspect_ratio() -> None:
    plan = plan_transform({"width": 300, "height": 400, "fit": "cover"}, SOURCE)
    assert plan.fit == "cover"
    assert plan.crop == Crop(300, 400, "center")  # the largest 3:4 region of 600×400


def test_both_sides_without_fit_is_cover() -> None:
    plan = plan_transform({"width": 200, "height": 200}, SOURCE)
    assert plan == TransformPlan(200, 200, "cover", Crop(400, 400, "center"), "webp", None, None)


@pytest.mark.parametrize(
    ("fit", "expected_fit", "size"),
    [
        ("fill", "fill", (300, 100)),
        ("contain", "inside", (150, 100)),
        ("scale-down", "inside", (150, 100)),
        ("none", "outside", (300, 200)),
        ("inside", "inside", (150, 100)),
        ("outside", "outside", (300, 200)),
        ("cover", "cover", (300, 100)),
        ("sideways", "inside", (150, 100)),  # Astro: an unknown fit is `inside`
    ],
)
def test_fit_map(fit: str, expected_fit: str, size: tuple[int, int]) -> None:
    plan = plan_transform({"width": 300, "height": 100, "fit": fit}, SOURCE)
    assert plan.fit == expected_fit
    assert (plan.width, plan.height) == size


def test_cover_never_enlarges_and_cuts_the_box_down_to_the_source() -> None:
    # sharp: the shrink is clamped to 1 (no resize), then the 800×300 box is cut to 600×300.
    plan = plan_transform({"width": 800, "height": 300}, SOURCE)
    assert (plan.width, plan.height) == (600, 300)
    assert plan.crop == Crop(600, 300, "center")


def test_fill_clamps_each_axis_on_its_own() -> None:
    plan = plan_transform({"width": 300, "height": 800, "fit": "fill"}, SOURCE)
    assert (plan.width, plan.height) == (300, 400)
    assert plan.crop is None


def test_sizes_round_half_up() -> None:
    # 333 × 400/600 = 222, 601 × 0.5 = 300.5 → 301 (libvips and Math.round), not 300.
    assert plan_transform({"width": 333}, SOURCE).height == 222
    plan = plan_transform({"height": 200}, (601, 400))
    assert (plan.width, plan.height) == (301, 200)
    # A cover whose resized side rounds up still gives the exact box.
    plan = plan_transform({"width": 300, "height": 200}, (601, 400))
    assert (plan.width, plan.height) == (300, 200)


def test_no_size_keeps_the_source_size() -> None:
    plan = plan_transform({"format": "png"}, SOURCE)
    assert plan == TransformPlan(600, 400, None, None, "png", None, None)


def test_zero_and_none_are_unset_and_floats_round() -> None:
    assert plan_transform({"width": 0, "height": None}, SOURCE).width == 600
    assert plan_transform({"width": 299.5}, SOURCE).width == 300
    assert plan_transform({"width": "300"}, SOURCE).height == 200


def test_tiny_output_never_reaches_zero() -> None:
    plan = plan_transform({"width": 1}, (1000, 10))
    assert (plan.width, plan.height) == (1, 1)


@given(
    source=st.tuples(st.integers(1, 5000), st.integers(1, 5000)),
    width=st.integers(1, 8000),
    height=st.integers(1, 8000),
    fit=st.sampled_from(["cover", "contain", "fill", "inside", "outside", "none", "scale-down"]),
)
def test_never_upscales(source: tuple[int, int], width: int, height: int, fit: str) -> None:
    plan = plan_transform({"width": width, "height": height, "fit": fit}, source)
    assert 1 <= plan.width <= source[0]
    assert 1 <= plan.height <= source[1]
    if plan.fit == "cover":
        assert (plan.width, plan.height) == (min(width, plan.width), min(height, plan.height))
        if plan.crop is not None:
            assert plan.crop.width <= source[0] and plan.crop.height <= source[1]


@pytest.mark.parametrize(
    ("position", "focus"),
    [
        (None, "center"),
        ("", "center"),
        ("center", "center"),
        ("centre", "center"),
        ("top", "north"),
        ("bottom", "south"),
        ("left", "west"),
        ("right", "east"),
        ("right top", "northeast"),
        ("top right", "northeast"),
        ("left bottom", "southwest"),
        ("bottom left", "southwest"),
        ("left top", "northwest"),
        ("right bottom", "southeast"),
        ("center top", "north"),
        ("top center", "north"),
        ("center left", "west"),
        ("right center", "east"),
        ("center center", "center"),
        ("right-top", "northeast"),  # Astro's data-astro-image-pos spelling
        ("Right  Top", "northeast"),
        ("north", "north"),
        ("southeast", "southeast"),
        ("entropy", "entropy"),
        ("attention", "attention"),
    ],
)
def test_positions(position: str | None, focus: str) -> None:
    assert crop_focus(position) == focus


@pytest.mark.parametrize(
    "position", ["top bottom", "left right", "25% 75%", "10px", "top top", "upper", 3]
)
def test_unknown_positions_are_refused(position: object) -> None:
    with pytest.raises(ImageError) as caught:
        crop_focus(position)
    assert caught.value.name == "InvalidParameter"


def test_position_reaches_the_crop_and_is_read_only_with_both_sides() -> None:
    plan = plan_transform({"width": 200, "height": 200, "position": "right top"}, SOURCE)
    assert plan.crop == Crop(400, 400, "northeast")
    # sharp reads `position` only when both sides are given.
    assert plan_transform({"width": 200, "position": "nowhere"}, SOURCE).width == 200
    with pytest.raises(ImageError):
        plan_transform({"width": 200, "height": 100, "position": "nowhere"}, SOURCE)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "webp"),
        ("", "webp"),
        ("jpeg", "jpg"),
        ("jpg", "jpg"),
        ("PNG", "png"),
        ("avif", "avif"),
        ("gif", "gif"),
        ("webp", "webp"),
    ],
)
def test_output_formats(value: str | None, expected: str) -> None:
    assert output_format(value) == expected


def test_raster_to_svg_and_unknown_formats_are_refused() -> None:
    with pytest.raises(ImageError) as caught:
        plan_transform({"format": "svg"}, SOURCE)
    assert caught.value.name == "UnsupportedImageConversion"
    with pytest.raises(ImageError) as caught:
        plan_transform({"format": "bmp"}, SOURCE)
    assert caught.value.name == "InvalidParameter"


@pytest.mark.parametrize(
    ("quality", "expected"),
    [
        (None, None),
        (0, None),
        ("", None),
        (70, 70),
        ("70", 70),
        ("low", 25),
        ("mid", 50),
        ("high", 80),
        ("max", 100),
        ("nonsense", None),
    ],
)
def test_quality(quality: object, expected: int | None) -> None:
    assert plan_transform({"quality": quality}, SOURCE).quality == expected


@pytest.mark.parametrize(
    "transform",
    [
        {"quality": 101},
        {"width": -5},
        {"height": "tall"},
        {"width": True},
        {"background": "not-a-colour"},
        {"width": float("nan")},
    ],
)
def test_bad_values_are_invalid_parameters(transform: dict[str, Any]) -> None:
    with pytest.raises(ImageError) as caught:
        plan_transform(transform, SOURCE)
    assert caught.value.name == "InvalidParameter"


def test_background_is_kept() -> None:
    assert plan_transform({"background": "#ff0000"}, SOURCE).background == "#ff0000"
