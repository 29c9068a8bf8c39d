"""Image bytes from outside (files, documents, data: URLs) as untrusted input.

Nothing here decodes pixels. The format is found by its magic bytes, the declared size is read
from the header, and the file's structure is checked cheaply (PNG chunk CRCs and a bounded
inflate of its pixel stream, JPEG and GIF markers, the WebP RIFF frame), so that a damaged
image, a decompression bomb (a small file declaring a huge canvas) or a format we do not send
(SVG above all: it is a document that can load and run things, never an image to pass on) is
refused with a message naming the image, before Qt or a model server ever sees it.

    info = check_image(data, "diagram.png")   # ImageInfo(format, width, height) or ImageRejected
"""
import base64
import hashlib
import math
import re
import struct
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Optional, Tuple

from ..errors import SourceTooLarge, UnsupportedSource
from ..outside import shown

MAX_IMAGE_BYTES = 25 * 1024 * 1024  # one image file
MAX_PIXELS = 40_000_000  # declared width x height; more is treated as a decompression bomb
MAX_SIDE = 30_000  # declared width or height
MAX_INFLATE_RATIO = 1500  # a PNG's pixel stream may not unpack to more than this x its size
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".gif")


class ImageFormat(Enum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"
    GIF = "gif"

    @property
    def mime(self) -> str:
        return "image/" + self.value

    @property
    def extension(self) -> str:
        return ".jpg" if self is ImageFormat.JPEG else "." + self.value


@dataclass(frozen=True)
class ImageInfo:
    format: ImageFormat
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def long_side(self) -> int:
        return max(self.width, self.height)


class ImageRejected(UnsupportedSource):
    """An image that is not sent: unsupported format, damaged, or too large."""


class ImageTooLarge(SourceTooLarge):
    """An image file too big in bytes or declared pixels (decompression bomb)."""


def _rejected(label: str, what: str, hint: str) -> ImageRejected:
    return ImageRejected(f"Image '{label}' {what}", hint)


_DAMAGED_HINT = ("The image is damaged or only partly saved. Open it in an image viewer and save or "
                 "export it again as PNG or JPEG.")
_FORMAT_HINT = "Images are read as PNG, JPEG, WebP or GIF: export or screenshot it as PNG or JPEG."


# --- recognising -----------------------------------------------------------------------------

_SVG_RE = re.compile(rb"<svg[\s>]", re.I)


def sniff(head: bytes) -> Optional[ImageFormat]:
    """The image format from the first bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ImageFormat.GIF
    return None


def looks_like_svg(head: bytes) -> bool:
    """An SVG document (plain or gzip-compressed .svgz)."""
    if head.startswith(b"\x1f\x8b"):
        return False  # gzip: only the name can tell (.svgz); callers check the extension
    text = head[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"<"):
        return False
    return bool(_SVG_RE.search(text[:4096]))


def other_format(head: bytes) -> str:
    """A name for an image format we do not read, or ""."""
    if head.startswith(b"BM") and len(head) > 14:
        return "a BMP image"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypmsf1", b"ftyphevc"):
        return "a HEIC image"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "an AVIF image"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "an icon (.ico)"
    if head.startswith((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")):
        return "a JPEG 2000 image"
    if head.startswith(b"8BPS"):
        return "a Photoshop image"
    if head.startswith(b"%!PS"):
        return "a PostScript file"
    if head[:4] == b"\x01\x00\x00\x00" and head[40:44] == b" EMF":
        return "a Windows metafile (EMF)"
    if head[:4] == b"\xd7\xcd\xc6\x9a":
        return "a Windows metafile (WMF)"
    return ""


# --- declared size ---------------------------------------------------------------------------

def _png_size(data: bytes) -> Optional[Tuple[int, int]]:
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg_size(data: bytes) -> Optional[Tuple[int, int]]:
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD8:  # no length
            i += 2
            continue
        if marker == 0xD9 or marker == 0xDA:  # end, or scan data before any frame header
            return None
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if length < 2:
            return None
        if marker in _SOF:
            if i + 9 > n:
                return None
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> Optional[Tuple[int, int]]:
    if len(data) < 30:
        return None
    kind = data[12:16]
    body = data[20:]
    if kind == b"VP8 ":
        if body[3:6] != b"\x9d\x01\x2a":
            return None
        w, h = struct.unpack("<HH", body[6:10])
        return w & 0x3FFF, h & 0x3FFF
    if kind == b"VP8L":
        if body[:1] != b"\x2f" or len(body) < 5:
            return None
        bits = struct.unpack("<I", body[1:5])[0]
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if kind == b"VP8X":
        if len(body) < 10:
            return None
        w = int.from_bytes(body[4:7], "little") + 1
        h = int.from_bytes(body[7:10], "little") + 1
        return w, h
    return None


def _gif_size(data: bytes) -> Optional[Tuple[int, int]]:
    if len(data) < 10:
        return None
    return struct.unpack("<HH", data[6:10])


_SIZE_READERS = {
    ImageFormat.PNG: _png_size,
    ImageFormat.JPEG: _jpeg_size,
    ImageFormat.WEBP: _webp_size,
    ImageFormat.GIF: _gif_size,
}


def declared_size(data: bytes, fmt: ImageFormat) -> Optional[Tuple[int, int]]:
    """(width, height) as the header declares it, without decoding; None if it is unreadable."""
    try:
        return _SIZE_READERS[fmt](data)
    except (struct.error, IndexError, ValueError):
        return None


# --- structure -------------------------------------------------------------------------------

def _png_problem(data: bytes, width: int, height: int) -> str:
    """"" if the PNG's chunks are whole (CRCs right, IEND present) and its pixel stream
    inflates without error to a plausible size (bounded: the output is counted, not kept)."""
    pos, n = 8, len(data)
    inflater = zlib.decompressobj()
    unpacked = 0
    limit = max(64 * 1024 * 1024, MAX_INFLATE_RATIO * n)
    # 16-bit RGBA is the most a row can hold; rows start with a filter byte (Adam7: per pass)
    expected = height * (2 + width * 8)
    seen_idat = False
    while pos + 12 <= n:
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > n:
            return "is cut off (a chunk runs past the end of the file)"
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) & 0xFFFFFFFF != struct.unpack(">I", data[end - 4:end])[0]:
            return "is damaged (a checksum does not match)"
        if kind == b"IDAT":
            seen_idat = True
            try:
                while body:
                    out = inflater.decompress(body, 1024 * 1024)
                    unpacked += len(out)
                    if unpacked > limit or unpacked > expected + 1024:
                        return "unpacks to more pixel data than its size allows (a decompression bomb)"
                    body = inflater.unconsumed_tail
            except zlib.error:
                return "is damaged (its pixel data cannot be unpacked)"
        elif kind == b"IEND":
            if not seen_idat:
                return "has no pixel data"
            return ""
        pos = end
    return "is cut off (no end marker)"


def _jpeg_problem(data: bytes) -> str:
    if b"\xff\xda" not in data:
        return "is damaged (no image data)"
    if data.rstrip(b"\x00\r\n ")[-2:] != b"\xff\xd9":
        return "is cut off (no end marker)"
    return ""


def _gif_problem(data: bytes) -> str:
    if data.rstrip(b"\x00\r\n ")[-1:] != b";":
        return "is cut off (no end marker)"
    return ""


def _webp_problem(data: bytes) -> str:
    size = struct.unpack("<I", data[4:8])[0] + 8
    if size > len(data):
        return "is cut off"
    return ""


def structure_problem(data: bytes, info: ImageInfo) -> str:
    """What is wrong with the file's structure, or ""."""
    try:
        if info.format is ImageFormat.PNG:
            return _png_problem(data, info.width, info.height)
        if info.format is ImageFormat.JPEG:
            return _jpeg_problem(data)
        if info.format is ImageFormat.GIF:
            return _gif_problem(data)
        return _webp_problem(data)
    except (struct.error, IndexError, ValueError):
        return "is damaged"


# --- the check -------------------------------------------------------------------------------

def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def check_image(data: bytes, label: str, max_bytes: int = MAX_IMAGE_BYTES,
                max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """The image's format and declared size, or ImageRejected / ImageTooLarge with a message
    naming ``label``. Never decodes pixels."""
    label = shown(label, 120)
    if not data:
        raise _rejected(label, "is empty.", _DAMAGED_HINT)
    if len(data) > max_bytes:
        raise ImageTooLarge(
            f"Image '{label}' is {_mb(len(data))}; images up to {_mb(max_bytes)} are read.",
            "Save it at a smaller size (a long side of 2000 pixels is plenty), e.g. as JPEG.",
        )
    head = data[:4096]
    fmt = sniff(head)
    if fmt is None:
        if looks_like_svg(head) or label.lower().endswith((".svg", ".svgz")):
            raise _rejected(
                label, "is an SVG drawing. SVG is never read or sent: it is a document that can "
                "load other files and run scripts.",
                "Export or screenshot it as PNG, then use the PNG.")
        other = other_format(head)
        if other:
            raise _rejected(label, f"is {other}, which is not read.", _FORMAT_HINT)
        raise _rejected(label, "is not an image in a format that is read.", _FORMAT_HINT)
    size = declared_size(data, fmt)
    if size is None:
        raise _rejected(label, f"is damaged: its {fmt.value.upper()} header cannot be read.",
                        _DAMAGED_HINT)
    width, height = size
    if width <= 0 or height <= 0:
        raise _rejected(label, f"declares an empty image ({width} x {height} pixels).", _DAMAGED_HINT)
    if width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
        raise ImageTooLarge(
            f"Image '{label}' declares {width:,} x {height:,} pixels "
            f"({width * height / 1e6:.0f} megapixels); at most {max_pixels / 1e6:.0f} megapixels "
            "are read (larger ones are how decompression bombs exhaust memory).",
            "If it is a real image, save it at a smaller size and use that.",
        )
    info = ImageInfo(fmt, width, height)
    problem = structure_problem(data, info)
    if problem:
        raise _rejected(label, problem + ".", _DAMAGED_HINT)
    return info


def image_or_none(data: bytes, label: str) -> Tuple[Optional[ImageInfo], str]:
    """(info, "") for an acceptable image, else (None, the message why not)."""
    try:
        return check_image(data, label), ""
    except (ImageRejected, ImageTooLarge) as err:
        return None, err.message


# --- sizes, cost and names -------------------------------------------------------------------

def fit_within(width: int, height: int, max_side: int) -> Tuple[int, int]:
    """The size after scaling down (never up) so the long side is at most ``max_side``."""
    long_side = max(width, height)
    if long_side <= max_side or long_side <= 0:
        return max(1, width), max(1, height)
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


TOKENS_PER_IMAGE_MIN = 576  # fixed-size vision encoders (LLaVA's 24 x 24 patches)
TOKENS_PER_IMAGE_MAX = 1600


def image_tokens(width: int, height: int) -> int:
    """Tokens an image of this size costs in the context, estimated on the high side: one per
    28 x 28 pixels (Qwen-VL style), at least what a fixed-size encoder (LLaVA) spends."""
    per_patch = math.ceil(width / 28) * math.ceil(height / 28)
    return max(TOKENS_PER_IMAGE_MIN, min(TOKENS_PER_IMAGE_MAX, per_patch))


MEDIA_PREFIX = "ollama-flashcards-"
_MEDIA_NAME_RE = re.compile(r"^ollama-flashcards-[0-9a-f]{16}\.(?:png|jpg|webp|gif)$")


def media_name(data: bytes, fmt: ImageFormat) -> str:
    """The collection media file name for an image: from its content hash, so the same image
    is stored once however often it is used."""
    return MEDIA_PREFIX + hashlib.sha256(data).hexdigest()[:16] + fmt.extension


_FIGURE_SRC = re.compile(r'<img src="(%s[0-9a-f]{16}\.\w{3,4})">' % re.escape(MEDIA_PREFIX))


def figure_key(field_html: str) -> str:
    """The figure a field shows, as part of its duplicate key: the same question about two
    different images is not a duplicate (only the add-on's own images count)."""
    if MEDIA_PREFIX not in field_html:
        return ""
    return "".join(f" [{name}]" for name in _FIGURE_SRC.findall(field_html))


def is_media_name(name: str) -> bool:
    """A plain file name of the form ``media_name`` gives (no folder, no scheme, no query)."""
    return bool(_MEDIA_NAME_RE.match(name))


def b64(data: bytes) -> str:
    """Raw base64 (no data: prefix), as Ollama's ``images`` take it."""
    return base64.b64encode(data).decode("ascii")


_DATA_URL_RE = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w.+-]+=[\w.+-]+)*)(;base64)?,", re.I)


def decode_data_url(url: str, max_bytes: int = MAX_IMAGE_BYTES) -> Optional[bytes]:
    """The bytes of a ``data:`` URL (base64 or percent-encoded), or None if it is not one, is
    malformed, or would be larger than ``max_bytes``."""
    m = _DATA_URL_RE.match(url.strip()[:300])
    if not m:
        return None
    payload = url.strip()[m.end():]
    if m.group(3):
        if len(payload) > (max_bytes * 4) // 3 + 8:
            return None
        try:
            return base64.b64decode("".join(payload.split()), validate=True)
        except (ValueError, TypeError):
            return None
    from urllib.parse import unquote_to_bytes

    if len(payload) > max_bytes * 3:
        return None
    data = unquote_to_bytes(payload)
    return data if len(data) <= max_bytes else None


# --- writing a PNG (for raw pixels taken out of a PDF) ------------------------------------------

def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_from_rows(width: int, height: int, channels: int, filtered: bytes) -> bytes:
    """A PNG from 8-bit gray (1) or RGB (3) scanlines that already start with a filter byte
    each (PNG predictor data, or rows prefixed with 0)."""
    color_type = {1: 0, 3: 2}[channels]
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(filtered, 6)) + _chunk(b"IEND", b""))
