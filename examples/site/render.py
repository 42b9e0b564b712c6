"""Render every page of the example site to static HTML in public/.

Run it from anywhere after `staticimg build` (which made the images in public/_img/ and the
image data in .staticimg/data/, and gave each StaticImage call its `__image_data`):

    python render.py                # development: a call whose image failed shows the error
    python render.py --production   # production: such a call renders nothing

Then serve the folder: `python -m http.server -d public` and open http://localhost:8000/.

Three pages, one per way of writing a page:

- index.html, from the Jinja templates in templates/ (`staticimg.jinja.install(env)` makes
  StaticImage and staticimg_head template globals);
- gallery.html, from the plain Python functions in app/ (app/pages.py, app/components.py);
- notes.html, from the Markdown in content/notes.md (markdown-it with staticimg's plugin).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import jinja2

import staticimg
import staticimg.jinja

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / ".staticimg" / "data"
STATIC = ROOT / "static"

# The one call that fails on purpose (templates/index.html names a missing lighthouse.jpg),
# per page. Any other image that renders as an error means the build did not run or failed:
# `make demo` and the tests rely on this check.
EXPECTED_FAILURES = {"index.html": 1, "gallery.html": 0, "notes.html": 0}
ERROR_MARK = "data-staticimg-error="


def jinja_page(env: jinja2.Environment, name: str) -> Callable[[], str]:
    return lambda: env.get_template(name).render()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--production",
        action="store_true",
        help="render for production: a failed image renders nothing instead of its error",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "public", help="output folder (default: public/)"
    )
    args = parser.parse_args(argv)

    if not DATA_DIR.is_dir():
        print(
            f"render.py: no image data in {DATA_DIR}: run `staticimg build` first", file=sys.stderr
        )
        return 1

    # One setting for the whole process: the Python pages read it, and the Jinja globals
    # installed below fall back to it.
    staticimg.configure(data_dir=DATA_DIR, development=not args.production)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    staticimg.jinja.install(env)

    sys.path.insert(0, str(ROOT))  # the `app` package, wherever this script is run from
    from app import pages

    routes: dict[str, Callable[[], str]] = {
        "index.html": jinja_page(env, "index.html"),
        "gallery.html": pages.gallery,
        "notes.html": pages.notes,
    }
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    failed: dict[str, int] = {}
    for name, render in routes.items():
        html = render()
        (out / name).write_text(html, encoding="utf-8")
        failed[name] = html.count(ERROR_MARK)
    for asset in sorted(STATIC.iterdir()):
        shutil.copyfile(asset, out / asset.name)

    mode = "production" if args.production else "development"
    print(f"rendered {len(routes)} pages ({mode}) into {out}: {', '.join(routes)}")
    if failed != EXPECTED_FAILURES:
        print(
            f"render.py: images that could not be rendered, per page: {failed}; expected "
            f"{EXPECTED_FAILURES} (only the missing lighthouse.jpg). Did `staticimg build` "
            "run, and succeed for every other call? The pages show why, in development.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
