"""StaticImage at render time: build props dropped, injected props found (mangled too),
errors and missing data rendered for development and production, and logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from markupsafe import Markup

from staticimg import GatsbyImage, StaticImage, configure, data_store, notice
from staticimg.data_store import DATA_DIR_ENV, DEVELOPMENT_ENV

REF = "0bf5625cd2e20e75e4e1"
DATA: dict[str, Any] = {
    "layout": "constrained",
    "width": 320,
    "height": 240,
    "backgroundColor": "#283858",
    "images": {
        "fallback": {
            "src": "/_img/rocket-320w.jpg",
            "srcSet": "/_img/rocket-160w.jpg 160w,\n/_img/rocket-320w.jpg 320w",
            "sizes": "(min-width: 320px) 320px, 100vw",
        },
        "sources": [],
    },
}
ERROR = {
    "error": {
        "code": "SI301",
        "severity": "error",
        "message": 'image file "../images/gone.jpg" does not exist <b>',
        "file": "app/pages.py",
        "line": 12,
        "column": 5,
        "hint": "check the path",
        "docs": "docs/errors.md#si301",
    }
}


@pytest.fixture(autouse=True)
def clean_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(DEVELOPMENT_ENV, raising=False)
    data_store.reset()
    notice._logged.clear()
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / f"{REF}.json").write_bytes(orjson.dumps(DATA))
    (folder / "eeeeeeeeeeeeeeeeeeee.json").write_bytes(orjson.dumps(ERROR))
    configure(data_dir=folder)
    yield folder
    data_store.reset()


def test_reference_renders_like_gatsby_image_with_the_data() -> None:
    html = StaticImage(src="../images/rocket.jpg", alt="A rocket", __image_data=REF)
    assert isinstance(html, Markup)
    assert html == GatsbyImage(DATA, "A rocket")


def test_positional_src_and_alt_and_mapping_data() -> None:
    html = StaticImage("../images/rocket.jpg", "A rocket", __image_data=DATA)
    assert html == GatsbyImage(DATA, "A rocket")


def test_build_props_are_dropped_rendering_props_pass() -> None:
    html = StaticImage(
        src="../images/rocket.jpg",
        alt="A rocket",
        layout="fixed",
        width=100,
        height=100,
        aspectRatio=1,
        placeholder="blurred",
        formats=["auto", "webp"],
        quality=80,
        breakpoints=[100],
        output_pixel_densities=[1, 2],
        transform_options={"fit": "cover"},
        blurredOptions={"width": 10},
        tracedSVGOptions={},
        jpg_options={"quality": 1},
        pngOptions={},
        webp_options={},
        avifOptions={},
        sizes="50vw",
        background_color="#fff",
        class_name="card",
        loading="eager",
        data_testid="rocket",
        __image_data=REF,
    )
    expected = GatsbyImage(
        DATA,
        "A rocket",
        sizes="50vw",
        background_color="#fff",
        class_name="card",
        loading="eager",
        data_testid="rocket",
    )
    assert html == expected


class Card:
    """Injected calls written in a class body, as `staticimg inject` leaves them."""

    def render(self) -> Markup:
        return StaticImage(src="../images/rocket.jpg", alt="A rocket", __image_data=REF)

    def broken(self) -> Markup:
        return StaticImage(src="../images/gone.jpg", alt="Gone", __error="it failed")


class _Private:
    def render(self) -> Markup:
        return StaticImage(src="x.jpg", alt="A rocket", __image_data=DATA)


def test_injected_keyword_in_a_class_body() -> None:
    expected = GatsbyImage(DATA, "A rocket")
    assert Card().render() == expected
    assert _Private().render() == expected

    class Later:
        image = StaticImage(src="../images/rocket.jpg", alt="A rocket", __image_data=REF)

    assert Later.image == expected


def test_mangled_injected_keywords_are_accepted() -> None:
    # `_<Class>__image_data` is what mangling makes of `__image_data` in `class <Class>:`
    expected = GatsbyImage(DATA, "A rocket")
    for key in ("_Card__image_data", "_Card__imageData", "_Card___image_data", "__imageData"):
        assert StaticImage(src="a.jpg", alt="A rocket", **{key: REF}) == expected
    configure(development=True)
    html = str(StaticImage(src="a.jpg", alt="Gone", _Card__error="it failed"))
    assert 'class="staticimg-error"' in html and "it failed" in html
    assert 'class="staticimg-error"' in str(Card().broken())


def test_keyword_names_in_a_class_body_are_not_mangled_by_cpython() -> None:
    # Why both spellings are accepted: Python mangles names, not call keywords.
    def keys(**props: object) -> list[str]:
        return list(props)

    class Probe:
        seen = keys(__image_data=1)

    assert Probe.seen == ["__image_data"]


def test_build_error_in_development_is_visible_and_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(development=True)
    with caplog.at_level(logging.WARNING, logger="staticimg"):
        html = str(StaticImage(src="../images/gone.jpg", alt="x", __image_data="e" * 20))
    assert html.startswith(
        '<div class="staticimg-error" role="alert" data-staticimg-error="SI301" style="'
    )
    assert "does not exist &lt;b&gt;" in html and "<b>" not in html
    assert "(app/pages.py:12:5)" in html and "check the path" in html
    assert "docs/errors.md#si301" in html
    assert "display:block" in html  # visible whatever the site's CSS
    assert any("SI301" in record.getMessage() for record in caplog.records)


def test_build_error_in_production_is_an_empty_hidden_element(
    caplog: pytest.LogCaptureFixture,
) -> None:
    configure(development=False)
    with caplog.at_level(logging.WARNING, logger="staticimg"):
        html = str(StaticImage(src="../images/gone.jpg", alt="x", __image_data="e" * 20))
    assert html == '<span data-staticimg-error="" hidden></span>'
    assert any("does not exist" in record.getMessage() for record in caplog.records)


def test_injected_error_without_data() -> None:
    configure(development=True)
    html = str(StaticImage(src="a.jpg", alt="x", __error='Could not find "<x>"'))
    assert "Could not find &#34;&lt;x&gt;&#34;" in html
    configure(development=False)
    assert str(StaticImage(src="a.jpg", alt="x", __error="e")) == (
        '<span data-staticimg-error="" hidden></span>'
    )


def test_an_injected_error_names_its_code() -> None:
    configure(development=True)
    message = "SI301 app/pages.py:12:5: the image file does not exist"
    html = str(StaticImage(src="a.jpg", alt="x", __error=message))
    assert 'data-staticimg-error="SI301"' in html
    assert 'data-staticimg-error=""' in str(StaticImage(src="a.jpg", alt="x", __error="odd"))


def test_injected_error_with_data_renders_the_image_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="staticimg"):
        html = StaticImage(src="a.jpg", alt="x", __image_data=REF, __error="just so you know")
    assert html == GatsbyImage(DATA, "x")
    assert [r.getMessage() for r in caplog.records] == ["just so you know"]


def test_errors_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="staticimg"):
        for _ in range(5):
            StaticImage(src="a.jpg", alt="x", __error="same problem")
    assert len(caplog.records) == 1


def test_no_data_says_which_command_to_run(
    clean_store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    configure(development=True)
    with caplog.at_level(logging.WARNING, logger="staticimg"):
        html = str(StaticImage(src="../images/hero.jpg", alt="Hero", width=800))
    message = (
        "No image data for &#34;../images/hero.jpg&#34;: run `staticimg build` (extract, "
        "then inject) in the project"
    )
    assert message in html
    assert caplog.records[0].getMessage() == (
        'No image data for "../images/hero.jpg": run `staticimg build` (extract, then inject) '
        "in the project"
    )
    configure(development=False)
    assert str(StaticImage(src="../images/hero.jpg", alt="Hero")) == (
        '<span data-staticimg-error="" hidden></span>'
    )


def test_missing_record_names_the_folder(clean_store: Path) -> None:
    configure(development=True)
    html = str(StaticImage(src="hero.jpg", alt="Hero", __image_data="a" * 20))
    assert "run `staticimg build`" in html
    assert f"no {'a' * 20}.json in {clean_store}" in html


def test_gatsby_image_with_a_missing_reference(clean_store: Path) -> None:
    configure(development=True)
    html = str(GatsbyImage("b" * 20, "x"))
    assert "No image data for &#34;bbbbbbbbbbbbbbbbbbbb&#34;" in html
    assert str(clean_store) in html


def test_gatsby_image_of_none_is_a_notice() -> None:
    configure(development=True)
    assert "image=None" in str(GatsbyImage(None, "x"))


def test_alt_is_required_when_there_is_data() -> None:
    with pytest.raises(TypeError, match='has no alt: describe the image, or pass alt=""'):
        StaticImage(src="a.jpg", __image_data=REF)


def test_gatsby_image_takes_what_static_image_returned() -> None:
    html = StaticImage(src="a.jpg", alt="x", __image_data=REF)
    assert GatsbyImage(html, "Other", fade=False) == GatsbyImage(DATA, "Other", fade=False)
    configure(development=True)
    assert "HTML without image data" in str(GatsbyImage(Markup("<b>hi</b>"), "x"))
