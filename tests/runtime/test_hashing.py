"""The props hash: stable, portable, and blind to spelling that does not change meaning."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from staticimg import props_hash

PROPS = {"src": "../images/hero.jpg", "width": 800, "formats": ["auto", "webp"]}


def test_golden_value() -> None:
    # Pinned: changing it invalidates every user's cached image data, so it must be deliberate
    # (bump HASH_VERSION and say so in the changelog).
    assert props_hash(PROPS, "app/pages.py") == "8a15926f11e1e403227d"


def test_is_twenty_hex_digits() -> None:
    digest = props_hash(PROPS, "app/pages.py")
    assert len(digest) == 20 and int(digest, 16) >= 0


def test_key_order_and_integral_floats_do_not_matter() -> None:
    reordered = {"width": 800.0, "formats": ["auto", "webp"], "src": "../images/hero.jpg"}
    assert props_hash(reordered, "app/pages.py") == props_hash(PROPS, "app/pages.py")


def test_list_order_matters() -> None:
    swapped = {**PROPS, "formats": ["webp", "auto"]}
    assert props_hash(swapped, "app/pages.py") != props_hash(PROPS, "app/pages.py")


def test_same_props_in_another_file_differ() -> None:
    # Gatsby #36809: identical props in two folders collided and showed the wrong image.
    assert props_hash(PROPS, "app/a/pages.py") != props_hash(PROPS, "app/b/pages.py")


def test_windows_and_posix_paths_agree() -> None:
    expected = props_hash(PROPS, "app/pages.py")
    assert props_hash(PROPS, PureWindowsPath("app\\pages.py")) == expected
    assert props_hash(PROPS, "app\\pages.py") == expected
    assert props_hash(PROPS, PurePosixPath("app/pages.py")) == expected


@pytest.mark.parametrize("path", ["/srv/app/pages.py", "C:\\app\\pages.py"])
def test_absolute_paths_are_refused(path: str) -> None:
    with pytest.raises(ValueError, match="project-relative"):
        props_hash(PROPS, path)


def test_unhashable_values_are_refused() -> None:
    with pytest.raises(TypeError):
        props_hash({"src": object()}, "a.py")
