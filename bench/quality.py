"""The quality study that sets staticimg's default encoder qualities (docs/formats.md).

For each photo of the corpus and each output width, the photo is resized with the pipeline's
own `resize` (Lanczos) and that image is the reference. It is then encoded as JPEG, WebP and
AVIF at a sweep of qualities (Gatsby's 50 among them) with the pipeline's own `encode`, decoded
again, and compared with the reference by SSIM (scikit-image's `structural_similarity`, with
the Gaussian window of Wang et al. 2004, over the three RGB channels). Reported per format and
quality: median bytes, median bits per pixel, median and 10th-percentile SSIM, median encode
time. Side studies: AVIF speed, WebP effort, PNG compression level and Lanczos `reducing_gap`.

How the defaults are read from the table:

1. JPEG's default is the knee of its median bytes/SSIM curve (Kneedle: the swept quality
   farthest above the chord from the lowest to the highest quality, in log-bytes/SSIM).
2. WebP's and AVIF's defaults are the lowest swept qualities whose median SSIM reaches JPEG's
   at its default: equal visual quality whichever <source> the browser picks, so the smaller
   files of the newer formats are real savings and not a quality drop.

Needs the `bench` extra (scikit-image). Run by hand, not by pytest:

    python bench/quality.py [--corpus DIR] [--limit N] [--width W ...] [--jobs N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from io import BytesIO
from pathlib import Path
from typing import TypeVar

import numpy as np  # type: ignore[import-not-found, unused-ignore]  # the bench extra
from PIL import Image, ImageOps
from skimage.metrics import (  # type: ignore[import-untyped, import-not-found, unused-ignore]
    structural_similarity,
)

from staticimg.compiler.images.encode import (
    DEFAULT_QUALITY,
    EncoderSettings,
    encode,
    encoder_identity,
    encoder_settings,
)
from staticimg.compiler.images.transform import resize
from staticimg.compiler.props import AvifOptions, EncodedFormat, PngOptions, WebpOptions

DEFAULT_CORPUS = Path(os.environ.get("STATICIMG_CORPUS", "/work/shared/corpus"))
DEFAULT_WIDTHS = (800, 1600)
QUALITIES = (30, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90)
LOSSY: tuple[EncodedFormat, ...] = ("jpg", "webp", "avif")
AVIF_SPEEDS = (5, 6, 7, 8, 9)
WEBP_EFFORTS = (2, 4, 6)
PNG_SPEEDS = (1, 4, 9)  # compression_speed → zlib level 9, 6, 1
REDUCING_GAPS = (None, 2.0, 3.0)
RESIZE_WIDTH = 400  # also studied: a big reduction, where reducing_gap matters most

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Sample:
    """One encode of one photo at one width."""

    study: str  # "quality", "avif-speed", "webp-effort", "png-level", "resize"
    photo: str
    width: int
    height: int
    label: str  # the format, or what the side study varies
    setting: str  # the quality, speed, effort, level or gap
    bytes: int
    ssim: float
    ms: float


def _ssim(reference: np.ndarray, image: Image.Image) -> float:
    test = np.asarray(image.convert("RGB"))
    value = structural_similarity(  # type: ignore[no-untyped-call, unused-ignore]
        reference,
        test,
        channel_axis=2,
        data_range=255,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
    )
    return float(value)


def _timed(action: Callable[[], _T]) -> tuple[_T, float]:
    started = time.perf_counter()
    result = action()
    return result, (time.perf_counter() - started) * 1000


def _encode_sample(
    study: str,
    photo: str,
    image: Image.Image,
    reference: np.ndarray,
    label: str,
    setting: object,
    settings: EncoderSettings,
) -> Sample:
    data, ms = _timed(lambda: encode(image, settings))
    decoded = Image.open(BytesIO(data))
    return Sample(
        study,
        photo,
        image.width,
        image.height,
        label,
        str(setting),
        len(data),
        _ssim(reference, decoded),
        ms,
    )


def _load(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        image = ImageOps.exif_transpose(opened)
        return image.convert("RGB")


def measure_photo(path: Path, widths: Sequence[int], side_studies: bool) -> list[Sample]:
    """Every measurement for one photo (runs in a worker process)."""
    source = _load(path)
    samples: list[Sample] = []
    for width in widths:
        if width > source.width:
            continue  # never upscale: a photo narrower than the width sits this one out
        height = max(1, round(width * source.height / source.width))
        image = resize(source, width, height, fit="fill", background=None)
        reference = np.asarray(image)
        for fmt in LOSSY:
            for quality in QUALITIES:
                settings = encoder_settings(
                    fmt, quality=quality, jpg=None, png=None, webp=None, avif=None
                )
                samples.append(
                    _encode_sample("quality", path.name, image, reference, fmt, quality, settings)
                )
        if not side_studies:
            continue
        for speed in AVIF_SPEEDS:
            settings = encoder_settings(
                "avif", quality=None, jpg=None, png=None, webp=None, avif=AvifOptions(speed=speed)
            )
            samples.append(
                _encode_sample("avif-speed", path.name, image, reference, "avif", speed, settings)
            )
        for effort in WEBP_EFFORTS:
            settings = encoder_settings(
                "webp", quality=None, jpg=None, png=None, webp=WebpOptions(effort=effort), avif=None
            )
            samples.append(
                _encode_sample("webp-effort", path.name, image, reference, "webp", effort, settings)
            )
        for speed in PNG_SPEEDS:
            options = PngOptions(compression_speed=speed)
            settings = encoder_settings(
                "png", quality=None, jpg=None, png=options, webp=None, avif=None
            )
            samples.append(
                _encode_sample(
                    "png-level",
                    path.name,
                    image,
                    reference,
                    "png",
                    settings.compress_level,
                    settings,
                )
            )
    if side_studies:
        samples.extend(_resize_study(path.name, source, sorted({RESIZE_WIDTH, *widths})))
    return samples


def _resize_study(photo: str, source: Image.Image, widths: Sequence[int]) -> list[Sample]:
    """Lanczos from the full source with each reducing_gap, scored against no gap at all."""
    samples = []
    for width in widths:
        if width > source.width:
            continue
        size = (width, max(1, round(width * source.height / source.width)))
        exact = np.asarray(source.resize(size, Image.Resampling.LANCZOS))
        for gap in REDUCING_GAPS:
            resized, ms = _timed(
                partial(source.resize, size, Image.Resampling.LANCZOS, reducing_gap=gap)
            )
            ssim = _ssim(exact, resized)
            samples.append(Sample("resize", photo, *size, "lanczos", str(gap), 0, ssim, ms))
    return samples


# --------------------------------------------------------------------------------------------
# Summaries


@dataclass(frozen=True, slots=True)
class Row:
    width: int
    label: str
    setting: str
    photos: int
    median_bytes: int
    median_bpp: float
    median_ssim: float
    p10_ssim: float
    median_ms: float


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.floor(fraction * len(ordered)))]


def summarise(samples: Iterable[Sample], study: str) -> list[Row]:
    groups: dict[tuple[int, str, str], list[Sample]] = defaultdict(list)
    for sample in samples:
        if sample.study == study:
            groups[(sample.width, sample.label, sample.setting)].append(sample)
    rows = []
    for (width, label, setting), group in groups.items():
        ssims = [s.ssim for s in group]
        rows.append(
            Row(
                width,
                label,
                setting,
                len(group),
                round(statistics.median(s.bytes for s in group)),
                statistics.median(8 * s.bytes / (s.width * s.height) for s in group),
                statistics.median(ssims),
                _percentile(ssims, 0.1),
                statistics.median(s.ms for s in group),
            )
        )
    order = {label: index for index, label in enumerate(("jpg", "webp", "avif", "png"))}

    def sort_key(row: Row) -> tuple[int, int, float]:
        setting = -1.0 if row.setting == "None" else float(row.setting)
        return row.width, order.get(row.label, 9), setting

    return sorted(rows, key=sort_key)


def knee(rows: Sequence[Row]) -> Row:
    """Kneedle on (log bytes, SSIM): the row farthest above the chord of the curve."""
    first, last = rows[0], rows[-1]
    x0, x1 = math.log(first.median_bytes), math.log(last.median_bytes)
    y0, y1 = first.median_ssim, last.median_ssim

    def lift(row: Row) -> float:
        x = (math.log(row.median_bytes) - x0) / (x1 - x0)
        y = (row.median_ssim - y0) / (y1 - y0)
        return y - x

    return max(rows, key=lift)


def matching(rows: Sequence[Row], target_ssim: float) -> Row | None:
    """The lowest-quality row whose median SSIM reaches the target."""
    for row in rows:
        if row.median_ssim >= target_ssim:
            return row
    return None


def print_table(title: str, rows: Sequence[Row], setting_name: str, with_bytes: bool) -> None:
    print(f"\n### {title}\n")
    columns = ["width", "format", setting_name, "photos"]
    if with_bytes:
        columns += ["median bytes", "median bpp"]
    columns += ["median SSIM", "p10 SSIM", "median ms"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        cells = [str(row.width), row.label, row.setting, str(row.photos)]
        if with_bytes:
            cells += [f"{row.median_bytes:,}", f"{row.median_bpp:.3f}"]
        cells += [f"{row.median_ssim:.4f}", f"{row.p10_ssim:.4f}", f"{row.median_ms:.1f}"]
        print("| " + " | ".join(cells) + " |")


def report(samples: list[Sample]) -> None:
    quality_rows = summarise(samples, "quality")
    print_table("Quality sweep", quality_rows, "quality", with_bytes=True)

    print("\n### Reading the defaults off the sweep\n")
    for width in sorted({row.width for row in quality_rows}):
        by_format = {
            fmt: [r for r in quality_rows if r.width == width and r.label == fmt] for fmt in LOSSY
        }
        jpg_knee = knee(by_format["jpg"])
        jpg_default = next(
            (r for r in by_format["jpg"] if r.setting == str(DEFAULT_QUALITY["jpg"])), jpg_knee
        )
        print(
            f"- width {width}: JPEG knee at q{jpg_knee.setting} (SSIM {jpg_knee.median_ssim:.4f},"
            f" {jpg_knee.median_bytes:,} B); JPEG default q{jpg_default.setting}:"
            f" SSIM {jpg_default.median_ssim:.4f}, {jpg_default.median_bytes:,} B"
        )
        for fmt in ("webp", "avif"):
            match = matching(by_format[fmt], jpg_default.median_ssim)
            if match is None:
                print(f"  - {fmt}: no swept quality reaches that SSIM")
                continue
            saving = 1 - match.median_bytes / jpg_default.median_bytes
            print(
                f"  - {fmt}: q{match.setting} matches it (SSIM {match.median_ssim:.4f},"
                f" {match.median_bytes:,} B, {saving:.0%} smaller than JPEG)"
            )
        for fmt in LOSSY:
            at_default = [r for r in by_format[fmt] if r.setting == str(DEFAULT_QUALITY[fmt])]
            if at_default:
                row = at_default[0]
                print(
                    f"  - at our default {fmt} q{row.setting}: {row.median_bytes:,} B,"
                    f" SSIM {row.median_ssim:.4f}, encode {row.median_ms:.0f} ms"
                    f" ({_megapixels_per_second(row):.1f} MP/s)"
                )

    for study, setting in (
        ("avif-speed", "speed"),
        ("webp-effort", "effort"),
        ("png-level", "zlib level"),
    ):
        rows = summarise(samples, study)
        if rows:
            print_table(f"Side study: {study}", rows, setting, with_bytes=True)
    rows = summarise(samples, "resize")
    if rows:
        print_table(
            "Side study: Lanczos reducing_gap (SSIM against reducing_gap=None)",
            rows,
            "reducing_gap",
            with_bytes=False,
        )


def _megapixels_per_second(row: Row) -> float:
    height = row.width * 10 / 16  # the corpus is mostly 16:10; only for a rough rate
    return row.width * height / 1e6 / (row.median_ms / 1000)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos")
    parser.add_argument(
        "--width", type=int, action="append", help="output width (repeatable; 800 and 1600)"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-side-studies", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="also write every sample here")
    args = parser.parse_args(argv)

    photos = sorted(
        p for p in args.corpus.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )[: args.limit]
    widths = tuple(args.width or DEFAULT_WIDTHS)
    print(
        f"{len(photos)} photos from {args.corpus}, widths {widths}, {args.jobs} processes;"
        f" encoders {encoder_identity()}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    samples: list[Sample] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [
            pool.submit(measure_photo, photo, widths, not args.no_side_studies) for photo in photos
        ]
        for done, future in enumerate(futures, 1):
            samples.extend(future.result())
            print(f"  {done}/{len(photos)} photos", file=sys.stderr)
    print(f"measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    report(samples)
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in samples], indent=1))


if __name__ == "__main__":
    main()
