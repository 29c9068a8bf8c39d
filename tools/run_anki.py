"""Start real Anki with this add-on, on a throwaway profile folder: `make run`.

    make run                 # a window on your desktop
    make run FRESH=1         # start again from an empty profile
    make run HEADLESS=1      # no display: start, check, screenshot, quit (a smoke test)

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
sys.path.insert(0, str(ROOT / "tests"))

import anki_app as harness  # noqa: E402  (link_addon, prepare_environment, start/stop)

DEFAULT_BASE = ROOT / ".cache" / "anki-run-profile"
SAMPLE_DECK = "Ollama Flashcards Sample"
SCREENSHOT = ROOT / "docs" / "_tmp" / "make-run.png"
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


def no_display_help() -> str:
    return (
        "No display found (DISPLAY and WAYLAND_DISPLAY are not set), so Anki's window has "
        "nowhere to go.\n"
        "  - On a desktop: run `make run` from a terminal inside your graphical session.\n"
        "  - Over SSH / in a container with Xvfb installed: `xvfb-run -a make run`\n"
        "    (Debian: apt-get install xvfb libxcb-cursor0 libxkbcommon-x11-0 ...).\n"
        "  - Just check that it starts: `make run HEADLESS=1` (starts Anki offscreen, waits for "
        "the main window, saves a screenshot to docs/_tmp/make-run.png and quits)."
    )


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


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default=str(DEFAULT_BASE), help="profile folder (default: %(default)s)")
    parser.add_argument("--fresh", action="store_true", default=os.environ.get("FRESH") == "1",
                        help="delete the profile folder first")
    parser.add_argument("--headless", action="store_true", default=os.environ.get("HEADLESS") == "1",
                        help="start offscreen, check, screenshot, quit")
    parser.add_argument("--screenshot", default=str(SCREENSHOT))
    args = parser.parse_args(argv)

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
    print("Profile folder: %s (kept between runs; FRESH=1 starts over)" % base)

    started = time.monotonic()
    app = harness.start_anki(base)
    import aqt

    mw = aqt.mw
    added = add_sample_deck(mw.col)
    if added:
        print("Added a sample deck '%s' with %d notes." % (SAMPLE_DECK, added))
        mw.deckBrowser.refresh()
    samples = sample_documents()
    if samples:
        print("Documents to try with Open file… or Bulk Generate: %s" % ", ".join(samples))
    config = mw.addonManager.getConfig(harness.ADDON_NAME) or {}
    print(server_status(str(config.get("url") or "http://127.0.0.1:11434")))

    tools = [a.text() for a in mw.form.menuTools.actions()]
    if "Generate Flashcards…" not in tools:
        print("Anki started, but the add-on's menu entry is missing: see the terminal output.",
              file=sys.stderr)
        harness.stop_anki(app)
        return 1
    print("%s (%.1f s). Tools > Generate Flashcards… (%s)" % (
        READY_MESSAGE, time.monotonic() - started, config.get("shortcut") or "no shortcut"))

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
