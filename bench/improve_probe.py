"""Figure I3 in the real Anki app, started headless (run by bench/fig_improve.py).

    improve_probe.py prepare BASE_FOLDER     # start Anki once on BASE_FOLDER (makes its profile), stop
    improve_probe.py measure BASE_FOLDER     # Tools → Improve struggling cards… on the profile's collection

Between the two, fig_improve.py puts a 50,000-card collection with its review history in place of
the profile's collection. ``measure`` runs a 5 ms repeating timer on the main thread from the click
on the Tools action until the list is shown; the longest lateness of a tick is the longest time the
main thread was busy (the list is read in a background collection read). Prints ``RESULT {json}``."""
import importlib
import json
import os
import sys
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from probe_support import StallMeter  # bench/ (this script's folder) is on sys.path


def main() -> None:
    mode, base = sys.argv[1], Path(sys.argv[2])
    from anki_app import ADDON_NAME, link_addon, prepare_environment, pump, start_anki, stop_anki, wait_until

    link_addon(base / "addons21")
    prepare_environment("offscreen")
    import aqt

    app = start_anki(base, timeout=300)
    mw = aqt.mw
    if mode == "prepare":
        print("RESULT " + json.dumps({"collection": str(mw.col.path)}), flush=True)
        stop_anki(app)
        return
    cards = mw.col.card_count()
    meter = StallMeter()
    meter.start()
    meter.measure_idle(app, 2.0)
    importlib.import_module(ADDON_NAME + ".ui.improve")  # imported before the click, as after a first use
    pump(app, 0.2)
    meter.reset()
    started = time.perf_counter()
    action = next(a for a in mw.form.menuTools.actions() if a.text().replace("&", "") == "Improve struggling cards…")
    action.trigger()
    dialog = wait_until(app, lambda: next((w for w in app.topLevelWidgets() if w.isVisible()
                                           and type(w).__name__ == "StrugglingDialog"), None), 30)
    wait_until(app, lambda: not dialog.loading, 120, "the list was not read")
    seconds = time.perf_counter() - started
    pump(app, 0.1)
    meter.stop()
    result = meter.summary()
    result.update(seconds_to_list=round(seconds, 3), cards=cards, struggling=dialog.total,
                  rows=dialog.table.rowCount())
    print("RESULT " + json.dumps(result), flush=True)
    dialog.close()
    pump(app, 0.1)
    stop_anki(app)


if __name__ == "__main__":
    main()
