"""The values that travel between the build and its workers: small and picklable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from staticimg.compiler.images.recipe import Geometry, Output, PlaceholderSpec


@dataclass(frozen=True, slots=True)
class Task:
    """One call's share of a job: its geometry, its outputs, which of them to write, and its
    placeholder (None when cached).

    Every output size is always computed, written or not: each one is resized from the next
    larger, so skipping one would change the pixels of the smaller ones. A file is therefore
    the same whether a build writes all of a call's files or only the one that was deleted.
    """

    geometry: Geometry
    outputs: tuple[Output, ...]
    missing: frozenset[str]  # names of the outputs to write
    placeholder: PlaceholderSpec | None

    @property
    def to_write(self) -> tuple[Output, ...]:
        return tuple(o for o in self.outputs if o.name in self.missing)


@dataclass(frozen=True, slots=True)
class Job:
    path: str
    digest: str
    min_width: int  # the decoded, oriented image must be at least this large
    min_height: int
    all_frames: bool
    max_pixels: int
    output_dir: str
    tasks: tuple[Task, ...]
    cost: int  # estimated pixels held while decoding (4 bytes each): what the scheduler bounds


@dataclass(slots=True)
class JobResult:
    digest: str
    written: list[tuple[str, int]] = field(default_factory=list)  # (name, bytes)
    placeholders: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: tuple[str, str, str | None] | None = None  # (code, message, hint)
