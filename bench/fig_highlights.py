"""Highlights (generator/highlights/): H1, reading the annotations of a 500-page PDF with 2,000
highlights (each its text under its quadrilaterals from the page's text layer; every fourth
highlight over two lines), best of 3, every text checked against the words marked; H2, finding
them in the document's text and cutting the requests (each highlight with its paragraph), the
document read beforehand. The PDF is written by tests/pdf_maker.py: 40 lines of text a page,
four highlights a page."""
import os
import random
import time
from typing import Any, Dict, List, Tuple

FIGURES = [
    ("highlights_read_seconds", "H1. Read 2,000 highlights of a 500-page PDF", "s", "< 5 s",
     lambda v: v < 5.0),
    ("highlights_plan_seconds", "H2. Find them in its text, cut the requests", "s", "< 1 s",
     lambda v: v < 1.0),
]

PAGES, LINES, PER_PAGE = 500, 40, 4
WORDS = ("cell membrane protein enzyme energy glucose oxygen carbon nitrogen acid base water light "
         "neuron synapse axon cortex gene allele meiosis mitosis ribosome nucleus vesicle").split()


def build(pages: int) -> Tuple[bytes, List[str]]:
    """The PDF and the texts of its highlights, in page order."""
    from pdf_maker import PdfMaker

    rng = random.Random(7)
    pdf = PdfMaker()
    expected: List[str] = []
    for p in range(pages):
        lines = ["%s %s." % (" ".join(rng.choice(WORDS) for _ in range(9)), "p%dl%d" % (p, i))
                 for i in range(LINES)]
        marks = []
        for k, line_no in enumerate(sorted(rng.sample(range(LINES - 1), PER_PAGE))):
            words = lines[line_no].split()
            if k == 3:  # over a line's end and the next line's start
                first, second = " ".join(words[6:]), " ".join(lines[line_no + 1].split()[:3])
                quads = (pdf.word_quad(line_no, lines[line_no], first, 10)
                         + pdf.word_quad(line_no + 1, lines[line_no + 1], second, 10))
                expected.append(first + " " + second)
            else:
                marked = " ".join(words[2:5])
                quads = pdf.word_quad(line_no, lines[line_no], marked, 10)
                expected.append(marked)
            marks.append(pdf.annotation("Highlight", quads, colour=(1, 0.9, 0) if k % 2 else (0.2, 0.8, 0.2)))
        pdf.page(text=lines, mono=True, annots=marks, font_size=10)
    return pdf.build(), expected


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    from generator.highlights.focus import HighlightChoice, plan_highlights
    from generator.highlights.pdf import read_pdf_highlights
    from generator.highlights.read import read_with_highlights

    pages = 50 if quick else PAGES
    data, expected = build(pages)
    path = os.path.join(tmp, "highlighted.pdf")
    with open(path, "wb") as f:
        f.write(data)
    times = []
    found: Any = None
    for _ in range(3):
        started = time.perf_counter()
        with open(path, "rb") as f:
            found = read_pdf_highlights(f, "highlighted.pdf")
        times.append(time.perf_counter() - started)
    texts = [h.text for h in found.items]
    wrong = sum(1 for a, b in zip(texts, expected) if a != b) + abs(len(texts) - len(expected))
    assert wrong == 0, "highlight texts differ: %r" % [(a, b) for a, b in zip(texts, expected) if a != b][:3]
    doc = read_with_highlights(path)
    plans = []
    plan: Any = None
    for _ in range(3):
        started = time.perf_counter()
        plan = plan_highlights([doc], HighlightChoice(), 1000)
        plans.append(time.perf_counter() - started)
    with_focus = sum(len(c.focus) for c in plan.chunks)
    details = {"highlights": {"pages": pages, "highlights": len(texts), "read_seconds": [round(t, 3) for t in times],
                              "plan_seconds": [round(t, 3) for t in plans], "requests": len(plan.chunks),
                              "found_in_text": with_focus - plan.lost, "not_found": plan.lost,
                              "pdf_mb": round(len(data) / 1e6, 1)}}
    lines = ["H1: %d highlights of %d pages (%.1f MB), all texts as marked: %s s; H2: %d requests, %d "
             "highlights not found in the text: %s s" % (
                 len(texts), pages, len(data) / 1e6, ", ".join("%.2f" % t for t in times), len(plan.chunks),
                 plan.lost, ", ".join("%.3f" % t for t in plans))]
    return {"highlights_read_seconds": min(times), "highlights_plan_seconds": min(plans)}, details, lines
