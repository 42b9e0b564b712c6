"""The pixel work for one source file, run in a worker process.

One `Job` per distinct source: the file is decoded once (at the smallest JPEG draft scale
that still covers every output), then each call's geometry is applied and its outputs are
resized down a chain, largest first, and encoded. Files are written atomically by the worker
itself, so only names and sizes travel back to the parent.

This module is imported by worker processes: it must not import the scanner (libcst, Jinja)
or anything else heavy.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, cast

from PIL import Image

from staticimg.compiler.atomic import write_bytes
from staticimg.compiler.images.decode import Decoded, ImageError, decode
from staticimg.compiler.images.encode import MIME_TYPES, encode, encode_animation
from staticimg.compiler.images.jobs import Job, JobResult, Task
from staticimg.compiler.images.placeholder import (
    blur_hash,
    blurhash_image,
    data_uri,
    dominant_color,
)
from staticimg.compiler.images.recipe import THUMBNAIL_SIZE, Geometry, Output, PlaceholderSpec
from staticimg.compiler.images.schedule import PIXELS_PER_WORKER
from staticimg.compiler.images.transform import apply_effects, crop_box, resize, rotate, trim

# A worker's resident size above which freed heap is handed back after a job: the pixel
# budget of one worker (4 bytes a pixel) plus the interpreter, Pillow and the codecs.
TRIM_ABOVE = 4 * PIXELS_PER_WORKER + 48 * 2**20
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def run_job(job: Job) -> JobResult:
    try:
        return _run_job(job)
    finally:
        _release_freed_memory()


def _run_job(job: Job) -> JobResult:
    result = JobResult(job.digest)
    try:
        decoded = decode(
            Path(job.path),
            min_width=job.min_width,
            min_height=job.min_height,
            max_pixels=job.max_pixels,
            all_frames=job.all_frames,
        )
        for task in job.tasks:
            _run_task(decoded, task, Path(job.output_dir), result)
    except ImageError as exc:
        result.error = (exc.code, exc.message, exc.hint)
    except MemoryError:
        result.error = (
            "SI305",
            "the image is too large to process in the memory available",
            "Use a smaller source image, or lower `jobs` so fewer images are decoded at once.",
        )
    except (OSError, ValueError, SyntaxError) as exc:
        # Pillow reports damage found late in decoding with these.
        result.error = ("SI304", f"the image could not be processed: {exc}", None)
    return result


def _run_task(decoded: Decoded, task: Task, output_dir: Path, result: JobResult) -> None:
    geometry = task.geometry
    frames = [decoded.image]
    durations: list[int] = []
    if decoded.frames and any(o.animated for o in task.to_write):
        frames = [frame.image for frame in decoded.frames]
        durations = [frame.duration_ms for frame in decoded.frames]
    prepared = [_prepare(frame, geometry) for frame in frames]
    thumbnail_size = _thumbnail_size(geometry)
    thumbnail_source = prepared[0]

    # Largest first, each size resized from the previous one (every step a small reduction),
    # once for all the formats of that size.
    by_size: dict[tuple[int, int], list[Output]] = {}
    for output in task.outputs:
        by_size.setdefault((output.width, output.height), []).append(output)
    chain = list(prepared)
    for size in sorted(by_size, reverse=True):
        resized = [_resize(image, *size, geometry) for image in chain]
        if geometry.fit != "contain":  # letterboxed images are not resized again
            chain = resized
        if size[0] >= thumbnail_size[0] and size[1] >= thumbnail_size[1]:
            thumbnail_source = resized[0]
        todo = sorted((o for o in by_size[size] if o.name in task.missing), key=lambda o: o.name)
        if not todo:
            continue
        finished = [_effects(image, geometry) for image in resized]
        for output in todo:
            if output.animated and len(finished) > 1:
                pairs = list(zip(finished, durations, strict=True))
                data = encode_animation(pairs, decoded.loop, output.settings)
            else:
                data = encode(finished[0], output.settings, background=geometry.background)
            write_bytes(output_dir / output.name, data)
            result.written.append((output.name, len(data)))

    if task.placeholder is not None:
        result.placeholders[task.placeholder.key] = _placeholder(
            thumbnail_source, thumbnail_size, geometry, task.placeholder
        )


def _prepare(image: Image.Image, geometry: Geometry) -> Image.Image:
    """Trim, rotate, and for `cover` crop to the output aspect ratio at the chosen focus."""
    if geometry.trim is not None:
        image = trim(image, geometry.trim)
    if geometry.rotate:
        image = rotate(image, geometry.rotate, geometry.background)
    if geometry.fit == "cover":
        box = crop_box(image, geometry.aspect_ratio, geometry.focus)
        if box != (0, 0, image.width, image.height):
            image = image.crop(box)
    return image


def _resize(image: Image.Image, width: int, height: int, geometry: Geometry) -> Image.Image:
    if image.size == (width, height):
        return image
    return resize(image, width, height, fit=geometry.fit, background=geometry.background)


def _effects(image: Image.Image, geometry: Geometry) -> Image.Image:
    if not geometry.grayscale and geometry.duotone is None:
        return image
    return apply_effects(image, grayscale=geometry.grayscale, duotone=geometry.duotone)


def _thumbnail_size(geometry: Geometry) -> tuple[int, int]:
    ratio = geometry.aspect_ratio
    if ratio >= 1:
        return THUMBNAIL_SIZE, max(1, round(THUMBNAIL_SIZE / ratio))
    return max(1, round(THUMBNAIL_SIZE * ratio)), THUMBNAIL_SIZE


def _placeholder(
    image: Image.Image, size: tuple[int, int], geometry: Geometry, spec: PlaceholderSpec
) -> dict[str, Any]:
    """From the smallest output at least as large as the thumbnail (the same one on every
    build, since all sizes are always computed), or from the prepared image."""
    if image.width < size[0] and image.height < size[1]:
        size = image.size
    raw = _resize(image, *size, geometry)
    thumbnail = _effects(raw, geometry)
    values: dict[str, Any] = {
        "backgroundColor": dominant_color(thumbnail),
        "blurHash": blur_hash(thumbnail),
    }
    if spec.blurred is not None:
        width, height, settings = spec.blurred
        small = _effects(_resize(raw, width, height, geometry), geometry)
        data = encode(small, settings, background=geometry.background)
        values["fallback"] = data_uri(data, MIME_TYPES[settings.format])
    if spec.blurhash_image is not None:
        painted = blurhash_image(values["blurHash"], *spec.blurhash_image)
        values["fallback"] = data_uri(painted, "image/webp")
    return values


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return cast(Callable[[int], int], ctypes.CDLL(None).malloc_trim)
    except (OSError, AttributeError):
        return None  # not glibc: nothing to do


def _release_freed_memory() -> None:
    """Hand the freed heap back to the system once a worker holds more than it needs.

    glibc keeps freed image buffers in the heap (it raises its mmap threshold after the first
    large free), so a worker that never trims grows towards the sum of the largest images it
    has seen, not the largest one, and the memory of a long build would not stay flat.
    Trimming after every job keeps it flat too, but then every job faults its buffers back in
    page by page: about 7% more CPU on a corpus of photos. Trimming only above a ceiling
    keeps both: heap pages are reused from job to job, and a worker never settles above it.
    """
    if _resident_bytes() <= TRIM_ABOVE:
        return
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _resident_bytes() -> int:
    try:
        with Path("/proc/self/statm").open("rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return TRIM_ABOVE + 1  # cannot tell: trim, as every job did before
