"""The warm-build shortcut: a build that would change nothing is recognised by stat alone.

After a build with no diagnostics, the stamp records every file that build depended on or
produced — the configuration, the files discovery found, the source images, the image files,
the image data, the manifest and the code that made them — with its modification time and
size. The next `extract` stats those files before importing the scanner, the image stage or
Pillow; when every one is unchanged and discovery finds the same files, it reports the build
again and stops. Anything else (a changed byte count or time, a file added, removed or
touched) falls through to the ordinary build, which is itself cached by content.

Like make and git, this trusts stat. Two guards keep it honest: any build that does work
removes the stamp before it starts, so a killed build never leaves a stamp behind; and no
stamp is written while an input is younger than the filesystem's timestamp resolution could
hide a second change (git's "racily clean" rule).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Final

import orjson

from staticimg.compiler.atomic import write_bytes
from staticimg.compiler.config import Config
from staticimg.compiler.scan.discover import discover

__all__ = ["STAMP", "remove", "unchanged", "write"]

STAMP: Final = "stamp.json"
STAMP_VERSION: Final = 1
# An input modified this recently may be modified again within the same timestamp tick.
RACY_NS: Final = 1_000_000_000
# Libraries whose upgrade changes the bytes of what we write or what we find.
_LIBRARIES: Final = ("PIL", "blurhash", "libcst", "jinja2", "orjson")

_Stats = dict[str, list[int]]  # absolute path → [mtime_ns, size]
# The counts of a build's summary that reporting it again needs.
_SUMMARY_COUNTS: Final = ("images", "sources", "outputs", "bytes_saved", "errors", "warnings")


def unchanged(config: Config, paths: Sequence[Path]) -> dict[str, Any] | None:
    """The stored summary of the last build if nothing it read or wrote has changed since;
    otherwise None."""
    try:
        stamp = orjson.loads((config.cache_path / STAMP).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(stamp, dict) or stamp.get("key") != _key(config, paths):
        return None
    if stamp.get("discovered") != _discovered(config, paths):
        return None
    files = stamp.get("files")
    if not isinstance(files, dict) or _stat_all(files) != files:
        return None
    summary = stamp.get("summary")
    if not isinstance(summary, dict) or not all(
        type(summary.get(name)) is int for name in _SUMMARY_COUNTS
    ):
        return None  # damaged by something other than us: build
    return summary


def write(
    config: Config,
    paths: Sequence[Path],
    *,
    discovered: Iterable[str],
    inputs: Iterable[Path],
    outputs: Iterable[Path],
    summary: dict[str, Any],
) -> bool:
    """Record a build that reported nothing: `discovered` is what the build's discovery found
    (project-relative). Returns False (and writes nothing) when an input is too recent to be
    trusted, or a file vanished meanwhile."""
    discovered = sorted(discovered)
    pyproject = config.root / "pyproject.toml"
    input_files = [
        *([pyproject] if pyproject.exists() else []),
        *(config.root / relative for relative in discovered),
        *inputs,
        *_code_files(),
    ]
    input_stats = _stat_all({str(path): [] for path in input_files})
    output_stats = _stat_all({str(path): [] for path in outputs})
    if input_stats is None or output_stats is None:
        return False
    now = time.time_ns()
    if any(now - mtime < RACY_NS for mtime, _ in input_stats.values()):
        return False
    stamp = {
        "key": _key(config, paths),
        "discovered": discovered,
        "files": {**input_stats, **output_stats},
        "summary": summary,
    }
    write_bytes(config.cache_path / STAMP, orjson.dumps(stamp))
    return True


def remove(config: Config) -> None:
    (config.cache_path / STAMP).unlink(missing_ok=True)


def _key(config: Config, paths: Sequence[Path]) -> list[Any]:
    return [
        STAMP_VERSION,
        sys.executable,
        sys.version,
        # The stamp names files by absolute path: in a copy of the project (the cache folder
        # copied along, or restored by CI into another checkout) it would stat the original's
        # files and call an edited copy unchanged.
        str(config.root),
        sorted(config.relative(path) for path in paths),
    ]


def _discovered(config: Config, paths: Sequence[Path]) -> list[str]:
    return sorted(source.relative for source in discover(config, paths))


def _stat_all(files: dict[str, Any]) -> _Stats | None:
    stats: _Stats = {}
    for name in files:
        try:
            result = Path(name).stat()
        except (OSError, ValueError):  # ValueError: a name with a NUL byte, from a damaged stamp
            return None
        stats[name] = [result.st_mtime_ns, result.st_size]
    return stats


def _code_files() -> list[Path]:
    """staticimg's own modules and the entry module of each library it builds with: an
    upgrade or an edit of any of them may change what a build writes."""
    import staticimg
    import staticimg.compiler

    files = [
        *Path(staticimg.__file__).parent.glob("*.py"),
        *Path(staticimg.compiler.__file__).parent.rglob("*.py"),
    ]
    for name in _LIBRARIES:
        spec = find_spec(name)
        if spec is not None and spec.origin:
            files.append(Path(spec.origin))
    return sorted(files)
