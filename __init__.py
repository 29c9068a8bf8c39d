"""Ollama Flashcards: turn text into Anki flashcards with a local model.

This file only wires menus and hooks. Everything else is imported when an action fires, so the
add-on costs Anki's start almost nothing. Imported outside Anki (tests, tools) it does nothing.
Only relative imports: AnkiWeb installs add-ons under a numeric folder name.
"""
from typing import Any, Callable, List, Optional

_mw: Optional[Any]
try:
    from aqt import mw as _mw
except Exception:  # not inside Anki (no aqt, or aqt without a running app)
    _mw = None

MODULE = __name__
GENERATE_TITLE = "Generate Flashcards…"
BULK_TITLE = "Bulk Generate from Files…"
SELECTION_TITLE = "Generate flashcards from selection"
IMPROVE_TITLE = "Improve with Ollama…"  # the Browser's right-click on notes
STRUGGLING_TITLE = "Improve struggling cards…"
UPDATE_TITLE = "Update from source…"
GENERATE_ACTION = "ollamaFlashcardsGenerate"  # the Tools menu action's objectName (ui/settings.py)


def _call(fn: Callable[[], Any]) -> Callable[..., None]:
    """A slot that ignores Qt's arguments (e.g. ``checked``)."""
    return lambda *_args: fn()


def open_generate_dialog(**kwargs: Any) -> Any:
    from .ui import launch

    return launch.open_generate(**kwargs)


def open_bulk_dialog() -> Any:
    from .ui import launch

    return launch.open_bulk()


def open_settings() -> Any:
    from .ui import launch

    return launch.open_settings()


def _browser_title(count: int) -> str:
    return "Generate flashcards from %d note%s" % (count, "" if count == 1 else "s")


def _on_editor_menu(webview: Any, menu: Any) -> None:
    """Right-click in the editor (legacy editor hook, and the new editor's generic webview)."""
    editor = getattr(webview, "editor", None)
    if editor is None:
        return
    # The legacy editor holds its note; the new (Svelte) one is asked for it when needed.
    if getattr(editor, "note", None) is None and not hasattr(editor, "get_note_info"):
        return
    try:
        text = webview.selectedText()
    except Exception:
        return
    if not text or not text.strip():
        return
    menu.addSeparator()
    action = menu.addAction(SELECTION_TITLE)

    def go() -> None:
        from .ui import launch

        launch.open_from_editor(editor, text)

    action.triggered.connect(_call(go))


def _on_webview_menu(webview: Any, menu: Any) -> None:
    # The legacy editor fires editor_will_show_context_menu; the new (Svelte) editor's webview
    # only fires this generic hook. Other webviews have no editor attribute and are ignored.
    if hasattr(webview, "editor"):
        _on_editor_menu(webview, menu)


def _on_browser_menu(browser: Any, menu: Any) -> None:
    try:
        nids = list(browser.selected_notes())
    except Exception:
        return
    if not nids:
        return
    menu.addSeparator()
    action = menu.addAction(_browser_title(len(nids)))

    def go() -> None:
        from .ui import launch

        launch.open_from_notes(browser, nids)

    action.triggered.connect(_call(go))
    improve = menu.addAction(IMPROVE_TITLE)

    def improve_notes() -> None:
        from .ui import improve as improving

        improving.open_improve(browser, nids)

    improve.triggered.connect(_call(improve_notes))
    _add_update_action(browser, menu, nids)


def open_struggling() -> Any:
    from .ui import improve

    return improve.open_struggling()


def _add_update_action(browser: Any, menu: Any, nids: List[Any]) -> None:
    """"Update from source…" when a selected note was made from a file the add-on follows."""
    try:
        from .generator.recorded.lookup import has_marked_notes  # one query, nothing of the engine

        if not has_marked_notes(browser.mw.col, nids):
            return
    except Exception as e:  # a menu must open whatever happens here
        print("ollama-flashcards: update check failed:", e)
        return
    action = menu.addAction(UPDATE_TITLE)

    def go() -> None:
        from .ui import update

        update.open_from_browser(browser, nids)

    action.triggered.connect(_call(go))


def _on_profile_open() -> None:
    """Offer to resume a bulk job left unfinished (Anki closed or crashed mid-job). The check is
    one directory listing; the bulk dialog is imported only when there is a job to offer."""
    try:
        from .ui import resume

        resume.offer_resume(_mw, open_bulk_dialog)
    except Exception as e:  # never block Anki's start
        print("ollama-flashcards: resume check failed:", e)


def _setup(mw: Any) -> None:
    from aqt import gui_hooks
    from aqt.qt import QAction, QKeySequence

    config = mw.addonManager.getConfig(MODULE) or {}
    actions: List[Any] = []

    generate = QAction(GENERATE_TITLE, mw)
    generate.setObjectName(GENERATE_ACTION)
    shortcut = str(config.get("shortcut") or "").strip()
    if shortcut:
        generate.setShortcut(QKeySequence(shortcut))
    generate.triggered.connect(_call(open_generate_dialog))
    actions.append(generate)

    bulk = QAction(BULK_TITLE, mw)
    bulk.triggered.connect(_call(open_bulk_dialog))
    actions.append(bulk)

    struggling = QAction(STRUGGLING_TITLE, mw)
    struggling.triggered.connect(_call(open_struggling))
    actions.append(struggling)

    mw.form.menuTools.addSeparator()
    for action in actions:
        mw.form.menuTools.addAction(action)

    mw.addonManager.setConfigAction(MODULE, open_settings)
    gui_hooks.editor_will_show_context_menu.append(_on_editor_menu)
    gui_hooks.webview_will_show_context_menu.append(_on_webview_menu)
    gui_hooks.browser_will_show_context_menu.append(_on_browser_menu)
    gui_hooks.profile_did_open.append(_on_profile_open)


if _mw is not None:
    _setup(_mw)
