"""The `staticimg` command."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from staticimg import __version__
from staticimg.compiler.config import find_root, load_config

# The pipeline (libcst, Jinja, Pillow) is imported by each command when it runs: `--help`
# stays instant, and image worker processes, which re-import this entry point, stay lean.
if TYPE_CHECKING:
    from staticimg.compiler.config import Config
    from staticimg.compiler.diagnostics import Diagnostic

EXIT_OK, EXIT_ERRORS = 0, 1  # click itself exits with 2 on a usage error


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="staticimg")
@click.option(
    "-C",
    "--project",
    "project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Project root. Default: the nearest folder at or above the current one that has a "
    "pyproject.toml.",
)
@click.pass_context
def main(ctx: click.Context, project: Path | None) -> None:
    """Build-time responsive images for Python and Jinja.

    Write StaticImage(src=..., alt=..., width=...) in your Python code or Jinja templates.
    `staticimg extract --plan` finds every call without running your code, evaluates its
    build props, and reports whatever cannot be known at build time with its file, line,
    column and a stable error code (see docs/errors.md).

    Configuration lives in [tool.staticimg] in pyproject.toml; a project with none works.
    """
    ctx.obj = project.resolve() if project else find_root(Path.cwd())


@main.command()
@click.argument(
    "paths",
    nargs=-1,
    type=click.Path(exists=True, path_type=Path),
    metavar="[PATH]...",
)
@click.option(
    "--plan",
    is_flag=True,
    help="Scan and evaluate only: print every call with its normalised props and hash, and "
    "every problem found. Reads no image and writes nothing.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    help="`json` prints one JSON object per line: a call record or a diagnostic.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes. Default: one per CPU core.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the human output. Default: when writing to a terminal and NO_COLOR is unset.",
)
@click.pass_obj
def extract(
    root: Path,
    paths: tuple[Path, ...],
    plan: bool,
    output_format: str,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Find every StaticImage call and build its images and image data.

    Writes the responsive image files into `output_dir`, one image-data JSON per call into
    `.staticimg/data/`, and reports every problem with its file, line and code. Work already
    done is found by content and skipped. Nothing is deleted: see `staticimg clean`.

    PATH is a file or folder inside the project to scan instead of the configured source
    roots. Python files (.py) and Jinja templates (.html, .htm, .jinja, .jinja2, .j2 by
    default) are scanned; virtual environments, node_modules, VCS and build folders are not.

    \b
    Examples:
      staticimg extract
      staticimg extract --plan
      staticimg extract --plan app/ templates/index.html
      staticimg extract --plan --format json | jq 'select(.kind == "diagnostic")'

    \b
    Exit status:
      0  no errors (warnings allowed)
      1  at least one error was reported
      2  usage error
    """
    config, config_problems = load_config(root)
    for path in paths:
        try:
            config.relative(path)
        except ValueError:
            raise click.BadParameter(
                f"{path} is outside the project root {root}", param_hint="PATH"
            ) from None
    if color is None and os.environ.get("NO_COLOR"):
        color = False
    if not plan:
        if not config_problems:
            _report_if_unchanged(config, paths, output_format, color)
        _extract(config, paths, jobs, config_problems, output_format, color)
    from staticimg.compiler import report
    from staticimg.compiler.plan import make_plan

    result = make_plan(config, paths, jobs=jobs, config_diagnostics=config_problems)
    if output_format == "json":
        out = sys.stdout.buffer
        for line in report.json_lines(result):
            out.write(line + b"\n")
        out.flush()
    else:
        for request in result.requests:
            click.echo(report.format_call(request), color=color)
        for diagnostic in result.diagnostics:
            click.echo(report.format_diagnostic(diagnostic, root), color=color, err=True)
        click.echo(report.format_summary(result), color=color, err=True)
    sys.exit(EXIT_ERRORS if result.errors else EXIT_OK)


def _report_if_unchanged(
    config: Config, paths: tuple[Path, ...], output_format: str, color: bool | None
) -> None:
    """A warm build with nothing changed, recognised by stat before the scanner, the image
    stage or Pillow is imported: report the stamped build again and exit."""
    started = time.perf_counter()
    from staticimg.compiler import stamp

    summary = stamp.unchanged(config, paths)
    if summary is None:
        return
    from staticimg.compiler import report

    record = report.unchanged_record(summary, time.perf_counter() - started)
    if output_format == "json":
        import orjson

        sys.stdout.buffer.write(orjson.dumps(record) + b"\n")
        sys.stdout.flush()
    else:
        click.echo(report.format_summary_record(record), color=color, err=True)
    sys.exit(EXIT_OK)


def _extract(
    config: Config,
    paths: tuple[Path, ...],
    jobs: int | None,
    config_problems: list[Diagnostic],
    output_format: str,
    color: bool | None,
) -> NoReturn:
    from staticimg.compiler import report
    from staticimg.compiler.images.pipeline import build

    show_progress = output_format == "human" and sys.stderr.isatty()
    with _ProgressBar(show_progress) as progress:
        result = build(
            config,
            paths,
            jobs=jobs,
            config_diagnostics=config_problems,
            progress=progress.update if show_progress else None,
        )
    if output_format == "json":
        out = sys.stdout.buffer
        for line in report.build_lines(result):
            out.write(line + b"\n")
        out.flush()
    else:
        for diagnostic in result.diagnostics:
            click.echo(report.format_diagnostic(diagnostic, config.root), color=color, err=True)
        click.echo(report.format_build_summary(result), color=color, err=True)
    sys.exit(EXIT_ERRORS if result.errors else EXIT_OK)


class _ProgressBar:
    """A bar over the image jobs, on stderr, only on a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.shown = 0

    def __enter__(self) -> _ProgressBar:
        return self

    def update(self, done: int, total: int) -> None:
        if total == 0:
            return
        if self.bar is None:
            self.bar = click.progressbar(
                length=total, label="images", file=sys.stderr, show_pos=True
            )
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@main.command()
@click.option("-n", "--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.pass_obj
def clean(root: Path, dry_run: bool) -> None:
    """Remove image files, image data and cached placeholders that no call references.

    A normal `extract` never deletes anything. `clean` scans the project (reading no image),
    works out every file the current calls reference, and removes the rest from output_dir
    (only files named the way staticimg names them) and from the cache folder. It refuses to
    run while a source file cannot be scanned, since that file's images would be removed.
    """
    from staticimg.compiler.clean import clean as clean_project
    from staticimg.compiler.images.pipeline import survey

    config, config_problems = load_config(root)
    result = clean_project(config, survey(config, config_diagnostics=config_problems),
                           dry_run=dry_run)  # fmt: skip
    if result.blocked_by:
        click.echo(
            "staticimg clean: nothing removed: these files could not be scanned, so their "
            "images might still be needed: "
            + ", ".join(result.blocked_by)
            + ". Fix them (`staticimg extract --plan` shows why) and run clean again.",
            err=True,
        )
        sys.exit(EXIT_ERRORS)
    verb = "would remove" if dry_run else "removed"
    for path in result.stale:
        click.echo(f"{verb} {config.relative(path)}")
    click.echo(f"staticimg clean: {verb} {len(result.stale)} files", err=True)
