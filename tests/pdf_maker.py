"""Small PDFs written byte by byte for the figure and highlight tests (nothing large is committed):
pages with text (Helvetica, one of the standard fonts every reader has, or Courier, whose fixed
width puts a word at a known place), annotations (highlights over known words: ``word_quad``),
rotated pages, vector drawings, JPEG images
(DCTDecode, the bytes as given), raw gray/RGB images (FlateDecode, streamed so a declared
10,000 x 10,000 image costs ~100 KB), and an RC4-encrypted variant (pypdf's writer). Also the
images themselves: drawn with Qt (``qt_image``) or a PNG header declaring any size (``png_declaring``).

    pdf = PdfMaker()
    pdf.page(text=["Title", "a line"], jpeg=jpeg_bytes, drawing=40)
    lines = ["Mitochondria make ATP."]
    mark = pdf.annotation("Highlight", pdf.word_quad(0, lines[0], "make ATP"), contents="why?")
    pdf.page(text=lines, mono=True, annots=[mark])
    data = pdf.build()

Labelled figures (``labelled_page``): labels placed at known points beside vector drawings or
an image, on a page that may be rotated or cropped; ``Geometry.true_box`` is where a label
stands on the page as shown (its advance width by Helvetica's ascent and descent), computed
here from the font's metrics, independently of any PDF reader.
"""
import struct
import zlib
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace")


def _number(value: float) -> bytes:
    return (b"%d" % value) if float(value).is_integer() and abs(value) < 1e15 else (b"%.4f" % value)


class PdfMaker:
    def __init__(self, width: float = 612, height: float = 792) -> None:
        self.width = width
        self.height = height
        self.objects: List[bytes] = []  # object n+1 is objects[n]
        self.pages: List[int] = []
        self.font = self._add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        self.pages_id = self._add(b"")  # filled in build()
        self.mono_font = 0  # Courier, added by the first page that uses it

    def _add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def _stream(self, dictionary: bytes, data: bytes) -> int:
        return self._add(b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")

    def jpeg_image(self, data: bytes, width: int, height: int, gray: bool = False) -> int:
        cs = b"/DeviceGray" if gray else b"/DeviceRGB"
        return self._stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                            b"/BitsPerComponent 8 /Filter /DCTDecode" % (width, height, cs), data)

    def raw_image(self, width: int, height: int, rgb: bool = False, value: int = 0,
                  pattern: Optional[bytes] = None) -> int:
        """A Flate image of one colour (or a repeated row ``pattern``), compressed in pieces."""
        channels = 3 if rgb else 1
        row = (pattern or bytes([value]) * (width * channels))[: width * channels]
        comp = zlib.compressobj(9)
        parts = []
        block = row * max(1, (1 << 20) // max(1, len(row)))
        rows_per_block = len(block) // len(row)
        left = height
        while left > 0:
            n = min(left, rows_per_block)
            parts.append(comp.compress(block[: n * len(row)]))
            left -= n
        parts.append(comp.flush())
        cs = b"/DeviceRGB" if rgb else b"/DeviceGray"
        return self._stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                            b"/BitsPerComponent 8 /Filter /FlateDecode" % (width, height, cs), b"".join(parts))

    def page(self, text: Sequence[str] = (), images: Sequence[Tuple[int, Tuple[float, float, float, float]]] = (),
             drawing: int = 0, jpeg: Optional[Tuple[bytes, int, int]] = None,
             size: Optional[Tuple[float, float]] = None, font_size: float = 14, mono: bool = False,
             annots: Sequence[int] = (), rotate: int = 0, raw_annots: Optional[bytes] = None,
             raw_ops: bytes = b"") -> int:
        """A page: lines of ``text`` from the top, ``images`` as (xobject id, (x, y, w, h)) in
        points, ``drawing`` vector boxes, or ``jpeg`` = (data, w, h) drawn over the middle;
        ``mono``: the text in Courier (``word_quad`` finds a word's place); ``annots``: ids of
        ``annotation`` objects (``raw_annots``: the /Annots value as given, e.g. a reference to
        an array object); ``rotate``: the page's /Rotate; ``raw_ops``: more content operators, as
        given (fonts /F1 Helvetica, /F2 Courier when ``mono``)."""
        width, height = size or (self.width, self.height)
        ops: List[bytes] = []
        names = []
        if jpeg is not None:
            xid = self.jpeg_image(*jpeg)
            images = list(images) + [(xid, (width * 0.1, height * 0.15, width * 0.8, height * 0.5))]
        for i, (xid, (x, y, w, h)) in enumerate(images):
            names.append(b"/Im%d %d 0 R" % (i, xid))
            ops.append(b"q %.2f 0 0 %.2f %.2f %.2f cm /Im%d Do Q" % (w, h, x, y, i))
        for i in range(drawing):
            x = 50 + (i * 37) % (width - 120)
            y = 100 + (i * 53) % (height * 0.5)
            ops.append(b"0 0 1 RG %.1f %.1f 60 30 re S %.1f %.1f m %.1f %.1f l S" % (x, y, x, y, x + 40, y + 60))
        if mono and not self.mono_font:
            self.mono_font = self._add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>")
        font = b"/F2" if mono else b"/F1"
        y = height - 60
        for line in text:
            ops.append(b"BT %s %.1f Tf 56 %.1f Td (%s) Tj ET" % (font, font_size, y, _escape(line)))
            y -= font_size * 1.5
        if raw_ops:
            ops.append(raw_ops)
        content = self._stream(b"", b"\n".join(ops))
        resources = b"/Font << /F1 %d 0 R%s >>" % (self.font, b" /F2 %d 0 R" % self.mono_font if self.mono_font else b"")
        if names:
            resources += b" /XObject << " + b" ".join(names) + b" >>"
        extra = b""
        if annots:
            extra += b" /Annots [%s]" % b" ".join(b"%d 0 R" % a for a in annots)
        elif raw_annots is not None:
            extra += b" /Annots " + raw_annots
        if rotate:
            extra += b" /Rotate %d" % rotate
        page = self._add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.1f %.1f] /Resources << %s >> "
                         b"/Contents %d 0 R%s >>" % (self.pages_id, width, height, resources, content, extra))
        self.pages.append(page)
        return page

    def word_quad(self, line_no: int, line: str, word: str, font_size: float = 14,
                  occurrence: int = 0, height: Optional[float] = None) -> List[float]:
        """The QuadPoints (upper-left, upper-right, lower-left, lower-right, as Acrobat writes
        them) over ``word`` (any run of characters) on line ``line_no`` of a ``mono`` page."""
        start = -1
        for _ in range(occurrence + 1):
            start = line.index(word, start + 1)
        advance = 0.6 * font_size  # Courier: every glyph 600/1000 em
        x0 = 56 + start * advance
        x1 = x0 + len(word) * advance
        base = (height or self.height) - 60 - line_no * font_size * 1.5
        top, bottom = base + 0.8 * font_size, base - 0.2 * font_size
        return [x0, top, x1, top, x0, bottom, x1, bottom]

    def annotation(self, subtype: str, quads: Sequence[float] = (), colour: Sequence[float] = (1, 0.9, 0),
                   contents: Optional[str] = None, rect: Optional[Sequence[float]] = None,
                   extra: bytes = b"") -> int:
        """A markup annotation object (``subtype``: Highlight, Underline, Squiggly, StrikeOut,
        Text, ...) with its /QuadPoints, /C, /Contents and /Rect (the quads' box unless given)."""
        if rect is None and quads:
            xs, ys = quads[0::2], quads[1::2]
            rect = [min(xs), min(ys), max(xs), max(ys)]
        body = b"<< /Type /Annot /Subtype /%s" % subtype.encode()
        if rect is not None:
            body += b" /Rect [%s]" % b" ".join(_number(v) for v in rect)
        if quads:
            body += b" /QuadPoints [%s]" % b" ".join(_number(v) for v in quads)
        if colour:
            body += b" /C [%s]" % b" ".join(_number(v) for v in colour)
        if contents is not None:
            body += b" /Contents (%s)" % _escape(contents)
        return self._add(body + extra + b" >>")

    def add_object(self, body: bytes) -> int:
        """Any object, as given (for hostile files); returns its number."""
        return self._add(body)

    def labelled_page(self, labels: Sequence["Label"], drawing: bytes = b"",
                      size: Tuple[float, float] = (612, 792), rotate: int = 0,
                      crop: Optional[Tuple[float, float, float, float]] = None,
                      images: Sequence[Tuple[int, Tuple[float, float, float, float]]] = ()) -> "Geometry":
        """A page of ``labels`` (Helvetica, each at its baseline point) over ``drawing`` (raw
        content-stream operators, in the page's own coordinates) and ``images``; ``rotate`` is
        the page's /Rotate, ``crop`` its /CropBox (left, bottom, right, top)."""
        ops: List[bytes] = []
        names = []
        for i, (xid, (x, y, w, h)) in enumerate(images):
            names.append(b"/Im%d %d 0 R" % (i, xid))
            ops.append(b"q %.2f 0 0 %.2f %.2f %.2f cm /Im%d Do Q" % (w, h, x, y, i))
        if drawing:
            ops.append(b"q " + drawing + b" Q")
        for label in labels:
            ops.append(b"BT /F1 %.2f Tf %.2f %.2f Td (%s) Tj ET" % (label.size, label.x, label.y,
                                                                   _escape(label.text)))
        content = self._stream(b"", b"\n".join(ops))
        resources = b"/Font << /F1 %d 0 R >>" % self.font
        if names:
            resources += b" /XObject << " + b" ".join(names) + b" >>"
        extra = b""
        if rotate:
            extra += b" /Rotate %d" % rotate
        if crop is not None:
            extra += b" /CropBox [%.2f %.2f %.2f %.2f]" % crop
        page = self._add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f]%s /Resources << %s >> "
                         b"/Contents %d 0 R >>" % (self.pages_id, size[0], size[1], extra, resources, content))
        self.pages.append(page)
        return Geometry(size, rotate % 360, crop or (0.0, 0.0, size[0], size[1]))

    def build(self) -> bytes:
        kids = b" ".join(b"%d 0 R" % p for p in self.pages)
        self.objects[self.pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self.pages))
        catalog = self._add(b"<< /Type /Catalog /Pages %d 0 R >>" % self.pages_id)
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objects):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % (i + 1) + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.objects) + 1)
        for off in offsets:
            out += b"%010d 00000 n \n" % off
        out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(self.objects) + 1, catalog, xref)
        return bytes(out)


def encrypted(data: bytes, user_password: str = "secret") -> bytes:
    """The PDF encrypted with RC4-128 (no extra library needed to write or read it)."""
    import io

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def qt_image(width: int, height: int, fmt: str = "PNG", color: str = "#3366cc", label: bool = True) -> bytes:
    """An image made with Qt (no QApplication needed): a coloured box with a diagonal."""
    from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QPoint
    from PyQt6.QtGui import QColor, QImage, QPainter, QPen

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.fillRect(width // 8, height // 8, width * 3 // 4, height * 3 // 4, QColor(color))
    if label:
        painter.setPen(QPen(QColor("black"), max(1, width // 100)))
        painter.drawLine(QPoint(0, 0), QPoint(width - 1, height - 1))
    painter.end()
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, fmt, 85)
    return bytes(array.data())


def slide_deck(pages: int, jpegs: Sequence[bytes], size: Tuple[int, int] = (400, 300),
               shared: bool = False) -> bytes:
    """Landscape slides: a title and two short bullets beside a figure, page after page. Each
    page has its own image object (``jpegs`` in turn), or all share one (``shared``)."""
    pdf = PdfMaker(792, 612)
    one = pdf.jpeg_image(jpegs[0], *size) if shared else 0
    for n in range(1, pages + 1):
        xid = one or pdf.jpeg_image(jpegs[(n - 1) % len(jpegs)], *size)
        pdf.page(text=[f"Slide {n}: the cell cycle, phase {n}", f"- checkpoint {n} guards the phase",
                       "- cyclins rise and fall"], images=[(xid, (120, 60, 552, 400))])
    return pdf.build()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_declaring(width: int, height: int, pixels: bytes = b"\x00\x00") -> bytes:
    """A grey PNG that declares ``width`` x ``height`` whatever ``pixels`` (its compressed data) holds."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(pixels))
            + png_chunk(b"IEND", b""))


@dataclass(frozen=True)
class Label:
    """A text label at a baseline point in the page's own coordinates (origin bottom left)."""

    text: str
    x: float
    y: float
    size: float = 12.0


def helvetica_width(text: str, size: float) -> float:
    """The advance width of ``text`` in Helvetica at ``size`` points (the font's AFM widths)."""
    from pypdf._codecs.core_font_metrics import CORE_FONT_METRICS

    widths = CORE_FONT_METRICS["Helvetica"].character_widths
    return sum(widths.get(c, widths["default"]) for c in text) * size / 1000.0


HELVETICA_ASCENT, HELVETICA_DESCENT = 0.718, 0.207


@dataclass(frozen=True)
class Geometry:
    """A page's size, rotation and crop box: what maps its own coordinates to the page as shown."""

    media: Tuple[float, float]
    rotate: int
    crop: Tuple[float, float, float, float]  # left, bottom, right, top

    @property
    def shown_size(self) -> Tuple[float, float]:
        w, h = self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]
        return (h, w) if self.rotate in (90, 270) else (w, h)

    def shown(self, x: float, y: float) -> Tuple[float, float]:
        """A point of the page's own coordinates on the page as shown (points, origin top left,
        turned clockwise by /Rotate as viewers show it)."""
        w, h = self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]
        u, v = x - self.crop[0], self.crop[3] - y
        if self.rotate == 90:
            return h - v, u
        if self.rotate == 180:
            return w - u, h - v
        if self.rotate == 270:
            return v, w - u
        return u, v

    def shown_box(self, x0: float, y0: float, x1: float, y1: float) -> Tuple[float, float, float, float]:
        corners = [self.shown(x, y) for x in (x0, x1) for y in (y0, y1)]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        return min(xs), min(ys), max(xs), max(ys)

    def true_box(self, label: Label) -> Tuple[float, float, float, float]:
        """Where the label stands on the page as shown: its advance width by the font's ascent
        and descent."""
        return self.shown_box(label.x, label.y - HELVETICA_DESCENT * label.size,
                              label.x + helvetica_width(label.text, label.size),
                              label.y + HELVETICA_ASCENT * label.size)


Mark = Tuple[int, str, Sequence[float], Optional[str]]  # line, words, colour, comment


def highlighted_pdf(pages: Sequence[Tuple[Sequence[str], Sequence[Mark]]]) -> bytes:
    """A PDF of ``mono`` pages, each (its lines, its highlights: (line number, the words marked,
    the colour as RGB, the comment or None))."""
    pdf = PdfMaker()
    for lines, marks in pages:
        annots = [pdf.annotation("Highlight", pdf.word_quad(line, lines[line], words), colour=colour,
                                 contents=comment) for line, words, colour, comment in marks]
        pdf.page(text=lines, mono=True, annots=annots)
    return pdf.build()
