"""Build the small binary sample documents (sample.pdf, sample.docx, sample.epub) from code.

    python seeds/make_samples.py          # writes them next to this file

The builders are plain functions so that tests can make variants in a temporary folder:
``build_pdf(pages)``, ``build_docx(items)`` and ``build_epub(title, chapters)`` return bytes.
Only the standard library is used; output is deterministic (fixed ZIP timestamps).
"""
import os
import sys
import zipfile
from io import BytesIO
from typing import List, Optional, Sequence, Tuple, Union
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
ZIP_DATE = (2024, 1, 1, 0, 0, 0)

# --- PDF -----------------------------------------------------------------------------------

# A page is a list of lines; a line is (text, font size) or (text, font size, bold).
Line = Union[Tuple[str, float], Tuple[str, float, bool]]


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (cp1252), escaped."""
    raw = text.encode("cp1252", "replace")
    out = bytearray(b"(")
    for b in raw:
        if b in b"()\\":
            out += b"\\" + bytes([b])
        elif b < 32 or b > 126:
            out += b"\\%03o" % b
        else:
            out.append(b)
    out += b")"
    return bytes(out)


def _wrap(text: str, size: float, width: float = 468.0) -> List[str]:
    """Greedy word wrap using an average Helvetica glyph width of 0.5 em."""
    limit = max(10, int(width / (size * 0.5)))
    lines: List[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > limit:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


def _content(lines: Sequence[Line]) -> bytes:
    ops = [b"BT"]
    y = 760.0
    first = True
    for line in lines:
        text, size = line[0], float(line[1])
        bold = bool(line[2]) if len(line) > 2 else False
        if not text:
            y -= size  # an empty line: vertical space only
            continue
        for part in _wrap(text, size):
            step = size * 1.25 if not first else 0
            y -= step
            font = b"/F2" if bold else b"/F1"
            ops.append(b"%s %.1f Tf" % (font, size))
            ops.append(b"1 0 0 1 72 %.1f Tm" % y)
            ops.append(_pdf_string(part) + b" Tj")
            first = False
        if size > 13:
            y -= size * 0.5
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


def build_pdf(pages: Sequence[Sequence[Line]], drawing_only: bool = False) -> bytes:
    """A PDF with one page per list of lines (Helvetica, WinAnsi). ``drawing_only`` makes pages
    with a filled rectangle and no text (like a scan without OCR)."""
    objects: List[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    font2 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        stream = b"0.5 g 72 500 300 200 re f\n" if drawing_only else _content(lines)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        page = add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
            % (pages_obj, font1, font2, content)
        )
        kids.append(page)
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, catalog, xref))
    return out.getvalue()


# --- ZIP helpers ---------------------------------------------------------------------------

def _zip(entries: Sequence[Tuple[str, Union[str, bytes]]], stored: Sequence[str] = ()) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    return out.getvalue()


# --- DOCX ----------------------------------------------------------------------------------

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

_DOCX_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
<Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/>
</Types>"""

_DOCX_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>"""

_DOC_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/>
</Relationships>"""


def _docx_styles(localised: bool) -> str:
    """Styles part. ``localised`` uses German style ids (as Word does for a German UI)."""
    h = "berschrift" if localised else "Heading"
    styles = [f'<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style>',
              '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>',
              '<w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/></w:style>']
    for n in (1, 2, 3):
        styles.append(
            f'<w:style w:type="paragraph" w:styleId="{h}{n}"><w:name w:val="heading {n}"/>'
            f'<w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="{n - 1}"/></w:pPr></w:style>'
        )
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:styles xmlns:w="{W_NS}">'
            + "".join(styles) + "</w:styles>")


_NUMBERING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="{W_NS}">
<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="\u2022"/></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl></w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
</w:numbering>"""


def _runs(text: str) -> str:
    """Runs for a text; **bold** parts become bold runs, a tab and line breaks are kept."""
    out = []
    bold = False
    for i, part in enumerate(text.split("**")):
        if part:
            props = "<w:rPr><w:b/></w:rPr>" if bold else ""
            pieces = []
            for j, line in enumerate(part.split("\n")):
                if j:
                    pieces.append("<w:br/>")
                pieces.append(f'<w:t xml:space="preserve">{escape(line)}</w:t>')
            out.append(f"<w:r>{props}{''.join(pieces)}</w:r>")
        bold = not bold
    return "".join(out)


def _para(text: str, style: Optional[str] = None, num: Optional[int] = None) -> str:
    ppr = ""
    if style or num:
        inner = f'<w:pStyle w:val="{style}"/>' if style else ""
        if num:
            inner += f'<w:numPr><w:ilvl w:val="0"/><w:numId w:val="{num}"/></w:numPr>'
        ppr = f"<w:pPr>{inner}</w:pPr>"
    return f"<w:p>{ppr}{_runs(text)}</w:p>"


def build_docx(items: Sequence[Tuple[str, object]], localised_styles: bool = False) -> bytes:
    """A .docx. Items: ("title", text), ("h1".."h3", text), ("p", text), ("bullet", text),
    ("number", text), ("table", [[cell, ...], ...]), ("deleted", text) (a tracked deletion)."""
    h = "berschrift" if localised_styles else "Heading"
    body = []
    for kind, value in items:
        if kind == "title":
            body.append(_para(str(value), "Title"))
        elif kind in ("h1", "h2", "h3"):
            body.append(_para(str(value), f"{h}{kind[1]}"))
        elif kind == "p":
            body.append(_para(str(value)))
        elif kind == "bullet":
            body.append(_para(str(value), "ListParagraph", 1))
        elif kind == "number":
            body.append(_para(str(value), "ListParagraph", 2))
        elif kind == "deleted":
            body.append(f'<w:p><w:del w:id="1" w:author="x"><w:r><w:delText>{escape(str(value))}'
                        "</w:delText></w:r></w:del></w:p>")
        elif kind == "table":
            rows = []
            for row in value:  # type: ignore[union-attr]
                cells = "".join(f"<w:tc><w:tcPr/>{_para(str(c))}</w:tc>" for c in row)
                rows.append(f"<w:tr>{cells}</w:tr>")
            body.append(f"<w:tbl><w:tblPr/>{''.join(rows)}</w:tbl>")
        else:
            raise ValueError(kind)
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<w:document xmlns:w="{W_NS}"><w:body>{"".join(body)}'
                '<w:sectPr/></w:body></w:document>')
    return _zip([
        ("[Content_Types].xml", _DOCX_TYPES),
        ("_rels/.rels", _DOCX_RELS),
        ("word/_rels/document.xml.rels", _DOC_RELS),
        ("word/document.xml", document),
        ("word/styles.xml", _docx_styles(localised_styles)),
        ("word/numbering.xml", _NUMBERING),
    ])


# --- EPUB ----------------------------------------------------------------------------------

_CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""


def build_epub(title: str, chapters: Sequence[Tuple[str, str]], spine_order: Optional[Sequence[int]] = None) -> bytes:
    """An EPUB 3. Chapters: (file name, XHTML body content). ``spine_order`` lists chapter
    indexes in reading order when it should differ from the manifest order."""
    order = list(spine_order) if spine_order is not None else list(range(len(chapters)))
    manifest = ['<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>']
    files = []
    for i, (fname, body) in enumerate(chapters):
        manifest.append(f'<item id="c{i}" href="text/{fname}" media-type="application/xhtml+xml"/>')
        files.append((f"OEBPS/text/{fname}",
                      '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n'
                      '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
                      f"<head><title>{escape(title)}</title></head><body>{body}</body></html>"))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in order)
    opf = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
           '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
           f'<dc:identifier id="id">urn:uuid:00000000-0000-4000-8000-000000000000</dc:identifier>'
           f"<dc:title>{escape(title)}</dc:title><dc:language>en</dc:language></metadata>"
           f"<manifest>{''.join(manifest)}</manifest><spine>{spine}</spine></package>")
    links = "".join(f'<li><a href="text/{f}">{escape(f)}</a></li>' for f, _ in chapters)
    nav = ('<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml" '
           'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>Contents</title></head><body>'
           f'<nav epub:type="toc"><ol>{links}</ol></nav></body></html>')
    return _zip([("mimetype", "application/epub+zip"), ("META-INF/container.xml", _CONTAINER),
                 ("OEBPS/content.opf", opf), ("OEBPS/nav.xhtml", nav)] + files, stored=("mimetype",))


# --- the committed samples ------------------------------------------------------------------

SAMPLE_PDF_PAGES: List[List[Line]] = [
    [
        ("The Water Cycle", 24, True),
        ("", 12),
        ("The water cycle describes how water moves between the oceans, the atmosphere and the land. "
         "The Sun drives it by heating water, and gravity brings the water back down.", 12),
        ("", 12),
        ("Evaporation", 16, True),
        ("Heat from the Sun turns liquid water from oceans, lakes and rivers into water vapour. "
         "About 86 percent of global evaporation comes from the oceans.", 12),
        ("", 12),
        ("Condensation", 16, True),
        ("As moist air rises it cools, and the vapour condenses on tiny particles of dust or salt "
         "to form the droplets that make up clouds.", 12),
    ],
    [
        ("Precipitation", 16, True),
        ("When droplets merge and grow too heavy to stay aloft, they fall as rain, snow, sleet or hail.", 12),
        ("", 12),
        ("Collection", 16, True),
        ("Water that reaches the ground follows one of several paths:", 12),
        ("\u2022 Surface runoff flows over land into streams, rivers and finally the sea.", 12),
        ("\u2022 Infiltration carries water into the soil, where it can recharge aquifers.", 12),
        ("\u2022 Transpiration returns water to the air through the leaves of plants.", 12),
        ("", 12),
        ("A water molecule spends on average about nine days in the atmosphere, but it can stay "
         "for thousands of years in a deep aquifer or an ice sheet.", 12),
    ],
]

SAMPLE_DOCX: List[Tuple[str, object]] = [
    ("title", "Plate Tectonics"),
    ("p", "Plate tectonics is the theory that the Earth's outer shell, the **lithosphere**, is "
          "divided into large plates that move slowly over the asthenosphere."),
    ("h1", "Types of plate boundaries"),
    ("p", "Geologists distinguish three kinds of boundaries:"),
    ("bullet", "Divergent boundaries, where plates move apart and new crust forms (the Mid-Atlantic Ridge)."),
    ("bullet", "Convergent boundaries, where plates collide and one may sink beneath the other (subduction)."),
    ("bullet", "Transform boundaries, where plates slide past each other (the San Andreas Fault)."),
    ("h1", "Evidence for moving plates"),
    ("number", "Matching coastlines and fossils on continents now far apart, noted by Alfred Wegener in 1912."),
    ("number", "Symmetrical magnetic stripes on the sea floor on both sides of mid-ocean ridges."),
    ("number", "The pattern of earthquakes and volcanoes along plate edges."),
    ("h2", "Rates of movement"),
    ("table", [["Plate", "Typical speed"], ["Pacific Plate", "7-10 cm per year"],
               ["Eurasian Plate", "about 2 cm per year"]]),
    ("p", "Plates move about as fast as fingernails grow."),
]

SAMPLE_EPUB_CHAPTERS: List[Tuple[str, str]] = [
    ("chapter1.xhtml",
     "<h1>Early Astronomy</h1>"
     "<p>Ancient Babylonian astronomers recorded the positions of planets on clay tablets and "
     "could predict lunar eclipses.</p>"
     "<p>In the second century, <b>Ptolemy</b> described a geocentric model in the <i>Almagest</i>, "
     "with the Earth at the centre of the universe.</p>"),
    ("chapter2.xhtml",
     "<h1>The Copernican Revolution</h1>"
     "<p>In 1543 Nicolaus Copernicus published <i>De revolutionibus orbium coelestium</i>, which "
     "placed the Sun at the centre.</p>"
     "<h2>Kepler's laws</h2>"
     "<ol><li>Planets move in ellipses with the Sun at one focus.</li>"
     "<li>A line from the Sun to a planet sweeps out equal areas in equal times.</li>"
     "<li>The square of a planet's orbital period is proportional to the cube of its mean "
     "distance from the Sun (T&#178; &#8733; a&#179;).</li></ol>"),
    ("chapter3.xhtml",
     "<h1>Galileo's Telescope</h1>"
     "<p>From 1609 Galileo Galilei observed the four largest moons of Jupiter, the phases of Venus "
     "and the craters of the Moon, evidence against the geocentric model.</p>"),
]


def main(folder: str = HERE) -> List[str]:
    written = []
    for name, data in (
        ("sample.pdf", build_pdf(SAMPLE_PDF_PAGES)),
        ("sample.docx", build_docx(SAMPLE_DOCX)),
        ("sample.epub", build_epub("A Short History of Astronomy", SAMPLE_EPUB_CHAPTERS)),
    ):
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in main(sys.argv[1] if len(sys.argv) > 1 else HERE):
        print(p, os.path.getsize(p), "bytes")
