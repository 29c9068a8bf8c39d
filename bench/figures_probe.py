"""Figure F3 in the real Anki app, started headless (run by bench/fig_figures.py).

    figures_probe.py SERVER_URL PDF BASE_FOLDER

The Generate dialog reads a slide deck (PDF) and generates from it with a model that can see:
every page is rendered (QtPdf) and encoded on the job's worker threads, the cards stream into
the review table with their thumbnails. A 5 ms repeating timer on the main thread measures the
longest time the main thread was busy, from opening the file to the last card.

Prints one line ``RESULT {json}``."""
import importlib
import json
import os
import sys
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTS = os.path.join(ROOT, "tests")
sys.path[:0] = [ROOT, TESTS]

from probe_support import StallMeter  # bench/ (this script's folder) is on sys.path


def main() -> None:
    url, path, base = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    from anki_app import ADDON_NAME, link_addon, prepare_environment, pump, start_anki, stop_anki, wait_until

    link_addon(base / "addons21")
    prepare_environment("offscreen")
    import aqt

    app = start_anki(base)
    mw = aqt.mw
    cfg = mw.addonManager.getConfig(ADDON_NAME) or {}
    cfg.update(url=url, model="llava:7b", parallel_requests=2, figures="slides", max_cards=0)
    mw.addonManager.writeConfig(ADDON_NAME, cfg)
    dlg = importlib.import_module(ADDON_NAME + ".ui.launch").open_generate()
    wait_until(app, dlg.idle, 20)
    pump(app, 0.5)

    meter = StallMeter()
    if os.environ.get("OF_BENCH_STACKS") == "1":  # diagnostics: what the main thread does when a tick is late
        meter.watch_stacks(float(os.environ.get("OF_BENCH_STACK_MS", "25")), 6,
                           all_threads=os.environ.get("OF_BENCH_ALL_THREADS") == "1")
    meter.start()
    meter.measure_idle(app, 2.0)
    started = time.perf_counter()
    profile = None
    if os.environ.get("OF_BENCH_PROFILE") == "1":  # diagnostics: the main thread's own work
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    meter.reset()
    dlg.source.load_files([path])
    wait_until(app, dlg.idle, 120, "the deck was not read")
    dlg.generate()
    wait_until(app, lambda: not dlg.busy and dlg.idle(), 900, "the job did not finish")
    meter.stop()
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.__stderr__).sort_stats("tottime").print_stats(25)
    seconds = time.perf_counter() - started
    cards = dlg.table.cards
    result = meter.summary()
    result.update(seconds=round(seconds, 2), cards=len(cards), figure_cards=sum(1 for c in cards if c.figure))
    print("RESULT " + json.dumps(result), flush=True)
    dlg.table.set_all_checked(False)
    dlg.close()
    pump(app, 0.1)
    stop_anki(app)


if __name__ == "__main__":
    main()
