"""The engine's graphics adapter (``generator.images.figure.Graphics``) on Qt: PDF pages rendered with
QtPdf (``QPdfDocument.render``) and images decoded, scaled down and re-encoded with
``QImageReader``/``QImage``.

This module imports only PyQt6 and the standard library (never aqt, never the engine), so the
headless CLI can use it too: ``python flashcards.py`` (the script beside ui/) loads it when
PyQt6 is there. It needs no QApplication: rendering and image codecs work without one, in any thread.

The text layer (``text_runs``) comes from QtPdf's text selection: each line's bounds, and where
a line stands in several pieces (two labels side by side), each word's, so that a run of text is
the words that stand together; its boxes are in points on the page as shown (rotation and crop
box applied), as the renders are.

Bounds: a page is rendered at most ``max_side`` pixels on its long side whatever size the page
claims (an area of it at most ``AREA_MAX_SCALE`` times its size in points); a page's text is
read up to ``max_chars`` characters; an image is decoded straight to its scaled size (``QImageReader.setScaledSize``, so a
large JPEG is never held at full size), only in the format its magic bytes name (never SVG or
PDF through Qt's plugins), under Qt's allocation limit; transparent areas become white.

The main thread: PyQt holds Python's GIL for the whole of a Qt call, so a 40 ms page render on a
worker is 40 ms in which Anki's main thread cannot run Python. Inside Anki the adapter is made
with ``strips=4``: each page (and each area of one) is rendered in horizontal strips (a GIL
hold of ~10-20 ms each), and PNGs are compressed by Python's zlib, which lets go of the GIL
while it works.
"""
import re
import struct
import threading
import time
import zlib
from typing import List, Optional, Tuple, Union

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRect, QRectF, QSize
from PyQt6.QtGui import QColor, QImage, QImageReader, QPainter
from PyQt6.QtPdf import QPdfDocument, QPdfDocumentRenderOptions

Encoded = Tuple[bytes, str, int, int]  # (data, "png" | "jpeg", width, height)
TextRun = Tuple[str, float, float, float, float]  # (text, left, top, right, bottom), points
Gray = Tuple[int, int, bytes]  # (width, height, 8-bit grey rows packed)
Area = Tuple[float, float, float, float]  # (left, top, right, bottom), points

AREA_MAX_SCALE = 4.0  # as generator/images/figure.py says
MAX_RUN_PIECES = 64  # a line in more pieces than this is read as one run
# QtPdf reads the page's whole text again for each selection asked: on a crowded page one costs
# tens of milliseconds, so a page gets at most this many (and this long) for its lines' and
# words' boxes. A line in pieces is one run when its words no longer fit the budget; once the
# budget is spent, the page's remaining lines give no run (a bound on hostile pages: their
# labels are not looked for).
MAX_SELECTIONS = 400
SELECTION_SECONDS = 2.5
_LINE = re.compile(r"[^\r\n]+")
_WORD = re.compile(r"\S+")

ALLOCATION_LIMIT_MB = 256
PNG_LIMIT = 1_500_000  # a PNG larger than this is sent as JPEG instead
PNG_LEVEL = 3  # zlib's effort: nearly the size of level 6 in half the time
JPEG_QUALITY = 88
ROWS_PER_BLOCK = 32  # rows handed to zlib at a time

_pdfium = threading.Lock()  # pdfium is not thread-safe: one render at a time in the process

_FORMATS = ((b"\x89PNG\r\n\x1a\n", b"png"), (b"\xff\xd8\xff", b"jpeg"), (b"GIF87a", b"gif"),
            (b"GIF89a", b"gif"))


def image_format(data: bytes) -> Optional[bytes]:
    for magic, name in _FORMATS:
        if data.startswith(magic):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return b"webp"
    return None


def _fit(width: float, height: float, max_side: int, grow: bool = False) -> QSize:
    """The size with the long side at most ``max_side`` (exactly, if ``grow``)."""
    long_side = max(width, height, 1.0)
    scale = max_side / long_side if grow else min(1.0, max_side / long_side)
    return QSize(max(1, min(max_side, round(width * scale))), max(1, min(max_side, round(height * scale))))


def _on_white(image: QImage) -> QImage:
    out = QImage(image.size(), QImage.Format.Format_RGB32)
    out.fill(QColor("white"))
    painter = QPainter(out)
    painter.drawImage(0, 0, image)
    painter.end()
    return out


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bytes(image: QImage) -> bytes:
    """``image`` as an RGB PNG, compressed by Python's zlib (the GIL is free while it works):
    rows unfiltered, handed to zlib a block at a time."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    bits = rgb.constBits()
    if bits is None:
        return b""
    raw = memoryview(bits.asstring(stride * height))
    row = width * 3
    comp = zlib.compressobj(PNG_LEVEL)
    parts: List[bytes] = []
    for top in range(0, height, ROWS_PER_BLOCK):
        block = b"".join(b"\x00" + raw[y * stride:y * stride + row]
                         for y in range(top, min(height, top + ROWS_PER_BLOCK)))
        parts.append(comp.compress(block))
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"".join(parts))
            + _chunk(b"IEND", b""))


def _encode(image: QImage, prefer: str) -> Optional[Encoded]:
    def save_jpeg() -> bytes:
        array = QByteArray()
        buffer = QBuffer(array)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        ok = image.save(buffer, "JPEG", JPEG_QUALITY)
        buffer.close()
        return bytes(array.data()) if ok else b""

    data, fmt = b"", prefer
    if prefer == "png":
        data = png_bytes(image)
        if not data or len(data) > PNG_LIMIT:
            data, fmt = save_jpeg(), "jpeg"
    else:
        data = save_jpeg()
    if not data:
        return None
    return data, fmt, image.width(), image.height()


def _probe_pdf() -> bytes:
    """A one-page PDF turned by /Rotate 90 with one letter at a known place."""
    content = b"BT /F1 10 Tf 20 60 Td (X) Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Rotate 90 /Resources "
               b"<< /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content)]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_TURNED: List[bool] = []


def text_turned() -> bool:
    """Whether this QtPdf gives text boxes on the page as shown. Older ones (Qt 6.6, in Anki
    23.10) give them in the page's own coordinates, y measured down from the shown height,
    whatever its /Rotate and crop box: tried once on a page turned by 90 degrees."""
    if not _TURNED:
        turned = True
        array = QByteArray(_probe_pdf())
        buffer = QBuffer(array)
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        with _pdfium:
            document = QPdfDocument(None)
            document.load(buffer)
            if document.status() == QPdfDocument.Status.Ready and document.pageCount() == 1:
                polygons = document.getSelectionAtIndex(0, 0, 1).bounds()
                if polygons:
                    turned = polygons[0].boundingRect().center().y() < 50  # shown: 20..27 down
            document.close()
        buffer.close()
        _TURNED.append(turned)
    return _TURNED[0]


def _run(text: str, box: QRectF) -> TextRun:
    return (" ".join(text.split()), float(box.left()), float(box.top()), float(box.right()),
            float(box.bottom()))


def _nearest(boxes: List[QRectF], point: QPointF) -> int:
    """The box that holds ``point``, else the one nearest to it."""
    def distance(box: QRectF) -> float:
        dx = max(box.left() - point.x(), 0.0, point.x() - box.right())
        dy = max(box.top() - point.y(), 0.0, point.y() - box.bottom())
        return dx * dx + dy * dy

    return min(range(len(boxes)), key=lambda i: distance(boxes[i]))


class QtPageRenderer:
    """One open PDF (``generator.images.figure.PageRenderer``)."""

    def __init__(self, document: QPdfDocument, buffer: Optional[QBuffer], array: Optional[QByteArray],
                 strips: int = 1) -> None:
        self.document = document
        self._buffer = buffer  # keep the bytes alive as long as the document reads them
        self._array = array
        self.strips = max(1, strips)

    def page_count(self) -> int:
        return int(self.document.pageCount())

    def render(self, index: int, max_side: int) -> Optional[Encoded]:
        with _pdfium:
            if not 0 <= index < self.document.pageCount():
                return None
            points = self.document.pagePointSize(index)
            size = _fit(points.width(), points.height(), max_side, grow=True)
        page = self._render_strips(index, size, QRect(0, 0, size.width(), size.height()))
        return None if page is None else _encode(page, "png")

    def _render_strips(self, index: int, size: QSize, clip: QRect) -> Optional[QImage]:
        """The ``clip`` (pixels) of the page rendered at ``size``, on white, in ``strips``
        horizontal strips: each strip is its own pdfium call, so other threads (and the GIL)
        get turns between them."""
        out = QImage(clip.size(), QImage.Format.Format_RGB32)
        out.fill(QColor("white"))
        painter = QPainter(out)
        try:
            step = -(-clip.height() // self.strips)
            for top in range(0, clip.height(), step):
                height = min(step, clip.height() - top)
                options = QPdfDocumentRenderOptions()
                options.setScaledSize(size)
                options.setScaledClipRect(QRect(clip.left(), clip.top() + top, clip.width(), height))
                with _pdfium:  # one strip at a time
                    strip = self.document.render(index, QSize(clip.width(), height), options)
                if strip.isNull():
                    return None
                painter.drawImage(0, top, strip)
        finally:
            painter.end()
        return out

    def page_size(self, index: int) -> Optional[Tuple[float, float]]:
        with _pdfium:
            if not 0 <= index < self.document.pageCount():
                return None
            points = self.document.pagePointSize(index)
        return float(points.width()), float(points.height())

    def text_turned(self) -> bool:
        return text_turned()

    def _bounds(self, index: int, start: int, length: int) -> List[QRectF]:
        with _pdfium:
            polygons = self.document.getSelectionAtIndex(index, start, length).bounds()
        return [p.boundingRect() for p in polygons if not p.isEmpty()]

    def text_runs(self, index: int, max_chars: int) -> Optional[List[TextRun]]:
        with _pdfium:
            if not 0 <= index < self.document.pageCount():
                return None
            text = self.document.getAllText(index).text()[:max(0, max_chars)]
        runs: List[TextRun] = []
        budget = [MAX_SELECTIONS, time.monotonic() + SELECTION_SECONDS]
        for line in _LINE.finditer(text):
            if not line.group().strip() or not self._spend(budget):
                continue
            pieces = self._bounds(index, line.start(), len(line.group()))
            if not pieces:
                continue
            words = _WORD.findall(line.group())
            if len(pieces) == len(words):  # a word a piece: in the order of the text
                runs.extend(_run(w, box) for w, box in zip(words, pieces))
                continue
            if len(pieces) == 1 or len(pieces) > MAX_RUN_PIECES or budget[0] < len(words):
                box = pieces[0]
                for other in pieces[1:]:
                    box = box.united(other)
                runs.append(_run(line.group(), box))
                continue
            runs.extend(self._pieces(index, line.start(), line.group(), pieces, budget))
        return runs

    def _spend(self, budget: List[float], n: int = 1) -> bool:
        """Take ``n`` selections from the page's budget (False when it is spent)."""
        if budget[0] < n or time.monotonic() > budget[1]:
            budget[0] = 0
            return False
        budget[0] -= n
        return True

    def _pieces(self, index: int, start: int, line: str, pieces: List[QRectF],
                budget: List[float]) -> List[TextRun]:
        """A line in pieces (labels side by side): each word goes to the piece its box is in."""
        words: List[List[str]] = [[] for _ in pieces]
        for word in _WORD.finditer(line):
            if not self._spend(budget):
                words[-1].append(word.group())  # out of budget: the rest with the last piece
                continue
            found = self._bounds(index, start + word.start(), len(word.group()))
            if found:
                words[_nearest(pieces, found[0].center())].append(word.group())
        return [_run(" ".join(w), box) for w, box in zip(words, pieces) if w]

    def gray(self, index: int, max_side: int) -> Optional[Gray]:
        encoded = self._draw(index, max_side)
        if encoded is None:
            return None
        image = encoded.convertToFormat(QImage.Format.Format_Grayscale8)
        width, height, stride = image.width(), image.height(), image.bytesPerLine()
        bits = image.constBits()
        if bits is None:
            return None
        raw = bits.asstring(stride * height)
        rows = raw if stride == width else b"".join(raw[y * stride:y * stride + width] for y in range(height))
        return width, height, rows

    def _draw(self, index: int, max_side: int) -> Optional[QImage]:
        with _pdfium:
            if not 0 <= index < self.document.pageCount():
                return None
            points = self.document.pagePointSize(index)
            size = _fit(points.width(), points.height(), max_side, grow=True)
            image = self.document.render(index, size)
        return None if image.isNull() else _on_white(image)

    def render_area(self, index: int, area: Area, max_side: int) -> Optional[Encoded]:
        with _pdfium:
            if not 0 <= index < self.document.pageCount():
                return None
            points = self.document.pagePointSize(index)
            left, top = max(0.0, area[0]), max(0.0, area[1])
            right, bottom = min(points.width(), area[2]), min(points.height(), area[3])
            if right - left < 1 or bottom - top < 1:
                return None
            scale = min(max_side / max(right - left, bottom - top), AREA_MAX_SCALE)
            clip = QRect(round(left * scale), round(top * scale), max(1, round((right - left) * scale)),
                         max(1, round((bottom - top) * scale)))
            size = QSize(max(1, round(points.width() * scale)), max(1, round(points.height() * scale)))
        image = self._render_strips(index, size, clip)
        return None if image is None else _encode(image, "png")

    def close(self) -> None:
        with _pdfium:
            self.document.close()
            if self._buffer is not None:
                self._buffer.close()


class QtGraphics:
    """``generator.images.figure.Graphics`` on Qt."""

    def __init__(self, strips: int = 1) -> None:
        """``strips``: render each page in this many strips (4 inside Anki: see the module doc)."""
        QImageReader.setAllocationLimit(ALLOCATION_LIMIT_MB)
        self.strips = strips

    def open_pdf(self, source: Union[str, bytes]) -> Optional[QtPageRenderer]:
        with _pdfium:
            document = QPdfDocument(None)
            buffer: Optional[QBuffer] = None
            array: Optional[QByteArray] = None
            if isinstance(source, bytes):
                array = QByteArray(source)
                buffer = QBuffer(array)
                buffer.open(QIODevice.OpenModeFlag.ReadOnly)
                document.load(buffer)
            else:
                document.load(source)
            if document.status() != QPdfDocument.Status.Ready or document.pageCount() <= 0:
                document.close()
                return None
        return QtPageRenderer(document, buffer, array, self.strips)

    def resize(self, data: bytes, max_side: int) -> Optional[Encoded]:
        fmt = image_format(data)
        if fmt is None:
            return None  # never let Qt guess: it would read SVG and PDF too
        array = QByteArray(data)
        buffer = QBuffer(array)
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer, QByteArray(fmt))
        reader.setDecideFormatFromContent(False)
        reader.setAutoTransform(True)
        size = reader.size()
        if not size.isValid() or size.width() <= 0 or size.height() <= 0:
            return None
        target = _fit(size.width(), size.height(), max_side)
        if target != size:
            reader.setScaledSize(target)
        image = reader.read()
        buffer.close()
        if image.isNull():
            return None
        if image.width() > max_side or image.height() > max_side:  # rotated by EXIF, say
            image = image.scaled(_fit(image.width(), image.height(), max_side))
        if image.hasAlphaChannel():
            image = _on_white(image)
        return _encode(image, "jpeg" if fmt == b"jpeg" else "png")
