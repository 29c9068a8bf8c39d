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

TICK_MS = 5


def main() -> None:
    mode, base = sys.argv[1], Path(sys.argv[2])
    from anki_app import ADDON_NAME, link_addon, prepare_environment, pump, start_anki, stop_anki, wait_until

    link_addon(base / "addons21")
    prepare_environment("offscreen")
    import aqt
    from aqt.qt import QTimer

    app = start_anki(base, timeout=300)
    mw = aqt.mw
    if mode == "prepare":
        print("RESULT " + json.dumps({"collection": str(mw.col.path)}), flush=True)
        stop_anki(app)
        return
    cards = mw.col.card_count()
    gaps = []
    busy = []
    last = [time.perf_counter()]
    last_cpu = [time.thread_time()]

    def tick() -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gaps.append(now - last[0])
        busy.append(cpu - last_cpu[0])
        last[0], last_cpu[0] = now, cpu

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    last[0] = time.perf_counter()
    pump(app, 2.0)  # the idle app first: what the machine itself adds
    idle = sorted(max(0.0, g - TICK_MS / 1000) * 1000 for g in gaps)
    gaps.clear()
    busy.clear()
    importlib.import_module(ADDON_NAME + ".ui.improve")  # imported before the click, as after a first use
    pump(app, 0.2)
    gaps.clear()
    busy.clear()
    last[0], last_cpu[0] = time.perf_counter(), time.thread_time()
    started = time.perf_counter()
    action = next(a for a in mw.form.menuTools.actions() if a.text().replace("&", "") == "Improve struggling cards…")
    action.trigger()
    dialog = wait_until(app, lambda: next((w for w in app.topLevelWidgets() if w.isVisible()
                                           and type(w).__name__ == "StrugglingDialog"), None), 30)
    wait_until(app, lambda: not dialog.loading, 120, "the list was not read")
    seconds = time.perf_counter() - started
    pump(app, 0.1)
    timer.stop()
    lateness = sorted(max(0.0, g - TICK_MS / 1000) * 1000 for g in gaps)
    worst = max(range(len(gaps)), key=lambda i: gaps[i]) if gaps else 0
    result = {
        "value": round(lateness[-1], 1) if lateness else float("nan"),
        "p99_ms": round(lateness[int(len(lateness) * 0.99) - 1], 1) if lateness else None,
        "ticks": len(gaps), "seconds_to_list": round(seconds, 3), "cards": cards,
        "struggling": dialog.total, "rows": dialog.table.rowCount(),
        "worst_gap_main_thread_cpu_ms": round(busy[worst] * 1000, 1) if busy else None,
        "idle_app_max_ms": round(idle[-1], 1) if idle else None,
    }
    print("RESULT " + json.dumps(result), flush=True)
    dialog.close()
    pump(app, 0.1)
    stop_anki(app)


if __name__ == "__main__":
    main()
