"""Which files a scan reads."""

from __future__ import annotations

from pathlib import Path

from staticimg.compiler.config import Config
from staticimg.compiler.scan.discover import SourceKind, discover

FILES = [
    "app/pages.py",
    "app/static/app.js",
    "templates/index.html",
    "templates/email.jinja",
    "templates/partials/card.j2",
    "README.md",
    ".git/hooks/pre-commit.py",
    ".venv/lib/python3.11/site-packages/x.py",
    "env/lib/site.py",  # a virtual environment under an unusual name
    "node_modules/pkg/index.html",
    "build/lib/app.py",
    "app/__pycache__/pages.py",
    "pkg.egg-info/top_level.py",
    "docs/legacy/old.py",
]


def make_tree(root: Path) -> None:
    for name in FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    (root / "env" / "pyvenv.cfg").write_text("home = /usr\n")


def relative(config: Config, paths: list[Path] | None = None) -> list[tuple[str, SourceKind]]:
    return [(s.relative, s.kind) for s in discover(config, paths or [])]


def test_defaults_scan_python_and_templates_and_skip_the_usual_folders(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert relative(Config(tmp_path)) == [
        ("README.md", SourceKind.MARKDOWN),
        ("app/pages.py", SourceKind.PYTHON),
        ("docs/legacy/old.py", SourceKind.PYTHON),
        ("templates/email.jinja", SourceKind.TEMPLATE),
        ("templates/index.html", SourceKind.TEMPLATE),
        ("templates/partials/card.j2", SourceKind.TEMPLATE),
    ]


def test_source_roots_include_and_exclude(tmp_path: Path) -> None:
    make_tree(tmp_path)
    config = Config(
        tmp_path,
        source_roots=("app", "templates", "docs"),
        include=("*.py", "templates/**/*.html", "*.j2"),
        exclude=("docs/legacy/",),
    )
    assert [r for r, _ in relative(config)] == [
        "app/pages.py",
        "templates/index.html",
        "templates/partials/card.j2",
    ]


def test_explicit_paths_replace_roots_and_named_files_are_always_scanned(tmp_path: Path) -> None:
    make_tree(tmp_path)
    config = Config(tmp_path, include=("*.html",))
    paths = [
        tmp_path / "app" / "pages.py",
        tmp_path / "templates" / "partials",
        tmp_path / "app" / "pages.py",
    ]
    assert [r for r, _ in relative(config, paths)] == ["app/pages.py"]
    assert relative(Config(tmp_path), [tmp_path / "templates" / "partials"]) == [
        ("templates/partials/card.j2", SourceKind.TEMPLATE)
    ]


def test_symlinked_folders_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("")
    project = tmp_path / "project"
    project.mkdir()
    (project / "link").symlink_to(outside, target_is_directory=True)
    assert relative(Config(project)) == []
