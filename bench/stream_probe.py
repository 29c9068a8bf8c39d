"""Cards as they are written, in the real Anki app started headless (run by bench/fig_streaming.py).

    stream_probe.py first SERVER_URL BASE_FOLDER      time to the first row in the review table
    stream_probe.py stall SERVER_URL BASE_FOLDER N    main-thread stall while N rows stream in

``first``: the Generate dialog on one chunk whose answer holds 10 cards; the time from Generate
to the first row in the table (the server is asked afterwards how long it took per card).
``stall``: the Generate dialog on a text of 50 parts, about N cards in all, streaming in from a
fast server; a 5 ms repeating timer on the main thread: its longest lateness is the longest time
the main thread was busy, from Generate until the job has ended and its duplicate check is shown.

Prints one line ``RESULT {json}``."""
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


def text_of(parts: int, sentences: int) -> str:
    out = []
    for i in range(parts):
        out.append("Part %d\n\n%s" % (i + 1, " ".join(
            "Element %d-%d of the list has the property number %d at room temperature." % (i, k, k)
            for k in range(sentences))))
    return "\n\n".join(out)


def main() -> None:
    what, url, base = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    from anki_app import ADDON_NAME, link_addon, prepare_environment, pump, start_anki, stop_anki, wait_until

    link_addon(base / "addons21")
    prepare_environment("offscreen")
    app = start_anki(base)
    import importlib

    import aqt
    from aqt.qt import QTimer

    mw = aqt.mw
    cfg = mw.addonManager.getConfig(ADDON_NAME) or {}
    if what == "first":
        cfg.update(url=url, model="llama3.2", max_cards=10, parallel_requests=1)
        text = text_of(1, 12)
    else:
        n = int(sys.argv[4])
        cfg.update(url=url, model="llama3.2", max_cards=n, parallel_requests=2, num_ctx=4096)
        text = text_of(50, n // 50 + 2)
    mw.addonManager.writeConfig(ADDON_NAME, cfg)
    launch = importlib.import_module(ADDON_NAME + ".ui.launch")
    dlg = launch.open_generate()
    wait_until(app, dlg.idle, 10)
    dlg.source.edit.setPlainText(text)
    pump(app, 0.3)

    if what == "first":
        rows = []

        def watch() -> None:
            if dlg.table.rows and not rows:
                rows.append(time.monotonic())

        timer = QTimer()
        timer.setInterval(1)
        timer.timeout.connect(watch)
        timer.start()
        started = time.monotonic()
        dlg.generate()
        wait_until(app, lambda: dlg.idle() and dlg.last_result is not None, 120, "the job did not finish")
        timer.stop()
        result = {"clicked": started, "first_row": rows[0] if rows else None,
                  "cards": len(dlg.table.rows)}
    else:
        meter = StallMeter()
        meter.start()
        meter.measure_idle(app, 2.0)
        started = time.perf_counter()
        if os.environ.get("OF_STREAM_STACKS") == "1":  # what the main thread does when a tick is late
            meter.watch_stacks(30, 10)
        slow = []
        if os.environ.get("OF_STREAM_TIMES") == "1":  # the main thread's parts that cost most CPU
            import functools

            def timed(owner, name):
                fn = getattr(owner, name)

                @functools.wraps(fn)
                def wrapper(*a, **k):
                    t = time.thread_time()
                    try:
                        return fn(*a, **k)
                    finally:
                        slow.append(((time.thread_time() - t) * 1000, owner.__name__ + "." + name))
                setattr(owner, name, wrapper)

            mods = {m: importlib.import_module(ADDON_NAME + ".ui." + m)
                    for m in ("main_queue", "generate", "stream_rows", "review", "progress_row")}
            timed(mods["main_queue"].MainQueue, "drain")
            for n in ("update_buttons", "_on_progress", "_on_job_done", "_on_card", "_on_chunk"):
                timed(mods["generate"].GenerateDialog, n)
            timed(mods["stream_rows"].StreamedRows, "card")
            timed(mods["stream_rows"].StreamedRows, "settle")
            timed(mods["review"].ReviewTable, "refresh_marks")
            timed(mods["review"].ReviewTable, "uncheck_duplicates")
            timed(mods["progress_row"].ProgressRow, "show_progress")

            def timed_obj(obj, name, label):
                fn = getattr(obj, name)

                def wrapper(*a, **k):
                    t = time.thread_time()
                    try:
                        return fn(*a, **k)
                    finally:
                        slow.append(((time.thread_time() - t) * 1000, label))
                setattr(obj, name, wrapper)

            timed_obj(dlg.progress.bar, "setValue", "bar.setValue")
            timed_obj(dlg.progress.bar, "setRange", "bar.setRange")
            timed_obj(dlg.progress.label, "setText", "label.setText")
            timed_obj(dlg.progress.label, "setToolTip", "label.setToolTip")
            timed_obj(dlg.table, "set_arriving", "table.set_arriving")
            timed_obj(dlg.table, "update_row", "table.update_row")
            timed_obj(dlg.table, "emit_checked", "table.emit_checked")
            timed_obj(dlg.table, "remove", "table.remove")
            timed_obj(dlg.table, "add_cards", "table.add_cards")
            timed_obj(dlg.table, "remove_cards", "table.remove_cards")
        prof = None
        if os.environ.get("OF_STREAM_PROFILE") == "1":  # where the main thread's time goes
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        meter.reset()
        dlg.generate()
        wait_until(app, lambda: dlg.idle() and dlg.last_result is not None, 600, "the job did not finish")
        pump(app, 0.5)  # the duplicate check's marks
        meter.stop()
        for ms, name in sorted(slow, reverse=True)[:25]:
            print("SLOW %.1f ms %s" % (ms, name), file=sys.__stderr__, flush=True)
        if prof is not None:
            import pstats

            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        stall = meter.summary()
        # the main thread's own CPU is this figure's value: the stream's rows are its work
        result = {"wall_max_ms": stall["value"], "wall_p99_ms": stall["p99_ms"],
                  "value": stall["max_main_thread_cpu_in_a_gap_ms"], "cpu_p99_ms": stall["main_thread_cpu_p99_ms"],
                  "worst_wall_gap_cpu_ms": stall["worst_gap_main_thread_cpu_ms"],
                  "ticks": stall["ticks"], "rows": len(dlg.table.rows), "seconds": round(time.perf_counter() - started, 2),
                  "chunks": dlg.last_result.chunks_done, "idle_app_max_ms": stall["idle_app_max_ms"],
                  "load_average": round(os.getloadavg()[0], 2)}
    print("RESULT " + json.dumps(result), flush=True)
    dlg.table.set_all_checked(False)
    dlg.close()
    pump(app, 0.1)
    stop_anki(app)


if __name__ == "__main__":
    main()
