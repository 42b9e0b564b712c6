"""Static Astro-style calls built ahead of time: real projects in a temporary folder, real
images, the real pipeline; outputs decoded with Pillow and rendered by the runtime."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from staticimg import data_store
from staticimg.astro import Image, Picture, Svg
from staticimg.astro.record import result_from_record
from staticimg.astro.services import reset_services
from staticimg.astro.types import GetImageResult, PictureResult
from staticimg.compiler.config import load_config
from staticimg.compiler.images.pipeline import Build, build
from staticimg.compiler.inject import inject
from staticimg.compiler.plan import make_plan

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "images"
LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'version="1.1" viewBox="0 0 120 60"><rect width="120" height="60" fill="#234"/></svg>\n'
)


@pytest.fixture(autouse=True)
def fresh_runtime() -> Iterator[None]:
    data_store.reset()
    reset_services()
    yield
    data_store.reset()
    reset_services()


def project(root: Path, page: str, image_table: str = "") -> Path:
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.staticimg]
            jobs = 1
            output_dir = "static/_img"
            url_prefix = "/_img"
            """
        )
        + (f"\n[tool.staticimg.image]\n{textwrap.dedent(image_table)}" if image_table else "")
    )
    app = root / "app"
    app.mkdir(exist_ok=True)
    photo = PILImage.linear_gradient("L").resize((600, 400)).convert("RGB")
    photo.save(app / "photo.jpg", quality=90)
    (app / "logo.svg").write_text(LOGO)
    (app / "spinner.gif").write_bytes((FIXTURES / "animated.gif").read_bytes())
    (app / "page.py").write_text(
        "from staticimg.astro import Image, Picture, Svg, get_image\n\n" + textwrap.dedent(page)
    )
    return root


def run(root: Path) -> Build:
    config, problems = load_config(root)
    assert problems == []
    return build(config)


def record_of(result: Build, line: int) -> dict[str, Any]:
    """The record of the call on `line` of app/page.py (1-based, the import is line 1)."""
    calls = [c for c in result.plan.calls if c.span.line == line]
    assert len(calls) == 1, result.plan.calls
    request = calls[0].request
    assert request is not None, calls[0].diagnostics
    return result.records[request.hash]


def image_of(root: Path, url: str) -> PILImage.Image:
    assert url.startswith("/_img/"), url
    return PILImage.open(
        io.BytesIO((root / "static/_img" / url.removeprefix("/_img/")).read_bytes())
    )


def test_image_is_built_at_its_size_in_webp(tmp_path: Path) -> None:
    root = project(tmp_path, 'hero = Image(src="photo.jpg", alt="Harbour", width=300)\n')
    result = run(root)
    assert result.errors == 0, result.diagnostics
    got = result_from_record(record_of(result, 3))
    assert isinstance(got, GetImageResult)
    with image_of(root, got.src) as image:
        assert (image.format, image.size) == ("WEBP", (300, 200))
    assert got.attributes["width"] == 300 and got.attributes["height"] == 200
    assert got.attributes["loading"] == "lazy" and got.attributes["decoding"] == "async"
    assert got.src_set == ()


def test_constrained_layout_makes_each_srcset_width_never_upscaled(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        a = Image(src="photo.jpg", alt="", width=300, layout="constrained")
        b = Image(src="photo.jpg", alt="", width=500, height=500, layout="constrained")
        """,
    )
    result = run(root)
    assert result.errors == 0, result.diagnostics
    a = result_from_record(record_of(result, 3))
    assert isinstance(a, GetImageResult)
    widths = sorted(int(v.descriptor[:-1]) for v in a.src_set if v.descriptor)
    assert widths == [300, 600]  # Astro: width and 2 × width, capped at the source (600)
    for value in a.src_set:
        with image_of(root, value.url) as image:
            assert image.size[0] == int(value.descriptor[:-1])  # type: ignore[index]
    assert a.attributes["sizes"] == "(min-width: 300px) 300px, 100vw"
    assert a.attributes["data-astro-image"] == "constrained"
    # b: a square crop (fit cover, centred: the component defaults), 500 wide at most.
    b = result_from_record(record_of(result, 4))
    assert isinstance(b, GetImageResult)
    with image_of(root, b.src) as image:
        # sharp's cover without enlargement: the 500×500 box is cut from the unscaled
        # 600×400 source, so it is only as high as the source.
        assert image.size == (500, 400)
    assert b.attributes["data-astro-image-fit"] == "cover"


def test_picture_sources_in_order_and_a_jpeg_fallback(tmp_path: Path) -> None:
    root = project(
        tmp_path, 'p = Picture(src="photo.jpg", alt="", width=200, formats=["avif", "webp"])\n'
    )
    result = run(root)
    assert result.errors == 0, result.diagnostics
    got = result_from_record(record_of(result, 3))
    assert isinstance(got, PictureResult)
    assert [s.type for s in got.sources] == ["image/avif", "image/webp"]
    with image_of(root, got.fallback.src) as image:
        assert (image.format, image.size) == ("JPEG", (200, 133))
    for source, fmt in zip(got.sources, ("AVIF", "WEBP"), strict=True):
        first = source.srcset.split(",")[0].split()[0]
        with image_of(root, first) as image:
            assert image.format == fmt


def test_svg_is_passed_through_byte_for_byte_and_sized_from_its_viewbox(tmp_path: Path) -> None:
    root = project(tmp_path, 'logo = Image(src="logo.svg", alt="Harbour Co.", width=60)\n')
    result = run(root)
    assert result.errors == 0, result.diagnostics
    got = result_from_record(record_of(result, 3))
    assert isinstance(got, GetImageResult)
    assert got.src.endswith(".svg")
    assert (root / "static/_img" / got.src.removeprefix("/_img/")).read_text() == LOGO
    assert (got.attributes["width"], got.attributes["height"]) == (60, 30)


def test_svg_to_raster_and_raster_to_svg_are_refused(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        a = Image(src="logo.svg", alt="", format="png")
        b = Image(src="photo.jpg", alt="", format="svg")
        c = Picture(src="logo.svg", alt="")
        d = Picture(src="logo.svg", alt="", formats=["svg"])
        """,
    )
    result = run(root)
    by_line = {d.span.line: d.code for d in result.diagnostics if d.span}
    assert by_line == {3: "SI209", 4: "SI209", 5: "SI209"}
    assert "error" not in record_of(result, 6)


def test_inline_svg_record_and_render(tmp_path: Path) -> None:
    root = project(tmp_path, 'icon = Svg("logo.svg", width=24, fill="currentColor")\n')
    result = run(root)
    assert result.errors == 0, result.diagnostics
    record = record_of(result, 3)
    assert record["astro"] == "svg"
    config, _ = load_config(root)
    inject(config, make_plan(config))
    text = (root / "app/page.py").read_text()
    assert "__image_data=" in text
    data_store.configure(data_dir=root / ".staticimg" / "data")
    reference = text.split('__image_data="')[1].split('"')[0]
    html = str(Svg("logo.svg", width=24, fill="currentColor", __image_data=reference))
    assert html.startswith("<svg") and 'width="24"' in html and 'fill="currentColor"' in html
    assert "xmlns" not in html and "version" not in html


def test_animated_gif_picture_keeps_a_gif_fallback_and_animated_webp(tmp_path: Path) -> None:
    root = project(tmp_path, 'p = Picture(src="spinner.gif", alt="", formats=["webp"])\n')
    result = run(root)
    assert result.errors == 0, result.diagnostics
    got = result_from_record(record_of(result, 3))
    assert isinstance(got, PictureResult)
    assert got.fallback.src.endswith(".gif")
    webp = got.sources[0].srcset.split(",")[0].split()[0]
    with image_of(root, webp) as image:
        assert image.format == "WEBP" and getattr(image, "n_frames", 1) > 1


def test_warm_build_writes_nothing_and_injected_calls_render(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        hero = Image(src="photo.jpg", alt="Harbour", width=300, layout="constrained")
        card = Picture("photo.jpg", "Card", width=120, formats=["webp"])
        """,
    )
    first = run(root)
    assert first.errors == 0 and first.stats.written > 0
    config, _ = load_config(root)
    injected = inject(config, make_plan(config))
    assert injected.files and all(f.problem is None for f in injected.files)
    second = run(root)
    assert second.stats.written == 0 and second.records == first.records
    text = (root / "app/page.py").read_text()
    refs = [part.split('"')[0] for part in text.split('__image_data="')[1:]]
    assert len(refs) == 2
    data_store.configure(data_dir=root / ".staticimg" / "data")
    hero = str(Image(src="photo.jpg", alt="Harbour", width=300, layout="constrained",
                     __image_data=refs[0], class_="hero", priority=True))  # fmt: skip
    assert 'alt="Harbour"' in hero and 'class="hero"' in hero
    assert 'loading="eager"' in hero and 'fetchpriority="high"' in hero
    assert "/_img/" in hero and "srcset=" in hero
    card = str(Picture("photo.jpg", "Card", width=120, formats=["webp"], __image_data=refs[1]))
    assert card.startswith("<picture") and 'type="image/webp"' in card


def test_passthrough_service_copies_the_source_once(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        """\
        a = Image(src="photo.jpg", alt="", width=300)
        b = Image(src="photo.jpg", alt="", width=100, densities=[1, 2])
        """,
        'service = "passthrough"\n',
    )
    result = run(root)
    assert result.errors == 0, result.diagnostics
    outputs = sorted((root / "static/_img").iterdir())
    assert len(outputs) == 1 and outputs[0].suffix == ".jpg"
    assert outputs[0].read_bytes() == (root / "app/photo.jpg").read_bytes()
    a = result_from_record(record_of(result, 3))
    assert isinstance(a, GetImageResult) and a.attributes["width"] == 300


def test_external_service_builds_cdn_urls_and_writes_no_variants(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'a = Image(src="photo.jpg", alt="", width=300, layout="constrained")\n',
        """\
        service = "imgix"
        service_config = { domain = "harbour.imgix.net" }
        """,
    )
    result = run(root)
    assert result.errors == 0, result.diagnostics
    got = result_from_record(record_of(result, 3))
    assert isinstance(got, GetImageResult)
    assert got.src.startswith("https://harbour.imgix.net/")
    assert all(v.url.startswith("https://harbour.imgix.net/") for v in got.src_set)
    # Only the original is published (the CDN's origin), under a content-hashed name.
    assert [p.suffix for p in (root / "static/_img").iterdir()] == [".jpg"]


USER_SERVICE = """\
from staticimg.astro.service import BaseLocalService


class StampService(BaseLocalService):
    \"\"\"Writes a text file per transform: proves the build calls a user's transform.\"\"\"

    properties_to_hash = ("src", "width", "height")

    def transform(self, data, transform, config):
        text = f"{transform['width']}x{transform['height']} of {len(data)} bytes"
        return text.encode(), "txt"
"""


def test_user_written_local_service_works_end_to_end(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'a = Image(src="photo.jpg", alt="Harbour", width=150, densities=[1, 2])\n',
        'service = "app.stamp:StampService"\n',
    )
    (root / "app" / "stamp.py").write_text(USER_SERVICE)
    result = run(root)
    assert result.errors == 0, result.diagnostics
    got = result_from_record(record_of(result, 3))
    assert isinstance(got, GetImageResult)
    size = (root / "app/photo.jpg").stat().st_size
    main = root / "static/_img" / got.src.removeprefix("/_img/")
    assert main.read_text() == f"150x100 of {size} bytes"
    double = next(v for v in got.src_set if v.descriptor == "2x")
    assert (root / "static/_img" / double.url.removeprefix("/_img/")).read_text() == (
        f"300x200 of {size} bytes"
    )
    again = run(root)
    assert again.stats.written == 0


def test_markdown_images_are_built_and_rendered_by_the_plugin(tmp_path: Path) -> None:
    from staticimg.astro.markdown import render_markdown

    root = project(tmp_path, "")
    content = root / "content"
    content.mkdir()
    text = (
        "# Harbour\n\n"
        '![The harbour at dawn](../app/photo.jpg "Dawn")\n\n'
        "![logo][l]\n\n"
        "![elsewhere](https://elsewhere.example/x.jpg)\n\n"
        "    ![in code](../app/missing.jpg)\n\n"
        "[l]: ../app/logo.svg\n"
    )
    (content / "post.md").write_text(text)
    result = run(root)
    assert result.errors == 0, result.diagnostics
    data_store.configure(data_dir=root / ".staticimg" / "data")
    html = str(render_markdown(text, "content/post.md"))
    photo = html.split("<img", 2)[1]
    assert 'alt="The harbour at dawn"' in photo and 'title="Dawn"' in photo
    assert 'src="/_img/' in photo and 'loading="lazy"' in photo and 'width="600"' in photo
    assert 'src="/_img/logo-' in html  # the SVG, passed through
    # A host not allowed stays the plain image Markdown wrote, as in Astro.
    assert '<img src="https://elsewhere.example/x.jpg" alt="elsewhere"' in html


def test_clean_removes_astro_files_no_call_references_any_more(tmp_path: Path) -> None:
    from staticimg.compiler.clean import clean
    from staticimg.compiler.images.pipeline import survey

    root = project(
        tmp_path,
        """\
        a = Image(src="logo.svg", alt="")
        b = Picture(src="spinner.gif", alt="", formats=["webp"])
        """,
    )
    (root / "static").mkdir(exist_ok=True)
    run(root)
    made = {p.name for p in (root / "static/_img").iterdir()}
    assert {p.rsplit(".", 1)[-1] for p in made} == {"svg", "gif", "webp"}
    (root / "static/_img/notes.txt").write_text("not ours")
    (root / "app/page.py").write_text("from staticimg.astro import Image\n")
    config, _ = load_config(root)
    result = clean(config, survey(config))
    assert {p.name for p in result.stale} >= made
    assert (root / "static/_img/notes.txt").exists()
