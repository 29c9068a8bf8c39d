"""Figures: finding labelled figures for image occlusion notes.

O1. Seconds to search a 200-page slide deck for labelled figures, when every slide is one (a
    title, two bullets and a diagram of three labelled boxes: tests/occlusion_pages.py), so every
    page's text layer is read and every page is drawn in grey: the most the search costs. Measured
    in a child process through the Qt adapter, from opening the PDF to the last figure found.
    Beside it: a deck of the same length where one slide in ten is such a diagram and the others
    are a title and bullets beside an image (only the diagrams' pages are drawn).
"""
import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTS = os.path.join(ROOT, "tests")

FIGURES = [
    ("occlusion_find_s", "O1. Labelled figures found in a 200-page slide deck (all diagrams)", "s",
     "< 10 s", lambda v: v < 10),
]

CHILD = r"""
import json, sys, time
sys.path[:0] = [%(root)r, %(tests)r]
from flashcards import qt_graphics
from generator.occlusion.find import find_figures

graphics = qt_graphics()
if graphics is None:
    print(json.dumps({"error": "PyQt6 with QtPdf is not importable"})); sys.exit(0)
out = {}
for name, path in %(decks)r:
    started = time.perf_counter()
    renderer = graphics.open_pdf(path)
    search = find_figures(renderer, name, origin=path)
    renderer.close()
    out[name] = {"seconds": time.perf_counter() - started, "pages": search.pages, "drawn": search.drawn,
                 "figures": len(search.figures), "labels": sum(len(f.labels) for f in search.figures)}
print(json.dumps(out))
"""


def make_decks(tmp: str, pages: int) -> List[Tuple[str, str]]:
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)
    from occlusion_pages import slide_deck_with_figures

    decks = []
    for name, every in (("all", 1), ("one_in_ten", 10)):
        path = os.path.join(tmp, "occlusion-%s.pdf" % name)
        with open(path, "wb") as f:
            f.write(slide_deck_with_figures(pages, every=every))
        decks.append((name, path))
    return decks


def run(tmp: str, quick: bool) -> Tuple[Dict[str, Any], Dict[str, Any], List[str]]:
    pages = 40 if quick else 200
    decks = make_decks(tmp, pages)
    code = CHILD % {"root": ROOT, "tests": TESTS, "decks": decks}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError("occlusion figure failed: " + proc.stderr[-2000:])
    got = json.loads(lines[-1])
    if "error" in got:
        raise RuntimeError(got["error"])
    worst, usual = got["all"], got["one_in_ten"]
    values = {"occlusion_find_s": round(worst["seconds"], 2)}
    details = {"occlusion": {"pages": pages, "all_diagrams": worst, "one_in_ten": usual}}
    lines_out = ["  O1: %d pages, all diagrams: %.2f s (%d drawn, %d figures, %d labels); one in ten: "
                 "%.2f s (%d drawn, %d figures)" % (
                     pages, worst["seconds"], worst["drawn"], worst["figures"], worst["labels"],
                     usual["seconds"], usual["drawn"], usual["figures"])]
    return values, details, lines_out
