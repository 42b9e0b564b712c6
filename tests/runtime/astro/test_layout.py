"""Astro's widths and sizes: every row of reference/astro.md §9.1."""

from __future__ import annotations

import pytest

from staticimg.astro.layout import (
    DEFAULT_RESOLUTIONS,
    LIMITED_RESOLUTIONS,
    get_sizes_attribute,
    get_widths,
    parse_layout,
)

LIMITED = LIMITED_RESOLUTIONS
DEFAULT = DEFAULT_RESOLUTIONS


def test_breakpoint_lists_are_astros() -> None:
    assert DEFAULT == (
        640, 750, 828, 960, 1080, 1280, 1668, 1920, 2048, 2560, 3200, 3840, 4480, 5120, 6016,
    )  # fmt: skip
    assert LIMITED == (640, 750, 828, 1080, 1280, 1668, 2048, 2560)


@pytest.mark.parametrize(
    ("layout", "width", "breakpoints", "original", "expected"),
    [
        ("constrained", 2316, LIMITED, 2316, [640, 750, 828, 1080, 1280, 1668, 2048, 2316]),
        ("constrained", 300, LIMITED, 2316, [300, 600]),
        (
            "constrained", 2316, DEFAULT, 2316,
            [640, 750, 828, 960, 1080, 1280, 1668, 1920, 2048, 2316],
        ),
        ("constrained", 300, DEFAULT, 2316, [300, 600]),
        ("fixed", 800, LIMITED, 2316, [800, 1600]),
        ("fixed", 1500, LIMITED, 2316, [1500, 2316]),
        ("fixed", 3000, LIMITED, 2316, [2316]),
        ("fixed", None, LIMITED, 2316, []),
        ("full-width", None, LIMITED, 2316, [640, 750, 828, 1080, 1280, 1668, 2048]),
        ("full-width", 400, LIMITED, 2316, [640, 750, 828, 1080, 1280, 1668, 2048]),
        ("full-width", None, DEFAULT, 2316, [640, 750, 828, 960, 1080, 1280, 1668, 1920, 2048]),
        ("full-width", None, LIMITED, None, list(LIMITED)),
        ("full-width", None, DEFAULT, None, list(DEFAULT)),
        ("constrained", 800, LIMITED, None, [640, 750, 800, 828, 1080, 1280, 1600]),
        ("constrained", 300, LIMITED, None, [300, 600]),
        ("fixed", 800, LIMITED, None, [800, 1600]),
        ("none", 800, LIMITED, 2316, []),
    ],
)  # fmt: skip
def test_get_widths_table(
    layout: str,
    width: int | None,
    breakpoints: tuple[int, ...],
    original: int | None,
    expected: list[int],
) -> None:
    assert (
        get_widths(width=width, layout=layout, breakpoints=breakpoints, original_width=original)
        == expected
    )


@pytest.mark.parametrize("breakpoints", [LIMITED, DEFAULT])
def test_constrained_800_ends_at_1600(breakpoints: tuple[int, ...]) -> None:
    widths = get_widths(
        width=800, layout="constrained", breakpoints=breakpoints, original_width=2316
    )
    assert widths[-1] == 1600 and 800 in widths


def test_constrained_1500_caps_at_the_original() -> None:
    widths = get_widths(width=1500, layout="constrained", breakpoints=LIMITED, original_width=2316)
    assert 1500 in widths and widths[-1] == 2048 and 2560 not in widths


def test_full_width_default_breakpoints_argument() -> None:
    assert get_widths(width=None, layout="full-width", original_width=10000) == list(DEFAULT)


def test_widths_are_not_deduplicated_here() -> None:
    # get_src_set removes the repeat (Astro does the same, later)
    assert get_widths(width=640, layout="constrained", breakpoints=LIMITED, original_width=None)[
        :2
    ] == [640, 640]


@pytest.mark.parametrize(
    ("width", "layout", "expected"),
    [
        (800, "constrained", "(min-width: 800px) 800px, 100vw"),
        (400, "fixed", "400px"),
        (400, "full-width", "100vw"),
        (400, "none", None),
        (None, "constrained", None),
        (400, None, None),
    ],
)
def test_sizes(width: int | None, layout: str | None, expected: str | None) -> None:
    assert get_sizes_attribute(width=width, layout=layout) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fullWidth", "full-width"),
        ("full_width", "full-width"),
        ("FULL-WIDTH", "full-width"),
        ("constrained", "constrained"),
        ("Fixed", "fixed"),
        ("none", "none"),
        ("responsive", None),
        (3, None),
    ],
)
def test_parse_layout(value: object, expected: str | None) -> None:
    assert parse_layout(value) == expected
