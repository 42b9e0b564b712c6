"""Cold and warm `staticimg extract` against the floor of the work, and its peak memory.

The project: one `StaticImage` call per photo of the corpus (constrained, jpg + webp,
placeholder="blurred", so a blurred data URI, the dominant colour and the BlurHash are all
computed), with a width that gives four output widths per photo (800 → 200/400/800/1600
where the source allows, else half the source width).

Measured in the same run, on the same files, with the same worker count:

* **floor**: each photo decoded once (JPEG draft mode at the largest output), resized to the
  four widths largest first with staticimg's own resize, encoded to jpg and webp with
  staticimg's default encoder settings and written. Nothing else: no scan, no crop analysis,
  no placeholders, no JSON, no process start-up.
* **naive**: the same outputs with full decodes and every output resized from the full image.
* **cold**: the real `staticimg extract` command in a fresh process, empty output and cache.
* **warm**: the same command again, nothing changed.
* **memory**: the peak, over the run, of the summed RSS and of the summed PSS (shared pages
  divided between the processes that share them) of the command's whole process tree,
  sampled every 20 ms in runs of their own; also with the corpus doubled (each photo plus a
  re-encoded mirror).

    python bench/extract_speed.py [--corpus DIR] [--rounds N] [--jobs N] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from staticimg.compiler.images.encode import encode, encoder_settings
from staticimg.compiler.images.transform import resize
from staticimg.compiler.props import EncodedFormat

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
COMMAND = Path(sys.executable).with_name("staticimg")
DEFAULT_CORPUS = HERE.parents[1] / "shared" / "corpus"
FORMATS: tuple[EncodedFormat, ...] = ("jpg", "webp")
DENSITIES = (0.25, 0.5, 1, 2)


@dataclass(frozen=True)
class Photo:
    path: Path
    width: int
    height: int

    @property
    def display_width(self) -> int:
        return 800 if self.width >= 1600 else self.width // 2

    @property
    def widths(self) -> list[int]:
        return sorted(
            {min(self.width, math.floor(d * self.display_width + 0.5)) for d in DENSITIES}
        )


def photos_in(folder: Path, limit: int | None) -> list[Photo]:
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in {".jpg", ".jpeg", ".png"}:
            with Image.open(path) as image:
                found.append(Photo(path, *image.size))
    return found[:limit] if limit else found


# -- the project


def make_project(target: Path, photos: list[Photo], jobs: int) -> None:
    if target.exists():
        shutil.rmtree(target)
    (target / "images").mkdir(parents=True)
    (target / "app").mkdir()
    (target / "pyproject.toml").write_text(
        f'[tool.staticimg]\nsource_roots = ["app"]\noutput_dir = "public/img"\n'
        f'url_prefix = "/img"\njobs = {jobs}\n'
    )
    lines = ["from staticimg import StaticImage", "", "PHOTOS = ["]
    for photo in photos:
        shutil.copyfile(photo.path, target / "images" / photo.path.name)
        lines.append(
            f'    StaticImage(src="../images/{photo.path.name}", alt="{photo.path.stem}", '
            f'width={photo.display_width}, formats=["jpg", "webp"], placeholder="blurred"),'
        )
    lines.append("]")
    (target / "app" / "pages.py").write_text("\n".join(lines) + "\n")


def double_corpus(photos: list[Photo], target: Path) -> list[Photo]:
    """Each photo plus a mirrored, re-encoded copy: the same work twice, distinct content."""
    target.mkdir(parents=True, exist_ok=True)
    doubled = list(photos)
    for photo in photos:
        mirror = target / f"mirror-{photo.path.stem}.jpg"
        if not mirror.exists():
            with Image.open(photo.path) as image:
                flipped = image.convert("RGB").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
                flipped.save(mirror, quality=92)
        doubled.append(Photo(mirror, photo.width, photo.height))
    return doubled


# -- the floor and the naive pipeline (run in worker processes)


def floor_one(args: tuple[Photo, str, bool]) -> int:
    photo, out_dir, use_draft = args
    widths = photo.widths
    aspect = photo.width / photo.height
    written = 0
    with Image.open(photo.path) as opened:
        if use_draft:
            opened.draft("RGB", (max(widths), math.ceil(max(widths) / aspect)))
        image = opened.convert("RGB")
        previous = image
        for width in sorted(widths, reverse=True):
            height = max(1, math.floor(width / aspect + 0.5))
            source = previous if use_draft else image
            resized = resize(source, width, height, fit="cover", background=None)
            previous = resized
            for fmt in FORMATS:
                data = encode(resized, encoder_settings(fmt, quality=None, jpg=None, png=None,
                                                        webp=None, avif=None))  # fmt: skip
                (Path(out_dir) / f"{photo.path.stem}-{width}.{fmt}").write_bytes(data)
                written += len(data)
    return written


def run_pool(photos: list[Photo], jobs: int, use_draft: bool, out_dir: Path) -> float:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    ordered = sorted(photos, key=lambda p: -p.width * p.height)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(floor_one, [(p, str(out_dir), use_draft) for p in ordered]))
    return time.perf_counter() - started


# -- the real command, with its process tree's memory sampled


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def _tree_memory(root: int) -> tuple[int, int]:
    tree = _children()
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(tree.get(pid, []))
    rss = pss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
        except OSError:
            continue
    return rss, pss


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss: int
    peak_pss: int
    summary: dict[str, object]


def run_extract(project: Path, *, fresh: bool, sample: bool = False) -> Run:
    """One run of the command. Timing runs do not sample memory: reading /proc every few
    milliseconds costs the 2 cores real time, so memory is measured in runs of its own."""
    if fresh:
        shutil.rmtree(project / "public", ignore_errors=True)
        shutil.rmtree(project / ".staticimg", ignore_errors=True)
    peak = [0, 0]
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(COMMAND), "-C", str(project), "extract", "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stop = threading.Event()

    def sample_memory() -> None:
        while not stop.is_set():
            rss, pss = _tree_memory(process.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            stop.wait(0.02)

    sampler = threading.Thread(target=sample_memory, daemon=True)
    if sample:
        sampler.start()
    out, err = process.communicate()
    elapsed = time.perf_counter() - started
    stop.set()
    if sample:
        sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"staticimg extract failed ({process.returncode}):\n{err.decode()}")
    summary = json.loads(out.decode().strip().splitlines()[-1])
    return Run(elapsed, peak[0], peak[1], summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--skip-double", action="store_true")
    args = parser.parse_args()

    photos = photos_in(args.corpus, args.limit)
    work = RESULTS / "extract"
    project = work / "project"
    make_project(project, photos, args.jobs)
    floors, naives, colds, warms = [], [], [], []
    cold_runs: list[Run] = []
    for _ in range(args.rounds):
        floors.append(run_pool(photos, args.jobs, True, work / "floor"))
        cold = run_extract(project, fresh=True)
        cold_runs.append(cold)
        colds.append(cold.seconds)
        warms.append(run_extract(project, fresh=False).seconds)
        naives.append(run_pool(photos, args.jobs, False, work / "naive"))
    floor, cold_s, warm_s = statistics.median(floors), statistics.median(colds), min(warms)
    result: dict[str, object] = {
        "photos": len(photos),
        "jobs": args.jobs,
        "outputs": cold_runs[0].summary["outputs"],
        "floor_seconds": [round(s, 2) for s in floors],
        "naive_seconds": [round(s, 2) for s in naives],
        "cold_seconds": [round(s, 2) for s in colds],
        "warm_seconds": [round(s, 3) for s in warms],
        "cold_over_floor": round(cold_s / floor, 3),
        "naive_over_floor": round(statistics.median(naives) / floor, 3),
        "warm_over_cold": round(warm_s / cold_s, 4),
    }
    memory = run_extract(project, fresh=True, sample=True)
    result["peak_rss_mb"] = round(memory.peak_rss / 2**20, 1)
    result["peak_pss_mb"] = round(memory.peak_pss / 2**20, 1)
    if not args.skip_double:
        doubled = double_corpus(photos, work / "mirrors")
        big = work / "project-2x"
        make_project(big, doubled, args.jobs)
        run = run_extract(big, fresh=True, sample=True)
        result["doubled_photos"] = len(doubled)
        result["doubled_cold_seconds"] = round(run.seconds, 2)
        result["doubled_peak_rss_mb"] = round(run.peak_rss / 2**20, 1)
        result["doubled_peak_pss_mb"] = round(run.peak_pss / 2**20, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "extract_speed.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
