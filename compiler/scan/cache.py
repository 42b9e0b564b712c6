"""Scan results kept by content, so a warm build parses nothing.

A file's scan is a pure function of its bytes, its project-relative path, the scanner's own
code and (for templates) the Jinja settings; the cache key digests all of them. Entries are
pickles of our own dataclasses in the project's cache folder: as trusted as the project.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
from functools import cache
from pathlib import Path

from staticimg import __version__
from staticimg.compiler.atomic import write_bytes
from staticimg.compiler.scan.calls import FileScan

FOLDER = "scan"
SUFFIX = ".pickle"


@cache
def scanner_identity() -> bytes:
    """The scanner's code: any change to it (an upgrade, an edit) invalidates every entry."""
    digest = hashlib.blake2b(f"{__version__} {sys.version}".encode(), digest_size=16)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.digest()


class ScanCache:
    def __init__(self, folder: Path, settings: object) -> None:
        self.folder = folder
        self.settings = repr(settings).encode()
        self.used: set[str] = set()

    def key(self, relative: str, data: bytes) -> str:
        digest = hashlib.blake2b(scanner_identity(), digest_size=16)
        for part in (self.settings, relative.encode(), data):
            digest.update(len(part).to_bytes(8, "little") + part)
        key = digest.hexdigest()
        self.used.add(key)
        return key

    def get(self, key: str) -> FileScan | None:
        try:
            value = pickle.loads((self.folder / f"{key}{SUFFIX}").read_bytes())
        except Exception:  # missing, damaged or from an incompatible version: scan again
            return None
        return value if isinstance(value, FileScan) else None

    def put(self, key: str, scan: FileScan) -> None:
        write_bytes(self.folder / f"{key}{SUFFIX}", pickle.dumps(scan, protocol=5))
