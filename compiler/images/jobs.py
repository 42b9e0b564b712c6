"""The values that travel between the build and its workers: small and picklable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from staticimg.compiler.images.recipe import Geometry, Output, PlaceholderSpec


@dataclass(frozen=True, slots=True)
class Task:
    """One call's share of a job: its geometry, the outputs still missing, its placeholder."""

    geometry: Geometry
    outputs: tuple[Output, ...]
    placeholder: PlaceholderSpec | None


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
    cost: int  # estimated decoded pixels: what the scheduler bounds


@dataclass(slots=True)
class JobResult:
    digest: str
    written: list[tuple[str, int]] = field(default_factory=list)  # (name, bytes)
    placeholders: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: tuple[str, str, str | None] | None = None  # (code, message, hint)
