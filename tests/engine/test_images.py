"""Images as untrusted input (generator/images/safety.py), the sanitizer's allow-list for figure cards,
and the Qt adapter (ui/pdf_render.py): bombs, damaged files, SVG and other formats are refused
with a message naming the image; nothing is decoded before it is checked."""
import struct
import time

import pytest

from generator.errors import SourceError
from generator.images.safety import (
    ImageFormat,
    ImageRejected,
    ImageTooLarge,
    check_image,
    decode_data_url,
    image_tokens,
    is_media_name,
    media_name,
    png_from_rows,
)
from generator.cards.sanitize import html_to_text, sanitize_html
from pdf_maker import png_declaring, qt_image


GIF_1X1 = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
           b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def test_formats_and_declared_sizes_without_decoding():
    png = qt_image(300, 200, "PNG")
    jpeg = qt_image(320, 240, "JPEG")
    webp = qt_image(64, 48, "WEBP")
    assert check_image(png, "a.png") == check_image(png, "a.png")
    info = check_image(png, "a.png")
    assert (info.format, info.width, info.height) == (ImageFormat.PNG, 300, 200)
    info = check_image(jpeg, "b.jpg")
    assert (info.format, info.width, info.height) == (ImageFormat.JPEG, 320, 240)
    info = check_image(webp, "c.webp")
    assert (info.format, info.width, info.height) == (ImageFormat.WEBP, 64, 48)
    info = check_image(GIF_1X1, "d.gif")
    assert (info.format, info.width, info.height) == (ImageFormat.GIF, 1, 1)
    assert png_from_rows(2, 1, 1, b"\x00\x10\x20").startswith(b"\x89PNG")
    assert check_image(png_from_rows(2, 1, 3, b"\x00" + b"\x10" * 6), "raw").width == 2


@pytest.mark.timeout(20)
@pytest.mark.parametrize("width,height", [(10_000, 10_000), (100_000, 1), (1, 40_000), (65_535, 65_535)])
def test_decompression_bombs_are_refused_by_their_header(width, height):
    started = time.monotonic()
    with pytest.raises(ImageTooLarge) as e:
        check_image(png_declaring(width, height), "bomb.png")
    assert "bomb.png" in e.value.message and "pixels" in e.value.message
    assert e.value.hint
    assert time.monotonic() - started < 2


@pytest.mark.timeout(30)
def test_a_png_whose_pixel_stream_unpacks_to_more_than_it_declares():
    bomb = png_declaring(100, 100, b"\x00" * (50 * 1024 * 1024))  # 50 MB behind a 100 x 100 header
    assert len(bomb) < 200_000
    with pytest.raises(ImageRejected) as e:
        check_image(bomb, "tiny.png")
    assert "decompression bomb" in e.value.message


def test_a_jpeg_declaring_a_huge_frame():
    jpeg = bytearray(qt_image(64, 64, "JPEG"))
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 20_000, 20_000)
    with pytest.raises(ImageTooLarge):
        check_image(bytes(jpeg), "huge.jpg")


@pytest.mark.parametrize("name,data,words", [
    ("cut.png", None, "cut off"),
    ("crc.png", None, "checksum"),
    ("noend.jpg", None, "cut off"),
    ("header.jpg", b"\xff\xd8\xff\xe0\x00", "header"),
    ("trailer.gif", GIF_1X1[:-1], "cut off"),
    ("random.png", b"this is not an image at all" * 10, "not an image"),
    ("empty.png", b"", "empty"),
    ("zero.png", None, "empty image"),
])
def test_damaged_images_are_refused_with_a_message_naming_them(name, data, words):
    png = qt_image(40, 30, "PNG")
    if name == "cut.png":
        data = png[: len(png) // 2]
    elif name == "crc.png":
        data = png[:40] + bytes([png[40] ^ 0xFF]) + png[41:]
    elif name == "noend.jpg":
        data = qt_image(40, 30, "JPEG")[:-2]
    elif name == "zero.png":
        data = png_declaring(0, 10)
    with pytest.raises(SourceError) as e:
        check_image(data, name)
    assert name in e.value.message and words in e.value.message, e.value.message
    assert e.value.hint


@pytest.mark.parametrize("data,what", [
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "SVG"),
    (b"<svg onload=alert(1)>", "SVG"),
    (b"BM" + b"\x00" * 60, "BMP"),
    (b"II*\x00" + b"\x00" * 60, "TIFF"),
    (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 40, "HEIC"),
    (b"\x01\x00\x00\x00" + b"\x00" * 36 + b" EMF" + b"\x00" * 20, "EMF"),
])
def test_svg_and_other_formats_are_refused(data, what):
    with pytest.raises(ImageRejected) as e:
        check_image(data, "image")
    assert what in e.value.message


def test_an_svg_named_like_a_png_is_still_svg():
    with pytest.raises(ImageRejected) as e:
        check_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "innocent.png")
    assert "SVG" in e.value.message


def test_data_urls_are_bounded_and_checked():
    png = qt_image(10, 10, "PNG")
    import base64

    assert decode_data_url("data:image/png;base64," + base64.b64encode(png).decode()) == png
    assert decode_data_url("data:image/png;base64,@@@not base64@@@") is None
    assert decode_data_url("data:image/png;base64," + "A" * 100, max_bytes=10) is None
    assert decode_data_url("http://example.org/x.png") is None


def test_media_names_and_token_cost():
    png = qt_image(10, 10, "PNG")
    name = media_name(png, ImageFormat.PNG)
    assert is_media_name(name) and name == media_name(png, ImageFormat.PNG)
    assert name != media_name(png + b"x", ImageFormat.PNG)
    assert not is_media_name("../" + name) and not is_media_name(name + "?x")
    assert 576 <= image_tokens(1024, 768) <= 1600 and image_tokens(64, 64) == 576


# --- the sanitizer's allow-list ------------------------------------------------------------------

NAME = "ollama-flashcards-0123456789abcdef.png"


def test_img_is_kept_only_for_allowed_plain_names():
    assert sanitize_html(f'<img src="{NAME}">', images={NAME}) == f'<img src="{NAME}">'
    assert sanitize_html(f'<img src="{NAME}">') == ""  # no allow-list: no image
    assert html_to_text(f'Q?<img src="{NAME}">') == "Q?"


HOSTILE = [
    f'<img src="{NAME}" onerror="alert(1)">',
    f'<img src={NAME} onerror=alert(1) style="x:url(http://e.org)">',
    f'<IMG SRC="{NAME}" ONERROR=alert(1)>',
    f'<img src="{NAME}" srcset="http://evil.example/x.png 2x">',
    f'<img src="&#111;llama-flashcards-0123456789abcdef.png" onload=alert(1)>',
]


@pytest.mark.parametrize("html", HOSTILE)
def test_an_allowed_image_keeps_nothing_but_its_src(html):
    out = sanitize_html(html, images={NAME})
    assert out == f'<img src="{NAME}">', out
    assert sanitize_html(out, images={NAME}) == out


REFUSED = [
    '<img src="javascript:alert(1)">',
    '<img src="http://evil.example/ollama-flashcards-0123456789abcdef.png">',
    f'<img src="../{NAME}">',
    f'<img src="/{NAME}">',
    f'<img src="{NAME}?x=1">',
    f'<img src=" {NAME}">',
    f'<img src="{NAME.upper()}">',
    f'<img src="data:image/png;base64,AAAA">',
    f'<img src="evil.png" src="{NAME}">',  # a browser takes the first src
    f'<img srcset="{NAME}">',
    f'<script><img src="{NAME}"></script>',
    f'<svg><image href="{NAME}"/></svg>',
    f'<img src="file:///etc/{NAME}">',
    f'<img src="{NAME}\\..\\x">',
    f'<picture><source srcset="{NAME}"></picture>',
    f'<object data="{NAME}"></object>',
    f'<div style="background:url({NAME})">x</div>',
]


@pytest.mark.parametrize("html", REFUSED)
def test_hostile_img_sources_are_refused(html):
    out = sanitize_html(html, images={NAME})
    assert "<img" not in out and "src=" not in out and "url(" not in out, out


def test_an_allow_list_entry_that_is_not_a_plain_name_is_refused_too():
    for bad in ("../x.png", "a b.png", "x.png?y", "http://e.org/x.png", ".hidden.png", "a/b.png"):
        assert "<img" not in sanitize_html(f'<img src="{bad}">', images={bad}), bad


# --- the Qt adapter ------------------------------------------------------------------------------

def test_qt_adapter_resizes_and_refuses_what_it_cannot_decode():
    from flashcards import qt_graphics

    graphics = qt_graphics()
    assert graphics is not None and type(graphics).__name__ == "QtGraphics"
    big = qt_image(3000, 2000, "JPEG")
    data, fmt, w, h = graphics.resize(big, 1024)
    assert (fmt, w, h) == ("jpeg", 1024, 683)
    assert check_image(data, "out").long_side == 1024
    data, fmt, w, h = graphics.resize(qt_image(200, 100, "PNG"), 1024)
    assert (fmt, w, h) == ("png", 200, 100)  # never scaled up
    webp = graphics.resize(qt_image(300, 300, "WEBP"), 256)
    assert webp is not None and webp[1] == "png" and webp[2] == 256
    jpeg = qt_image(400, 300, "JPEG")
    sos = jpeg.find(b"\xff\xda")
    garbage = jpeg[:sos] + b"\xff\xda\x00\x0c" + bytes(range(256)) * 8 + b"\xff\xd9"
    out = graphics.resize(garbage, 1024)
    assert out is None or out[2] == 400  # Qt may paint what it could; it never crashes or grows
    assert graphics.resize(b"<svg onload=alert(1)></svg>", 1024) is None  # never SVG through Qt
    assert graphics.resize(b"%PDF-1.4 ...", 1024) is None
