"""The Qt adapter (ui/pdf_render.py) renders in strips when told to (inside Anki: 4), so that no
single pdfium call holds Python's GIL for a whole page: a page and an area of a page (the figures
of Image Occlusion notes) alike; the strips make the same image as one call."""
import importlib.util
import sys
from pathlib import Path

import pytest

from pdf_maker import PdfMaker, qt_image

ROOT = Path(__file__).resolve().parents[2]


def adapter():
    pytest.importorskip("PyQt6.QtPdf")
    name = "_test_pdf_render_strips"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "ui" / "pdf_render.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


class Counted:
    """The renderer's document, its render calls counted (the rest passed through)."""

    def __init__(self, document):
        self._document = document
        self.renders = []

    def render(self, index, size, *options):
        self.renders.append((size.width(), size.height()))
        return self._document.render(index, size, *options)

    def __getattr__(self, name):
        return getattr(self._document, name)


def pdf_bytes():
    pdf = PdfMaker()
    jpeg = qt_image(400, 300, "JPEG", "#2ca02c")
    image = pdf.jpeg_image(jpeg, 400, 300)
    pdf.page(["A figure of a leaf, with its labels around it.", "Stoma", "Xylem"],
             images=[(image, (100, 200, 500, 500))])
    return pdf.build()


def pixels(encoded):
    from PyQt6.QtGui import QImage

    image = QImage.fromData(encoded[0])
    assert not image.isNull()
    return image.width(), image.height(), image


def close_enough(a, b):
    """The same image: the same size, and hardly a pixel far off (pdfium rounds an image's
    edge to a pixel either way in a strip)."""
    (wa, ha, ia), (wb, hb, ib) = a, b
    assert (wa, ha) == (wb, hb)
    off = total = 0
    for y in range(0, ha, 3):
        for x in range(0, wa, 3):
            pa, pb = ia.pixel(x, y), ib.pixel(x, y)
            total += 1
            off += max(abs(((pa >> s) & 255) - ((pb >> s) & 255)) for s in (0, 8, 16)) > 48
    assert off <= total // 100, (off, total)


@pytest.mark.timeout(60)
def test_an_area_and_a_page_are_rendered_in_strips_and_look_the_same():
    module = adapter()
    data = pdf_bytes()
    whole, striped = module.QtGraphics(strips=1).open_pdf(data), module.QtGraphics(strips=4).open_pdf(data)
    try:
        whole.document, striped.document = Counted(whole.document), Counted(striped.document)
        area = (90.0, 80.0, 510.0, 600.0)
        one = whole.render_area(0, area, 1280)
        four = striped.render_area(0, area, 1280)
        assert one is not None and four is not None and one[1] == four[1] == "png"
        assert len(whole.document.renders) == 1 and len(striped.document.renders) == 4
        assert all(h <= -(-one[3] // 4) for _w, h in striped.document.renders)  # a quarter each at most
        close_enough(pixels(one), pixels(four))

        whole.document.renders.clear()
        striped.document.renders.clear()
        close_enough(pixels(whole.render(0, 1000)), pixels(striped.render(0, 1000)))
        assert len(whole.document.renders) == 1 and len(striped.document.renders) == 4
    finally:
        whole.close()
        striped.close()
