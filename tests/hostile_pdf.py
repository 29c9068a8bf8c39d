"""PDFs with a chosen structure, written byte by byte for the hostile-file tests (nothing large is
committed): cross-reference tables or streams whose /Prev points back at themselves, pages whose
content stream is huge (raw or a Flate bomb), content arrays of many streams.

    data = build([text_page("Page one."), raw_page(40 * MB), text_page("Page three.")],
                 prev_self=True)
"""
import struct
import zlib
from io import BytesIO
from typing import List, Sequence, Union

MB = 1024 * 1024
UNIT = b"BT /F1 12 Tf 72 700 Td (Lorem ipsum dolor sit amet) Tj ET\n"  # one text-drawing run


def stream(data: bytes, flate: bool = False) -> bytes:
    if flate:
        data = zlib.compress(data, 9)
    return (b"<< /Length %d%s >>\nstream\n" % (len(data), b" /Filter /FlateDecode" if flate else b"")
            + data + b"\nendstream")


def text_page(text: str) -> bytes:
    """A content stream drawing one line of text."""
    body = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1")
    return stream(b"BT /F1 12 Tf 72 700 Td (" + body + b") Tj ET")


def raw_page(size: int) -> bytes:
    """An uncompressed content stream of about ``size`` bytes of text runs."""
    return stream(UNIT * (size // len(UNIT)))


def bomb_page(size: int) -> bytes:
    """A Flate content stream that inflates to about ``size`` bytes (~1000:1)."""
    return stream(UNIT * (size // len(UNIT)), flate=True)


Page = Union[bytes, Sequence[bytes]]  # one content stream, or several (a /Contents array)


def build(pages: Sequence[Page], prev_self: bool = False, xref_stream: bool = False) -> bytes:
    """A PDF with one page per entry. ``prev_self``: the trailer's (or cross-reference stream's)
    /Prev points at the cross-reference section itself, the loop pypdf 6.1.1 never left."""
    objects: List[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for page in pages:
        streams = [page] if isinstance(page, bytes) else list(page)
        refs = []
        for s in streams:
            objects.append(s)
            refs.append(b"%d 0 R" % len(objects))
        contents = refs[0] if isinstance(page, bytes) else b"[" + b" ".join(refs) + b"]"
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       b"/Resources << /Font << /F1 3 0 R >> >> /Contents %s >>" % contents)
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = BytesIO()
    out.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    size = len(objects) + 1
    prev = b" /Prev %d" % xref if prev_self else b""
    if xref_stream:
        rows = [b"\x00" + struct.pack(">I", 0) + b"\xff\xff"]
        rows += [b"\x01" + struct.pack(">I", o) + b"\x00\x00" for o in offsets + [xref]]
        data = b"".join(rows)
        out.write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R%s /Length %d >>\nstream\n"
                  % (size, size + 1, prev, len(data)) + data + b"\nendstream\nendobj\n")
    else:
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(b"trailer\n<< /Size %d /Root 1 0 R%s >>\n" % (size, prev))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()
