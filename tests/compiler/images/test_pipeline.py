"""`staticimg extract` end to end on small real projects: files, JSON, caching, failures."""

from __future__ import annotations

import base64
import io
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import blurhash  # type: ignore[import-untyped]
import orjson
import pytest
from click.testing import CliRunner
from PIL import Image, ImageChops, ImageDraw, ImageStat

from staticimg.compiler.clean import clean
from staticimg.compiler.cli import main
from staticimg.compiler.config import load_config
from staticimg.compiler.images import work
from staticimg.compiler.images.pipeline import Build, build, survey

OUTPUT_NAME = re.compile(r"(?P<stem>.+)-(?P<width>\d+)w-[0-9a-f]{12}\.(?P<ext>jpg|png|webp|avif)")


def photo(width: int = 320, height: int = 240, seed: int = 0) -> Image.Image:
    """A photo-like test image: gradients and shapes, so encoders have real work."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(12):
        x, y = (i * 37 + seed * 11) % width, (i * 53 + seed * 7) % height
        draw.ellipse((x, y, x + width // 6, y + height // 6), fill=(40 * i % 255, 90, 200 - i))
    return image


def write_photo(path: Path, *, seed: int = 0, size: tuple[int, int] = (320, 240)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    photo(*size, seed=seed).save(path, quality=90)
    return path


Project = Callable[..., Path]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A project with app/page.py holding the given calls (one per line)."""

    def make(*calls: str, config: str = "", root: Path | None = None) -> Path:
        base = root or tmp_path / "site"
        (base / "app").mkdir(parents=True, exist_ok=True)
        (base / "pyproject.toml").write_text(
            '[tool.staticimg]\noutput_dir = "public/img"\nurl_prefix = "/img"\njobs = 1\n' + config
        )
        body = "\n".join(f"image_{i} = {call}" for i, call in enumerate(calls))
        (base / "app" / "page.py").write_text(f"from staticimg import StaticImage\n\n{body}\n")
        return base

    return make


def run(root: Path, **kwargs: Any) -> Build:
    config, problems = load_config(root)
    return build(config, config_diagnostics=problems, **kwargs)


def record_of(result: Build, index: int = 0) -> dict[str, Any]:
    request = result.plan.requests[index]
    return result.records[request.hash]


def outputs(root: Path) -> dict[str, bytes]:
    folder = root / "public" / "img"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


# -- what a build writes


def test_constrained_call_writes_every_width_and_format_and_its_json(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", width=160, placeholder="blurred")')
    write_photo(root / "app" / "hero.jpg")
    result = run(root)
    assert result.errors == 0, result.diagnostics
    data = record_of(result)

    assert data["layout"] == "constrained"
    assert (data["width"], round(data["height"])) == (160, 120)
    fallback = data["images"]["fallback"]
    assert fallback["sizes"] == "(min-width: 160px) 160px, 100vw"
    widths = [int(entry.rsplit(" ", 1)[1][:-1]) for entry in fallback["srcSet"].split(",\n")]
    assert widths == [40, 80, 160, 320]
    assert fallback["src"].startswith("/img/hero-160w-") and fallback["src"].endswith(".jpg")
    [webp] = data["images"]["sources"]
    assert webp["type"] == "image/webp" and webp["sizes"] == fallback["sizes"]

    files = outputs(root)
    assert len(files) == 8
    for name, content in files.items():
        match = OUTPUT_NAME.fullmatch(name)
        assert match, name
        with Image.open(io.BytesIO(content)) as image:
            assert image.width == int(match["width"])
            assert image.format == {"jpg": "JPEG", "webp": "WEBP"}[match["ext"]]
            assert "exif" not in image.info and "icc_profile" not in image.info

    uri = data["placeholder"]["fallback"]
    assert uri.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))) as small:
        assert small.size == (20, 15)
    assert re.fullmatch(r"#[0-9a-f]{6}", data["backgroundColor"])
    assert isinstance(data["blurHash"], str) and len(data["blurHash"]) >= 6

    stored = root / ".staticimg" / "data" / f"{result.plan.requests[0].hash}.json"
    assert stored.read_bytes() == orjson.dumps(data)


def test_a_blurhash_placeholder_is_painted_into_a_tiny_webp(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", width=160, placeholder="blurhash")')
    write_photo(root / "app" / "hero.jpg")
    result = run(root)
    assert result.errors == 0, result.diagnostics
    data = record_of(result)

    uri = data["placeholder"]["fallback"]
    assert uri.startswith("data:image/webp;base64,")
    painted = base64.b64decode(uri.split(",", 1)[1])
    assert len(painted) < 400  # small enough to inline in every page
    with Image.open(io.BytesIO(painted)) as small:
        assert small.size == (32, 24)  # 32 px on the long side, the image's 4:3
    # The painting is of the stored hash: the same pixels as decoding it directly.
    expected = blurhash.decode(data["blurHash"], 32, 24)
    with Image.open(io.BytesIO(painted)) as small:
        diff = ImageChops.difference(small.convert("RGB"), expected)
        assert max(ImageStat.Stat(diff).mean) < 8  # only lossy-WebP noise


def test_fixed_and_full_width_layouts(project: Project) -> None:
    root = project(
        'StaticImage(src="hero.jpg", alt="", layout="fixed", width=100)',
        'StaticImage(src="hero.jpg", alt="", layout="fullWidth", breakpoints=[100, 200, 400])',
    )
    write_photo(root / "app" / "hero.jpg")
    result = run(root)
    fixed, full = record_of(result, 0), record_of(result, 1)
    assert (fixed["width"], fixed["height"]) == (100, 75)
    assert fixed["images"]["fallback"]["sizes"] == "100px"
    assert fixed["images"]["fallback"]["srcSet"].count("w,\n") == 1  # 100w and 200w
    assert (full["width"], full["height"]) == (1, 0.75)
    assert full["images"]["fallback"]["sizes"] == "100vw"
    srcset = full["images"]["fallback"]["srcSet"]
    assert [e.rsplit(" ", 1)[1] for e in srcset.split(",\n")] == ["100w", "200w", "320w"]


def test_user_background_colour_wins_over_the_dominant_colour(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", background_color="transparent")')
    write_photo(root / "app" / "hero.jpg")
    assert record_of(run(root))["backgroundColor"] == "transparent"


def test_placeholder_none_has_no_colour_and_no_placeholder(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", placeholder="none")')
    write_photo(root / "app" / "hero.jpg")
    data = record_of(run(root))
    assert "backgroundColor" not in data and "placeholder" not in data


def test_transparent_png_stays_png_and_is_not_080808(project: Project) -> None:
    root = project('StaticImage(src="logo.png", alt="")')
    logo = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse((16, 16, 48, 48), fill=(200, 30, 30, 255))
    logo.save(root / "app" / "logo.png")
    data = record_of(run(root))
    assert data["images"]["fallback"]["src"].endswith(".png")
    assert data["backgroundColor"] != "#080808"
    png = next(n for n in outputs(root) if n.endswith(".png") and "-64w-" in n)
    with Image.open(root / "public" / "img" / png) as image:
        assert image.mode in {"RGBA", "LA", "P", "PA"}


def test_exif_orientation_is_applied_before_measuring(project: Project) -> None:
    root = project('StaticImage(src="portrait.jpg", alt="")')
    stored = photo(300, 200)  # stored landscape, shown portrait (orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(root / "app" / "portrait.jpg", exif=exif, quality=90)
    data = record_of(run(root))
    assert (data["width"], round(data["height"])) == (200, 300)


# -- caching and determinism


def test_same_inputs_give_byte_identical_files_and_json(project: Project, tmp_path: Path) -> None:
    call = 'StaticImage(src="hero.jpg", alt="", formats=["auto", "webp", "avif"])'
    first = project(call, root=tmp_path / "one")
    second = project(call, root=tmp_path / "two")
    for root in (first, second):
        write_photo(root / "app" / "hero.jpg")
    run(first)
    run(second)
    assert outputs(first) == outputs(second)
    assert len(outputs(first)) > 0
    data_one = sorted((first / ".staticimg" / "data").iterdir())
    data_two = sorted((second / ".staticimg" / "data").iterdir())
    assert [p.read_bytes() for p in data_one] == [p.read_bytes() for p in data_two]


def test_warm_build_decodes_and_writes_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", placeholder="blurred")')
    write_photo(root / "app" / "hero.jpg")
    cold = run(root)
    assert cold.stats.decoded == 1 and cold.stats.written == 6  # 80, 160, 320 × jpg, webp

    def no_decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("a warm build decoded an image")

    monkeypatch.setattr(work, "decode", no_decoding)
    mtimes = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    warm = run(root)
    assert (warm.stats.decoded, warm.stats.written) == (0, 0)
    assert warm.records == cold.records
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()} == mtimes


def test_a_changed_source_reprocesses_only_the_calls_that_use_it(project: Project) -> None:
    root = project('StaticImage(src="a.jpg", alt="")', 'StaticImage(src="b.jpg", alt="")')
    write_photo(root / "app" / "a.jpg", seed=1)
    write_photo(root / "app" / "b.jpg", seed=2)
    assert run(root).stats.decoded == 2
    write_photo(root / "app" / "b.jpg", seed=3)
    rebuilt = run(root)
    assert rebuilt.stats.decoded == 1
    assert all(name.startswith("b-") for name in _written_names(root, rebuilt))


def _written_names(root: Path, result: Build) -> set[str]:
    sources = {"a": record_of(result, 0), "b": record_of(result, 1)}
    return {
        entry.split(" ")[0].rsplit("/", 1)[1]
        for key, data in sources.items()
        if key == "b"
        for entry in data["images"]["fallback"]["srcSet"].split(",\n")
    }


def test_each_distinct_source_is_decoded_once(project: Project) -> None:
    root = project(
        'StaticImage(src="hero.jpg", alt="", width=100)',
        'StaticImage(src="hero.jpg", alt="", width=200, placeholder="blurred")',
        'StaticImage(src="copy.jpg", alt="", layout="fixed", width=50)',
    )
    write_photo(root / "app" / "hero.jpg")
    shutil.copyfile(root / "app" / "hero.jpg", root / "app" / "copy.jpg")
    result = run(root)
    assert result.errors == 0
    assert (result.stats.sources, result.stats.decoded) == (1, 1)


def test_a_normal_build_never_deletes_and_clean_removes_only_stale_files(
    project: Project,
) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", width=100)')
    write_photo(root / "app" / "hero.jpg")
    run(root)
    before = set(outputs(root))
    (root / "public" / "img" / "keep-me.txt").write_text("not ours")
    project('StaticImage(src="hero.jpg", alt="", width=120)', root=root)
    run(root)
    after = set(outputs(root))
    assert before < after  # the old widths are still there

    config, _ = load_config(root)
    dry = clean(config, survey(config), dry_run=True)
    assert {p.name for p in dry.stale} >= before - after | {
        n for n in before if n not in _referenced(root)
    }
    assert set(outputs(root)) == after
    done = clean(config, survey(config))
    remaining = set(outputs(root))
    assert "keep-me.txt" in remaining
    assert remaining - {"keep-me.txt"} == _referenced(root)
    assert done.stale


def _referenced(root: Path) -> set[str]:
    config, _ = load_config(root)
    return set(survey(config).outputs)


def test_clean_refuses_while_a_source_file_does_not_parse(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="")')
    write_photo(root / "app" / "hero.jpg")
    run(root)
    (root / "app" / "broken.py").write_text("from staticimg import StaticImage\ndef (:\n")
    config, _ = load_config(root)
    result = clean(config, survey(config))
    assert result.blocked_by == ("app/broken.py",) and result.stale == ()


# -- failures


def test_a_missing_image_is_located_and_the_others_still_build(project: Project) -> None:
    root = project(
        'StaticImage(src="hero.jpg", alt="")',
        'StaticImage(src="nope.jpg", alt="")',
    )
    write_photo(root / "app" / "hero.jpg")
    result = run(root)
    [problem] = [d for d in result.diagnostics if d.is_error]
    assert problem.code == "SI301" and problem.file == "app/page.py"
    assert problem.span is not None and (problem.span.line, problem.span.column) == (4, 27)
    assert "app/nope.jpg" in problem.message
    assert record_of(result, 1) == {"error": problem.to_json()}
    assert "images" in record_of(result, 0)


def test_a_corrupt_image_fails_its_calls_only(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="")', 'StaticImage(src="cut.jpg", alt="")')
    write_photo(root / "app" / "hero.jpg")
    data = (root / "app" / "hero.jpg").read_bytes()
    (root / "app" / "cut.jpg").write_bytes(data[: len(data) // 2])
    result = run(root)
    assert [d.code for d in result.diagnostics if d.is_error] == ["SI304"]
    assert "error" in record_of(result, 1) and "images" in record_of(result, 0)
    assert not any(".staticimg-tmp-" in p.name for p in root.rglob("*"))


def test_src_outside_the_project_is_refused(project: Project, tmp_path: Path) -> None:
    root = project(
        'StaticImage(src="../../outside.jpg", alt="")', 'StaticImage(src="link.jpg", alt="")'
    )
    write_photo(tmp_path / "outside.jpg")
    (root / "app" / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    result = run(root)
    assert [d.code for d in result.diagnostics] == ["SI302", "SI302"]
    assert "symbolic link" in result.diagnostics[1].message


def test_slash_rooted_src_is_relative_to_the_static_root(project: Project) -> None:
    root = project('StaticImage(src="/images/hero.jpg", alt="")', config='static_root = "assets"\n')
    write_photo(root / "assets" / "images" / "hero.jpg")
    assert run(root).errors == 0


# -- executors


def test_any_executor_can_run_the_jobs(project: Project) -> None:
    root = project('StaticImage(src="a.jpg", alt="")', 'StaticImage(src="b.jpg", alt="")')
    write_photo(root / "app" / "a.jpg", seed=1)
    write_photo(root / "app" / "b.jpg", seed=2)
    with ThreadPoolExecutor(max_workers=2) as executor:
        result = run(root, executor=executor)
    assert result.errors == 0 and result.stats.decoded == 2


def test_the_process_pool_gives_the_same_files_as_one_process(
    project: Project, tmp_path: Path
) -> None:
    calls = ('StaticImage(src="a.jpg", alt="")', 'StaticImage(src="b.jpg", alt="")')
    roots = [project(*calls, root=tmp_path / name) for name in ("serial", "pool")]
    for root in roots:
        write_photo(root / "app" / "a.jpg", seed=1)
        write_photo(root / "app" / "b.jpg", seed=2)
    run(roots[0], jobs=1)
    pooled = run(roots[1], jobs=2)
    assert pooled.stats.decoded == 2
    assert outputs(roots[0]) == outputs(roots[1])


# -- the command


def test_extract_command_summary_and_json(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="")', 'StaticImage(src="gone.jpg", alt="")')
    write_photo(root / "app" / "hero.jpg")
    runner = CliRunner()
    human = runner.invoke(main, ["-C", str(root), "extract"])
    assert human.exit_code == 1
    assert "error[SI301]" in human.stderr
    assert "1 image from 1 source, 6 outputs (6 written" in human.stderr

    machine = runner.invoke(main, ["-C", str(root), "extract", "--format", "json"])
    lines = [orjson.loads(line) for line in machine.stdout.splitlines()]
    assert lines[0]["code"] == "SI301"
    assert lines[-1]["kind"] == "summary"
    assert (lines[-1]["written"], lines[-1]["decoded"], lines[-1]["errors"]) == (0, 0, 1)


def test_warm_build_parses_no_source_and_reads_no_image(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project('StaticImage(src="hero.jpg", alt="")')
    write_photo(root / "app" / "hero.jpg")
    cold = run(root)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a warm build did work it had cached")

    from staticimg.compiler.images import decode, sources
    from staticimg.compiler.scan import python

    monkeypatch.setattr(python, "scan_python", forbidden)
    monkeypatch.setattr(sources, "read_source", forbidden)
    monkeypatch.setattr(decode, "probe", forbidden)
    assert run(root).records == cold.records


def test_a_touched_but_unchanged_image_is_digested_again_and_reused(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="")')
    path = write_photo(root / "app" / "hero.jpg")
    run(root)
    path.write_bytes(path.read_bytes())  # new mtime, same content
    again = run(root)
    assert (again.stats.decoded, again.stats.written) == (0, 0)


def test_an_edited_source_file_is_scanned_again(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", width=100)')
    write_photo(root / "app" / "hero.jpg")
    run(root)
    project('StaticImage(src="hero.jpg", alt="", width=120)', root=root)
    assert record_of(run(root))["width"] == 120


def test_transform_options_reach_the_pixels_and_the_names(project: Project) -> None:
    root = project(
        'StaticImage(src="hero.jpg", alt="", width=64, formats=["png"])',
        'StaticImage(src="hero.jpg", alt="", width=64, formats=["png"],'
        ' transform_options={"grayscale": True})',
        'StaticImage(src="hero.jpg", alt="", width=64, formats=["png"],'
        ' transform_options={"rotate": 90})',
        'StaticImage(src="hero.jpg", alt="", width=64, height=64, formats=["png"],'
        ' transform_options={"fit": "contain"}, background_color="#ff0000")',
    )
    write_photo(root / "app" / "hero.jpg")
    result = run(root)
    assert result.errors == 0, result.diagnostics
    plain, grey, turned, boxed = (record_of(result, i) for i in range(4))

    def fallback_image(data: dict[str, Any]) -> Image.Image:
        name = data["images"]["fallback"]["src"].rsplit("/", 1)[1]
        return Image.open(root / "public" / "img" / name).convert("RGB")

    assert plain["images"]["fallback"]["src"] != grey["images"]["fallback"]["src"]
    red, green, blue = fallback_image(grey).split()
    assert red.tobytes() == green.tobytes() == blue.tobytes()
    assert (turned["width"], round(turned["height"])) == (64, 85)  # 240×320 after the turn
    letterboxed = fallback_image(boxed)
    assert letterboxed.size == (64, 64)
    assert letterboxed.getpixel((32, 1)) == (255, 0, 0)  # a 4:3 photo in a square: red bars


def test_an_animated_gif_stays_animated_in_webp_and_warns_for_the_rest(
    project: Project, images_dir: Path
) -> None:
    root = project('StaticImage(src="spinner.gif", alt="")')
    shutil.copyfile(images_dir / "animated.gif", root / "app" / "spinner.gif")
    result = run(root)
    assert [d.code for d in result.diagnostics] == ["SI350"]
    data = record_of(result)
    webp = data["images"]["sources"][0]["srcSet"].split(",\n")[-1].split(" ")[0]
    with Image.open(root / "public" / "img" / webp.rsplit("/", 1)[1]) as image:
        assert getattr(image, "n_frames", 1) == 3
    # GIF is not a fallback format; this one has no transparency, so it falls back to JPEG.
    assert data["images"]["fallback"]["src"].endswith(".jpg")


def test_a_deleted_output_comes_back_byte_identical(project: Project) -> None:
    root = project('StaticImage(src="hero.jpg", alt="", width=100, placeholder="blurred")')
    write_photo(root / "app" / "hero.jpg")
    cold = run(root)
    before = outputs(root)
    middle = sorted(before, key=lambda n: int(OUTPUT_NAME.fullmatch(n)["width"]))[2]  # type: ignore[index]
    (root / "public" / "img" / middle).unlink()
    for cached in (root / ".staticimg" / "placeholders").iterdir():
        cached.unlink()
    repaired = run(root)
    assert repaired.stats.written == 1
    assert outputs(root) == before
    assert repaired.records == cold.records
