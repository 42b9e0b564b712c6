"""How diagnostics and plans are shown: a code frame for people, one JSON object per line for
tools. Reporting reads source files again only for the lines it shows."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from staticimg.compiler.diagnostics import Diagnostic, Severity, Span

if TYPE_CHECKING:
    # Types only: a warm build reports through this module without importing the stages.
    from staticimg.compiler.images.pipeline import Build
    from staticimg.compiler.plan import Plan, Request

LINES_ABOVE = 2
LINES_BELOW = 1
TAB_WIDTH = 4
_SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow"}


def json_lines(plan: Plan) -> Iterator[bytes]:
    """Call records and diagnostics, merged in file and position order."""
    records: list[tuple[tuple[str, int, int, int], dict[str, Any]]] = []
    for request in plan.requests:
        key = (request.file, request.span.line, request.span.column, 0)
        records.append((key, call_record(request)))
    for diagnostic in plan.diagnostics:
        span = diagnostic.span
        key = (diagnostic.file, span.line if span else 0, span.column if span else 0, 1)
        records.append((key, diagnostic.to_json()))
    records.sort(key=lambda pair: pair[0])
    for _, record in records:
        yield orjson.dumps(record)


def call_record(request: Request) -> dict[str, Any]:
    return {
        "kind": "call",
        "file": request.file,
        "line": request.span.line,
        "column": request.span.column,
        "props": request.props_dict(),
        "hash": request.hash,
    }


def format_call(request: Request) -> str:
    location = f"{request.file}:{request.span.line}:{request.span.column}"
    props = " ".join(
        f"{name}={orjson.dumps(value).decode()}" for name, value in request.props_dict().items()
    )
    return f"{click.style(location, bold=True)}  {request.callee} {request.hash}\n    {props}"


def format_diagnostic(diagnostic: Diagnostic, root: Path) -> str:
    severity = diagnostic.severity
    colour = _SEVERITY_COLOURS[severity]
    title = click.style(f"{severity.value}[{diagnostic.code}]", fg=colour, bold=True)
    lines = [f"{title}: {click.style(diagnostic.message, bold=True)}"]
    span = diagnostic.span
    location = diagnostic.file + (f":{span.line}:{span.column}" if span else "")
    gutter = " " * len(str(span.line + LINES_BELOW)) if span else ""
    lines.append(f"{gutter}--> {location}")
    if span is not None:
        lines.extend(_code_frame(_source_lines(root / diagnostic.file), span, colour))
    if diagnostic.hint:
        lines.append(f"{gutter} = hint: {diagnostic.hint}")
    lines.append(f"{gutter} = docs: {diagnostic.docs}")
    return "\n".join(lines)


def format_summary(plan: Plan) -> str:
    parts = [
        _count(len(plan.requests), "image") + " planned",
        _count(plan.files_scanned, "file") + f" scanned ({plan.files_parsed} parsed)",
        f"{plan.seconds:.2f}s",
    ]
    counts = []
    if plan.errors:
        counts.append(click.style(_count(plan.errors, "error"), fg="red"))
    if plan.warnings:
        counts.append(click.style(_count(plan.warnings, "warning"), fg="yellow"))
    return ", ".join(parts) + (": " + ", ".join(counts) if counts else "")


def build_lines(build: Build) -> Iterator[bytes]:
    """`extract --format json`: diagnostics, then one summary object."""
    for diagnostic in build.diagnostics:
        yield orjson.dumps(diagnostic.to_json())
    yield orjson.dumps(build.summary())


def unchanged_record(summary: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The summary of a build found unchanged by its stamp: nothing written or decoded."""
    written = {"written": 0, "bytes_written": 0, "decoded": 0, "seconds": round(seconds, 3)}
    return {**summary, **written}


def format_build_summary(build: Build) -> str:
    return format_summary_record(build.summary())


def format_summary_record(record: dict[str, Any]) -> str:
    parts = [
        _count(record["images"], "image") + f" from {_count(record['sources'], 'source')}",
        _count(record["outputs"], "output") + f" ({record['written']} written, "
        f"{_megabytes(record['bytes_written'])})",
        f"{_megabytes(record['bytes_saved'])} saved",
        f"{record['seconds']:.2f}s",
    ]
    counts = []
    if record["errors"]:
        counts.append(click.style(_count(record["errors"], "error"), fg="red"))
    if record["warnings"]:
        counts.append(click.style(_count(record["warnings"], "warning"), fg="yellow"))
    return ", ".join(parts) + (": " + ", ".join(counts) if counts else "")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.1f} kB"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"


@cache
def _source_lines(path: Path) -> tuple[str, ...]:
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ()
    return tuple(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _code_frame(source: tuple[str, ...], span: Span, colour: str) -> Iterator[str]:
    if not 1 <= span.line <= len(source):
        return
    first = max(1, span.line - LINES_ABOVE)
    last = min(len(source), span.line + LINES_BELOW)
    width = len(str(last))
    yield f"{' ' * width} |"
    for number in range(first, last + 1):
        text = source[number - 1]
        yield f"{number:>{width}} | {text.expandtabs(TAB_WIDTH)}".rstrip()
        if number == span.line:
            end = span.end_column if span.end_line == span.line else len(text) + 1
            start = _display_column(text, span.column)
            length = max(1, _display_column(text, max(end, span.column + 1)) - start)
            marker = click.style("^" * length, fg=colour, bold=True)
            yield f"{' ' * width} | {' ' * (start - 1)}{marker}"


def _display_column(text: str, column: int) -> int:
    """The 1-based screen column of a 1-based character column, with tabs expanded."""
    return len(text[: column - 1].expandtabs(TAB_WIDTH)) + 1
