"""PDF pages with labelled figures at known coordinates, for the image occlusion tests, the CLI,
the dialogs and the benchmark: a heart drawn with leader lines to four labels and a caption, a
cell with labels inside it, a chart with axis ticks, labels around an embedded image, a slide,
and pages with no labelled figure (running text, a table). Each page function returns the
labels it placed (``Label``: text and baseline point in the page's own coordinates) and the
page's ``Geometry`` (size, /Rotate, /CropBox), from which ``Geometry.true_box`` says where a
label stands on the page as shown."""
from typing import List, Optional, Sequence, Tuple

from pdf_maker import Geometry, Label, PdfMaker, qt_image

PlacedPage = Tuple[List[Label], Geometry]

HEART = (b"0 0 0 RG 2 w 306 450 m 380 450 420 400 420 340 c 420 280 360 240 306 200 c "
         b"252 240 192 280 192 340 c 192 400 232 450 306 450 c S 306 450 m 306 210 l S "
         b"200 340 m 412 340 l S 250 420 m 160 470 l S 360 420 m 450 470 l S "
         b"250 300 m 160 250 l S 360 300 m 450 250 l S")
HEART_LABELS = ["Right atrium", "Left atrium", "Right ventricle", "Left ventricle"]
HEART_CAPTION = "Figure 1. The chambers of the heart."
BODY = ["The heart pumps blood through the body. It has four chambers, two atria and two",
        "ventricles, separated by valves that keep the blood flowing in one direction only."]


def body_text(top: float, lines: Sequence[str] = BODY, size: float = 11) -> List[Label]:
    return [Label(line, 72, top - i * size * 1.4, size) for i, line in enumerate(lines)]


def heart_page(pdf: PdfMaker, rotate: int = 0, crop: Optional[Tuple[float, float, float, float]] = None,
               caption: bool = True) -> PlacedPage:
    """The heart: four labels around it joined by leader lines, running text above it and the
    caption below."""
    labels = [Label("Right atrium", 80, 472), Label("Left atrium", 452, 472),
              Label("Right ventricle", 70, 240), Label("Left ventricle", 455, 240)]
    extra = body_text(720) + ([Label(HEART_CAPTION, 180, 170, 11)] if caption else [])
    return labels, pdf.labelled_page(labels + extra, HEART, rotate=rotate, crop=crop)


CELL = (b"0.2 0.4 0.8 RG 2 w 100 250 m 100 420 200 520 306 520 c 412 520 512 420 512 250 c "
        b"512 130 412 60 306 60 c 200 60 100 130 100 250 c S "
        b"0.8 0.3 0.2 RG 250 260 m 250 320 280 350 310 350 c 340 350 370 320 370 260 c "
        b"370 220 340 190 310 190 c 280 190 250 220 250 260 c S "
        b"0 0.5 0 RG 140 330 70 30 re S 400 160 60 30 re S 0 0 0 RG 1 w 512 300 m 540 320 l S")
CELL_LABELS = ["Nucleus", "Mitochondrion", "Ribosome", "Cytoplasm", "Cell membrane"]


def cell_page(pdf: PdfMaker) -> PlacedPage:
    """A cell: labels inside the drawing (nucleus, mitochondrion, ...) and one outside it."""
    labels = [Label("Nucleus", 285, 265, 12), Label("Mitochondrion", 135, 305, 11),
              Label("Ribosome", 395, 140, 11), Label("Cytoplasm", 200, 440, 12),
              Label("Cell membrane", 542, 325, 10)]
    extra = [Label("Figure 2. An animal cell.", 240, 36, 11)]
    return labels, pdf.labelled_page(labels + extra, CELL)


CHART_TICKS = ["0", "20", "40", "60", "80", "100", "120"]


def chart_page(pdf: PdfMaker) -> PlacedPage:
    """A line chart: axes with numbered ticks, two axis titles, a legend and a caption. Only
    the axis titles and the legend's entries are labels worth hiding."""
    ops = [b"0 0 0 RG 1 w 120 200 m 120 560 l 520 560 m 120 560 m 520 560 l S 120 200 m 520 200 l S"]
    labels = []
    for i, tick in enumerate(CHART_TICKS):  # y axis ticks
        y = 200 + i * 60
        ops.append(b"115 %d m 120 %d l S" % (y, y))
        labels.append(Label(tick, 90, y - 4, 10))
    for i, tick in enumerate(["0", "5", "10", "15", "20"]):  # x axis ticks
        x = 120 + i * 100
        ops.append(b"%d 200 m %d 195 l S" % (x, x))
        labels.append(Label(tick, x - 4, 182, 10))
    ops.append(b"0.8 0 0 RG 2 w 120 260 m 220 330 l 320 420 l 420 470 l 520 480 l S")
    ops.append(b"0 0 0.8 RG 2 w 120 250 m 220 270 l 320 280 l 420 285 l 520 290 l S")
    ops.append(b"0.8 0 0 RG 400 540 m 430 540 l S 0 0 0.8 RG 400 520 m 430 520 l S")
    labels += [Label("Time (min)", 290, 160, 12), Label("Heart rate", 40, 580, 12),
               Label("Exercise", 436, 536, 11), Label("Rest", 436, 516, 11)]
    extra = [Label("Figure 3. Heart rate during exercise and at rest.", 150, 130, 11)]
    return labels, pdf.labelled_page(labels + extra, b" ".join(ops))


def image_page(pdf: PdfMaker, jpeg: Optional[bytes] = None) -> PlacedPage:
    """An embedded image with text labels around it and leader lines onto it."""
    data = jpeg or qt_image(400, 300, "JPEG", "#2ca02c")
    xid = pdf.jpeg_image(data, 400, 300)
    lines = b"0 0 0 RG 1 w 200 400 m 150 460 l S 400 400 m 460 460 l S 200 250 m 150 190 l S 400 250 m 460 190 l S"
    labels = [Label("Stem", 100, 466, 12), Label("Leaf", 462, 466, 12),
              Label("Root hair", 70, 176, 12), Label("Xylem", 462, 176, 12)]
    return labels, pdf.labelled_page(labels + [Label("Figure 4. A seedling.", 240, 140, 11)], lines,
                                     images=[(xid, (180, 230, 240, 180))])


def slide_page(pdf: PdfMaker) -> PlacedPage:
    """A landscape slide: a title, two bullets on the left, a labelled diagram on the right."""
    labels = [Label("Glucose", 610, 470, 16), Label("Pyruvate", 610, 330, 16),
              Label("Acetyl-CoA", 610, 190, 16)]
    arrows = (b"0 0 0 RG 2 w 560 440 m 560 360 l S 550 372 m 560 360 l 570 372 l S "
              b"560 300 m 560 220 l S 550 232 m 560 220 l 570 232 l S "
              b"0.9 0.6 0.1 RG 520 455 80 40 re S 520 315 80 40 re S 520 175 80 40 re S")
    extra = [Label("Glycolysis in three steps", 60, 540, 28), Label("- happens in the cytoplasm", 60, 440, 16),
             Label("- yields two ATP per glucose", 60, 410, 16)]
    return labels, pdf.labelled_page(labels + extra, arrows, size=(792, 612))


def text_page(pdf: PdfMaker) -> PlacedPage:
    """Running text only, with a framed box of it: no labelled figure."""
    lines = [f"Paragraph line {i} says something complete about cells, in a full sentence." for i in range(30)]
    frame = b"0 0 0 RG 1 w 60 300 490 120 re S"
    return [], pdf.labelled_page(body_text(740, lines, 10), frame)


def table_page(pdf: PdfMaker) -> PlacedPage:
    """A table: short texts in a grid of lines, captioned as a table."""
    ops = [b"0 0 0 RG 1 w"]
    cells = []
    for r in range(5):
        ops.append(b"100 %d m 500 %d l S" % (600 - r * 30, 600 - r * 30))
        for c, x in enumerate((110, 240, 370)):
            cells.append(Label(f"Cell {r}{c}", x, 580 - r * 30, 11))
    for x in (100, 230, 360, 500):
        ops.append(b"%d 480 m %d 600 l S" % (x, x))
    extra = [Label("Table 1. Values by group.", 100, 620, 11)]
    return [], pdf.labelled_page(cells + extra, b" ".join(ops))


def figures_pdf(pages: Sequence[str] = ("heart", "cell", "chart", "image", "slide", "text", "table")
                ) -> Tuple[bytes, List[PlacedPage]]:
    """A PDF of the named pages, in order, and what each placed."""
    makers = {"heart": heart_page, "cell": cell_page, "chart": chart_page, "image": image_page,
              "slide": slide_page, "text": text_page, "table": table_page}
    pdf = PdfMaker()
    placed = [makers[name](pdf) for name in pages]
    return pdf.build(), placed


def slide_deck_with_figures(pages: int, every: int = 10) -> bytes:
    """A slide deck of ``pages`` landscape slides (a title and bullets beside an image), every
    ``every``-th one a labelled diagram instead."""
    image = qt_image(400, 300, "JPEG", "#1f77b4")
    pdf = PdfMaker(792, 612)
    xid = pdf.jpeg_image(image, 400, 300)
    for n in range(1, pages + 1):
        if n % every == 0:
            slide_page(pdf)
            continue
        pdf.page(text=[f"Slide {n}: the cell cycle, phase {n}", f"- checkpoint {n} guards the phase",
                       "- cyclins rise and fall"], images=[(xid, (320, 100, 400, 300))])
    return pdf.build()
