"""The fixes over Gatsby's HTML (DESIGN §5), one test or more each, and the props' handling."""

from __future__ import annotations

import re
from typing import Any

import pytest

from staticimg import GatsbyImage, StaticImage
from staticimg.head import HEAD_CSS, JS_CLASS, NOSCRIPT_CSS


def constrained(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "layout": "constrained",
        "width": 480,
        "height": 418.56,
        "backgroundColor": "#080808",
        "images": {
            "fallback": {
                "src": "/_img/a-480w.jpg",
                "srcSet": "/_img/a-240w.jpg 240w,\n/_img/a-480w.jpg 480w,\n/_img/a-960w.jpg 960w",
                "sizes": "(min-width: 480px) 480px, 100vw",
            },
            "sources": [
                {
                    "srcSet": "/_img/a-240w.avif 240w,\n/_img/a-480w.avif 480w",
                    "type": "image/avif",
                    "sizes": "(min-width: 480px) 480px, 100vw",
                },
                {
                    "srcSet": "/_img/a-240w.webp 240w,\n/_img/a-480w.webp 480w",
                    "type": "image/webp",
                    "sizes": "(min-width: 480px) 480px, 100vw",
                },
            ],
        },
        "placeholder": {"fallback": "data:image/jpeg;base64,/9j/AAAA"},
    }
    data.update(overrides)
    return data


def full_width() -> dict[str, Any]:
    return {
        "layout": "fullWidth",
        "width": 1,
        "height": 0.5625,
        "images": {
            "fallback": {
                "src": "/h-1920.jpg",
                "srcSet": "/h-750.jpg 750w,\n/h-1080.jpg 1080w,\n/h-1920.jpg 1920w",
                "sizes": "100vw",
            },
            "sources": [],
        },
    }


def attributes(name: str, value: object) -> dict[str, Any]:
    """`**{name: value}` for names Python keywords cannot spell."""
    return {name: value}


def main_img(html: str) -> str:
    match = re.search(r"<img data-main-image=[^>]*>", html)
    assert match, html
    return match.group(0)


def placeholder(html: str) -> str:
    match = re.search(r"<(img|div) aria-hidden=\"true\" data-placeholder-image=[^>]*>", html)
    assert match, html
    return match.group(0)


def sources(html: str) -> list[str]:
    return re.findall(r"<source [^>]*>", html)


# 1. The main image works without JavaScript ------------------------------------------------


def test_main_image_has_real_src_and_srcset_and_native_loading() -> None:
    img = main_img(str(GatsbyImage(constrained(), "Alt")))
    assert ' src="/_img/a-480w.jpg"' in img
    assert ' srcset="/_img/a-240w.jpg 240w,/_img/a-480w.jpg 480w,/_img/a-960w.jpg 960w"' in img
    assert ' loading="lazy"' in img
    assert "data-src" not in img and "opacity" not in img


def test_no_noscript_copy_and_no_per_image_script() -> None:
    html = str(GatsbyImage(constrained(), "Alt"))
    assert "<noscript" not in html and "<script" not in html
    assert html.count("data-main-image") == 1


def test_only_css_under_the_script_class_hides_the_main_image() -> None:
    hiding = [rule for rule in HEAD_CSS.split("}") if "opacity:0" in rule]
    main_rules = [rule for rule in hiding if "[data-main-image]" in rule]
    assert main_rules and all(rule.startswith(f".{JS_CLASS} ") for rule in main_rules)
    assert "[data-main-image]" not in NOSCRIPT_CSS


# 2. width and height ----------------------------------------------------------------------


def test_constrained_width_and_height_are_the_rounded_box() -> None:
    img = main_img(str(GatsbyImage(constrained(), "Alt")))
    assert ' width="480" height="419"' in img


def test_fixed_width_and_height() -> None:
    data = constrained(layout="fixed", width=80, height=80)
    assert ' width="80" height="80"' in main_img(str(GatsbyImage(data, "")))


def test_full_width_uses_the_largest_candidate_and_the_aspect_ratio() -> None:
    assert ' width="1920" height="1080"' in main_img(str(GatsbyImage(full_width(), "")))


# 3. sizes everywhere ------------------------------------------------------------------------


def test_sizes_reaches_every_source_and_the_img() -> None:
    html = str(GatsbyImage(constrained(), "Alt"))
    expected = 'sizes="(min-width: 480px) 480px, 100vw"'
    assert len(sources(html)) == 2
    assert all(expected in source for source in sources(html))
    assert expected in main_img(html)


def test_sizes_prop_overrides_everywhere() -> None:
    html = str(GatsbyImage(constrained(), "Alt", sizes="(max-width: 600px) 90vw, 480px"))
    expected = 'sizes="(max-width: 600px) 90vw, 480px"'
    assert all(expected in source for source in sources(html))
    assert expected in main_img(html)
    assert "(min-width: 480px)" not in html


def test_sizes_falls_back_to_the_first_source() -> None:
    data = constrained()
    del data["images"]["fallback"]["sizes"]
    data["images"]["sources"][0]["sizes"] = "10vw"
    html = str(GatsbyImage(data, "Alt"))
    assert all('sizes="10vw"' in source for source in sources(html))
    assert 'sizes="10vw"' in main_img(html)


# 4. eager means high priority ------------------------------------------------------------


def test_eager_adds_fetchpriority_high() -> None:
    img = main_img(str(GatsbyImage(constrained(), "Alt", loading="eager")))
    assert ' loading="eager" fetchpriority="high"' in img


def test_lazy_has_no_fetchpriority() -> None:
    assert "fetchpriority" not in str(GatsbyImage(constrained(), "Alt"))


def test_user_fetchpriority_wins() -> None:
    img = main_img(str(GatsbyImage(constrained(), "Alt", loading="eager", fetchpriority="low")))
    assert img.count("fetchpriority") == 1 and ' fetchpriority="low"' in img
    img = main_img(str(GatsbyImage(constrained(), "Alt", loading="eager", fetchPriority=None)))
    assert "fetchpriority" not in img


def test_loading_is_checked() -> None:
    with pytest.raises(ValueError, match='"lazy" or "eager"'):
        GatsbyImage(constrained(), "Alt", loading="auto")


# 5. the fade can be turned off -----------------------------------------------------------


def test_fade_false_marks_the_wrapper() -> None:
    html = str(GatsbyImage(constrained(), "Alt", fade=False))
    assert html.startswith('<div data-gatsby-image-wrapper="" data-no-fade=""')
    assert "data-no-fade" not in str(GatsbyImage(constrained(), "Alt"))
    assert ":not([data-no-fade]) [data-main-image]{opacity:0" in HEAD_CSS
    assert "[data-no-fade] [data-placeholder-image]{transition:none}" in HEAD_CSS


def test_an_eager_image_does_not_fade_unless_asked() -> None:
    """A transparent image is not a browser's largest contentful paint: the LCP hero shows
    at once (gatsby#30690, #30897)."""
    assert 'data-no-fade=""' in str(GatsbyImage(constrained(), "Alt", loading="eager"))
    eager_fading = str(GatsbyImage(constrained(), "Alt", loading="eager", fade=True))
    assert "data-no-fade" not in eager_fading


# 6. the user's background colour wins -----------------------------------------------------


def test_background_color_wins_over_the_dominant_colour() -> None:
    html = str(GatsbyImage(constrained(), "Alt", background_color="transparent"))
    assert "#080808" not in html
    assert "background-color:transparent;position:absolute" in placeholder(html)
    wrapper = html.split(">", 1)[0]
    assert 'style="background-color:transparent"' in wrapper


def test_background_color_makes_a_colour_placeholder_when_there_is_none() -> None:
    data = constrained()
    del data["backgroundColor"], data["placeholder"]
    assert "data-placeholder-image" not in str(GatsbyImage(data, "Alt"))
    html = str(GatsbyImage(data, "Alt", backgroundColor="#fff"))
    assert placeholder(html).startswith("<div")
    assert "background-color:#fff" in placeholder(html)


# 7. object-fit and object-position on both images -----------------------------------------


@pytest.mark.parametrize("blurred", [True, False])
def test_object_fit_and_position_reach_the_placeholder_and_the_image(blurred: bool) -> None:
    data = constrained()
    if not blurred:
        del data["placeholder"]
    html = str(GatsbyImage(data, "Alt", object_fit="contain", object_position="0 50%"))
    expected = "object-fit:contain;object-position:0 50%"
    assert expected in placeholder(html)
    assert f'style="{expected}"' in main_img(html)


def test_img_style_follows_object_fit() -> None:
    html = str(GatsbyImage(constrained(), "Alt", objectFit="fill", imgStyle={"filter": "none"}))
    assert 'style="object-fit:fill;filter:none"' in main_img(html)


# 8. no stray attributes ---------------------------------------------------------------------


def test_no_layout_sources_or_build_props_in_the_html() -> None:
    html = str(
        StaticImage(
            src="hero.jpg",
            alt="Alt",
            layout="constrained",
            width=480,
            placeholder="blurred",
            formats=["auto", "webp"],
            quality=70,
            transformOptions={"fit": "cover"},
            __image_data=constrained(),
        )
    )
    for stray in (" layout=", " sources=", " placeholder=", " formats=", " quality=", "transform"):
        assert stray not in html


@pytest.mark.parametrize(
    "name", ["layout", "placeholder", "formats", "aspectRatio", "jpg_options", "sources"]
)
def test_gatsby_image_refuses_build_props(name: str) -> None:
    with pytest.raises(TypeError, match="build prop"):
        GatsbyImage(constrained(), "Alt", **attributes(name, "x"))


@pytest.mark.parametrize("name", ["src", "srcSet", "width", "height", "decoding"])
def test_gatsby_image_refuses_what_the_image_data_sets(name: str) -> None:
    with pytest.raises(TypeError, match="from the image data"):
        GatsbyImage(constrained(), "Alt", **attributes(name, "x"))


# Rendering props ----------------------------------------------------------------------------


def test_extra_attributes_go_on_the_main_img() -> None:
    img = main_img(
        str(
            GatsbyImage(
                constrained(),
                "Alt",
                data_testid="hero",
                aria_describedby="cap",
                itemprop="image",
                tabIndex=0,
                draggable=False,
                ismap=True,
                title=None,
                **attributes("data-x", "1"),
            )
        )
    )
    assert img.endswith(
        ' alt="Alt" data-testid="hero" aria-describedby="cap" itemprop="image" tabindex="0"'
        ' ismap="" data-x="1">'
    )


@pytest.mark.parametrize("name", ["x y", 'a"b', "a>b", "1st", "a/b", "a=b", ""])
def test_unsafe_attribute_names_are_refused(name: str) -> None:
    with pytest.raises(TypeError, match="attribute name"):
        GatsbyImage(constrained(), "Alt", **attributes(name, "1"))


def test_event_handlers_are_refused() -> None:
    with pytest.raises(TypeError, match="event handlers"):
        GatsbyImage(constrained(), "Alt", onclick="go()")
    with pytest.raises(TypeError, match="event handlers"):
        GatsbyImage(constrained(), "Alt", onLoad="go()")


def test_camel_case_aliases() -> None:
    html = str(
        GatsbyImage(
            constrained(),
            "Alt",
            className="card",
            imgClassName="photo",
            style={"marginTop": "1em"},
            **attributes("as", "figure"),
        )
    )
    assert html.startswith(
        '<figure data-gatsby-image-wrapper="" '
        'class="gatsby-image-wrapper gatsby-image-wrapper-constrained card" '
        'style="margin-top:1em">'
    )
    assert html.endswith("</figure>")
    assert ' class="photo"' in main_img(html)


def test_alias_and_keyword_together_is_an_error() -> None:
    with pytest.raises(TypeError, match="both class_name and className"):
        GatsbyImage(constrained(), "Alt", class_name="a", className="b")


def test_style_mapping_spellings() -> None:
    html = str(
        GatsbyImage(
            constrained(),
            "Alt",
            style={"borderRadius": "50%", "box_shadow": "none", "--tint": "red", "gap": None},
        )
    )
    assert 'style="border-radius:50%;box-shadow:none;--tint:red"' in html.split(">", 1)[0]


def test_fixed_wrapper_style_then_user_style_then_background() -> None:
    data = constrained(layout="fixed", width=80, height=80)
    html = str(GatsbyImage(data, "", style="border:0;", background_color="red"))
    assert 'style="width:80px;height:80px;border:0;background-color:red"' in html


def test_bad_wrapper_tag_is_refused() -> None:
    with pytest.raises(TypeError, match="element name"):
        GatsbyImage(constrained(), "Alt", as_='div onclick="x"')


def test_alt_is_required() -> None:
    with pytest.raises(TypeError, match='alt=""'):
        GatsbyImage(constrained(), None)  # type: ignore[arg-type]


def test_modern_formats_only_still_give_the_img_a_src() -> None:
    data = constrained()
    del data["images"]["fallback"]
    img = main_img(str(GatsbyImage(data, "Alt")))
    assert ' src="/_img/a-480w.webp"' in img
    assert ' srcset="/_img/a-240w.webp 240w,/_img/a-480w.webp 480w"' in img
    assert ' sizes="(min-width: 480px) 480px, 100vw"' in img


def test_not_image_data_says_what_is_needed() -> None:
    with pytest.raises(ValueError, match="layout, width, height and images"):
        GatsbyImage({"src": "x.jpg"}, "Alt")
    with pytest.raises(TypeError, match="mapping"):
        GatsbyImage(42, "Alt")  # type: ignore[arg-type]
