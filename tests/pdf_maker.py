"""Small PDFs written byte by byte for the figure tests (nothing large is committed): pages with
text (Helvetica, one of the standard fonts every reader has), vector drawings, JPEG images
(DCTDecode, the bytes as given), raw gray/RGB images (FlateDecode, streamed so a declared
10,000 x 10,000 image costs ~100 KB), and an RC4-encrypted variant (pypdf's writer). Also the
images themselves: drawn with Qt (``qt_image``) or a PNG header declaring any size (``png_declaring``).

    pdf = PdfMaker()
    pdf.page(text=["Title", "a line"], jpeg=jpeg_bytes, drawing=40)
    data = pdf.build()
"""
import struct
import zlib
from typing import List, Optional, Sequence, Tuple


def _escape(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace")


class PdfMaker:
    def __init__(self, width: float = 612, height: float = 792) -> None:
        self.width = width
        self.height = height
        self.objects: List[bytes] = []  # object n+1 is objects[n]
        self.pages: List[int] = []
        self.font = self._add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        self.pages_id = self._add(b"")  # filled in build()

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
             size: Optional[Tuple[float, float]] = None, font_size: float = 14) -> int:
        """A page: lines of ``text`` from the top, ``images`` as (xobject id, (x, y, w, h)) in
        points, ``drawing`` vector boxes, or ``jpeg`` = (data, w, h) drawn over the middle."""
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
        y = height - 60
        for line in text:
            ops.append(b"BT /F1 %.1f Tf 56 %.1f Td (%s) Tj ET" % (font_size, y, _escape(line)))
            y -= font_size * 1.5
        content = self._stream(b"", b"\n".join(ops))
        resources = b"/Font << /F1 %d 0 R >>" % self.font
        if names:
            resources += b" /XObject << " + b" ".join(names) + b" >>"
        page = self._add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.1f %.1f] /Resources << %s >> "
                         b"/Contents %d 0 R >>" % (self.pages_id, width, height, resources, content))
        self.pages.append(page)
        return page

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
