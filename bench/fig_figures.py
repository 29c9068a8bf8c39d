"""Figures: rendering a slide deck's pages.

F1. Pages rendered per second: a 200-page slide deck (generated: a title, two bullets and a
    figure per page, landscape) planned in slides mode and every page made ready to send as the
    job's workers do it (QtPdf render at 1024 px on the long side, on white, PNG), 2 workers.
    Measured in a child process, after the deck is planned (the plan's own pass over the pages,
    pypdf, is printed beside it).
F2. Peak memory while rendering: the child's peak RSS growth (ru_maxrss) from just before the
    first page to the end, in MB. Rendering holds one page at a time per worker and keeps no
    page it has sent, so this stays flat however long the deck is.
F3. The main thread while pages render in the app: the real Anki app (headless) opens the deck
    in the Generate dialog and generates from it with a model that can see (the fake server in
    its own process, 2 requests at once, slides mode): every page is rendered on the job's
    workers and the cards stream into the table with their thumbnails. The longest lateness of
    a 5 ms main-thread timer from opening the file to the last card (bench/figures_probe.py).
"""
import json
import os
import subprocess
import sys
from typing import Any, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTS = os.path.join(ROOT, "tests")
TOOLS = os.path.join(ROOT, "tools")

FIGURES = [
    ("figures_pages_per_s", "F1. Slide pages rendered and encoded per second (200 pages)", "pages/s",
     ">= 10", lambda v: v >= 10),
    ("figures_peak_mb", "F2. Peak memory growth while rendering 200 pages", "MB", "<= 150",
     lambda v: v <= 150),
    ("figures_app_stall_ms", "F3. Longest main-thread stall while a deck renders in the app", "ms",
     "<= 50", lambda v: v <= 50),
]

CHILD = r"""
import json, os, resource, sys, time
sys.path[:0] = [%(root)r, %(tests)r]
from concurrent.futures import ThreadPoolExecutor
from generator.figures.plan import plan_with_figures
from flashcards import qt_graphics
from generator.sources.with_figures import read_source_path
from generator.job.run import JobOptions
from generator.job.images import prepare_images

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

graphics = qt_graphics()
if graphics is None:
    print(json.dumps({"error": "PyQt6 with QtPdf is not importable"})); sys.exit(0)
options = JobOptions(model="bench", vision=True, num_ctx=8192, figures="slides")
started = time.perf_counter()
plan = plan_with_figures([read_source_path(%(path)r)], options, graphics)
planned = time.perf_counter() - started
prepare_images(plan.chunks[0])  # Qt's own first-use cost (plugins) is not per page
base = rss_mb()
sizes = []
started = time.perf_counter()
with ThreadPoolExecutor(2) as pool:
    for prepared in pool.map(prepare_images, plan.chunks):
        sizes.append(sum(len(p.data) for p in prepared))
elapsed = time.perf_counter() - started
peak = rss_mb()
plan.close()
print(json.dumps({"pages": len(plan.chunks), "images": plan.images, "seconds": elapsed,
                  "plan_seconds": planned, "peak_growth_mb": peak - base, "base_mb": base,
                  "mean_png_kb": sum(sizes) / max(1, len(sizes)) / 1024.0}))
"""


def make_deck(path: str, pages: int) -> None:
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)
    from pdf_maker import qt_image, slide_deck

    colors = ["#d62728", "#2ca02c", "#1f77b4", "#ff7f0e", "#9467bd"]
    with open(path, "wb") as f:
        f.write(slide_deck(pages, [qt_image(800, 600, "JPEG", c) for c in colors], size=(800, 600)))


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    pages = 60 if quick else 200
    path = os.path.join(tmp, "deck-%d.pdf" % pages)
    make_deck(path, pages)
    code = CHILD % {"root": ROOT, "tests": TESTS, "path": path}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    line = (out.stdout.strip().splitlines() or ["{}"])[-1]
    d = json.loads(line)
    if "error" in d or "pages" not in d:
        raise RuntimeError(d.get("error") or out.stderr[-500:])
    rate = d["pages"] / d["seconds"]
    details = {"pages": d["pages"], "deck_mb": round(os.path.getsize(path) / 1e6, 2),
               "render_s": round(d["seconds"], 2), "plan_s": round(d["plan_seconds"], 2),
               "pages_per_s": round(rate, 1), "peak_growth_mb": round(d["peak_growth_mb"], 1),
               "mean_png_kb": round(d["mean_png_kb"], 1)}
    lines = ["      deck %d pages (%.1f MB): planned in %.2f s (%.0f pages/s), rendered in %.2f s, "
             "mean page %.0f KB" % (d["pages"], details["deck_mb"], d["plan_seconds"],
                                    d["pages"] / max(1e-9, d["plan_seconds"]), d["seconds"],
                                    d["mean_png_kb"])]
    app = app_stall(tmp, path)
    details["app"] = app
    lines.append("      in the app: %d pages, %d cards (%d with their figure) in %.1f s; p99 lateness "
                 "%.1f ms; main thread's own CPU in the worst gap %.1f ms (most in any gap %.1f ms); "
                 "the idle app's own worst %.1f ms" % (
                     pages, app["cards"], app["figure_cards"], app["seconds"], app["p99_ms"] or 0,
                     app.get("worst_gap_main_thread_cpu_ms") or 0,
                     app.get("max_main_thread_cpu_in_a_gap_ms") or 0, app["idle_app_max_ms"] or 0))
    return ({"figures_pages_per_s": rate, "figures_peak_mb": d["peak_growth_mb"],
             "figures_app_stall_ms": app["value"]}, details, lines)


def app_stall(tmp: str, path: str) -> Dict[str, Any]:
    """F3: the real app headless against the fake server (a model that can see) in a child."""
    from probe_support import run_probe

    code = ("import sys, json; sys.path[:0] = [%r]\n"
            "from fake_ollama import FakeOllama\n"
            "s = FakeOllama(models=('llava:7b',), latency=0.05, slots=2).start()\n"
            "print(s.url, flush=True)\n"
            "sys.stdin.read()\n" % TOOLS)
    server = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        return run_probe("figures_probe.py", [url, path, os.path.join(tmp, "figures-app")], 900)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(10)
