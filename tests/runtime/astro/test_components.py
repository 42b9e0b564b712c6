"""Image and Picture HTML: exact attributes, escaping, refusals, notices."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from staticimg import data_store
from staticimg.astro import settings as astro_settings
from staticimg.astro.components import Image, Picture
from staticimg.astro.record import image_record
from staticimg.astro.resolve import resolve_image
from staticimg.astro.services import PILLOW_URLS, reset_services
from staticimg.astro.types import ImageError, ImageMetadata, ImageSettings

PENGUIN = ImageMetadata("/images/penguin1.jpg", 207, 243, "jpg")
SRC = "/_image?href=%2Fimages%2Fpenguin1.jpg&amp;w=207&amp;h=243"


@pytest.fixture(autouse=True)
def _clean() -> Iterator[None]:
    astro_settings.reset()
    reset_services()
    data_store.reset()
    yield
    astro_settings.reset()
    reset_services()
    data_store.reset()


def test_image_exact_html() -> None:
    assert str(Image(src=PENGUIN, alt="a penguin")) == (
        f'<img src="{SRC}&amp;f=webp" alt="a penguin" loading="lazy" decoding="async" '
        'width="207" height="243">'
    )


def test_image_with_srcset_class_style_and_bool_attributes() -> None:
    html = str(
        Image(
            src=PENGUIN,
            alt="",
            densities=[2],
            class_name="hero",
            style={"objectFit": "cover", "margin_top": "1px"},
            data_id=7,
            hidden=True,
            title=None,
            draggable=False,
        )
    )
    assert html == (
        f'<img src="{SRC}&amp;f=webp" srcset="/_image?href=%2Fimages%2Fpenguin1.jpg&amp;w=414'
        '&amp;h=486&amp;f=webp 2x" alt="" style="object-fit:cover;margin-top:1px" '
        'data-id="7" hidden loading="lazy" decoding="async" width="207" height="243" '
        'class="hero">'
    )


@pytest.mark.parametrize("key", ["class", "class_", "class_name", "className"])
def test_class_spellings(key: str) -> None:
    assert str(Image(src=PENGUIN, alt="x", **{key: "c"})).endswith(' class="c">')


def test_hostile_values_are_escaped() -> None:
    hostile = '"><script>alert(1)</script>'
    html = str(Image(src=PENGUIN, alt=hostile, class_=hostile, title="a&b", style="color:red"))
    assert "<script>" not in html and '"><' not in html
    assert 'alt="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'class="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in html
    assert 'title="a&amp;b"' in html and 'style="color:red"' in html


def test_hostile_remote_url_is_escaped_when_left_unchanged() -> None:
    html = str(Image(src='https://x.example/a.jpg?"onerror=alert(1)', alt="x", width=1, height=1))
    assert 'src="https://x.example/a.jpg?&#34;onerror=alert(1)"' in html


@pytest.mark.parametrize("key", ["onload", "onerror", "onClick"])
def test_event_handlers_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="event handlers"):
        Image(src=PENGUIN, alt="x", **{key: "alert(1)"})
    with pytest.raises(TypeError):  # as the Gatsby renderer raises
        Picture(src=PENGUIN, alt="x", **{key: "alert(1)"})


def test_bad_attribute_name_is_refused() -> None:
    with pytest.raises(TypeError, match="not an attribute name"):
        Image(src=PENGUIN, alt="x", **{'a"b': "1"})


def test_missing_alt() -> None:
    for component in (Image, Picture):
        with pytest.raises(ImageError) as caught:
            component(src=PENGUIN)
        assert caught.value.name == "ImageMissingAlt" and caught.value.hint
    assert 'alt=""' in str(Image(src=PENGUIN, alt=""))


def test_picture_exact_html() -> None:
    html = str(
        Picture(
            src=PENGUIN,
            alt="p",
            formats=["avif", "webp"],
            width=100,
            layout="fixed",
            picture_attributes={"class": "frame", "data-x": "1"},
        )
    )
    base = "/_image?href=%2Fimages%2Fpenguin1.jpg&amp;"

    # 234, not 235: Astro derives the srcset heights from the rounded 100×117 target
    def srcset(fmt: str) -> str:
        return (
            f"{base}w=100&amp;h=117&amp;f={fmt}&amp;fit=cover&amp;position=center 100w, "
            f"{base}w=200&amp;h=234&amp;f={fmt}&amp;fit=cover&amp;position=center 200w"
        )

    assert html == (
        '<picture data-x="1" class="frame">'
        f'<source srcset="{srcset("avif")}" type="image/avif" sizes="100px">'
        f'<source srcset="{srcset("webp")}" type="image/webp" sizes="100px">'
        f'<img src="{base}w=100&amp;h=117&amp;f=jpg&amp;fit=cover&amp;position=center" '
        f'srcset="{srcset("jpg")}" alt="p" loading="lazy" decoding="async" sizes="100px" '
        'data-astro-image="fixed" data-astro-image-fit="cover" data-astro-image-pos="center" '
        'width="100" height="117">'
        "</picture>"
    )


def test_build_error_renders_the_notice(caplog: pytest.LogCaptureFixture) -> None:
    data_store.configure(development=True)
    html = str(Image(src="../a.jpg", alt="x", __error="SI101 page.py:3:1: <bad> file"))
    assert 'data-staticimg-error="SI101"' in html and "&lt;bad&gt;" in html
    data_store.configure(development=False)
    assert str(Picture(src="../a.jpg", alt="x", __error="SI101 nope")) == (
        '<span data-staticimg-error="" hidden></span>'
    )


def test_unbuilt_relative_path_renders_missing_data_notice() -> None:
    data_store.configure(development=True)
    html = str(Image(src="../images/hero.jpg", alt="x"))
    assert "No image data" in html and "staticimg build" in html
    with pytest.raises(ImageError) as caught:  # a wrong string elsewhere is an error
        Image(src="/@fs/x.jpg", alt="x", width=1, height=1)
    assert caught.value.name == "LocalImageUsedWrongly"


def test_record_renders_with_rendering_props(tmp_path: Path) -> None:
    built = resolve_image(
        {"src": PENGUIN, "width": 100},
        settings=ImageSettings(),
        service=PILLOW_URLS,
        emit=lambda t: f"/_s/p-{t['width']}.{t['format']}",
    )
    (tmp_path / "0123456789abcdef0127.json").write_bytes(orjson.dumps(image_record(built)))
    data_store.configure(data_dir=tmp_path, development=True)
    html = str(
        Image(src="../p.jpg", alt="<p>", width=100, loading="eager",
              __image_data="0123456789abcdef0127")
    )  # fmt: skip
    assert html == (
        '<img src="/_s/p-100.webp" alt="&lt;p&gt;" loading="eager" decoding="async" '
        'width="100" height="117">'
    )
    missing = str(Image(src="../p.jpg", alt="x", __image_data="0123456789abcdef0128"))
    assert "No image data" in missing and "0123456789abcdef0128" in missing
    (tmp_path / "0123456789abcdef0129.json").write_bytes(
        orjson.dumps({"error": {"code": "SI205", "message": "cannot read"}})
    )
    failed = str(Image(src="../p.jpg", alt="x", __image_data="0123456789abcdef0129"))
    assert 'data-staticimg-error="SI205"' in failed and "cannot read" in failed


def test_dynamic_image_with_configured_service(monkeypatch: pytest.MonkeyPatch) -> None:
    astro_settings.configure(service="imgix", service_config={"domain": "d.imgix.net"})
    html = str(Image(src="/a.jpg", alt="x", width=10, height=20))
    assert html.startswith('<img src="https://d.imgix.net/a.jpg?w=10&amp;h=20&amp;fm=webp"')


def test_markup_is_not_escaped_twice() -> None:
    from markupsafe import Markup

    html = str(Image(src=PENGUIN, alt=Markup("Tom &amp; Jerry")))
    assert 'alt="Tom &amp; Jerry"' in html


def _unused(*_: Any) -> None: ...
