"""Benchmark figures 4 and 5 in the real Anki app, started headless (run by bench/run.py).

    app_probe.py SERVER_URL FILE PARALLEL BASE_FOLDER [--startup-only]

4. Start-up cost: the time Anki spends importing the add-on (its ``__init__`` builds the menu
   entries and hooks) plus the add-on's profile-open hook (the resume check), byte code already
   compiled as after any first start.
5. UI responsiveness: a 5 ms repeating timer on the main thread while the bulk dialog runs a
   job on FILE; the longest lateness of a tick is the longest time the main thread was busy.

Prints one line ``RESULT {json}``."""
import builtins
import compileall
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
    url, path, parallel, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    from anki_app import ADDON_NAME, link_addon, prepare_environment, pump, start_anki, stop_anki, wait_until

    addon = link_addon(base / "addons21")
    # Byte code as after the add-on's first start (Python writes it on first import; this
    # environment may say PYTHONDONTWRITEBYTECODE). compile_dir skips symlinked folders.
    for entry in addon.iterdir():
        real = entry.resolve()
        if real.is_dir():
            compileall.compile_dir(str(real), quiet=1)
        elif real.suffix == ".py":
            compileall.compile_file(str(entry), quiet=1)
    prepare_environment("offscreen")
    import aqt
    import aqt.addons
    from aqt import gui_hooks

    timings = {}
    real_import = builtins.__import__
    original_load = aqt.addons.AddonManager.loadAddons

    def timed_import(name, *args, **kwargs):
        if name == ADDON_NAME and "import" not in timings:
            t = time.perf_counter()
            try:
                return real_import(name, *args, **kwargs)
            finally:
                timings["import"] = time.perf_counter() - t
        return real_import(name, *args, **kwargs)

    def timed_load(self):
        aqt.addons.__dict__["__import__"] = timed_import  # the name loadAddons calls
        try:
            original_load(self)
        finally:
            aqt.addons.__dict__.pop("__import__", None)
        hooks = gui_hooks.profile_did_open._hooks
        for i, hook in enumerate(hooks):
            if getattr(hook, "__module__", "") == ADDON_NAME:
                def wrapped(hook=hook):
                    t = time.perf_counter()
                    prof = None
                    if os.environ.get("OF_BENCH_PROFILE_HOOK") == "1":
                        import cProfile

                        prof = cProfile.Profile()
                        prof.enable()
                    try:
                        hook()
                    finally:
                        if prof is not None:
                            import pstats

                            prof.disable()
                            with open(os.environ.get("OF_BENCH_PROFILE_OUT", "/tmp/of-hook-profile.txt"), "w") as out:
                                pstats.Stats(prof, stream=out).sort_stats("cumtime").print_stats(30)
                        timings["profile_hook"] = timings.get("profile_hook", 0.0) + time.perf_counter() - t
                hooks[i] = wrapped

    aqt.addons.AddonManager.loadAddons = timed_load
    app = start_anki(base)
    mw = aqt.mw
    startup = {"import_ms": round(timings.get("import", float("nan")) * 1000, 2),
               "profile_hook_ms": round(timings.get("profile_hook", 0.0) * 1000, 2)}
    startup["value"] = round(startup["import_ms"] + startup["profile_hook_ms"], 2)
    if "--startup-only" in sys.argv:
        print("RESULT " + json.dumps({"startup": startup}), flush=True)
        stop_anki(app)
        return

    # -- the bulk dialog on a 200-chunk job ------------------------------------------------------
    cfg = mw.addonManager.getConfig(ADDON_NAME) or {}
    cfg.update(url=url, model="llama3.2", parallel_requests=parallel)
    mw.addonManager.writeConfig(ADDON_NAME, cfg)
    import importlib

    dlg = importlib.import_module(ADDON_NAME + ".ui.launch").open_bulk()
    wait_until(app, dlg.idle, 10)
    dlg.add_paths([path])
    pump(app, 0.2)
    meter = StallMeter()
    if os.environ.get("OF_BENCH_STACKS") == "1":  # diagnostics: what the main thread does when a tick is late
        meter.watch_stacks(float(os.environ.get("OF_BENCH_STACK_MS", "25")), 9)
    meter.start()
    meter.measure_idle(app, 3.0)
    started = time.perf_counter()
    meter.reset()
    dlg.start()
    wait_until(app, lambda: not dlg.busy and dlg.last_result is not None, 600, "the job did not finish")
    meter.stop()
    seconds = time.perf_counter() - started
    result = dlg.last_result
    stall = meter.summary()
    stall.update(job_seconds=round(seconds, 2), chunks=result.chunks_generated,
                 notes_added=len(result.note_ids), parallel=parallel)
    print("RESULT " + json.dumps({"startup": startup, "stall": stall}), flush=True)
    dlg.close()
    pump(app, 0.1)
    stop_anki(app)


if __name__ == "__main__":
    main()
