"""Decoding sources: orientation, colour, bit depth, transparency, draft mode, animation, and
every way a file can be unusable, on the real files in fixtures/images."""

from __future__ import annotations

import importlib.util
import io
import pickle
import struct
import warnings
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image, ImageCms, ImageFile, ImageOps

from staticimg.compiler.images.decode import (
    Decoded,
    ImageError,
    SourceInfo,
    decode,
    probe,
)

LIMIT = 100_000_000


def full(path: Path, *, all_frames: bool = False) -> Decoded:
    """Decode at full resolution, as the pipeline does when the largest output is the source."""
    info = probe(path, max_pixels=LIMIT)
    return decode(
        path,
        min_width=info.width,
        min_height=info.height,
        max_pixels=LIMIT,
        all_frames=all_frames,
    )


def near(actual: tuple[int, ...], expected: tuple[int, ...], tolerance: int) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


# --------------------------------------------------------------------------------------------
# The fixtures are what the script makes


def load_build_script(images_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("fixture_images_build", images_dir / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_script_reproduces_the_committed_fixtures_byte_for_byte(
    images_dir: Path, tmp_path: Path
) -> None:
    build = load_build_script(images_dir)
    written = build.build(tmp_path)
    committed = {p.name for p in images_dir.iterdir() if p.is_file()} - {"build.py", "README.md"}
    # Nothing committed that the script no longer makes, nothing made that is not committed.
    assert committed == set(build.FIXTURES)
    missing = set(build.FIXTURES) - set(written)
    assert missing <= {"photo.jpg"}  # made from the shared corpus, when it is there
    for name in written:
        assert (tmp_path / name).read_bytes() == (images_dir / name).read_bytes(), (
            f"{name} differs from what build.py makes: run `python fixtures/images/build.py`"
        )


# --------------------------------------------------------------------------------------------
# probe


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("orientation-3.jpg", SourceInfo("jpg", 48, 32, False, 1)),
        ("orientation-6.jpg", SourceInfo("jpg", 32, 48, False, 1)),  # stored 48×32
        ("orientation-8.jpg", SourceInfo("jpg", 32, 48, False, 1)),
        ("cmyk.jpg", SourceInfo("jpg", 80, 16, False, 1)),
        ("gray16.png", SourceInfo("png", 64, 8, False, 1)),
        ("palette-transparent.png", SourceInfo("png", 32, 32, True, 1)),
        ("opaque-alpha.png", SourceInfo("png", 32, 32, True, 1)),  # an alpha channel, unused
        ("animated.gif", SourceInfo("gif", 24, 16, False, 3)),
        ("animated.webp", SourceInfo("webp", 24, 16, True, 3)),
        ("one-pixel.png", SourceInfo("png", 1, 1, False, 1)),
        ("wide-1000x10.png", SourceInfo("png", 1000, 10, False, 1)),
        ("truncated.jpg", SourceInfo("jpg", 96, 64, False, 1)),  # the header is intact
    ],
)
def test_probe_reads_format_oriented_size_alpha_and_frames(
    images_dir: Path, name: str, expected: SourceInfo
) -> None:
    assert probe(images_dir / name, max_pixels=LIMIT) == expected


def test_probe_never_decodes_pixels(images_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("probe decoded pixel data")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    for name in ["orientation-6.jpg", "gray16.png", "animated.gif", "animated.webp"]:
        probe(images_dir / name, max_pixels=LIMIT)
    # 900 Mpx under a limit of 1000 Mpx: fine, because nothing is allocated or decoded.
    assert probe(images_dir / "bomb.png", max_pixels=10**9).width == 30_000


@pytest.mark.parametrize(
    ("fmt", "options", "expected"),
    [
        ("AVIF", {}, "avif"),
        ("TIFF", {}, "tiff"),
        ("BMP", {}, "bmp"),
        ("WEBP", {}, "webp"),
        ("JPEG", {}, "jpg"),
    ],
)
def test_probe_uses_gatsby_format_names(
    tmp_path: Path, fmt: str, options: dict[str, object], expected: str
) -> None:
    path = tmp_path / f"image.{fmt.lower()}"
    Image.new("RGB", (20, 10), (10, 200, 30)).save(path, fmt, **options)
    info = probe(path, max_pixels=LIMIT)
    assert (info.format, info.width, info.height) == (expected, 20, 10)
    assert decode(path, min_width=20, min_height=10, max_pixels=LIMIT).image.size == (20, 10)


# --------------------------------------------------------------------------------------------
# Orientation

# Stored 48×32: red block at the stored top left, green at the stored top right.
# (red centre, green centre) once oriented.
MARKERS = {
    3: ((39, 23), (8, 23)),  # rotated 180°: red bottom right, green bottom left
    6: ((23, 8), (23, 39)),  # 90° clockwise: red top right, green bottom right
    8: ((8, 39), (8, 8)),  # 90° anticlockwise: red bottom left, green top left
}


@pytest.mark.parametrize("orientation", sorted(MARKERS))
def test_exif_orientation_is_applied_before_anything_is_measured(
    images_dir: Path, orientation: int
) -> None:
    decoded = full(images_dir / f"orientation-{orientation}.jpg")
    image = decoded.image
    assert image.size == ((48, 32) if orientation == 3 else (32, 48))
    red_at, green_at = MARKERS[orientation]
    assert near(image.getpixel(red_at), (220, 20, 20), 12)  # type: ignore[arg-type]
    assert near(image.getpixel(green_at), (20, 200, 20), 12)  # type: ignore[arg-type]
    # The other two corners are grey: a flip would have put a marker there.
    corners = {(x, y) for x in (8, image.width - 9) for y in (8, image.height - 9)}
    assert {red_at, green_at} < corners
    for corner in corners - {red_at, green_at}:
        assert near(image.getpixel(corner), (128, 128, 128), 12)  # type: ignore[arg-type]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillow_exif_transpose(tmp_path: Path, orientation: int) -> None:
    # Lossless, asymmetric pixels, so that every one of the eight cases is told apart.
    source = Image.new("RGB", (5, 3))
    source.putdata([(x * 50, y * 100, 7) for y in range(3) for x in range(5)])
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "oriented.png"
    source.save(path, exif=exif)

    decoded = full(path)
    with Image.open(path) as image:
        expected = ImageOps.exif_transpose(image)
    assert decoded.image.size == expected.size
    assert decoded.image.tobytes() == expected.convert("RGB").tobytes()
    assert (probe(path, max_pixels=LIMIT).width, probe(path, max_pixels=LIMIT).height) == (
        expected.size
    )


def test_the_decoded_image_carries_no_metadata(images_dir: Path) -> None:
    for name in ["orientation-6.jpg", "photo.jpg", "cmyk.jpg", "adobe-rgb.png"]:
        image = full(images_dir / name).image
        assert image.info == {}
        assert dict(image.getexif()) == {}
        # A plain image, not the opened file with its EXIF, ICC and file handle.
        assert not isinstance(image, ImageFile.ImageFile)


# --------------------------------------------------------------------------------------------
# Draft mode


@pytest.mark.parametrize(
    ("minimum", "size", "scale"),
    [
        ((100, 75), (100, 75), 0.25),
        ((60, 40), (100, 75), 0.25),  # 1/8 would be 50×38: too small for 60 wide
        ((101, 75), (200, 150), 0.5),
        ((200, 10), (200, 150), 0.5),
        ((201, 150), (400, 300), 1.0),
        ((400, 300), (400, 300), 1.0),
        ((1, 1), (50, 38), 0.125),
    ],
)
def test_draft_mode_decodes_at_the_smallest_scale_that_covers_the_minimum(
    images_dir: Path, minimum: tuple[int, int], size: tuple[int, int], scale: float
) -> None:
    decoded = decode(
        images_dir / "photo.jpg", min_width=minimum[0], min_height=minimum[1], max_pixels=LIMIT
    )
    assert decoded.image.size == size
    assert decoded.scale == scale
    assert decoded.image.width >= minimum[0] and decoded.image.height >= minimum[1]


def test_draft_mode_works_in_the_oriented_frame(images_dir: Path) -> None:
    # Oriented 32×48 (stored 48×32). A 16×24 request is half size in both directions; asked
    # unrotated (16 wide of 48, 24 high of 32) it would not reduce at all.
    decoded = decode(
        images_dir / "orientation-6.jpg", min_width=16, min_height=24, max_pixels=LIMIT
    )
    assert decoded.image.size == (16, 24)
    assert decoded.scale == 0.5
    assert near(decoded.image.getpixel((12, 4)), (220, 20, 20), 20)  # type: ignore[arg-type]


def test_only_jpeg_has_a_draft_mode(images_dir: Path) -> None:
    decoded = decode(images_dir / "wide-1000x10.png", min_width=1, min_height=1, max_pixels=LIMIT)
    assert (decoded.image.size, decoded.scale) == ((1000, 10), 1.0)


# --------------------------------------------------------------------------------------------
# Colour


def patches(image: Image.Image) -> list[tuple[int, ...]]:
    return [image.getpixel((x, 8)) for x in range(8, image.width, 16)]  # type: ignore[misc]


def test_cmyk_without_a_profile_uses_pillows_conversion(images_dir: Path) -> None:
    decoded = full(images_dir / "cmyk.jpg")
    assert decoded.image.mode == "RGB"
    cyan, magenta, yellow, black, paper = patches(decoded.image)
    assert near(cyan, (0, 255, 255), 6)
    assert near(magenta, (255, 0, 255), 6)
    assert near(yellow, (255, 255, 0), 6)
    assert near(black, (0, 0, 0), 6)
    assert near(paper, (255, 255, 255), 6)


def test_cmyk_with_an_embedded_profile_converts_through_it(cmyk_profile_jpeg: Path) -> None:
    # Ghostscript's SWOP profile: printed inks are duller than screen primaries.
    decoded = full(cmyk_profile_jpeg)
    assert decoded.image.info == {}
    cyan, magenta, yellow, black, paper = patches(decoded.image)
    assert cyan[0] < 30 and 150 < cyan[1] < 200 and cyan[2] > 220
    assert magenta[0] > 200 and magenta[1] < 60 and 110 < magenta[2] < 170
    assert yellow[0] > 240 and yellow[1] > 220 and yellow[2] < 30
    assert all(25 < channel < 65 for channel in black)  # ink on paper is not #000
    assert all(channel > 248 for channel in paper)


def test_an_adobe_rgb_image_is_converted_to_srgb(images_dir: Path) -> None:
    # Stored (200, 60, 60), (100, 200, 100), (128, 128, 128) in Adobe RGB (1998).
    red, green, grey = patches(full(images_dir / "adobe-rgb.png").image)
    assert red[0] > 220  # Adobe RGB's red is further out than sRGB's
    assert green[0] < 30 and green[1] > 195  # its green much further
    assert max(grey) - min(grey) <= 2 and abs(grey[0] - 128) <= 3  # neutral stays neutral


def test_a_profile_converts_rgba_and_keeps_the_alpha(images_dir: Path, tmp_path: Path) -> None:
    icc = (images_dir / "profiles" / "compatibleWithAdobeRGB1998.icc").read_bytes()
    path = tmp_path / "adobe-alpha.png"
    Image.new("RGBA", (4, 4), (100, 200, 100, 90)).save(path, icc_profile=icc)
    image = full(path).image
    assert image.mode == "RGBA"
    red, green, _, alpha = image.getpixel((1, 1))  # type: ignore[misc]
    assert red < 30 and green > 195 and alpha == 90


def test_a_broken_profile_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "broken-profile.png"
    Image.new("RGB", (4, 4), (40, 110, 180)).save(path, icc_profile=b"not a profile at all")
    assert full(path).image.getpixel((0, 0)) == (40, 110, 180)


def test_a_profile_for_another_colour_space_is_ignored(cmyk_profile: bytes, tmp_path: Path) -> None:
    # A CMYK profile on an RGB image cannot describe it.
    icc = cmyk_profile
    path = tmp_path / "mislabelled.png"
    Image.new("RGB", (4, 4), (40, 110, 180)).save(path, icc_profile=icc)
    assert full(path).image.getpixel((0, 0)) == (40, 110, 180)


def test_16_bit_grey_is_scaled_not_clipped(images_dir: Path) -> None:
    image = full(images_dir / "gray16.png").image
    assert image.mode == "RGB"
    row = [image.getpixel((x, 4)) for x in range(64)]
    assert all(r == g == b for r, g, b in row)  # type: ignore[misc]
    values = [pixel[0] for pixel in row]  # type: ignore[index]
    assert values[0] == 0 and values[-1] == 255
    assert values == sorted(values)
    # Stored round(x·65535/63): 8 bits is that ÷257, within rounding. Clipping would give 255
    # from x = 1 on.
    assert all(abs(v - x * 255 / 63) <= 1 for x, v in enumerate(values))


def test_16_bit_big_endian_tiff_is_scaled(tmp_path: Path) -> None:
    values = [0, 129, 32768, 65535]
    path = tmp_path / "grey16.tif"
    Image.frombytes("I;16B", (4, 1), struct.pack(">4H", *values)).save(path)
    with Image.open(path) as stored:
        assert stored.mode == "I;16B"
    image = full(path).image
    expected = [(v, v, v) for v in (0, 1, 128, 255)]  # rounded: 129/257 is 0.5
    assert [image.getpixel((x, 0)) for x in range(4)] == expected


def test_grayscale_jpeg_becomes_rgb(images_dir: Path) -> None:
    image = full(images_dir / "gray.jpg").image
    assert image.mode == "RGB"
    for x in (0, 20, 63):
        red, green, blue = image.getpixel((x, 10))  # type: ignore[misc]
        assert red == green == blue
        assert abs(red - x * 4) <= 4


# --------------------------------------------------------------------------------------------
# Transparency


def test_palette_transparency_becomes_rgba(images_dir: Path) -> None:
    decoded = full(images_dir / "palette-transparent.png")
    assert decoded.has_alpha and decoded.image.mode == "RGBA"
    image = decoded.image
    assert image.getpixel((8, 8))[3] == 0  # type: ignore[index]
    assert image.getpixel((24, 8)) == (255, 0, 0, 255)
    assert image.getpixel((8, 24)) == (0, 0, 255, 255)
    assert image.getpixel((24, 24)) == (0, 255, 0, 128)


def test_fully_opaque_alpha_is_dropped(images_dir: Path) -> None:
    decoded = full(images_dir / "opaque-alpha.png")
    assert (decoded.image.mode, decoded.has_alpha) == ("RGB", False)
    with Image.open(images_dir / "opaque-alpha.png") as stored:
        assert decoded.image.tobytes() == stored.convert("RGB").tobytes()


def test_real_transparency_is_kept(images_dir: Path) -> None:
    decoded = full(images_dir / "transparent-black.png")
    assert (decoded.image.mode, decoded.has_alpha) == ("RGBA", True)
    assert decoded.image.getpixel((0, 0)) == (0, 0, 0, 0)
    assert decoded.image.getpixel((32, 32)) == (200, 30, 30, 255)


def test_grey_with_alpha_becomes_rgba(tmp_path: Path) -> None:
    path = tmp_path / "la.png"
    Image.new("LA", (4, 4), (90, 40)).save(path)
    decoded = full(path)
    assert decoded.image.getpixel((0, 0)) == (90, 90, 90, 40)


# --------------------------------------------------------------------------------------------
# Animation


def test_animated_gif_frames_and_durations(images_dir: Path) -> None:
    decoded = full(images_dir / "animated.gif", all_frames=True)
    assert [frame.duration_ms for frame in decoded.frames] == [100, 200, 300]
    colours = [frame.image.getpixel((12, 8)) for frame in decoded.frames]
    assert colours == [(220, 20, 20), (20, 200, 20), (20, 20, 220)]
    assert {frame.image.mode for frame in decoded.frames} == {"RGB"}
    assert decoded.image is decoded.frames[0].image
    assert decoded.loop == 0  # forever
    assert not decoded.has_alpha


def test_animated_webp_frames_share_one_mode(images_dir: Path) -> None:
    decoded = full(images_dir / "animated.webp", all_frames=True)
    assert [frame.duration_ms for frame in decoded.frames] == [100, 200, 300]
    # Only the last frame has transparent pixels; every frame is RGBA so they encode as one.
    assert [frame.image.mode for frame in decoded.frames] == ["RGBA"] * 3
    assert decoded.frames[0].image.getpixel((0, 0)) == (220, 20, 20, 255)
    assert decoded.frames[2].image.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert decoded.frames[2].image.getpixel((20, 12)) == (20, 20, 220, 255)
    assert decoded.has_alpha and decoded.loop == 3


def test_without_all_frames_an_animation_decodes_its_first_frame(images_dir: Path) -> None:
    decoded = full(images_dir / "animated.webp")
    assert decoded.frames == ()
    # The first frame alone is opaque: RGB.
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((0, 0)) == (220, 20, 20)


def test_tiny_and_extreme_shapes(images_dir: Path) -> None:
    assert full(images_dir / "one-pixel.png").image.getpixel((0, 0)) == (10, 120, 200)
    assert full(images_dir / "wide-1000x10.png").image.size == (1000, 10)


# --------------------------------------------------------------------------------------------
# Unusable files


@pytest.mark.parametrize(
    ("name", "probe_code", "decode_code"),
    [
        ("truncated.jpg", None, "SI304"),
        ("truncated.png", None, "SI304"),
        ("damaged-header.png", "SI304", "SI304"),
        ("empty.jpg", "SI303", "SI303"),
        ("not-an-image.png", "SI303", "SI303"),
        ("bomb.png", "SI305", "SI305"),
    ],
)
def test_every_bad_file_is_an_image_error_with_its_code(
    images_dir: Path, name: str, probe_code: str | None, decode_code: str
) -> None:
    path = images_dir / name
    if probe_code is None:
        probe(path, max_pixels=LIMIT)
    else:
        with pytest.raises(ImageError) as probed:
            probe(path, max_pixels=LIMIT)
        assert probed.value.code == probe_code
    # pytest.raises(ImageError) lets any other exception type through, failing the test.
    with pytest.raises(ImageError) as decoded:
        decode(path, min_width=1, min_height=1, max_pixels=LIMIT, all_frames=True)
    error = decoded.value
    assert error.code == decode_code
    assert error.message and error.hint
    assert str(error).startswith(decode_code)


def test_messages_say_what_is_wrong(images_dir: Path) -> None:
    def message(name: str) -> str:
        with pytest.raises(ImageError) as caught:
            decode(images_dir / name, min_width=1, min_height=1, max_pixels=LIMIT)
        return caught.value.message

    assert message("empty.jpg") == "the file is empty (0 bytes)"
    assert "b'hello, I am a te'" in message("not-an-image.png")
    assert "starts like a png image" in message("damaged-header.png")
    assert "truncated" in message("truncated.jpg")
    assert "100,000,000" in message("bomb.png")


@pytest.mark.parametrize("limit", [400_000_000, 600_000_000])
def test_the_pixel_limit_is_the_limit_given(images_dir: Path, limit: int) -> None:
    # Pillow only warns between the limit and twice the limit (900 Mpx is both cases here):
    # the warning must refuse the file too.
    with pytest.raises(ImageError) as caught:
        probe(images_dir / "bomb.png", max_pixels=limit)
    assert caught.value.code == "SI305"


def test_the_pixel_limit_refuses_a_real_image_just_over_it(images_dir: Path) -> None:
    with pytest.raises(ImageError) as caught:
        decode(images_dir / "photo.jpg", min_width=1, min_height=1, max_pixels=400 * 300 - 1)
    assert caught.value.code == "SI305"
    assert decode(images_dir / "photo.jpg", min_width=1, min_height=1, max_pixels=400 * 300)


def test_pillow_global_state_is_restored(images_dir: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    filters = list(warnings.filters)
    with pytest.raises(ImageError):
        probe(images_dir / "bomb.png", max_pixels=1000)
    full(images_dir / "photo.jpg")
    assert before == Image.MAX_IMAGE_PIXELS
    assert warnings.filters == filters


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ImageError) as missing:
        probe(tmp_path / "nowhere.jpg", max_pixels=LIMIT)
    assert missing.value.code == "SI301"
    with pytest.raises(ImageError) as folder:
        decode(tmp_path, min_width=1, min_height=1, max_pixels=LIMIT)
    assert folder.value.code == "SI307"


def test_a_recognised_but_unsupported_format_is_named(tmp_path: Path) -> None:
    path = tmp_path / "favicon.png"  # the name lies; the content is an icon
    Image.new("RGB", (16, 16)).save(path, "ICO")
    with pytest.raises(ImageError) as caught:
        probe(path, max_pixels=LIMIT)
    assert caught.value.code == "SI303"
    assert "ICO" in caught.value.message


def test_image_error_survives_pickling() -> None:
    # Worker processes send failures back to the parent.
    error = pickle.loads(pickle.dumps(ImageError("SI304", "damaged", "save it again")))
    assert (error.code, error.message, error.hint) == ("SI304", "damaged", "save it again")


def test_a_truncated_jpeg_is_never_silently_grey(images_dir: Path) -> None:
    # Pillow can be told to decode what is there and fill the rest with grey; we never do.
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = (images_dir / "truncated.jpg").read_bytes()
    with Image.open(io.BytesIO(data)) as image, pytest.raises(OSError, match="truncated"):
        image.load()


def test_srgb_profile_output_matches_lcms(images_dir: Path) -> None:
    # The conversion is lcms's own: same numbers as ImageCms on the stored patch colour.
    icc = (images_dir / "profiles" / "compatibleWithAdobeRGB1998.icc").read_bytes()
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    srgb = ImageCms.createProfile("sRGB")
    expected = ImageCms.profileToProfile(Image.new("RGB", (1, 1), (200, 60, 60)), source, srgb)
    assert expected is not None
    assert patches(full(images_dir / "adobe-rgb.png").image)[0] == expected.getpixel((0, 0))


def test_an_opaque_animation_decodes_to_rgb_frames(tmp_path: Path) -> None:
    # Made from RGBA frames whose alpha is all 255: nothing to keep.
    path = tmp_path / "opaque.webp"
    frames = [Image.new("RGBA", (8, 8), (*colour, 255)) for colour in [(250, 0, 0), (0, 0, 250)]]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=[40, 80], lossless=True)
    decoded = full(path, all_frames=True)
    assert [frame.image.mode for frame in decoded.frames] == ["RGB", "RGB"]
    assert [frame.duration_ms for frame in decoded.frames] == [40, 80]
    assert not decoded.has_alpha
