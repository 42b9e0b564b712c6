"""`PillowService.transform` on real images: sharp's behaviour under Astro (reference:
astro.md §2.1, §9.3), with the project's decoder and encoders."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from staticimg.astro.services import PassthroughService
from staticimg.astro.types import ImageError, ImageSettings
from staticimg.compiler.images.encode import DEFAULT_QUALITY
from staticimg.compiler.services import load_build_service
from staticimg.compiler.services.pillow import PillowService, plan_encoder_settings, plan_transform

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "images"
SETTINGS = ImageSettings()
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


def jpeg(size: tuple[int, int] = (600, 400), **save: Any) -> bytes:
    """Left half red, right half blue: where a crop was taken shows in the colours."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **save)
    return buffer.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.fixture(scope="module")
def service() -> PillowService:
    return PillowService()


@pytest.fixture(scope="module")
def source() -> bytes:
    return jpeg()


# §9.3, through real pixels: the decoded output has the planned size, as webp.
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
def test_astro_sharp_table(
    service: PillowService, source: bytes, transform: dict[str, Any], size: tuple[int, int]
) -> None:
    data, fmt = service.transform(source, {"src": "x.jpg", **transform}, SETTINGS)
    assert fmt == "webp"
    image = opened(data)
    assert image.format == "WEBP"
    assert image.size == size


@pytest.mark.parametrize(
    ("position", "colour"),
    [("left", "red"), ("right", "blue"), ("west", "red"), ("right top", "blue")],
)
def test_position_picks_the_crop(
    service: PillowService, source: bytes, position: str, colour: str
) -> None:
    transform = {"width": 100, "height": 200, "position": position, "format": "png"}
    image = opened(service.transform(source, transform, SETTINGS)[0]).convert("RGB")
    red, _, blue = image.getpixel((50, 100))  # type: ignore[misc]
    assert (red > blue) == (colour == "red")


@pytest.mark.parametrize(
    ("fmt", "pillow"),
    [("jpeg", "JPEG"), ("jpg", "JPEG"), ("png", "PNG"), ("avif", "AVIF"), ("gif", "GIF")],
)
def test_formats(service: PillowService, source: bytes, fmt: str, pillow: str) -> None:
    data, out = service.transform(source, {"width": 60, "format": fmt}, SETTINGS)
    image = opened(data)
    assert image.format == pillow
    assert image.size == (60, 40)
    assert out == {"jpeg": "jpg"}.get(fmt, fmt)


def test_quality_presets_change_the_bytes(service: PillowService) -> None:
    source = (FIXTURES / "photo.jpg").read_bytes()
    sizes = {
        preset: len(service.transform(source, {"width": 300, "quality": preset}, SETTINGS)[0])
        for preset in ("low", "mid", "high", "max")
    }
    assert sizes["low"] < sizes["mid"] < sizes["high"] < sizes["max"]
    # A number, a numeric string and the preset of the same value give the same bytes.
    by_number = service.transform(source, {"width": 300, "quality": 80}, SETTINGS)[0]
    by_string = service.transform(source, {"width": 300, "quality": "80"}, SETTINGS)[0]
    by_preset = service.transform(source, {"width": 300, "quality": "high"}, SETTINGS)[0]
    assert by_number == by_string == by_preset


def test_encoder_defaults_from_service_config() -> None:
    # §9.3: config webp {effort 6, quality 72} with no transform quality → used as they are.
    config = {"webp": {"effort": 6, "alphaQuality": 80, "quality": 72}}
    plan = plan_transform({}, (10, 10))
    settings = plan_encoder_settings(plan, config)
    assert (settings.quality, settings.effort) == (72, 6)
    # avif {effort 9, quality 50} + quality "70" → quality 70, effort kept.
    plan = plan_transform({"format": "avif", "quality": "70"}, (10, 10))
    settings = plan_encoder_settings(plan, {"avif": {"effort": 9, "quality": 50}})
    assert (settings.quality, settings.speed) == (70, 0)
    # jpg uses the `jpeg` table.
    plan = plan_transform({"format": "jpg"}, (10, 10))
    settings = plan_encoder_settings(plan, {"jpeg": {"quality": 61, "progressive": False}})
    assert (settings.quality, settings.progressive) == (61, False)
    # Nothing configured: our per-format defaults.
    assert plan_encoder_settings(plan).quality == DEFAULT_QUALITY["jpg"]
    with pytest.raises(ValueError, match="quality"):
        plan_encoder_settings(plan, {"jpeg": {"quality": "best"}})


def test_service_config_reaches_the_encoder(service: PillowService, source: bytes) -> None:
    configured = ImageSettings(service_config={"webp": {"quality": 30}})
    low = service.transform(source, {"width": 300}, configured)[0]
    assert low == service.transform(source, {"width": 300, "quality": 30}, SETTINGS)[0]
    # The transform's quality wins over the configured one.
    high = service.transform(source, {"width": 300, "quality": 90}, configured)[0]
    assert high == service.transform(source, {"width": 300, "quality": 90}, SETTINGS)[0]


def test_animated_gif_becomes_a_looping_webp(service: PillowService) -> None:
    gif = (FIXTURES / "animated.gif").read_bytes()
    data, fmt = service.transform(gif, {"width": 12}, SETTINGS)
    image = opened(data)
    assert (fmt, image.format, image.size) == ("webp", "WEBP", (12, 8))
    assert getattr(image, "n_frames", 1) == 3
    assert image.info["loop"] == 0
    # The `webp` config's `loop` is kept (2 stays 2).
    configured = ImageSettings(service_config={"webp": {"loop": 2}})
    assert opened(service.transform(gif, {}, configured)[0]).info["loop"] == 2
    # Still formats get the first frame.
    png = opened(service.transform(gif, {"format": "png"}, SETTINGS)[0])
    assert getattr(png, "n_frames", 1) == 1
    # gif to gif stays animated.
    again = opened(service.transform(gif, {"format": "gif", "width": 12}, SETTINGS)[0])
    assert (again.size, getattr(again, "n_frames", 1)) == ((12, 8), 3)


def test_svg_is_passed_through(service: PillowService) -> None:
    assert service.transform(SVG, {"src": "a.svg"}, SETTINGS) == (SVG, "svg")
    assert service.transform(SVG, {"format": "svg", "width": 5}, SETTINGS) == (SVG, "svg")
    with pytest.raises(ImageError) as caught:
        service.transform(SVG, {"format": "png"}, SETTINGS)
    assert caught.value.name == "UnsupportedImageFormat"
    assert "passed through" in caught.value.message


def test_raster_to_svg_is_refused(service: PillowService, source: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        service.transform(source, {"format": "svg"}, SETTINGS)
    assert caught.value.name == "UnsupportedImageConversion"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("not-an-image.png", "NoImageMetadata"),
        ("empty.jpg", "NoImageMetadata"),
        ("damaged-header.png", "CouldNotTransformImage"),
        ("truncated.png", "CouldNotTransformImage"),
        ("bomb.png", "ImageTooLarge"),
    ],
)
def test_unusable_sources(service: PillowService, name: str, error: str) -> None:
    with pytest.raises(ImageError) as caught:
        service.transform((FIXTURES / name).read_bytes(), {"width": 10}, SETTINGS)
    assert caught.value.name == error


def test_pixel_limit_is_configurable(source: bytes) -> None:
    with pytest.raises(ImageError) as caught:
        PillowService(max_pixels=1000).transform(source, {}, SETTINGS)
    assert caught.value.name == "ImageTooLarge"
    lifted = ImageSettings(service_config={"limitInputPixels": 10**6})
    assert PillowService(max_pixels=1000).transform(source, {"width": 8}, lifted)[1] == "webp"


def test_orientation_and_no_metadata(service: PillowService) -> None:
    rotated = (FIXTURES / "orientation-6.jpg").read_bytes()  # stored 48×32, shown 32×48
    image = opened(service.transform(rotated, {"format": "jpg"}, SETTINGS)[0])
    assert image.size == (32, 48)
    assert not image.getexif()
    assert "icc_profile" not in image.info


def test_background_flattens_transparency(service: PillowService) -> None:
    transparent = (FIXTURES / "transparent-black.png").read_bytes()
    kept = opened(service.transform(transparent, {"format": "png"}, SETTINGS)[0])
    assert kept.mode == "RGBA"
    flat = opened(
        service.transform(transparent, {"format": "png", "background": "#00ff00"}, SETTINGS)[0]
    )
    assert flat.mode == "RGB"
    assert flat.getpixel((0, 0)) == (0, 255, 0)


def test_output_is_deterministic(service: PillowService, source: bytes) -> None:
    transform = {"width": 200, "height": 200, "position": "attention"}
    assert service.transform(source, transform, SETTINGS) == service.transform(
        source, transform, SETTINGS
    )


def test_load_build_service() -> None:
    assert isinstance(load_build_service(ImageSettings(service="pillow")), PillowService)
    service = load_build_service(ImageSettings(service="pillow"), max_pixels=5)
    assert isinstance(service, PillowService) and service.max_pixels == 5
    assert isinstance(load_build_service(ImageSettings(service="passthrough")), PassthroughService)
    with pytest.raises(ImageError) as caught:
        load_build_service(ImageSettings(service="no-such-service"))
    assert caught.value.name == "InvalidImageService"
