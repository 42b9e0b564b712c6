"""The layout math against Gatsby's own test vectors (reference/gatsby.md §8.3, §8.4).

Where staticimg deliberately differs from Gatsby, the case asserts our result and its comment
names the quirk; docs/layout.md lists each difference and why.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staticimg.layout import (
    FITS,
    Fit,
    ImageSizes,
    Layout,
    calculate_image_sizes,
    js_round,
    normalize_layout,
    output_height,
    sizes_attribute,
)

# --------------------------------------------------------------------------------------------
# JavaScript's Math.round


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.5, 1),
        (1.5, 2),
        (2.5, 3),  # Python's round gives 2
        (562.5, 563),  # a 750 px wide 4:3 image: Python's round gives 562
        (1024.5, 1025),  # 1366 px at 4:3
        (-0.5, 0),
        (-2.5, -2),
        (-2.6, -3),
        (2.4999, 2),
        (0.49999999999999994, 0),  # floor(x + 0.5) would give 1
        (7.0, 7),
    ],
)
def test_js_round_sends_halves_up(value: float, expected: int) -> None:
    assert js_round(value) == expected


# --------------------------------------------------------------------------------------------
# §8.3: calculateImageSizes on a 1200×800 source


def sizes_1200x800(layout: Layout, **kwargs: Any) -> ImageSizes:
    return calculate_image_sizes(source_width=1200, source_height=800, layout=layout, **kwargs)


@pytest.mark.parametrize(
    ("layout", "kwargs", "message"),
    [
        ("fixed", {"width": 0}, "Problem dimensions you have are width: 0"),
        ("fixed", {"height": -50}, "Problem dimensions you have are height: -50"),
        ("constrained", {"width": 0.5, "height": 0}, "are width: 0.5, height: 0"),
        ("fullWidth", {"width": float("nan")}, "are width: nan"),
    ],
)
def test_dimensions_below_one_raise_gatsbys_error(
    layout: Layout, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match="must be positive numbers \\(> 0\\)") as raised:
        sizes_1200x800(layout, **kwargs)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("layout", "kwargs", "contains"),
    [
        ("fixed", {"width": 600}, 600),
        ("fixed", {"height": 500}, 750),
        ("constrained", {"width": 400}, 400),
    ],
)
def test_sizes_contain_the_requested_width(
    layout: Layout, kwargs: dict[str, Any], contains: int
) -> None:
    assert contains in sizes_1200x800(layout, **kwargs).sizes


@pytest.mark.parametrize(
    ("layout", "kwargs", "expected"),
    [
        ("fixed", {"width": 120}, (120, 240)),
        ("fixed", {"height": 80}, (120, 240)),
        ("constrained", {"width": 400}, (100, 200, 400, 800)),
        (
            "fullWidth",
            {"width": 500, "breakpoints": [50, 70, 150, 250, 300]},
            (50, 70, 150, 250, 300),
        ),
        (
            "constrained",
            {"width": 500, "breakpoints": [50, 70, 150, 250, 300]},
            (50, 70, 150, 250, 300, 500),
        ),
        (
            "fullWidth",
            {"width": 1500, "breakpoints": [50, 70, 150, 250, 1200, 1800]},
            (50, 70, 150, 250, 1200),
        ),
        # the dropped 1800 is replaced by the source width
        (
            "fullWidth",
            {"width": 1300, "breakpoints": [50, 70, 150, 250, 1800]},
            (50, 70, 150, 250, 1200),
        ),
        # breakpoints win over densities
        (
            "fullWidth",
            {"width": 500, "breakpoints": [400, 800], "output_pixel_densities": [2, 4]},
            (400, 800),
        ),
        # Gatsby's utils-level vectors give [450-ish], [80, 160, 320, 640] and [200, 400, 800]:
        # they call calculateImageSizes directly. Through sharp's generateImageData, which we
        # follow (§4.1 steps 2 and 6), fullWidth ignores width and height and uses the default
        # breakpoints; 1366 and 1920 are too wide, so the source width 1200 takes their place.
        ("fullWidth", {"height": 300}, (750, 1080, 1200)),
        ("fullWidth", {"width": 320}, (750, 1080, 1200)),
        ("fullWidth", {}, (750, 1080, 1200)),
    ],
)
def test_sizes_match_gatsby(layout: Layout, kwargs: dict[str, Any], expected: tuple[int]) -> None:
    assert sizes_1200x800(layout, **kwargs).sizes == expected


def test_full_width_flags_the_width_and_height_it_ignores() -> None:
    assert sizes_1200x800("fullWidth", height=300).ignored_dimensions
    assert sizes_1200x800("fullWidth", width=320).ignored_dimensions
    assert not sizes_1200x800("fullWidth").ignored_dimensions
    assert not sizes_1200x800("constrained", width=320).ignored_dimensions


# Fit vectors: source 2810×1360, densities [1]; [presentationWidth, presentationHeight].
FIT_VECTORS: list[tuple[int, int, Fit, tuple[int, int]]] = [
    (20, 20, "cover", (20, 20)),
    (20, 20, "fill", (20, 20)),
    (20, 20, "inside", (20, 10)),
    (20, 20, "outside", (41, 20)),
    (200, 200, "cover", (200, 200)),
    (200, 200, "fill", (200, 200)),
    (200, 200, "inside", (200, 97)),
    (200, 200, "outside", (413, 200)),
    # not in Gatsby's table: contain keeps the box, like cover
    (200, 200, "contain", (200, 200)),
]


@pytest.mark.parametrize("layout", ["fixed", "constrained"])
@pytest.mark.parametrize(("width", "height", "fit", "expected"), FIT_VECTORS)
def test_fit_decides_the_presentation_size(
    layout: Layout, width: int, height: int, fit: Fit, expected: tuple[int, int]
) -> None:
    sizes = calculate_image_sizes(
        source_width=2810,
        source_height=1360,
        layout=layout,
        width=width,
        height=height,
        fit=fit,
        output_pixel_densities=[1],
    )
    assert (sizes.presentation_width, sizes.presentation_height) == expected
    assert sizes.aspect_ratio == pytest.approx(expected[0] / expected[1], rel=0.02)


@pytest.mark.parametrize(("width", "height", "fit", "expected"), FIT_VECTORS)
def test_fit_vectors_for_full_width_keep_the_source_shape(
    width: int, height: int, fit: Fit, expected: tuple[int, int]
) -> None:
    # Gatsby's utils-level test gets the same numbers for fullWidth; through sharp's
    # generateImageData fullWidth ignores width and height, so the box is the source's.
    sizes = calculate_image_sizes(
        source_width=2810,
        source_height=1360,
        layout="fullWidth",
        width=width,
        height=height,
        fit=fit,
    )
    assert (sizes.presentation_width, sizes.presentation_height) == (2810, 1360)
    assert sizes.ignored_dimensions


# --------------------------------------------------------------------------------------------
# §8.4: gatsby-plugin-sharp index.js, as pure math with the stated source dimensions


def test_resizing_a_281x136_image_to_3_px_gives_height_1() -> None:
    assert output_height(3, 281 / 136) == 1


def test_constrained_max_height_20_on_281x136_is_41_wide() -> None:
    sizes = calculate_image_sizes(
        source_width=281, source_height=136, layout="constrained", height=20
    )
    assert sizes.presentation_width == 41
    assert sizes.unscaled_width == 41


def test_fixed_height_10_on_281x136_is_21_wide() -> None:
    sizes = calculate_image_sizes(source_width=281, source_height=136, layout="fixed", height=10)
    assert sizes.presentation_width == 21
    assert sizes.presentation_height == 10
    assert sizes.sizes == (21, 42)


def test_wide_placeholder_of_a_1000x10_image_is_20x1() -> None:
    sizes = calculate_image_sizes(source_width=1000, source_height=10, layout="constrained")
    assert output_height(20, sizes.aspect_ratio) == 1
    assert output_height(20, 1000 / 10) == 1  # js_round(0.2) is 0: the clamp to 1 matters


# --------------------------------------------------------------------------------------------
# sharp's generateImageData defaults


def test_without_width_or_height_the_image_is_as_wide_as_its_source() -> None:
    # Not 800 (the helper's DEFAULT_FLUID_WIDTH) nor 400 (sharp's fixed default).
    assert sizes_1200x800("constrained").sizes == (300, 600, 1200)
    assert sizes_1200x800("fixed").sizes == (1200,)
    assert sizes_1200x800("fixed").presentation_width == 1200


def test_aspect_ratio_with_width_computes_the_height() -> None:
    sizes = sizes_1200x800("constrained", width=600, aspect_ratio=2)
    assert (sizes.presentation_width, sizes.presentation_height) == (600, 300)
    assert sizes.aspect_ratio == 2
    assert not sizes.aspect_ratio_ignored


def test_aspect_ratio_with_height_computes_the_width() -> None:
    sizes = sizes_1200x800("fixed", height=100, aspect_ratio=3)
    assert (sizes.presentation_width, sizes.presentation_height) == (300, 100)
    assert sizes.sizes == (300, 600)


def test_aspect_ratio_with_width_and_height_is_ignored_and_flagged() -> None:
    sizes = sizes_1200x800("fixed", width=300, height=300, aspect_ratio=3)
    assert sizes.aspect_ratio == 1
    assert sizes.aspect_ratio_ignored


def test_full_width_honours_aspect_ratio() -> None:
    sizes = sizes_1200x800("fullWidth", aspect_ratio=3)
    assert sizes.aspect_ratio == 3
    assert sizes.sizes == (750, 1080, 1200)
    assert sizes.outputs[-1] == (1200, 400)


# --------------------------------------------------------------------------------------------
# Quirks we fix (docs/layout.md, "Differences from Gatsby")


def test_densities_are_sorted_as_numbers() -> None:
    # Gatsby's sharp copy sorts densities as strings ([1, 10, 2, 3]), which leaves fixed
    # sizes out of order: [10, 100, 20, 30].
    sizes = sizes_1200x800("fixed", width=10, output_pixel_densities=[3, 10, 2])
    assert sizes.sizes == (10, 20, 30, 100)


def test_fixed_densities_below_one_are_dropped_and_one_is_always_kept() -> None:
    sizes = sizes_1200x800("fixed", width=100, output_pixel_densities=[0.5, 3])
    assert sizes.sizes == (100, 300)


def test_constrained_request_wider_than_the_source_is_clamped() -> None:
    # Gatsby: sizes [200, 400, 800] but JSON width 2000 (a 2000 px wrapper around an 800 px
    # file). Ours: the presentation width is what the source can deliver, and it is flagged.
    sizes = calculate_image_sizes(
        source_width=800, source_height=600, layout="constrained", width=2000
    )
    assert sizes.sizes == (200, 400, 800)
    assert (sizes.presentation_width, sizes.presentation_height) == (800, 600)
    assert sizes.clamped
    assert sizes.requested_width == 2000


def test_fixed_request_wider_than_the_source_is_shown_at_the_delivered_size() -> None:
    # Gatsby keeps presentationWidth 1000 (an 800 px file stretched into a 1000 px box, with
    # sizes="800px"); ours shows what is delivered.
    sizes = calculate_image_sizes(source_width=800, source_height=600, layout="fixed", width=1000)
    assert sizes.sizes == (800,)
    assert (sizes.presentation_width, sizes.presentation_height) == (800, 600)
    assert sizes.clamped


def test_a_crop_taller_than_the_source_is_scaled_down_not_upscaled() -> None:
    # Gatsby clamps width and height separately: 700×700 on 800×600 stays 700 wide with a
    # 1:1 ratio, so every output is taller than the source. Ours keeps the ratio and fits.
    sizes = calculate_image_sizes(
        source_width=800, source_height=600, layout="constrained", width=700, height=700
    )
    assert sizes.aspect_ratio == 1
    assert sizes.sizes == (150, 300, 600)
    assert sizes.presentation_width == 600
    assert sizes.clamped


def test_full_width_breakpoints_stop_where_the_crop_runs_out_of_source() -> None:
    # A 1:2 crop of a 1200×800 source is at most 400×800; Gatsby would still make 750 and
    # 1080 wide files (1500 and 2160 high).
    sizes = sizes_1200x800("fullWidth", aspect_ratio=0.5)
    assert sizes.sizes == (400,)
    assert sizes.outputs == ((400, 800),)
    assert not sizes.clamped  # fullWidth asked for no size


def test_tiny_sources_make_no_zero_or_duplicate_widths() -> None:
    # Gatsby gives [0, 1, 1] for a 1 px wide constrained image (0.25 and 0.5 round to 0 and 1).
    sizes = calculate_image_sizes(source_width=1, source_height=1, layout="constrained")
    assert sizes.sizes == (1,)


def test_not_clamped_when_the_source_is_exactly_the_request() -> None:
    # 136 × (281 / 136) is not exactly 281 in floating point.
    sizes = calculate_image_sizes(source_width=281, source_height=136, layout="fixed", height=136)
    assert sizes.presentation_width == 281
    assert not sizes.clamped


@pytest.mark.parametrize(
    "kwargs",
    [
        {"aspect_ratio": 0},
        {"aspect_ratio": -1.5},
        {"output_pixel_densities": [1, 0]},
        {"breakpoints": [0, 100]},
        {"fit": "stretch"},
        {"layout": "fluid"},
    ],
)
def test_nonsense_arguments_raise(kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"source_width": 100, "source_height": 100, "layout": "fixed"}
    with pytest.raises(ValueError):
        calculate_image_sizes(**(arguments | kwargs))


def test_source_dimensions_below_one_raise() -> None:
    with pytest.raises(ValueError, match="source dimensions"):
        calculate_image_sizes(source_width=0, source_height=10, layout="fixed")


# --------------------------------------------------------------------------------------------
# Layout names and the sizes attribute


@pytest.mark.parametrize(
    ("spelling", "layout"),
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
    ],
)
def test_normalize_layout_accepts_gatsbys_spellings(spelling: str, layout: Layout) -> None:
    assert normalize_layout(spelling) == layout


@pytest.mark.parametrize("spelling", ["fluid", "", "full", "constrainedd"])
def test_normalize_layout_refuses_other_names(spelling: str) -> None:
    with pytest.raises(ValueError, match="unknown layout"):
        normalize_layout(spelling)


@pytest.mark.parametrize(
    ("width", "layout", "expected"),
    [
        (400, "constrained", "(min-width: 400px) 400px, 100vw"),
        (400, "fixed", "400px"),
        (400, "fullWidth", "100vw"),
    ],
)
def test_sizes_attribute(width: int, layout: Layout, expected: str) -> None:
    assert sizes_attribute(width, layout) == expected


# --------------------------------------------------------------------------------------------
# Properties

dimension = st.integers(min_value=1, max_value=6000)
request = st.one_of(st.none(), st.floats(min_value=1, max_value=9000, allow_nan=False))
layouts = st.sampled_from(["constrained", "fixed", "fullWidth"])
densities = st.one_of(
    st.none(), st.lists(st.floats(min_value=0.1, max_value=4), min_size=1, max_size=5)
)
breakpoint_lists = st.one_of(
    st.none(), st.lists(st.integers(min_value=1, max_value=8000), max_size=6)
)
aspect = st.one_of(st.none(), st.floats(min_value=0.05, max_value=20))


@given(
    source_width=dimension,
    source_height=dimension,
    layout=layouts,
    width=request,
    height=request,
    aspect_ratio=aspect,
    fit=st.sampled_from(FITS),
    output_pixel_densities=densities,
    breakpoints=breakpoint_lists,
)
def test_sizes_are_ascending_unique_positive_and_deliverable(
    source_width: int,
    source_height: int,
    layout: Layout,
    width: float | None,
    height: float | None,
    aspect_ratio: float | None,
    fit: Fit,
    output_pixel_densities: list[float] | None,
    breakpoints: list[int] | None,
) -> None:
    sizes = calculate_image_sizes(
        source_width=source_width,
        source_height=source_height,
        layout=layout,
        width=width,
        height=height,
        aspect_ratio=aspect_ratio,
        fit=fit,
        output_pixel_densities=output_pixel_densities,
        breakpoints=breakpoints,
    )
    assert sizes.sizes, "at least one output"
    assert list(sizes.sizes) == sorted(set(sizes.sizes))
    assert sizes.sizes[0] >= 1
    assert sizes.sizes[-1] <= source_width
    assert sizes.fallback_width in sizes.sizes
    assert sizes.unscaled_width == sizes.presentation_width
    if layout != "fullWidth":
        assert sizes.presentation_width <= source_width
    # No output is taller than the source, unless even a 1 px wide one would be.
    if output_height(1, sizes.aspect_ratio) <= source_height:
        assert all(height <= source_height for _, height in sizes.outputs)


@given(
    width=st.integers(min_value=1, max_value=10_000),
    aspect_ratio=st.floats(min_value=1e-3, max_value=1e4),
)
def test_output_height_is_at_least_one(width: int, aspect_ratio: float) -> None:
    assert output_height(width, aspect_ratio) >= 1
