"""Shared fixtures for the image stage: the committed test images in `fixtures/images/`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

FIXTURE_IMAGES = Path(__file__).resolve().parents[3] / "fixtures" / "images"


@pytest.fixture(scope="session")
def images_dir() -> Path:
    """The folder of small, tricky images written by `fixtures/images/build.py`."""
    return FIXTURE_IMAGES


def fixture_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixture_build", FIXTURE_IMAGES / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def cmyk_profile() -> bytes:
    """Ghostscript's CMYK (SWOP) profile from Debian's libgs-common (`make system-deps`)."""
    path: Path = fixture_script().SYSTEM_CMYK_PROFILE
    if not path.is_file():
        pytest.skip(f"{path} is missing: run `make system-deps` (Debian package libgs-common)")
    return path.read_bytes()


@pytest.fixture(scope="session")
def cmyk_profile_jpeg(cmyk_profile: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CMYK patches with the real CMYK profile embedded."""
    path = tmp_path_factory.mktemp("cmyk") / "cmyk-profile.jpg"
    path.write_bytes(fixture_script().cmyk_profile(cmyk_profile))
    return path
