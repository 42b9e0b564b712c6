"""Encoder settings and encoding (compiler/images/encode.py): real encodes, decoded again."""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import orjson
import PIL
import pytest
from PIL import Image, ImageChops, ImageCms, WebPImagePlugin, features

from staticimg.compiler.images.encode import (
    DEFAULT_QUALITY,
    EXTENSIONS,
    MIME_TYPES,
    EncoderSettings,
    encode,
    encode_animation,
    encoder_identity,
    encoder_settings,
    png_compress_level,
)
from staticimg.compiler.props import (
    AvifOptions,
    EncodedFormat,
    JpgOptions,
    PngOptions,
    WebpOptions,
)

FORMATS: tuple[EncodedFormat, ...] = ("jpg", "png", "webp", "avif")
PILLOW_NAMES = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "avif": "AVIF"}
REPO = Path(__file__).resolve().parents[3]


def settings_for(
    fmt: EncodedFormat,
    quality: int | None = None,
    *,
    jpg: JpgOptions | None = None,
    png: PngOptions | None = None,
    webp: WebpOptions | None = None,
    avif: AvifOptions | None = None,
) -> EncoderSettings:
    return encoder_settings(fmt, quality=quality, jpg=jpg, png=png, webp=webp, avif=avif)


def photo_like(size: tuple[int, int] = (96, 64)) -> Image.Image:
    """Smooth gradients with some grain: compresses like a photo, built without randomness
    that differs between processes."""
    width, height = size
    bands = [
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size),
    ]
    grain = Image.frombytes("RGB", size, random.Random(7).randbytes(width * height * 3))
    return Image.blend(Image.merge("RGB", bands), grain, 0.25)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def max_difference(first: Image.Image, second: Image.Image) -> int:
    """The largest difference of any band of any pixel."""
    return max(ImageChops.difference(first, second).tobytes())


# --------------------------------------------------------------------------------------------
# Settings


def test_tables_cover_every_format() -> None:
    assert set(MIME_TYPES) == set(EXTENSIONS) == set(DEFAULT_QUALITY) == set(FORMATS)
    assert MIME_TYPES["jpg"] == "image/jpeg" and EXTENSIONS["jpg"] == "jpg"
    assert MIME_TYPES["avif"] == "image/avif"
    assert DEFAULT_QUALITY["png"] is None  # PNG stays lossless unless asked


@pytest.mark.parametrize("fmt", ["jpg", "webp", "avif"])
def test_quality_precedence(fmt: EncodedFormat) -> None:
    options = {
        "jpg": {"jpg": JpgOptions(quality=91)},
        "webp": {"webp": WebpOptions(quality=91)},
        "avif": {"avif": AvifOptions(quality=91)},
    }[fmt]
    assert settings_for(fmt, 33, **options).quality == 91  # type: ignore[arg-type]
    assert settings_for(fmt, 33).quality == 33
    assert settings_for(fmt).quality == DEFAULT_QUALITY[fmt]


def test_other_formats_options_do_not_leak() -> None:
    assert settings_for("jpg", 33, webp=WebpOptions(quality=91)).quality == 33


def test_png_is_quantised_only_by_its_own_quality() -> None:
    assert settings_for("png", 60).quality is None
    assert settings_for("png", 60).palette_colours is None
    quantised = settings_for("png", 60, png=PngOptions(quality=50))
    assert quantised.quality == 50 and quantised.palette_colours == 128
    assert decode(encode(photo_like(), quantised)).mode == "P"
    assert decode(encode(photo_like(), settings_for("png", 60))).mode == "RGB"


def test_png_quality_changes_the_palette() -> None:
    image = photo_like()
    small = encode(image, settings_for("png", png=PngOptions(quality=5)))
    large = encode(image, settings_for("png", png=PngOptions(quality=100)))
    assert len(decode(small).getcolors() or []) <= 13
    assert len(decode(large).convert("RGB").getcolors(1000) or []) > 13


def test_defaults_gatsby_drops_are_resolved() -> None:
    assert settings_for("jpg").progressive is True
    assert settings_for("png").compress_level == png_compress_level(4) == 6
    assert settings_for("webp").lossless is False
    assert settings_for("avif").lossless is False
    assert settings_for("avif").speed is not None


def test_compression_speed_maps_onto_zlib_levels() -> None:
    assert [png_compress_level(speed) for speed in range(1, 11)] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 1]


def test_jpeg_keeps_full_chroma_at_high_quality() -> None:
    assert settings_for("jpg", 89).subsampling == "4:2:0"
    assert settings_for("jpg", 90).subsampling == "4:4:4"


def test_key_is_json_ready_and_names_only_the_formats_fields() -> None:
    for fmt in FORMATS:
        key = settings_for(fmt).key()
        assert key["format"] == fmt
        assert orjson.loads(orjson.dumps(key)) == key
    assert set(settings_for("jpg").key()) == {"format", "quality", "progressive", "subsampling"}
    assert "progressive" not in settings_for("webp").key()
    assert settings_for("jpg", 50).key() != settings_for("jpg", 51).key()


def test_settings_refuse_fields_of_another_format() -> None:
    with pytest.raises(ValueError, match="progressive"):
        EncoderSettings("webp", 50, progressive=True, lossless=False, effort=4)


# --------------------------------------------------------------------------------------------
# Encoding


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_encoder_writes_its_format(fmt: EncodedFormat) -> None:
    data = encode(photo_like((96, 64)), settings_for(fmt))
    image = decode(data)
    assert image.format == PILLOW_NAMES[fmt]
    assert image.size == (96, 64)
    assert Image.MIME[image.format] == MIME_TYPES[fmt]


def test_progressive_jpeg() -> None:
    image = photo_like()
    progressive = decode(encode(image, settings_for("jpg")))
    assert progressive.info.get("progressive")
    baseline = decode(encode(image, settings_for("jpg", jpg=JpgOptions(progressive=False))))
    assert not baseline.info.get("progressive")


def test_quality_changes_the_bytes() -> None:
    image = photo_like()
    for fmt in ("jpg", "webp", "avif"):
        low = encode(image, settings_for(fmt, 30))
        high = encode(image, settings_for(fmt, 90))
        assert len(low) < len(high), fmt


def test_webp_lossless_round_trips_exactly() -> None:
    image = photo_like()
    lossy = decode(encode(image, settings_for("webp", 90)))
    assert max_difference(lossy.convert("RGB"), image) > 0  # the check below can fail
    settings = settings_for("webp", webp=WebpOptions(lossless=True))
    assert settings.quality is None
    assert max_difference(decode(encode(image, settings)).convert("RGB"), image) == 0


def test_avif_lossless() -> None:
    settings = settings_for("avif", avif=AvifOptions(lossless=True))
    assert settings.quality is None and settings.subsampling == "4:4:4"
    # Grey: exact. Colour: the AV1 coding is lossless, but Pillow converts RGB to 8-bit
    # YCbCr with BT.601 (it offers no identity matrix), and that round trip is off by a few
    # levels (3 at most here); lossy AVIF is far further off.
    grey = photo_like().convert("L")
    assert max_difference(decode(encode(grey, settings)).convert("L"), grey) == 0
    colour = photo_like()
    assert max_difference(decode(encode(colour, settings)).convert("RGB"), colour) <= 3
    lossy = decode(encode(colour, settings_for("avif", 90))).convert("RGB")
    assert max_difference(lossy, colour) > 8


def test_avif_speed_changes_the_output() -> None:
    image = photo_like((128, 96))
    fast = encode(image, settings_for("avif", avif=AvifOptions(speed=10)))
    slow = encode(image, settings_for("avif", avif=AvifOptions(speed=4)))
    assert fast != slow


def test_png_compression_speed_changes_the_output() -> None:
    image = photo_like((128, 96))
    fast = encode(image, settings_for("png", png=PngOptions(compression_speed=10)))
    slow = encode(image, settings_for("png", png=PngOptions(compression_speed=1)))
    assert fast != slow and len(slow) <= len(fast)
    assert max_difference(decode(fast), decode(slow)) == 0  # lossless either way


def test_webp_effort_changes_the_output() -> None:
    image = photo_like((128, 96))
    fast = encode(image, settings_for("webp", webp=WebpOptions(effort=0)))
    slow = encode(image, settings_for("webp", webp=WebpOptions(effort=6)))
    assert fast != slow


# --------------------------------------------------------------------------------------------
# Alpha


def half_transparent() -> Image.Image:
    image = Image.new("RGBA", (32, 16), (0, 0, 255, 0))
    image.paste(Image.new("RGBA", (16, 16), (255, 0, 0, 255)), (0, 0))
    return image


def test_jpeg_flattens_alpha_onto_the_background() -> None:
    image = half_transparent()
    on_white = decode(encode(image, settings_for("jpg", 95))).convert("RGB")
    assert max_difference(on_white.crop((20, 4, 28, 12)), Image.new("RGB", (8, 8), "white")) < 8
    on_green = decode(encode(image, settings_for("jpg", 95), background="#00ff00"))
    assert max_difference(on_green.crop((20, 4, 28, 12)), Image.new("RGB", (8, 8), "lime")) < 8
    # a translucent background is laid on white first: "transparent" gives white, not black
    clear = decode(encode(image, settings_for("jpg", 95), background="transparent"))
    assert max_difference(clear.crop((20, 4, 28, 12)), Image.new("RGB", (8, 8), "white")) < 8


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_formats_with_alpha_keep_it(fmt: EncodedFormat) -> None:
    decoded = decode(encode(half_transparent(), settings_for(fmt)))
    assert decoded.mode == "RGBA"
    assert decoded.getpixel((24, 8))[3] == 0  # type: ignore[index]
    assert decoded.getpixel((8, 8))[3] == 255  # type: ignore[index]


def test_quantised_png_keeps_alpha() -> None:
    settings = settings_for("png", png=PngOptions(quality=50))
    decoded = decode(encode(half_transparent(), settings))
    assert decoded.mode == "P"
    rgba = decoded.convert("RGBA")
    assert rgba.getpixel((24, 8))[3] == 0  # type: ignore[index]
    assert rgba.getpixel((8, 8)) == (255, 0, 0, 255)


@pytest.mark.parametrize("fmt", ["png", "webp", "avif"])
def test_an_opaque_alpha_channel_is_dropped(fmt: EncodedFormat) -> None:
    opaque = photo_like().convert("RGBA")
    assert decode(encode(opaque, settings_for(fmt))).mode == "RGB"


# --------------------------------------------------------------------------------------------
# Metadata


def tagged(image: Image.Image) -> Image.Image:
    """The image with every kind of metadata Pillow might copy into an output."""
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x0112] = 6  # Orientation
    image.info.update(
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        exif=exif.tobytes(),
        comment=b"a comment",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'></x:xmpmeta>",
        dpi=(300, 300),
    )
    return image


METADATA_MARKERS = (b"Exif", b"ICC_PROFILE", b"iCCP", b"ICCP", b"xmpmeta", b"a comment", b"colr")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_metadata_even_when_the_image_carries_it(fmt: EncodedFormat) -> None:
    image = tagged(photo_like())
    data = encode(image, settings_for(fmt))
    decoded = decode(data)
    assert not {"icc_profile", "exif", "xmp", "comment"} & set(decoded.info)
    found = [marker for marker in METADATA_MARKERS if marker in data]
    # AVIF always has a `colr` box (nclx: sRGB primaries and transfer); it must not be an ICC one.
    assert found in ([], [b"colr"]) and b"prof" not in data and b"rICC" not in data


def test_no_metadata_from_a_real_tagged_jpeg(tmp_path: Path) -> None:
    source = tmp_path / "tagged.jpg"
    plain = photo_like()
    tagged(plain).save(source, icc_profile=plain.info["icc_profile"], exif=plain.info["exif"])
    with Image.open(source) as opened:
        assert "icc_profile" in opened.info and "exif" in opened.info  # the test can fail
        for fmt in FORMATS:
            data = encode(opened, settings_for(fmt))
            assert not {"icc_profile", "exif"} & set(decode(data).info), fmt
            assert b"Exif" not in data and b"ICC_PROFILE" not in data, fmt


# --------------------------------------------------------------------------------------------
# Determinism


def digests() -> dict[str, str]:
    """SHA-256 of each format's encoding of a fixed image (also run in subprocesses)."""
    image = photo_like((160, 120))
    out: dict[str, str] = {}
    for fmt in FORMATS:
        data = encode(
            image, encoder_settings(fmt, quality=None, jpg=None, png=None, webp=None, avif=None)
        )
        out[fmt] = hashlib.sha256(data).hexdigest()
    lossless = encoder_settings(
        "avif", quality=None, jpg=None, png=None, webp=None, avif=AvifOptions(lossless=True)
    )
    out["avif-lossless"] = hashlib.sha256(encode(image, lossless)).hexdigest()
    return out


def test_bytes_are_identical_across_processes() -> None:
    script = (
        "import json; from tests.compiler.images.test_encode import digests; "
        "print(json.dumps(digests()))"
    )
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", script],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1] == digests()


# --------------------------------------------------------------------------------------------
# Animation


def test_animated_webp_round_trips_frames_and_durations() -> None:
    colours = ["red", "lime", "blue"]
    durations = [100, 250, 400]
    frames = [
        (Image.new("RGB", (24, 16), colour), ms)
        for colour, ms in zip(colours, durations, strict=True)
    ]
    data = encode_animation(frames, 0, settings_for("webp"))
    animation = Image.open(io.BytesIO(data))
    assert isinstance(animation, WebPImagePlugin.WebPImageFile)
    assert animation.n_frames == 3
    assert animation.info["loop"] == 0
    seen = []
    for index in range(animation.n_frames):
        animation.seek(index)
        animation.load()  # Pillow reads a frame's duration when it decodes it
        seen.append(animation.info["duration"])
    assert seen == durations


def test_animated_webp_keeps_alpha_and_loop_count() -> None:
    frames = [(half_transparent(), 50), (half_transparent().rotate(180), 50)]
    animation = Image.open(io.BytesIO(encode_animation(frames, 3, settings_for("webp"))))
    assert animation.info["loop"] == 3
    assert animation.mode == "RGBA"
    for index, (clear, solid) in enumerate((((24, 8), (8, 8)), ((8, 8), (24, 8)))):
        animation.seek(index)
        animation.load()
        assert animation.getpixel(clear)[3] == 0  # type: ignore[index]
        assert animation.getpixel(solid)[3] == 255  # type: ignore[index]


def test_animation_is_webp_only() -> None:
    with pytest.raises(ValueError, match="WebP"):
        encode_animation([(photo_like(), 100)], 0, settings_for("avif"))


# --------------------------------------------------------------------------------------------
# Identity


def test_identity_names_the_libraries() -> None:
    identity = encoder_identity()
    assert identity["pillow"] == PIL.__version__
    assert identity["libwebp"] == features.version("webp")
    assert identity["libavif"] == (features.version("avif") or "none")
    assert identity["zlib"] == features.version("zlib")
    assert all(isinstance(value, str) and value for value in identity.values())
    identity["pillow"] = "changed"
    assert encoder_identity()["pillow"] == PIL.__version__  # a copy, not the cached value
