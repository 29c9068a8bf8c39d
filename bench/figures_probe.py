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

TICK_MS = 5


def main() -> None:
    url, path, base = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    from anki_app import ADDON_NAME, link_addon, prepare_environment, pump, start_anki, stop_anki, wait_until

    link_addon(base / "addons21")
    prepare_environment("offscreen")
    import aqt
    from aqt.qt import QTimer

    app = start_anki(base)
    mw = aqt.mw
    cfg = mw.addonManager.getConfig(ADDON_NAME) or {}
    cfg.update(url=url, model="llava:7b", parallel_requests=2, figures="slides", max_cards=0)
    mw.addonManager.writeConfig(ADDON_NAME, cfg)
    dlg = importlib.import_module(ADDON_NAME + ".ui.launch").open_generate()
    wait_until(app, dlg.idle, 20)
    pump(app, 0.5)

    gaps = []
    busy = []  # the main thread's own CPU time within each gap
    last = [time.perf_counter()]
    last_cpu = [time.thread_time()]

    def tick() -> None:
        now = time.perf_counter()
        cpu = time.thread_time()
        gaps.append(now - last[0])
        busy.append(cpu - last_cpu[0])
        last[0] = now
        last_cpu[0] = cpu

    # Diagnostics (OF_BENCH_STACKS=1): what the main thread was doing when a tick was late.
    stacks = []
    watch_stop = [False]
    if os.environ.get("OF_BENCH_STACKS") == "1":
        import threading
        import traceback

        main_id = threading.main_thread().ident

        def watchdog() -> None:
            reported = 0.0
            while not watch_stop[0]:
                time.sleep(0.002)
                late = time.perf_counter() - last[0]
                if late > float(os.environ.get("OF_BENCH_STACK_MS", "25")) / 1000 and last[0] != reported:
                    frames = sys._current_frames()
                    text = "".join(traceback.format_list(traceback.extract_stack(frames.get(main_id))[-6:]))
                    if os.environ.get("OF_BENCH_ALL_THREADS") == "1":
                        for ident, frame in frames.items():
                            if ident not in (main_id, threading.get_ident()):
                                text += "  -- thread %d\n" % ident + "".join(traceback.format_list(
                                    traceback.extract_stack(frame)[-4:]))
                    stacks.append((round(late * 1000), text))
                    reported = last[0]

        threading.Thread(target=watchdog, daemon=True).start()
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    last[0] = time.perf_counter()
    pump(app, 2.0)
    idle = sorted(max(0.0, g - TICK_MS / 1000) * 1000 for g in gaps)
    gaps.clear()
    busy.clear()
    last_cpu[0] = time.thread_time()
    started = time.perf_counter()
    last[0] = time.perf_counter()
    profile = None
    if os.environ.get("OF_BENCH_PROFILE") == "1":  # diagnostics: the main thread's own work
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    dlg.source.load_files([path])
    wait_until(app, dlg.idle, 120, "the deck was not read")
    dlg.generate()
    wait_until(app, lambda: not dlg.busy and dlg.idle(), 900, "the job did not finish")
    timer.stop()
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.__stderr__).sort_stats("tottime").print_stats(25)
    watch_stop[0] = True
    for late, stack in stacks:
        print("LATE %d ms\n%s" % (late, stack), file=sys.__stderr__)
    seconds = time.perf_counter() - started
    lateness = sorted(max(0.0, g - TICK_MS / 1000) * 1000 for g in gaps)
    worst = max(range(len(gaps)), key=lambda i: gaps[i]) if gaps else 0
    cards = dlg.table.cards
    result = {
        "value": round(lateness[-1], 1) if lateness else float("nan"),
        "p99_ms": round(lateness[int(len(lateness) * 0.99) - 1], 1) if lateness else None,
        "ticks": len(gaps), "seconds": round(seconds, 2), "cards": len(cards),
        "figure_cards": sum(1 for c in cards if c.figure),
        "over_16ms": sum(1 for x in lateness if x > 16),
        "worst_gap_main_thread_cpu_ms": round(busy[worst] * 1000, 1) if busy else None,
        "max_main_thread_cpu_in_a_gap_ms": round(max(busy) * 1000, 1) if busy else None,
        "idle_app_max_ms": round(idle[-1], 1) if idle else None,
    }
    print("RESULT " + json.dumps(result), flush=True)
    dlg.table.set_all_checked(False)
    dlg.close()
    pump(app, 0.1)
    stop_anki(app)


if __name__ == "__main__":
    main()
