"""The quality study that sets staticimg's default encoder qualities (docs/formats.md).

For each photo of the corpus and each output width, the photo is resized with the pipeline's
own `resize` (Lanczos) and that image is the reference. It is then encoded as JPEG, WebP and
AVIF at a sweep of qualities (Gatsby's 50 among them) with the pipeline's own `encode`, decoded
again, and compared with the reference by SSIM (scikit-image's `structural_similarity`, with
the Gaussian window of Wang et al. 2004, over the three RGB channels). Reported per format and
quality: median bytes, median bits per pixel, median and 10th-percentile SSIM, median encode
time; and, pooled over photos and widths, how much SSIM each step of the sweep buys per
doubling of bytes.

How the defaults are read (docs/formats.md has the argument in full):

1. JPEG's default is the last quality before the price of quality rises: the step whose SSIM
   per doubling of bytes is still as good as the steps below it.
2. WebP's and AVIF's defaults are the lowest qualities whose median SSIM reaches JPEG's at its
   default, at every width: equal quality whichever <source> the browser picks, so the newer
   formats' smaller files are savings, not a quality drop.

Side studies: AVIF speed, WebP effort, PNG zlib level, Lanczos `reducing_gap`, and the encode
time of every format at its default (best of 3, so other load on the machine matters less).

Needs the `bench` extra (scikit-image). Run by hand, not by pytest:

    python bench/quality.py [--corpus DIR] [--limit N] [--width W ...] [--jobs N]
        [--qualities 30,40,...] [--formats jpg,webp,avif] [--studies quality,avif-speed,...]
        [--json PATH]
"""

from __future__ import annotations

import argparse
import itertools
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
ALL_FORMATS: tuple[EncodedFormat, ...] = ("jpg", "png", "webp", "avif")
AVIF_SPEEDS = (5, 6, 7, 8, 9)
WEBP_EFFORTS = (2, 4, 6)
PNG_SPEEDS = (1, 4, 9)  # compression_speed → zlib level 9, 6, 1
REDUCING_GAPS = (None, 2.0, 3.0)
RESIZE_WIDTH = 400  # also studied: a big reduction, where reducing_gap matters most
TIMING_RUNS = 3
STUDIES = ("quality", "avif-speed", "webp-effort", "png-level", "resize", "defaults")

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Plan:
    """What to measure, the same for every photo."""

    widths: tuple[int, ...]
    qualities: tuple[int, ...]
    formats: tuple[EncodedFormat, ...]
    studies: frozenset[str]


@dataclass(frozen=True, slots=True)
class Sample:
    """One encode of one photo at one width."""

    study: str
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


def _timed(action: Callable[[], _T], runs: int = 1) -> tuple[_T, float]:
    """The result and the best time of `runs` runs, in ms."""
    best = math.inf
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        best = min(best, (time.perf_counter() - started) * 1000)
    return result, best


def _settings(
    fmt: EncodedFormat,
    *,
    quality: int | None = None,
    png: PngOptions | None = None,
    webp: WebpOptions | None = None,
    avif: AvifOptions | None = None,
) -> EncoderSettings:
    return encoder_settings(fmt, quality=quality, jpg=None, png=png, webp=webp, avif=avif)


@dataclass(frozen=True, slots=True)
class _Photo:
    name: str
    image: Image.Image
    reference: np.ndarray

    def sample(
        self, study: str, label: str, setting: object, settings: EncoderSettings, runs: int = 1
    ) -> Sample:
        data, ms = _timed(partial(encode, self.image, settings), runs)
        ssim = _ssim(self.reference, Image.open(BytesIO(data)))
        size = self.image.size
        return Sample(study, self.name, *size, label, str(setting), len(data), ssim, ms)


def _load(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def measure_photo(path: Path, plan: Plan) -> list[Sample]:
    """Every measurement for one photo (runs in a worker process)."""
    source = _load(path)
    samples: list[Sample] = []
    for width in plan.widths:
        if width > source.width:
            continue  # never upscale: a photo narrower than the width sits this one out
        height = max(1, round(width * source.height / source.width))
        image = resize(source, width, height, fit="fill", background=None)
        photo = _Photo(path.name, image, np.asarray(image))
        if "quality" in plan.studies:
            for fmt in plan.formats:
                for quality in plan.qualities:
                    settings = _settings(fmt, quality=quality)
                    samples.append(photo.sample("quality", fmt, quality, settings))
        if "avif-speed" in plan.studies:
            for speed in AVIF_SPEEDS:
                settings = _settings("avif", avif=AvifOptions(speed=speed))
                samples.append(photo.sample("avif-speed", "avif", speed, settings))
        if "webp-effort" in plan.studies:
            for effort in WEBP_EFFORTS:
                settings = _settings("webp", webp=WebpOptions(effort=effort))
                samples.append(photo.sample("webp-effort", "webp", effort, settings))
        if "png-level" in plan.studies:
            for speed in PNG_SPEEDS:
                settings = _settings("png", png=PngOptions(compression_speed=speed))
                samples.append(photo.sample("png-level", "png", settings.compress_level, settings))
        if "defaults" in plan.studies:
            for fmt in ALL_FORMATS:
                settings = _settings(fmt)
                samples.append(
                    photo.sample("defaults", fmt, settings.quality, settings, runs=TIMING_RUNS)
                )
    if "resize" in plan.studies:
        samples.extend(_resize_study(path.name, source, sorted({RESIZE_WIDTH, *plan.widths})))
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
                partial(source.resize, size, Image.Resampling.LANCZOS, reducing_gap=gap),
                TIMING_RUNS,
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


def _setting_order(setting: str) -> float:
    return -1.0 if setting == "None" else float(setting)


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
    order: dict[str, int] = {label: index for index, label in enumerate(ALL_FORMATS)}
    return sorted(rows, key=lambda r: (r.width, order.get(r.label, 9), _setting_order(r.setting)))


def marginal_gains(samples: Iterable[Sample], fmt: str) -> list[tuple[str, float, float]]:
    """Per step of the sweep, pooled over photos and widths: (step, bytes ratio, SSIM gained
    per doubling of bytes), from the geometric mean of bytes and the mean SSIM."""
    by_quality: dict[int, list[Sample]] = defaultdict(list)
    for sample in samples:
        if sample.study == "quality" and sample.label == fmt:
            by_quality[int(sample.setting)].append(sample)
    points = []
    for quality in sorted(by_quality):
        group = by_quality[quality]
        mean_log_bytes = statistics.fmean(math.log2(s.bytes) for s in group)
        points.append((quality, mean_log_bytes, statistics.fmean(s.ssim for s in group)))
    steps = []
    for (q0, bits0, ssim0), (q1, bits1, ssim1) in itertools.pairwise(points):
        # Neighbouring qualities can give identical files (libavif maps 0–100 onto 64
        # quantisers): such a step buys nothing and costs nothing.
        gain = (ssim1 - ssim0) / (bits1 - bits0) if bits1 != bits0 else 0.0
        steps.append((f"{q0}→{q1}", 2 ** (bits1 - bits0), gain))
    return steps


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
    if quality_rows:
        print_table("Quality sweep", quality_rows, "quality", with_bytes=True)
        print("\n### SSIM bought per doubling of bytes (pooled over photos and widths)\n")
        print("| format | step | bytes × | SSIM per doubling |")
        print("|---|---|---|---|")
        for fmt in LOSSY:
            for step, ratio, gain in marginal_gains(samples, fmt):
                print(f"| {fmt} | {step} | {ratio:.2f} | {gain:.4f} |")
        _print_matches(quality_rows)

    for study, setting in (
        ("avif-speed", "speed"),
        ("webp-effort", "effort"),
        ("png-level", "zlib level"),
        ("defaults", f"quality (best of {TIMING_RUNS})"),
    ):
        rows = summarise(samples, study)
        if rows:
            print_table(f"Side study: {study}", rows, setting, with_bytes=True)
    rows = summarise(samples, "resize")
    if rows:
        print_table(
            f"Side study: Lanczos reducing_gap (SSIM against none; best of {TIMING_RUNS})",
            rows,
            "reducing_gap",
            with_bytes=False,
        )


def _print_matches(quality_rows: Sequence[Row]) -> None:
    print("\n### Equal SSIM: each format's lowest quality matching JPEG at its default\n")
    for width in sorted({row.width for row in quality_rows}):
        jpg_default = [
            r
            for r in quality_rows
            if r.width == width and r.label == "jpg" and r.setting == str(DEFAULT_QUALITY["jpg"])
        ]
        if not jpg_default:
            continue
        target = jpg_default[0]
        print(
            f"- width {width}: JPEG q{target.setting} has median SSIM {target.median_ssim:.4f}"
            f" at {target.median_bytes:,} B"
        )
        for fmt in ("webp", "avif"):
            rows = [r for r in quality_rows if r.width == width and r.label == fmt]
            if not rows:
                continue
            match = matching(rows, target.median_ssim)
            if match is None:
                print(f"  - {fmt}: no swept quality reaches it")
                continue
            saving = 1 - match.median_bytes / target.median_bytes
            print(
                f"  - {fmt}: q{match.setting} (SSIM {match.median_ssim:.4f},"
                f" {match.median_bytes:,} B, {saving:.0%} smaller)"
            )


def _csv(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos")
    parser.add_argument("--width", type=int, action="append", help="repeatable; 800 and 1600")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--qualities", type=_csv, default=[str(q) for q in QUALITIES])
    parser.add_argument("--formats", type=_csv, default=list(LOSSY))
    parser.add_argument("--studies", type=_csv, default=list(STUDIES))
    parser.add_argument("--json", type=Path, default=None, help="also write every sample here")
    args = parser.parse_args(argv)
    unknown = set(args.studies) - set(STUDIES) or set(args.formats) - set(LOSSY)
    if unknown:
        parser.error(f"unknown: {', '.join(sorted(unknown))}")
    plan = Plan(
        widths=tuple(args.width or DEFAULT_WIDTHS),
        qualities=tuple(int(q) for q in args.qualities),
        formats=tuple(fmt for fmt in LOSSY if fmt in args.formats),
        studies=frozenset(args.studies),
    )

    photos = sorted(
        p for p in args.corpus.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")
    )[: args.limit]
    print(
        f"{len(photos)} photos from {args.corpus}, {plan}, {args.jobs} processes;"
        f" encoders {encoder_identity()}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    samples: list[Sample] = []
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(measure_photo, photo, plan) for photo in photos]
        for done, future in enumerate(futures, 1):
            samples.extend(future.result())
            print(f"  {done}/{len(photos)} photos", file=sys.stderr)
    print(f"measured in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps([asdict(s) for s in samples], indent=1))
    report(samples)


if __name__ == "__main__":
    main()
