"""Finding image data at render time: a reference (a props hash) → the JSON `extract` wrote.

`staticimg inject` gives every call `__image_data="<20 hex digits>"`; the record is
`<data dir>/<hash>.json`. The data dir is, first found: `configure(data_dir=...)`, the
`STATICIMG_DATA_DIR` environment variable, or `<project>/<cache_dir>/data` where the project
is the nearest folder at or above the working directory with a `pyproject.toml` and
`cache_dir` comes from its `[tool.staticimg]` table (default `.staticimg`). A deployed app
needs only the data folder, not the sources or the compiler (docs/runtime.md).

Records are read once with orjson and kept. In development they are re-read when the file
changes, so a dev server picks up a fresh `staticimg build` without a restart.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

import orjson

__all__ = [
    "ImageDataError",
    "configure",
    "data_dir",
    "find_pyproject",
    "is_development",
    "is_reference",
    "load",
    "reset",
    "staticimg_table",
]

DATA_DIR_ENV: Final = "STATICIMG_DATA_DIR"
DEVELOPMENT_ENV: Final = "STATICIMG_DEV"
DEFAULT_CACHE_DIR: Final = ".staticimg"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
# The props hash: exactly this, so a reference can never name a path (`../`, `/etc/…`).
_REFERENCE: Final = re.compile(r"[0-9a-f]{20}\Z")

ImageRecord = Mapping[str, Any]
DataDir = Path | Traversable


class ImageDataError(ValueError):
    """A data file exists but cannot be image data: it is damaged or from something else."""


@dataclass(frozen=True, slots=True)
class _Entry:
    record: ImageRecord | None  # None: no file
    stamp: int | None  # the file's mtime in ns when read (development checks it)


@dataclass(slots=True)
class _State:
    configured_dir: DataDir | None = None
    development: bool | None = None  # configured, else read from the environment once
    resolved_dir: DataDir | None = None
    entries: dict[str, _Entry] | None = None


_state = _State()


def configure(
    *,
    data_dir: str | os.PathLike[str] | Traversable | None = None,
    development: bool | None = None,
) -> None:
    """Set where image data is read from and whether errors render visibly.

    `data_dir` is a folder of `<hash>.json` records: a path, or a `Traversable` such as
    `importlib.resources.files("myapp") / "imagedata"` for data shipped inside a package.
    `development=True` renders build errors and missing data as visible warnings; False
    renders an empty element. A None argument leaves that setting as it was. Records
    already read are dropped when the folder changes.
    """
    if data_dir is not None:
        chosen: DataDir = data_dir if isinstance(data_dir, Traversable) else Path(data_dir)
        _state.configured_dir = chosen
        _state.resolved_dir = None
        _state.entries = None
    if development is not None:
        _state.development = bool(development)


def reset() -> None:
    """Forget the configuration and every record read (tests, or a process that re-roots)."""
    _state.configured_dir = None
    _state.development = None
    _state.resolved_dir = None
    _state.entries = None


def is_development() -> bool:
    """`configure(development=...)`, else `STATICIMG_DEV` set to 1/true/yes (read on first
    use: every render asks), else False."""
    development = _state.development
    if development is None:
        development = os.environ.get(DEVELOPMENT_ENV, "").strip().lower() in _TRUE
        _state.development = development
    return development


def data_dir() -> DataDir:
    """The folder records are read from (resolved once, on first use)."""
    folder = _state.resolved_dir
    if folder is None:
        folder = _state.configured_dir
        if folder is None:
            from_env = os.environ.get(DATA_DIR_ENV)
            folder = Path(from_env) if from_env else _project_data_dir(Path.cwd())
        _state.resolved_dir = folder
    return folder


def is_reference(value: object) -> bool:
    """Whether `value` has the form of a reference: 20 lower-case hex digits."""
    return isinstance(value, str) and _REFERENCE.match(value) is not None


def load(reference: str) -> ImageRecord | None:
    """The record for `reference`, or None when there is no such file.

    The record is image data or `{"error": {...}}` (a diagnostic from the build). Raises
    ValueError for a string that is not a reference and ImageDataError for a damaged file.
    """
    entries = _state.entries
    if entries is None:
        entries = _state.entries = {}
    entry = entries.get(reference)
    if entry is not None and not is_development():
        return entry.record
    if entry is None and not _REFERENCE.match(reference):
        raise ValueError(
            f"{reference!r} is not an image reference: `staticimg inject` writes the 20 hex "
            "digits of the call's props hash; pass those, or an image-data mapping"
        )
    folder = data_dir()
    if entry is not None:
        # development: keep the record while the file is unchanged
        stamp = _stamp(folder, reference)
        if stamp == entry.stamp:
            return entry.record
    entry = _read(folder, reference)
    entries[reference] = entry
    return entry.record


def _read(folder: DataDir, reference: str) -> _Entry:
    file = folder / f"{reference}.json"
    stamp = _stamp(folder, reference)
    try:
        raw = file.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return _Entry(None, None)
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ImageDataError(
            f"{file} is not valid JSON ({exc}): delete it and run `staticimg build` again"
        ) from None
    if not isinstance(record, dict):
        raise ImageDataError(
            f"{file} holds {type(record).__name__}, not image data: delete it and run "
            "`staticimg build` again"
        )
    return _Entry(record, stamp)


def _stamp(folder: DataDir, reference: str) -> int | None:
    if not isinstance(folder, Path):
        return None  # inside a package: it does not change while the app runs
    try:
        return (folder / f"{reference}.json").stat().st_mtime_ns
    except OSError:
        return None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above `start` (the project the compiler finds too)."""
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            return pyproject
    return None


def staticimg_table(pyproject: Path) -> dict[str, Any]:
    """`[tool.staticimg]` of `pyproject`; {} when it is missing, unreadable or not a table.

    Lenient by design: `staticimg extract` reports a broken pyproject.toml (SI002); at render
    time the defaults are the best guess, and a wrong one shows in what renders."""
    try:
        document = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    tool = document.get("tool", {})
    table = tool.get("staticimg", {}) if isinstance(tool, dict) else {}
    return table if isinstance(table, dict) else {}


def _project_data_dir(start: Path) -> Path:
    """`<root>/<cache_dir>/data` for the nearest folder at or above `start` with a
    pyproject.toml (the compiler finds the project the same way); `start` if none has one."""
    pyproject = find_pyproject(start)
    if pyproject is not None:
        return pyproject.parent / _cache_dir(pyproject) / "data"
    return start / DEFAULT_CACHE_DIR / "data"


def _cache_dir(pyproject: Path) -> str:
    # A wrong guess shows up as a "no image data" message naming the folder it looked in.
    table = staticimg_table(pyproject)
    value = table.get("cache_dir", table.get("cache-dir"))
    return value if isinstance(value, str) and value else DEFAULT_CACHE_DIR
