"""The `staticimg` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from staticimg import __version__
from staticimg.compiler import report
from staticimg.compiler.config import find_root, load_config
from staticimg.compiler.plan import make_plan

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
    "every problem found. Writes nothing.",
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
    """Find every StaticImage call and evaluate its props.

    PATH is a file or folder inside the project to scan instead of the configured source
    roots. Python files (.py) and Jinja templates (.html, .htm, .jinja, .jinja2, .j2 by
    default) are scanned; virtual environments, node_modules, VCS and build folders are not.

    \b
    Examples:
      staticimg extract --plan
      staticimg extract --plan app/ templates/index.html
      staticimg extract --plan --format json | jq 'select(.kind == "diagnostic")'

    \b
    Exit status:
      0  no errors (warnings allowed)
      1  at least one error was reported
      2  usage error
    """
    if not plan:
        raise click.UsageError(
            "this version plans only: run `staticimg extract --plan`; the image stage that "
            "writes files is not part of it yet."
        )
    config, config_problems = load_config(root)
    for path in paths:
        try:
            config.relative(path)
        except ValueError:
            raise click.BadParameter(
                f"{path} is outside the project root {root}", param_hint="PATH"
            ) from None
    result = make_plan(config, paths, jobs=jobs, config_diagnostics=config_problems)
    if output_format == "json":
        out = sys.stdout.buffer
        for line in report.json_lines(result):
            out.write(line + b"\n")
        out.flush()
    else:
        if color is None and os.environ.get("NO_COLOR"):
            color = False
        for request in result.requests:
            click.echo(report.format_call(request), color=color)
        for diagnostic in result.diagnostics:
            click.echo(report.format_diagnostic(diagnostic, root), color=color, err=True)
        click.echo(report.format_summary(result), color=color, err=True)
    sys.exit(EXIT_ERRORS if result.errors else EXIT_OK)
