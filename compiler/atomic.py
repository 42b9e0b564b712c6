"""Writes that are all or nothing: a killed build never leaves half a file under a real name."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# Temporary files carry this marker, so a later build (or `staticimg clean`) can tell its own
# leftovers from the user's files.
TEMP_MARKER = ".staticimg-tmp-"


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{path.name}{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(4)}")
    try:
        with temp.open("xb") as out:
            out.write(data)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_if_changed(path: Path, data: bytes) -> bool:
    """Like `write_bytes`, but leaves an identical file (and its mtime) alone. True if written."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_bytes(path, data)
    return True


def is_temporary(name: str) -> bool:
    return TEMP_MARKER in name
