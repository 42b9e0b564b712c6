"""Records: what the build writes for a static call, read back by the runtime."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from staticimg.astro.record import image_record, is_record, picture_record, result_from_record
from staticimg.astro.resolve import resolve_image, resolve_picture
from staticimg.astro.services import PILLOW_URLS
from staticimg.astro.types import GetImageResult, ImageMetadata, ImageSettings, PictureResult

WALRUS = ImageMetadata("/images/walrus.jpg", 2316, 1544, "jpg")


def emit(transform: dict[str, Any]) -> str:
    return f"/_static/walrus-{transform['width']}.{transform['format']}"


def test_image_round_trip_through_json() -> None:
    built = resolve_image(
        {"src": WALRUS, "width": 800, "layout": "constrained", "quality": "high"},
        settings=ImageSettings(),
        service=PILLOW_URLS,
        emit=emit,
    )
    record = orjson.loads(orjson.dumps(image_record(built)))
    assert record["astro"] == "image" and is_record(record)
    assert record["options"]["src"] == "/images/walrus.jpg"  # no ImageMetadata in JSON
    back = result_from_record(record)
    assert isinstance(back, GetImageResult)
    assert back.src == built.src == "/_static/walrus-800.webp"
    assert back.src_set_attribute == built.src_set_attribute
    assert back.attributes == built.attributes
    assert [v.descriptor for v in back.src_set] == [v.descriptor for v in built.src_set]
    # transforms keep what the image is, not how it renders
    assert set(back.src_set[0].transform) == {
        "src", "width", "height", "format", "quality", "fit", "position",
    }  # fmt: skip


def test_picture_round_trip_through_json() -> None:
    built = resolve_picture(
        {"src": WALRUS, "formats": ["avif", "webp"], "densities": [2], "width": 300},
        settings=ImageSettings(),
        service=PILLOW_URLS,
        emit=emit,
    )
    record = orjson.loads(orjson.dumps(picture_record(built)))
    assert record["astro"] == "picture"
    back = result_from_record(record)
    assert isinstance(back, PictureResult)
    assert back.sources == built.sources
    assert back.fallback.src == built.fallback.src == "/_static/walrus-300.jpg"
    assert back.fallback.attributes == built.fallback.attributes


@pytest.mark.parametrize(
    "record",
    [{"astro": "video"}, {"images": {}}, {"astro": "image"}, {"astro": "picture", "sources": 1}],
)
def test_bad_records(record: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="staticimg build"):
        result_from_record(record)
