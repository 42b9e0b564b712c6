"""The JSON a static Astro call leaves for the runtime, and back.

The build resolves a call's build props (`src`, `width`, `widths`, `layout`, `format`, …)
once, writes every image file, and stores the result as a record (`<hash>.json` in the data
store, written with orjson). At render time the record is read back into a `GetImageResult`
(or `PictureResult`) and the call's rendering props (`alt`, `class`, `loading`, …) are merged
on top, so rendering does no image work and needs no source files.

A record carries `"astro": "image"` or `"astro": "picture"`. Everything in it is plain JSON:
an `ImageMetadata` source is stored as its `src` string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from staticimg.astro.types import (
    TRANSFORM_KEYS,
    GetImageResult,
    ImageMetadata,
    PictureResult,
    PictureSource,
    SrcSetValue,
)

__all__ = ["RECORD_VERSION", "image_record", "is_record", "picture_record", "result_from_record"]

RECORD_VERSION: Final = 1


def image_record(result: GetImageResult) -> dict[str, Any]:
    """`result` as JSON-able data (`"astro": "image"`)."""
    return {"astro": "image", "version": RECORD_VERSION, **_image_body(result)}


def picture_record(result: PictureResult) -> dict[str, Any]:
    """`result` as JSON-able data (`"astro": "picture"`): its sources, its fallback `<img>`
    and the `<picture>` attributes."""
    return {
        "astro": "picture",
        "version": RECORD_VERSION,
        "sources": [
            {"type": s.type, "srcset": s.srcset, **({"sizes": s.sizes} if s.sizes else {})}
            for s in result.sources
        ],
        "fallback": _image_body(result.fallback),
        "picture_attributes": _jsonable(result.picture_attributes),
    }


def is_record(value: object) -> bool:
    """Whether `value` is an Astro record (rather than Gatsby image data or an error)."""
    return isinstance(value, Mapping) and value.get("astro") in ("image", "picture")


def result_from_record(record: Mapping[str, Any]) -> GetImageResult | PictureResult:
    """The result a record holds. Raises ValueError for data that is not an Astro record."""
    kind = record.get("astro") if isinstance(record, Mapping) else None
    try:
        if kind == "image":
            return _image_result(record)
        if kind == "picture":
            return PictureResult(
                sources=tuple(
                    PictureSource(
                        type=str(source["type"]),
                        srcset=str(source["srcset"]),
                        sizes=source.get("sizes") or None,
                    )
                    for source in record["sources"]
                ),
                fallback=_image_result(record["fallback"]),
                picture_attributes=dict(record.get("picture_attributes") or {}),
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"damaged Astro image record ({type(exc).__name__}: {exc}): delete the data "
            "folder's file and run `staticimg build` again"
        ) from None
    raise ValueError(
        f"not an Astro image record (astro={kind!r}): run `staticimg build` again so the "
        "call's data matches the component"
    )


def _image_body(result: GetImageResult) -> dict[str, Any]:
    return {
        "src": result.src,
        "srcset": [
            {
                "url": value.url,
                "descriptor": value.descriptor,
                "transform": _transform(value.transform),
                **({"attributes": dict(value.attributes)} if value.attributes else {}),
            }
            for value in result.src_set
        ],
        "attributes": _jsonable(result.attributes),
        "options": _jsonable(result.options),
        "raw_options": _jsonable(result.raw_options),
    }


def _image_result(body: Mapping[str, Any]) -> GetImageResult:
    return GetImageResult(
        raw_options=dict(body.get("raw_options") or {}),
        options=dict(body.get("options") or {}),
        src=str(body["src"]),
        src_set=tuple(
            SrcSetValue(
                transform=dict(value.get("transform") or {}),
                descriptor=value.get("descriptor"),
                attributes=dict(value.get("attributes") or {}),
                url=str(value["url"]),
            )
            for value in body.get("srcset") or ()
        ),
        attributes=dict(body.get("attributes") or {}),
    )


# What a srcset entry's transform keeps in a record: what the image is, not how it renders
# (the transform also carries every option, `alt` and `sizes` included, as Astro's does).
_TRANSFORM_KEEP: Final = TRANSFORM_KEYS - {
    "widths",
    "densities",
    "layout",
    "priority",
    "infer_size",
}


def _transform(transform: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in transform.items() if k in _TRANSFORM_KEEP}


def _jsonable(value: Any) -> Any:
    if isinstance(value, ImageMetadata):
        return value.src
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    html = getattr(value, "__html__", None)
    return str(html()) if html is not None else str(value)
