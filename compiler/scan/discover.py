"""Which files are scanned: the configured source roots, include and exclude patterns.

Walking is the hot path on a large tree with no calls, so excluded folders are pruned before
they are entered and nothing but a name match happens per file here.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pathspec

from staticimg.compiler.config import DEFAULT_EXCLUDED_DIRS, Config


class SourceKind(enum.Enum):
    PYTHON = "python"
    TEMPLATE = "template"
    MARKDOWN = "markdown"


# Markdown files, whose images `scan.markdown` finds; a suffix configured as a Jinja
# template suffix (`.md` rendered by Jinja) stays a template.
MARKDOWN_SUFFIXES = (".md", ".markdown")


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # absolute
    relative: str  # project-relative, POSIX separators
    kind: SourceKind


class _Matcher:
    def __init__(self, config: Config) -> None:
        self.include = pathspec.PathSpec.from_lines("gitignore", config.include)
        self.exclude = pathspec.PathSpec.from_lines("gitignore", config.exclude)
        self.template_suffixes = tuple(s.lower() for s in config.template_suffixes)

    def kind(self, relative: str) -> SourceKind | None:
        lower = relative.lower()
        if lower.endswith(".py"):
            return SourceKind.PYTHON
        if lower.endswith(self.template_suffixes):
            return SourceKind.TEMPLATE
        if lower.endswith(MARKDOWN_SUFFIXES):
            return SourceKind.MARKDOWN
        return None

    def wants_file(self, relative: str) -> bool:
        return self.include.match_file(relative) and not self.exclude.match_file(relative)

    def skips_dir(self, path: str, name: str, relative: str) -> bool:
        if name in DEFAULT_EXCLUDED_DIRS or name.endswith(".egg-info"):
            return True
        if os.path.exists(os.path.join(path, "pyvenv.cfg")):  # a virtual environment
            return True
        return self.exclude.match_file(relative + "/")


def discover(config: Config, paths: Iterable[Path] = ()) -> Iterator[SourceFile]:
    """Yield the files to scan, in a stable order.

    With no `paths`, the configured source roots are walked. Given paths (files or folders,
    inside the project) replace them; a file named explicitly is scanned whenever its kind is
    known, even if the include patterns would not pick it.
    """
    matcher = _Matcher(config)
    roots = list(paths) or [config.root / root for root in config.source_roots]
    seen: set[str] = set()
    for root in roots:
        root = root.resolve()
        if root.is_file():
            relative = config.relative(root)
            kind = matcher.kind(relative)
            if kind is not None and relative not in seen:
                seen.add(relative)
                yield SourceFile(root, relative, kind)
            continue
        for source in _walk(config, matcher, root):
            if source.relative not in seen:
                seen.add(source.relative)
                yield source


def _walk(config: Config, matcher: _Matcher, top: Path) -> Iterator[SourceFile]:
    prefix = config.relative(top)
    prefix = "" if prefix == "." else prefix + "/"
    top_length = len(str(top)) + 1
    for folder, dirs, files in os.walk(top):
        relative_folder = prefix + folder[top_length:].replace(os.sep, "/")
        if relative_folder and not relative_folder.endswith("/"):
            relative_folder += "/"
        dirs[:] = sorted(
            d
            for d in dirs
            if not matcher.skips_dir(os.path.join(folder, d), d, relative_folder + d)
        )
        for name in sorted(files):
            relative = relative_folder + name
            kind = matcher.kind(name)
            if kind is not None and matcher.wants_file(relative):
                yield SourceFile(Path(folder, name), relative, kind)
