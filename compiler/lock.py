"""One staticimg process at a time per cache folder, and the leftovers of killed ones swept.

`extract`, `build`, `inject` and `clean` hold an advisory lock (`fcntl.flock`) on
`<cache_dir>/lock` while they read and write the cache folder and `output_dir`. A second
command on the same project waits for the first to finish, then finds its work done by
content. The kernel releases the lock when its holder exits, however it exits (SIGKILL
included), so a killed build never leaves the project locked.

While the lock is held no other staticimg process is writing, so every temporary file
(`atomic.TEMP_MARKER` in its name) in the cache folder or `output_dir` was left by a killed
process: taking the lock removes them.

Where `fcntl` is missing (Windows) or the file system refuses locks, commands run unlocked,
as before: content-addressed atomic writes keep concurrent builds correct, and `staticimg
clean` removes old temporary files.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Final

from staticimg.compiler.atomic import is_temporary
from staticimg.compiler.config import Config

if sys.platform != "win32":
    import fcntl

__all__ = ["LOCK", "LOCKING", "hold"]

LOCKING: Final = sys.platform != "win32"  # whether processes exclude one another

LOCK: Final = "lock"

# Per cache folder: a lock for the threads of this process (flock would make a second
# thread wait on its own process's lock forever if taken twice), and how deep it is held.
_threads: dict[Path, threading.RLock] = {}
_depth: dict[Path, int] = {}
_files: dict[Path, IO[bytes] | None] = {}
_registry = threading.Lock()


@contextmanager
def hold(config: Config) -> Iterator[None]:
    """Hold the project's lock (re-entrant within a thread); on first taking it, remove the
    temporary files killed processes left."""
    folder = config.cache_path
    with _registry:
        thread_lock = _threads.setdefault(folder, threading.RLock())
    with thread_lock:
        depth = _depth.get(folder, 0)
        if depth == 0:
            _files[folder] = locked = _acquire(folder)
            if locked is not None:
                _sweep(config)
        _depth[folder] = depth + 1
        try:
            yield
        finally:
            _depth[folder] -= 1
            if _depth[folder] == 0:
                handle = _files.pop(folder, None)
                if handle is not None:
                    handle.close()  # closing the file releases the lock


def _acquire(folder: Path) -> IO[bytes] | None:
    """The open lock file, locked; None when locking is not available here."""
    if sys.platform == "win32":
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = (folder / LOCK).open("ab")
    except OSError:
        return None  # an unwritable cache folder fails later, with a clearer message
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(
                f"staticimg: waiting for another staticimg process using {folder} to finish",
                file=sys.stderr,
                flush=True,
            )
            fcntl.flock(handle, fcntl.LOCK_EX)
    except OSError:  # e.g. ENOLCK on a network file system without locking
        handle.close()
        return None
    return handle


def _sweep(config: Config) -> None:
    """Remove temporary files from `output_dir` and the cache folder (and its subfolders)."""
    cache = config.cache_path
    folders = [config.output_path, cache]
    with suppress(OSError):
        folders += [Path(e.path) for e in os.scandir(cache) if e.is_dir(follow_symlinks=False)]
    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if is_temporary(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
