"""The props hash: the key that ties a `StaticImage(...)` call to its image-data JSON.

Extract, inject and the runtime all compute it with this one function, so it lives in the
runtime. It digests the call's normalised build props together with the calling file's path
relative to the project root in POSIX form. Gatsby hashes the absolute path, so its cache never
moves between machines or checkouts; ours does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any

import orjson

# Bump when the meaning of the hashed record changes, so old JSON is never read as new.
HASH_VERSION = 1


def props_hash(props: Mapping[str, Any], file: str | PurePath) -> str:
    """Return the 20-hex-digit key of a call's image data.

    `props` are the normalised build props (snake_case keys, canonical values) and `file` is
    the calling file relative to the project root. Integral floats hash like ints (`800.0`
    and `800` are the same width), and key order never matters.
    """
    record = {"v": HASH_VERSION, "file": _posix_relative(file), "props": _canonical(props)}
    encoded = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(encoded, digest_size=10).hexdigest()


def _posix_relative(file: str | PurePath) -> str:
    path = PureWindowsPath(file) if "\\" in str(file) else PurePosixPath(file)
    if path.is_absolute() or path.drive:
        raise ValueError(f"props_hash needs a project-relative path, got {str(file)!r}")
    return PurePosixPath(*path.parts).as_posix()


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"props_hash cannot hash a {type(value).__name__}")
