"""Start real Anki with this add-on, on a throwaway profile folder: `make run`.

    make run                 # a window on your desktop
    make run FRESH=1         # start again from an empty profile
    make run HEADLESS=1      # no display: start, check, screenshot, quit (a smoke test)
    make run DEMO=1          # no Ollama needed: a built-in stand-in server (tools/fake_ollama.py)
    make run HEADLESS=1 DEMO=1   # smoke test of a whole generation: paste, generate, screenshot

The profile lives in .cache/anki-run-profile/ (git-ignored) and is KEPT between runs, so cards
and settings you made while trying the add-on are still there next time; FRESH=1 wipes it.
Your own Anki data is never touched: Anki is started with `-b <that folder>`, and the add-on
is linked into its addons21/ folder (symlinks to the files of this working tree, so an edit
shows up at the next start).
"""
import argparse
import os
import shutil
import sys
import time
import zlib
from pathlib import Path
from typing import Any, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tools")]  # anki_app (test harness), fake_ollama

import anki_app as harness  # noqa: E402  (link_addon, prepare_environment, start/stop)

DEFAULT_BASE = ROOT / ".cache" / "anki-run-profile"
SAMPLE_DECK = "Ollama Flashcards Sample"
SCREENSHOT = ROOT / "docs" / "_tmp" / "make-run.png"
DEMO_SCREENSHOT = ROOT / "docs" / "_tmp" / "make-run-demo.png"
DEMO_SEED = ROOT / "seeds" / "photosynthesis.md"
DEMO_MODEL = "llama3.2"
# The profile's url/model from before a demo run, kept until the run ends (restored at the next
# start if Anki was killed), so a normal run never talks to a dead demo server.
DEMO_BACKUP_NAME = "demo-config-backup.json"
READY_MESSAGE = "Anki started with Ollama Flashcards"

# Used when seeds/ has no text to show: a few notes to right-click in the Browser
# ("Generate flashcards from N notes") and a text to paste into Tools > Generate Flashcards.
SAMPLE_NOTES: List[Tuple[str, str]] = [
    ("Photosynthesis: overview",
     "Photosynthesis is the process by which green plants, algae and some bacteria turn light "
     "energy into chemical energy. It takes in carbon dioxide and water and releases oxygen; "
     "the energy is stored in glucose."),
    ("Photosynthesis: where",
     "In plants, photosynthesis happens in the chloroplasts, mostly in the cells of the leaves. "
     "The green pigment chlorophyll absorbs red and blue light and reflects green light."),
    ("Photosynthesis: two stages",
     "The light-dependent reactions take place in the thylakoid membranes and make ATP and NADPH. "
     "The Calvin cycle, in the stroma, uses them to fix carbon dioxide into sugar."),
]


def display_available() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# What `xvfb-run -a make run` needs on a bare Debian/Ubuntu (a container, a server): the X
# server and xauth for xvfb-run, the xcb libraries Qt's xcb platform plugin loads, and the
# GL/EGL/NSS libraries of QtWebEngine. Checked on Debian 12 by `ldd` of PyQt6's plugins.
DEBIAN_PACKAGES = (
    "xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 "
    "libxcb-xinerama0 libxcb-xkb1 libxcb-randr0 libxcb-shape0 libxkbcommon-x11-0 libegl1 libgl1 "
    "libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libasound2 libfontconfig1 "
    "libdbus-1-3").split()
NO_SANDBOX = "--no-sandbox"


def allow_root() -> bool:
    """QtWebEngine (Chromium) refuses to start as root without --no-sandbox, and Anki's window
    then never appears. Add the flag only for root (a container, a server), and say so."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if NO_SANDBOX not in flags.split():
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (flags + " " + NO_SANDBOX).strip()
    print("Running as root: Anki's web views start without Chromium's sandbox (%s)." % NO_SANDBOX)
    return True


def no_display_help() -> str:
    return (
        "No display found (DISPLAY and WAYLAND_DISPLAY are not set), so Anki's window has "
        "nowhere to go.\n"
        "  - On a desktop: run `make run` from a terminal inside your graphical session.\n"
        "  - Over SSH / in a container: `xvfb-run -a make run`, with these Debian/Ubuntu packages:\n"
        "    apt-get install %s\n"
        "  - Just check that it starts: `make run HEADLESS=1` (starts Anki offscreen, waits for "
        "the main window, saves a screenshot to docs/_tmp/make-run.png and quits)."
    ) % " ".join(DEBIAN_PACKAGES)


def seed_texts() -> List[Tuple[str, str]]:
    """(title, text) pairs from seeds/*.txt|*.md, at most three, each cut to a short note."""
    out: List[Tuple[str, str]] = []
    seeds = ROOT / "seeds"
    if not seeds.is_dir():
        return out
    for path in sorted(seeds.iterdir()):
        if path.suffix.lower() not in (".txt", ".md") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if not text:
            continue
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip() and not p.startswith("#")]
        body = "\n\n".join(paragraphs)[:1200]
        if body:
            out.append((path.stem.replace("_", " ").replace("-", " "), body))
        if len(out) >= 3:
            break
    return out


def sample_documents() -> List[str]:
    """seeds/ files the add-on can read, relative to the repo (shown as suggestions)."""
    seeds = ROOT / "seeds"
    exts = {".txt", ".md", ".html", ".pdf", ".docx", ".epub"}
    if not seeds.is_dir():
        return []
    return [str(p.relative_to(ROOT)) for p in sorted(seeds.iterdir()) if p.suffix.lower() in exts]


def add_sample_deck(col: Any) -> int:
    """Add the sample deck once (a newcomer sees something); returns how many notes were added."""
    if col.decks.id_for_name(SAMPLE_DECK):
        return 0
    from anki.collection import AddNoteRequest
    from anki.models import StockNotetype

    did = col.decks.id(SAMPLE_DECK, create=True)
    basic = None
    for nt in col.models.all():
        if nt.get("originalStockKind") == StockNotetype.OriginalStockKind.ORIGINAL_STOCK_KIND_BASIC:
            basic = nt
            break
    basic = basic or col.models.current()
    requests = []
    import html

    for title, text in seed_texts() or SAMPLE_NOTES:
        note = col.new_note(basic)
        note.fields[0] = html.escape(title)
        note.fields[1] = "<br>".join(html.escape(p) for p in text.split("\n"))
        note.tags = ["ollama-flashcards-sample"]
        requests.append(AddNoteRequest(note, did))
    col.add_notes(requests)
    return len(requests)


def server_status(url: str) -> str:
    """One line about the model server the add-on is set to use (1 s timeout, stdlib only)."""
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(url.rstrip("/") + "/api/version", timeout=1) as r:
            version = json.loads(r.read().decode("utf-8", "replace")).get("version", "?")
        return "Ollama %s is running at %s." % (version, url)
    except Exception:
        return ("No Ollama answers at %s: the add-on will say so and offer Retry. "
                "Start it with `ollama serve` (https://ollama.com)." % url)


def demo_message(url: str) -> str:
    return ("Demo mode: a built-in stand-in for Ollama at %s; cards are made from your text's "
            "own sentences, not by a language model." % url)


def restore_demo_override(manager: Any, base: Path) -> None:
    """Put back the url/model a demo run replaced (if they are still the demo's)."""
    import json

    backup = base / DEMO_BACKUP_NAME
    if not backup.exists():
        return
    try:
        saved = json.loads(backup.read_text(encoding="utf-8"))
        config = manager.getConfig(harness.ADDON_NAME) or {}
        if config.get("url") == saved.get("demo_url"):
            for key in ("url", "model"):
                if key in saved.get("original", {}):
                    config[key] = saved["original"][key]
                else:
                    config.pop(key, None)
            manager.writeConfig(harness.ADDON_NAME, config)
    except Exception as e:  # a broken backup must not stop Anki from starting
        print("Could not restore the config from before the demo run: %s" % e, file=sys.stderr)
    backup.unlink(missing_ok=True)


def point_config_at_demo(mw: Any, base: Path, url: str) -> None:
    import json

    config = mw.addonManager.getConfig(harness.ADDON_NAME) or {}
    original = {k: config[k] for k in ("url", "model") if k in config}
    (base / DEMO_BACKUP_NAME).write_text(json.dumps({"demo_url": url, "original": original}),
                                         encoding="utf-8")
    config.update(url=url, model=DEMO_MODEL)
    mw.addonManager.writeConfig(harness.ADDON_NAME, config)


def demo_generate(app: Any, mw: Any, shot: Path) -> int:
    """Tools > Generate Flashcards…, paste a seed text, generate, wait, screenshot."""
    import importlib

    next(a for a in mw.form.menuTools.actions() if a.text() == "Generate Flashcards…").trigger()
    generate = importlib.import_module(harness.ADDON_NAME + ".ui.generate")

    def dialog() -> Any:
        return next((w for w in app.topLevelWidgets()
                     if isinstance(w, generate.GenerateDialog) and w.isVisible()), None)

    dlg = harness.wait_until(app, dialog, 10, "the Generate dialog did not open")
    harness.wait_until(app, dlg.idle, 10, "the model list did not load")
    dlg.source.edit.setPlainText(DEMO_SEED.read_text(encoding="utf-8"))
    dlg.generate_btn.click()
    harness.wait_until(app, lambda: dlg.busy or dlg.message.text(), 5)
    harness.wait_until(app, dlg.idle, 30, "generation did not finish")
    made = len(dlg.table.cards)
    harness.pump(app, 0.3)
    shot.parent.mkdir(parents=True, exist_ok=True)
    dlg.grab().save(str(shot))
    print("Demo: %d cards made from %s. Screenshot: %s" % (made, DEMO_SEED.relative_to(ROOT), shot))
    dlg.table.set_all_checked(False)  # nothing unsaved: closing must not ask
    dlg.close()
    harness.flush_deletes(app)
    return 0 if made else 1


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default=str(DEFAULT_BASE), help="profile folder (default: %(default)s)")
    parser.add_argument("--fresh", action="store_true", default=os.environ.get("FRESH") == "1",
                        help="delete the profile folder first")
    parser.add_argument("--headless", action="store_true", default=os.environ.get("HEADLESS") == "1",
                        help="start offscreen, check, screenshot, quit")
    parser.add_argument("--demo", action="store_true", default=os.environ.get("DEMO") == "1",
                        help="start a built-in stand-in for Ollama (no Ollama needed)")
    parser.add_argument("--screenshot", default=None,
                        help="headless screenshot (default: docs/_tmp/make-run.png, "
                             "make-run-demo.png with --demo)")
    args = parser.parse_args(argv)
    if args.screenshot is None:
        args.screenshot = str(DEMO_SCREENSHOT if args.demo else SCREENSHOT)

    if not args.headless and not display_available():
        print(no_display_help(), file=sys.stderr)
        return 2

    base = Path(args.base).resolve()
    if args.fresh and base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True, exist_ok=True)
    harness.link_addon(base / "addons21")

    # A key of our own: never hand over to (or take over) the user's own running Anki.
    key = "ollama-flashcards-run-%08x" % zlib.crc32(str(base).encode())
    if args.headless:
        harness.prepare_environment("offscreen", key + "-%d" % os.getpid())
    else:
        os.environ["ANKI_SINGLE_INSTANCE_KEY"] = key
        allow_root()
    print("Profile folder: %s (kept between runs; FRESH=1 starts over)" % base)

    demo = None
    if args.demo:
        from fake_ollama import FakeOllama  # tools/fake_ollama.py: a real HTTP server, daemon thread

        demo = FakeOllama().start()
    try:
        return run(args, base, demo)
    finally:
        if demo is not None:
            demo.stop()
            print("Demo server stopped.")


def run(args: Any, base: Path, demo: Any) -> int:
    started = time.monotonic()
    app = harness.start_anki(base)
    import aqt

    mw = aqt.mw
    manager = mw.addonManager
    restore_demo_override(manager, base)  # left over from a demo run that did not end normally
    if demo is not None:
        point_config_at_demo(mw, base, demo.url)
    try:
        return run_started(args, app, mw, base, started, demo)
    finally:
        restore_demo_override(manager, base)  # no-op unless this was a demo run


def run_started(args: Any, app: Any, mw: Any, base: Path, started: float, demo: Any) -> int:
    added = add_sample_deck(mw.col)
    if added:
        print("Added a sample deck '%s' with %d notes." % (SAMPLE_DECK, added))
        mw.deckBrowser.refresh()
    samples = sample_documents()
    if samples:
        print("Documents to try with Open file… or Bulk Generate: %s" % ", ".join(samples))
    config = mw.addonManager.getConfig(harness.ADDON_NAME) or {}
    if demo is not None:
        print(demo_message(demo.url))
    else:
        print(server_status(str(config.get("url") or "http://127.0.0.1:11434")))

    tools = [a.text() for a in mw.form.menuTools.actions()]
    if "Generate Flashcards…" not in tools:
        print("Anki started, but the add-on's menu entry is missing: see the terminal output.",
              file=sys.stderr)
        harness.stop_anki(app)
        return 1
    print("%s (%.1f s). Tools > Generate Flashcards… (%s)" % (
        READY_MESSAGE, time.monotonic() - started, config.get("shortcut") or "no shortcut"))

    if args.headless and demo is not None:
        try:
            status = demo_generate(app, mw, Path(args.screenshot))
        except TimeoutError as e:
            print("Demo generation failed: %s" % e, file=sys.stderr)
            status = 1
        harness.stop_anki(app)
        return status

    if args.headless:
        harness.pump(app, 0.5)  # let the deck list render
        shot = Path(args.screenshot)
        shot.parent.mkdir(parents=True, exist_ok=True)
        mw.grab().save(str(shot))
        print("Screenshot: %s" % shot)
        harness.stop_anki(app)
        return 0

    app.exec()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
