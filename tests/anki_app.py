"""The real Anki main window, headless, with this add-on installed: a pytest fixture module.

Use it from a test file with the fixtures that conftest.py re-exports:

    def test_something(anki_app):
        mw = anki_app.mw
        action = anki_app.tools_action("Generate Flashcards…")
        ...
        anki_app.wait_until(lambda: dialog.cards, timeout=10)

How it works:
- One QApplication per process, so Anki starts once per test session (``anki_session``, about
  1.5 s). ``qapp`` is overridden to be that same AnkiApp, so pytest-qt's ``qtbot`` works on it and
  never creates a second, plain QApplication.
- The base folder is a throwaway temp folder. ``addons21/ollama_flashcards`` is a real folder
  whose entries are symlinks to the add-on's files (not a link to the whole repo), so Anki's
  ``meta.json`` and ``user_files/`` land in the temp folder and never in the working tree.
- ``anki_app`` (function scope) gives each test a clean state: the add-on's config reset to its
  defaults, blocking dialogs replaced by recorders, stray windows closed afterwards, the main
  window back on the deck list. Each test should use its own deck (``anki_app.new_deck()``).
- Blocking calls (showInfo/showWarning/askUser/QMessageBox/QMenu.exec/...) would start a nested
  event loop that nobody ends; they are replaced, recorded in ``anki_app.shown`` and answered from
  ``anki_app.answers`` (default: yes).
- An error that reaches Anki's error window or ``show_exception`` is a test failure unless the
  test takes it out of ``anki_app.errors``.
"""
import contextlib
import importlib
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

ADDON_DIR = Path(__file__).resolve().parent.parent
ADDON_NAME = "ollama_flashcards"

def addon_entries(addon_dir: Path = ADDON_DIR) -> List[str]:
    """The add-on's top-level files and folders: the list ``make package`` packs
    (tools/package.py), so a test install holds what a user's install holds."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("of_package_tool", str(ADDON_DIR / "tools" / "package.py"))
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return list(tool.addon_top_level(addon_dir))


def link_addon(addons_dir: Path, addon_dir: Path = ADDON_DIR, name: str = ADDON_NAME) -> Path:
    """Make ``addons_dir/name`` a real folder of symlinks to the add-on's files.

    Returns the folder. Existing links are refreshed, so new source files show up."""
    target = addons_dir / name
    if target.is_symlink():
        target.unlink()
    target.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for entry_name in addon_entries(addon_dir):
        entry = addon_dir / entry_name
        wanted.add(entry.name)
        link = target / entry.name
        if link.is_symlink() or link.exists():
            if link.is_symlink() and os.readlink(link) == str(entry):
                continue
            if link.is_dir() and not link.is_symlink():
                shutil.rmtree(link)
            else:
                link.unlink()
        link.symlink_to(entry)
    for link in target.iterdir():  # links to files that were deleted since the last run
        if link.is_symlink() and link.name not in wanted:
            link.unlink()
    return target


def prepare_environment(platform: str = "offscreen", instance_key: str = "") -> None:
    """Environment Anki needs before Qt starts. Call before ``import aqt``."""
    os.environ["QT_QPA_PLATFORM"] = platform
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    for flag in ("--no-sandbox", "--disable-gpu"):
        if flag not in flags:
            flags = (flags + " " + flag).strip()
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags
    key = instance_key or "of-%d-%d" % (os.getpid(), time.time())
    os.environ["ANKI_SINGLE_INSTANCE_KEY"] = key
    if "aqt" in sys.modules:  # the key is read when aqt is imported
        sys.modules["aqt"].AnkiApp.KEY = key


def patch_language_chooser() -> None:
    """A new base folder opens a modal language chooser that blocks forever: answer en_US."""
    import aqt.profiles

    def set_default_lang(self: Any, idx: int) -> None:
        self.setLang("en_US")

    aqt.profiles.ProfileManager.setDefaultLang = set_default_lang  # type: ignore[assignment]


def pump(app: Any, seconds: float = 0.0) -> None:
    """Run the event loop for ``seconds`` (at least once)."""
    end = time.monotonic() + seconds
    while True:
        app.processEvents()
        if time.monotonic() >= end:
            return
        time.sleep(0.005)


def wait_until(app: Any, condition: Callable[[], Any], timeout: float = 10.0,
               message: str = "") -> Any:
    """Pump events until ``condition()`` is truthy; return its value or fail after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        app.processEvents()
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(message or "condition not met within %.1f s" % timeout)
        time.sleep(0.005)


def start_anki(base: Path, timeout: float = 60.0) -> Any:
    """Start the real Anki main window on ``base``; return the AnkiApp once the deck list shows."""
    import aqt

    patch_language_chooser()
    app = aqt._run(argv=["anki", "-b", str(base)], exec=False)
    if app is None:
        raise RuntimeError("Anki did not start (second instance, or the base folder failed)")
    wait_until(app, lambda: aqt.mw is not None and aqt.mw.col is not None
               and aqt.mw.state == "deckBrowser", timeout, "Anki's main window did not get ready")
    return app


def stop_anki(app: Any, timeout: float = 30.0) -> None:
    """Close the profile (saves the collection) and stop Anki's helpers. The QApplication stays."""
    import aqt

    mw = aqt.mw
    if mw is None:
        return
    for w in list(app.topLevelWidgets()):
        if w is not mw and w.isVisible():
            w.close()
    done: List[bool] = []
    mw.unloadProfile(lambda: done.append(True))
    with contextlib.suppress(TimeoutError):
        wait_until(app, lambda: done, timeout, "profile did not unload")
    # The rest of AnkiQt.cleanupAndExit, without quitting the QApplication: web views and the
    # main window go first, so nothing is left for the interpreter to destroy in a bad order.
    mw.errorHandler.unload()
    sys.excepthook = sys.__excepthook__  # unload() sets None, which makes PyQt abort on errors
    mw.mediaServer.shutdown()
    with contextlib.suppress(Exception):
        mw.backend.await_backup_completion()
    for web in (mw.toolbarWeb, mw.web, mw.bottomWeb):
        with contextlib.suppress(Exception):
            web.cleanup()
    mw.deleteLater()
    flush_deletes(app)
    import gc

    gc.collect()
    flush_deletes(app)
    aqt.mw = None


def flush_deletes(app: Any) -> None:
    """Run pending events and really delete what was deleteLater()'d (processEvents alone
    does not, outside an event loop)."""
    from aqt.qt import QEvent

    pump(app, 0.05)
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    pump(app, 0.02)


class Shown:
    """One blocking dialog (or tooltip) that the add-on tried to show."""

    def __init__(self, kind: str, text: str, args: tuple = (), kwargs: Optional[dict] = None) -> None:
        self.kind = kind
        self.text = text
        self.args = args
        self.kwargs = kwargs or {}

    def __repr__(self) -> str:
        return "Shown(%r, %r)" % (self.kind, self.text[:200])


class AnkiTestApp:
    """What a test gets: the app, the main window and helpers around them."""

    _decks = itertools.count(1)

    def __init__(self, app: Any, base: Path) -> None:
        import aqt

        self.app = app
        self.base = base
        self.mw = aqt.mw
        self.addon_folder = base / "addons21" / ADDON_NAME
        self.shown: List[Shown] = []  # dialogs, message boxes, menus and tooltips, in order
        self.errors: List[str] = []  # error windows that Anki would have shown
        self.answers: List[Any] = []  # answers for the next askUser/QMessageBox, in order
        self.default_answer: Any = True
        self.menu_choice: Optional[Callable[[Any], Any]] = None  # picks a QAction in QMenu.exec
        self.modules_at_start: List[str] = []

    # --- events -------------------------------------------------------------------------------
    def pump(self, seconds: float = 0.0) -> None:
        pump(self.app, seconds)

    def resize(self, widget: Any, width: int, height: int) -> None:
        """``widget.resize`` that holds: a dialog that restores a saved geometry (aqt's restoreGeom)
        is capped to the screen 50 ms after it is shown (the offscreen screen is 800 px wide), which
        would undo a resize made before that (screenshots came out 800 px wide, depending on the
        order the tests ran in)."""
        self.pump(0.1)
        widget.resize(width, height)
        self.pump(0.02)

    def wait_until(self, condition: Callable[[], Any], timeout: float = 10.0, message: str = "") -> Any:
        return wait_until(self.app, condition, timeout, message)

    # --- the add-on ---------------------------------------------------------------------------
    @property
    def addon(self) -> Any:
        """The add-on's package as Anki imported it (``ollama_flashcards``)."""
        return sys.modules[ADDON_NAME]

    def module(self, relative: str) -> Any:
        """``module("ui.generate")`` -> the add-on's own copy of that module (the one Anki uses;
        ``import generator`` in a test gives a different copy with different classes)."""
        return importlib.import_module(ADDON_NAME + "." + relative)

    def config(self) -> Dict[str, Any]:
        return self.mw.addonManager.getConfig(ADDON_NAME) or {}

    def write_config(self, **changes: Any) -> Dict[str, Any]:
        cfg = self.config()
        cfg.update(changes)
        self.mw.addonManager.writeConfig(ADDON_NAME, cfg)
        return cfg

    def reset_config(self) -> None:
        """Back to config.json's defaults (what a new user has)."""
        import json

        with open(ADDON_DIR / "config.json", encoding="utf-8") as f:
            self.mw.addonManager.writeConfig(ADDON_NAME, json.load(f))

    # --- Anki ---------------------------------------------------------------------------------
    @property
    def col(self) -> Any:
        return self.mw.col

    def new_deck(self, prefix: str = "Test") -> str:
        """A deck of its own for this test; returns its name."""
        name = "%s %d-%d" % (prefix, os.getpid(), next(self._decks))
        self.col.decks.id(name, create=True)
        return name

    def tools_action(self, text: str) -> Any:
        """The Tools menu action whose text (without '&') is ``text``."""
        for action in self.mw.form.menuTools.actions():
            if action.text().replace("&", "") == text:
                return action
        raise LookupError("no Tools action %r in %r" % (
            text, [a.text() for a in self.mw.form.menuTools.actions()]))

    def top_windows(self, cls: Any = None) -> List[Any]:
        """Visible top-level windows other than the main window (optionally of one class)."""
        out = []
        for w in self.app.topLevelWidgets():
            if w is self.mw or not w.isVisible():
                continue
            if cls is None or isinstance(w, cls):
                out.append(w)
        return out

    def wait_for_window(self, cls: Any, timeout: float = 10.0) -> Any:
        return self.wait_until(lambda: (self.top_windows(cls) or [None])[0], timeout,
                               "no %s window appeared" % getattr(cls, "__name__", cls))

    def take(self, kind: str) -> List[Shown]:
        """Remove and return what was shown of one kind ("askUser", "showWarning", "tooltip", ...)."""
        taken = [s for s in self.shown if s.kind == kind]
        self.shown = [s for s in self.shown if s.kind != kind]
        return taken

    def texts(self, kind: str) -> List[str]:
        return [s.text for s in self.shown if s.kind == kind]

    def screenshot(self, widget: Any, name: str) -> Path:
        """Save ``widget.grab()`` as docs/<name>.png (only when OF_SCREENSHOTS=1, so a normal test
        run does not rewrite committed files) and always under the temp base folder. Fails unless
        the file holds the widget as drawn: its size in device pixels, and not one flat colour."""
        from aqt.qt import QImage

        self.pump(0.05)
        out = self.base / "screenshots" / (name + ".png")
        out.parent.mkdir(parents=True, exist_ok=True)
        pixmap = widget.grab()
        ratio = pixmap.devicePixelRatio()
        size = (round(widget.width() * ratio), round(widget.height() * ratio))
        assert (pixmap.width(), pixmap.height()) == size, (name, pixmap.size(), size)
        assert pixmap.save(str(out)), "could not write %s" % out
        saved = QImage(str(out))
        assert (saved.width(), saved.height()) == size, (name, saved.size(), size)
        assert colour_count(saved) >= 3, "%s is blank (%d colours)" % (name, colour_count(saved))
        if os.environ.get("OF_SCREENSHOTS") == "1":
            docs = ADDON_DIR / "docs" / (name + ".png")
            docs.parent.mkdir(parents=True, exist_ok=True)
            pixmap.save(str(docs))
        return out

    def lightness(self, path: Path) -> float:
        """The mean lightness of a saved screenshot, 0 (black) to 1 (white): a dark theme's
        window is below one half, a light theme's above."""
        from aqt.qt import QImage

        return mean_lightness(QImage(str(path)))

    def _next_answer(self) -> Any:
        return self.answers.pop(0) if self.answers else self.default_answer


def _pixels(image: Any) -> "memoryview":
    """The image's pixels as 32-bit words (0xAARRGGBB), one per pixel."""
    from aqt.qt import QImage

    rgb = image.convertToFormat(QImage.Format.Format_RGB32)
    bits = rgb.constBits()
    bits.setsize(rgb.sizeInBytes())
    words = memoryview(bytes(bits)).cast("I")
    per_line = rgb.bytesPerLine() // 4
    if per_line == rgb.width():
        return words
    return memoryview(b"".join(words[y * per_line:y * per_line + rgb.width()].tobytes()
                               for y in range(rgb.height()))).cast("I")


def colour_count(image: Any) -> int:
    return len(set(_pixels(image)))


def mean_lightness(image: Any) -> float:
    """Mean of (max + min) / 2 of the channels over every 7th pixel, 0 to 1."""
    total = n = 0
    for word in _pixels(image)[::7]:
        r, g, b = (word >> 16) & 255, (word >> 8) & 255, word & 255
        total += max(r, g, b) + min(r, g, b)
        n += 1
    return total / (510 * n) if n else 0.0


# --- replacing blocking calls --------------------------------------------------------------------

def _patch_everywhere(monkeypatch: Any, owner: Any, attr: str, replacement: Any) -> None:
    """Replace ``owner.attr`` and every module-level alias of the same object (``from aqt.utils
    import askUser`` binds a name that patching aqt.utils alone would not reach)."""
    original = getattr(owner, attr)
    monkeypatch.setattr(owner, attr, replacement)
    for name, mod in list(sys.modules.items()):
        if mod is None or mod is owner:
            continue
        if not (name.startswith("aqt") or name.startswith(ADDON_NAME)):
            continue
        try:
            if getattr(mod, attr, None) is original:
                monkeypatch.setattr(mod, attr, replacement)
        except Exception:
            pass


def install_recorders(monkeypatch: Any, t: AnkiTestApp) -> None:
    import aqt.errors
    import aqt.utils
    from aqt.qt import QDialog, QMenu, QMessageBox

    def recorder(kind: str, result: Callable[[], Any]) -> Callable[..., Any]:
        def fake(text: Any = "", *args: Any, **kwargs: Any) -> Any:
            t.shown.append(Shown(kind, str(text), args, kwargs))
            return result()
        return fake

    yes = QMessageBox.StandardButton.Yes
    no = QMessageBox.StandardButton.No
    ok = QMessageBox.StandardButton.Ok

    for kind in ("showInfo", "showWarning", "showCritical", "showText"):
        _patch_everywhere(monkeypatch, aqt.utils, kind, recorder(kind, lambda: ok))
    _patch_everywhere(monkeypatch, aqt.utils, "askUser", recorder("askUser", lambda: bool(t._next_answer())))

    def fake_ask_user_cb(text: str, callback: Callable[[bool], None], *a: Any, **k: Any) -> None:
        t.shown.append(Shown("ask_user", str(text), a, k))
        callback(bool(t._next_answer()))

    _patch_everywhere(monkeypatch, aqt.utils, "ask_user", fake_ask_user_cb)

    def fake_ask_user_dialog(text: str, callback: Callable[[int], None], *a: Any, **k: Any) -> None:
        # callback gets the index of the clicked button: 0 (the first: Yes/Discard/...) for yes.
        t.shown.append(Shown("ask_user_dialog", str(text), a, k))
        answer = t._next_answer()
        if isinstance(answer, int) and not isinstance(answer, bool):
            callback(answer)
        else:
            callback(0 if answer else 1)

    _patch_everywhere(monkeypatch, aqt.utils, "ask_user_dialog", fake_ask_user_dialog)

    def fake_show_cb(kind: str) -> Callable[..., None]:
        def fake(text: str, callback: Optional[Callable] = None, *a: Any, **k: Any) -> None:
            t.shown.append(Shown(kind, str(text), a, k))
            if callback is not None:
                callback()
        return fake

    for kind in ("show_info", "show_warning", "show_critical"):
        _patch_everywhere(monkeypatch, aqt.utils, kind, fake_show_cb(kind))

    real_tooltip = aqt.utils.tooltip

    def fake_tooltip(msg: str, *a: Any, **k: Any) -> None:
        t.shown.append(Shown("tooltip", str(msg), a, k))
        real_tooltip(msg, *a, **k)

    _patch_everywhere(monkeypatch, aqt.utils, "tooltip", fake_tooltip)

    def fake_show_exception(*, parent: Any = None, exception: BaseException) -> None:
        import traceback

        t.errors.append("".join(traceback.format_exception(type(exception), exception,
                                                           exception.__traceback__)))

    _patch_everywhere(monkeypatch, aqt.errors, "show_exception", fake_show_exception)

    # QMessageBox: both the static helpers and exec() on an instance.
    def static_box(kind: str) -> Callable[..., Any]:
        def fake(parent: Any = None, title: str = "", text: str = "", *a: Any, **k: Any) -> Any:
            t.shown.append(Shown("QMessageBox." + kind, str(text), (title,) + a, k))
            if kind == "question":
                return yes if t._next_answer() else no
            return ok
        return staticmethod(fake)

    for kind in ("question", "warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, kind, static_box(kind))

    def fake_box_exec(self: Any) -> int:
        t.shown.append(Shown("QMessageBox", self.text()))
        answer = t._next_answer()
        if isinstance(answer, int) and not isinstance(answer, bool):
            return answer
        return int((yes if answer else no).value)

    monkeypatch.setattr(QMessageBox, "exec", fake_box_exec)

    def fake_menu_exec(self: Any, *a: Any, **k: Any) -> Any:
        t.shown.append(Shown("QMenu", self.title(), (self,), {}))
        choice = t.menu_choice(self) if t.menu_choice else None
        if choice is not None:
            choice.trigger()
        return choice

    monkeypatch.setattr(QMenu, "exec", fake_menu_exec)

    def fake_dialog_exec(self: Any) -> int:
        # A modal dialog in a test would wait forever: show it instead and report "rejected".
        t.shown.append(Shown("QDialog.exec", self.windowTitle(), (self,), {}))
        self.show()
        return 0

    monkeypatch.setattr(QDialog, "exec", fake_dialog_exec)

    # Anki's error window (stderr collected by mw.errorHandler): record instead of showing.
    handler = t.mw.errorHandler

    def on_timeout() -> None:
        text, handler.pool = handler.pool, ""
        if "Traceback" in text or "Error" in text:
            t.errors.append(text)

    monkeypatch.setattr(handler, "onTimeout", on_timeout)


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def anki_session(tmp_path_factory: Any) -> Iterator[AnkiTestApp]:
    """Real Anki, started once for the whole session (Qt allows one QApplication per process)."""
    base = Path(tempfile.mkdtemp(prefix="anki-base-", dir=str(tmp_path_factory.getbasetemp())))
    link_addon(base / "addons21")
    prepare_environment(os.environ.get("OF_TEST_QPA", "offscreen"))
    app = start_anki(base)
    t = AnkiTestApp(app, base)
    # What importing the add-on at Anki's start loaded (it should be the wiring only).
    t.modules_at_start = sorted(m for m in sys.modules
                                if m == ADDON_NAME or m.startswith(ADDON_NAME + "."))
    if ADDON_NAME not in sys.modules:
        raise RuntimeError("Anki started, but did not load the add-on from %s" % t.addon_folder)
    try:
        yield t
    finally:
        stop_anki(app)


@pytest.fixture
def anki_app(anki_session: AnkiTestApp, monkeypatch: Any) -> Iterator[AnkiTestApp]:
    """The running Anki, in a clean state for this test (see the module docstring)."""
    t = anki_session
    t.shown, t.errors, t.answers = [], [], []
    t.default_answer, t.menu_choice = True, None
    t.reset_config()
    install_recorders(monkeypatch, t)
    if t.mw.state != "deckBrowser":
        t.mw.moveToState("deckBrowser")
    try:
        yield t
    finally:
        _close_windows(t)
        errors, t.errors = t.errors, []
    if errors:
        pytest.fail("Anki would have shown an error window:\n" + "\n\n".join(errors))


def _close_windows(t: AnkiTestApp) -> None:
    """Close whatever the test left open, answering any "discard?" question with yes.

    Anki's own windows (Browser, Add, ...) close through aqt.dialogs.closeAll, the way Anki
    closes them at shutdown: some finish closing later on a timer, so wait for that."""
    import aqt

    t.answers = []
    t.default_answer = True
    closed: List[bool] = []
    with contextlib.suppress(Exception):
        aqt.dialogs.closeAll(lambda: closed.append(True))
        t.wait_until(lambda: closed, 10, "Anki's windows did not close")
    for w in t.top_windows():
        with contextlib.suppress(Exception):
            w.close()
    t.pump(0.05)
    managed = {id(v[1]) for v in aqt.dialogs._dialogs.values() if v[1] is not None}
    for w in t.top_windows():  # refused to close (e.g. a job still running): force it
        if id(w) in managed:
            continue
        with contextlib.suppress(Exception):
            w.hide()
            w.deleteLater()
    flush_deletes(t.app)
    if t.mw.state != "deckBrowser" and t.mw.col is not None:
        t.mw.moveToState("deckBrowser")
        t.pump(0.02)


@pytest.fixture(scope="session")
def qapp(anki_session: AnkiTestApp) -> Any:
    """pytest-qt's application is Anki's: one QApplication per process."""
    return anki_session.app
