"""`staticimg clean`: remove outputs, image data and cached placeholders no call references.

A normal build never deletes anything (an output may still be deployed, or referenced by a
branch not checked out); cleaning is an explicit step. It refuses to run when some source
file could not be scanned, since that file's calls would lose their images.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from staticimg.compiler import data
from staticimg.compiler.atomic import is_temporary
from staticimg.compiler.config import Config
from staticimg.compiler.images.pipeline import Survey
from staticimg.compiler.scan.cache import FOLDER as SCAN_FOLDER
from staticimg.compiler.scan.cache import SUFFIX as SCAN_SUFFIX

# Only files named the way the image stage names them are ever removed from output_dir, so a
# misconfigured output_dir that holds other files loses none of them.
# `<stem>-<width>w-<digest>` for encoded files, `<stem>-<digest>` for the copies and service
# files of Astro-style calls (an SVG, a GIF fallback, an original for a CDN).
_OUTPUT_NAME = re.compile(r".+-(\d+w-)?[0-9a-f]{12}\.[a-z0-9]{2,5}")
_HASH_JSON = re.compile(r"[0-9a-f]+\.json")
_HASH_PICKLE = re.compile(r"[0-9a-f]+\.pickle")

TEMP_GRACE_SECONDS = 600

# Scan failures: with these, the survey does not see every call.
_BLIND_SPOTS = frozenset({"SI110", "SI111", "SI112"})


@dataclass(frozen=True, slots=True)
class Cleanup:
    stale: tuple[Path, ...]  # what is (or, in a dry run, would be) removed
    blocked_by: tuple[str, ...]  # files that could not be scanned: nothing removed


def stale_files(config: Config, survey: Survey) -> list[Path]:
    stale: list[Path] = []
    stale += _unreferenced(config.output_path, survey.outputs, _OUTPUT_NAME, suffix="")
    stale += _unreferenced(config.cache_path / data.DATA, survey.data, _HASH_JSON)
    stale += _unreferenced(config.cache_path / data.PLACEHOLDERS, survey.placeholders, _HASH_JSON)
    stale += _unreferenced(
        config.cache_path / SCAN_FOLDER, survey.scans, _HASH_PICKLE, suffix=SCAN_SUFFIX
    )
    return sorted(stale)


def clean(config: Config, survey: Survey, *, dry_run: bool = False) -> Cleanup:
    blind = sorted({d.file for d in survey.plan.diagnostics if d.code in _BLIND_SPOTS})
    if blind:
        return Cleanup((), tuple(blind))
    stale = stale_files(config, survey)
    if not dry_run:
        for path in stale:
            path.unlink(missing_ok=True)
    return Cleanup(tuple(stale), ())


def _unreferenced(
    folder: Path, keep: frozenset[str], ours: re.Pattern[str], *, suffix: str = ".json"
) -> list[Path]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    stale = []
    for entry in entries:
        if not entry.is_file(follow_symlinks=False):
            continue
        name = entry.name
        key = name[: -len(suffix)] if suffix and name.endswith(suffix) else name
        if _abandoned(entry) or (ours.fullmatch(name) and key not in keep):
            stale.append(Path(entry.path))
    return stale


def _abandoned(entry: os.DirEntry[str]) -> bool:
    """A temporary file left by a killed build (a running build's are young: keep them)."""
    if not is_temporary(entry.name):
        return False
    try:
        return time.time() - entry.stat(follow_symlinks=False).st_mtime > TEMP_GRACE_SECONDS
    except OSError:
        return False
