"""get_image / get_src / get_src_set (Gatsby §5.7) and with_art_direction (§5.9)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from markupsafe import Markup

from staticimg import (
    GatsbyImage,
    StaticImage,
    configure,
    data_store,
    get_image,
    get_src,
    get_src_set,
    with_art_direction,
)
from staticimg.data_store import DATA_DIR_ENV
from staticimg.image_data import ImageDataWarning

REF = "abcdefabcdefabcdef12"


def image(stem: str, layout: str = "fullWidth", ratio: float = 4 / 3) -> dict[str, Any]:
    return {
        "layout": layout,
        "width": 1,
        "height": 1 / ratio,
        "backgroundColor": "#111111",
        "images": {
            "fallback": {
                "src": f"/{stem}-800.jpg",
                "srcSet": f"/{stem}-400.jpg 400w,\n/{stem}-800.jpg 800w",
                "sizes": "100vw",
            },
            "sources": [
                {"srcSet": f"/{stem}-400.webp 400w", "type": "image/webp", "sizes": "100vw"}
            ],
        },
        "placeholder": {"fallback": f"data:image/jpeg;base64,{stem}"},
    }


@pytest.fixture(autouse=True)
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    data_store.reset()
    (tmp_path / f"{REF}.json").write_bytes(orjson.dumps(image("stored")))
    (tmp_path / ("e" * 20 + ".json")).write_bytes(orjson.dumps({"error": {"code": "SI301"}}))
    configure(data_dir=tmp_path)
    yield
    data_store.reset()


def test_get_image_finds_data_wherever_gatsby_looks() -> None:
    data = image("a")
    assert get_image(data) is data
    assert get_image({"gatsbyImageData": data}) is data
    assert get_image({"gatsby_image_data": data}) is data
    assert get_image({"gatsbyImage": data}) is data
    assert get_image({"childImageSharp": {"gatsbyImageData": data}}) is data
    assert get_image({"child_image_sharp": {"gatsby_image_data": data}}) is data


@pytest.mark.parametrize("node", [None, 42, {}, {"childImageSharp": None}, {"images": {}}, []])
def test_get_image_is_null_safe(node: object) -> None:
    assert get_image(node) is None
    assert get_src(node) is None
    assert get_src_set(node) is None


def test_modern_formats_only_is_still_image_data() -> None:
    data = image("a")
    del data["images"]["fallback"]
    assert get_image(data) is data
    assert get_src(data) is None


def test_references_are_loaded() -> None:
    loaded = get_image(REF)
    assert loaded is not None and loaded["images"]["fallback"]["src"] == "/stored-800.jpg"
    assert get_image({"gatsby_image_data": REF}) == loaded
    assert get_image("f" * 20) is None  # no such record
    assert get_image("e" * 20) is None  # a build error is not image data
    with pytest.raises(ValueError, match="not an image reference"):
        get_image("../secrets")


def test_get_src_and_src_set() -> None:
    node = {"childImageSharp": {"gatsbyImageData": image("a")}}
    assert get_src(node) == "/a-800.jpg"
    assert get_src_set(node) == "/a-400.jpg 400w,\n/a-800.jpg 800w"
    assert get_src(REF) == "/stored-800.jpg"


def test_with_art_direction_follows_gatsby() -> None:
    default = image("wide")
    default["placeholder"]["sources"] = [{"media": "print", "srcSet": "data:,p"}]
    mobile = image("tall", ratio=3 / 4)
    output = with_art_direction(default, [{"media": "(max-width: 600px)", "image": mobile}])
    assert output is not None
    # layout, size and colour are the default's
    assert {k: output[k] for k in ("layout", "width", "height", "backgroundColor")} == {
        k: default[k] for k in ("layout", "width", "height", "backgroundColor")
    }
    assert output["images"]["fallback"] == default["images"]["fallback"]
    assert output["images"]["sources"] == [
        {"srcSet": "/tall-400.webp 400w", "type": "image/webp", "sizes": "100vw",
         "media": "(max-width: 600px)"},
        {"media": "(max-width: 600px)", "srcSet": "/tall-400.jpg 400w,\n/tall-800.jpg 800w"},
        {"srcSet": "/wide-400.webp 400w", "type": "image/webp", "sizes": "100vw"},
    ]  # fmt: skip
    assert output["placeholder"] == {
        "fallback": "data:image/jpeg;base64,wide",
        "sources": [
            {"media": "(max-width: 600px)", "srcSet": "data:image/jpeg;base64,tall"},
            {"media": "print", "srcSet": "data:,p"},
        ],
    }
    # the inputs are untouched
    assert len(default["images"]["sources"]) == 1
    assert len(default["placeholder"]["sources"]) == 1


def test_with_art_direction_warns() -> None:
    with pytest.warns(ImageDataWarning, match="must have a value set for `media`"):
        output = with_art_direction(image("a"), [{"image": image("b")}])
    assert output is not None
    assert len(output["images"]["sources"]) == 1
    with pytest.warns(ImageDataWarning, match='expected "fullWidth" but received "fixed"'):
        with_art_direction(image("a"), [{"media": "(x)", "image": image("b", layout="fixed")}])


def test_with_art_direction_without_placeholder() -> None:
    default = image("a")
    del default["placeholder"]
    output = with_art_direction(default, [{"media": "(x)", "image": image("b")}])
    assert output is not None
    assert "placeholder" not in output


def test_with_art_direction_takes_references() -> None:
    output = with_art_direction(REF, [{"media": "(x)", "image": image("b")}])
    assert output is not None
    assert output["images"]["fallback"]["src"] == "/stored-800.jpg"


def test_with_art_direction_without_a_default_is_none_and_renders_a_notice() -> None:
    with pytest.warns(ImageDataWarning, match="no image data for the default image"):
        output = with_art_direction(None, [{"media": "(x)", "image": image("b")}])
    assert output is None
    configure(development=True)
    assert "image=None" in str(GatsbyImage(output, "x"))


def test_static_image_results_carry_their_image_data() -> None:
    wide = StaticImage(src="wide.jpg", alt="Wide", layout="fullWidth", __image_data=REF)
    tall = StaticImage(src="tall.jpg", alt="Tall", __image_data=image("tall"))
    assert get_image(wide) == image("stored")
    assert get_src(tall) == "/tall-800.jpg"
    output = with_art_direction(wide, [{"media": "(max-width: 600px)", "image": tall}])
    assert output is not None
    assert output["images"]["fallback"]["src"] == "/stored-800.jpg"
    assert output["images"]["sources"][0]["media"] == "(max-width: 600px)"
    # other HTML has no image data, and is not mistaken for a reference
    assert get_image(StaticImage(src="new.jpg", alt="New")) is None
    assert get_image(Markup("<b>0123456789abcdef0123</b>")) is None


def test_art_directed_render() -> None:
    html = str(
        GatsbyImage(
            with_art_direction(
                image("wide"), [{"media": "(max-width: 600px)", "image": image("tall")}]
            ),
            "Harbour",
        )
    )
    picture = re.findall(r"<source [^>]*>", html)
    assert picture == [
        '<source media="(max-width: 600px)" srcset="data:image/jpeg;base64,tall">',
        '<source type="image/webp" media="(max-width: 600px)" srcset="/tall-400.webp 400w" '
        'sizes="100vw">',
        '<source media="(max-width: 600px)" srcset="/tall-400.jpg 400w,/tall-800.jpg 800w" '
        'sizes="100vw">',
        '<source type="image/webp" srcset="/wide-400.webp 400w" sizes="100vw">',
    ]
    assert html.index("<picture><source media") < html.index("data-placeholder-image")
    assert 'src="/wide-800.jpg"' in html and 'width="800" height="600"' in html
