"""Small pieces every part of the dialogs uses: the settings, the log, background calls,
buttons, text helpers and theme colours. Widgets live in their own modules (``message_bar``,
``progress_row``, ``model_picker``, ``source_panel``, ``card_options``, ``review``)."""
from __future__ import annotations

import html
import os
import re
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from anki.notes import NoteId
from aqt import mw
from aqt.qt import QColor, QComboBox, QObject, QPushButton, QSplitter, Qt, QVBoxLayout, QWidget
from aqt.utils import restoreGeom

from ..generator.config import CardKind, Settings
from ..generator.config import load as load_settings
from ..generator.errors import describe
from ..generator.privacy import mask_secret

if TYPE_CHECKING:
    from ..generator.backends.base import ServerInfo

ADDON = __name__.split(".")[0]  # "ollama_flashcards", or AnkiWeb's numeric folder name

KIND_LABELS: List[Tuple[CardKind, str]] = [
    (CardKind.BASIC, "Basic"),
    (CardKind.REVERSED, "Basic and reversed"),
    (CardKind.CLOZE, "Cloze"),
    (CardKind.OCCLUSION, "Image occlusion (from labelled figures)"),
]

LANGUAGES: List[Tuple[str, str]] = [
    ("", "Same as the text"),
    ("English", "English"),
    ("German", "Deutsch"),
    ("French", "Français"),
    ("Spanish", "Español"),
    ("Italian", "Italiano"),
    ("Portuguese", "Português"),
    ("Dutch", "Nederlands"),
    ("Polish", "Polski"),
    ("Russian", "Русский"),
    ("Ukrainian", "Українська"),
    ("Turkish", "Türkçe"),
    ("Japanese", "日本語"),
    ("Chinese", "中文"),
    ("Korean", "한국어"),
    ("Arabic", "العربية"),
]


# --- config ----------------------------------------------------------------------------------

def get_settings(problems: Optional[List[str]] = None) -> Settings:
    """config.json's defaults overlaid with the user's settings (a bad value keeps its default
    and is described in ``problems``)."""
    return load_settings(_stored(), problems)


def _stored() -> Dict[str, Any]:
    return dict(mw.addonManager.getConfig(ADDON) or {})


def save_config(changes: Dict[str, Any]) -> Settings:
    """Store some keys (the rest of the user's settings stay as they are); returns the
    settings now in force. Enum values are stored as their text."""
    cfg = _stored()
    cfg.update({k: (v.value if isinstance(v, Enum) else v) for k, v in changes.items()})
    mw.addonManager.writeConfig(ADDON, cfg)
    return get_settings()


# --- log -------------------------------------------------------------------------------------

LOG_NAME = "ollama-flashcards.log"
_log_state: Dict[str, Any] = {}


def log_path() -> str:
    """``<add-on folder>/user_files/ollama-flashcards.log`` (user_files survives upgrades)."""
    folder = mw.addonManager.addonsFolder(mw.addonManager.addonFromModule(__name__))
    return os.path.join(folder, "user_files", LOG_NAME)


def ensure_log() -> None:
    """Point the engine's log (generator/log.py) at ``log_path()`` with the settings'
    ``log_content``, and give the engine the settings' bounds of reading. Dialogs call it when
    they open; it configures again only for another
    profile or a changed ``log_content`` (settings saved), so later calls cost one config read."""
    try:
        settings = get_settings()
        from ..generator.sources.limits import configure

        configure(settings)  # the bounds of reading files (source_max_mb, ...) follow the settings
        key = (getattr(mw.pm, "name", None), log_path(), settings.log_content)
        if _log_state.get("key") == key:
            return
        from ..generator import log

        log.configure(key[1], key[2])  # creates user_files/ if needed
        _log_state["key"] = key
        log.event("log opened (content %s)", "on" if key[2] else "off")
    except Exception as e:  # a log that cannot be written must never stop a dialog
        print("ollama-flashcards: cannot open the log:", e)


# --- background work -------------------------------------------------------------------------

def run_network(parent: QWidget, op: Callable[[], Any], success: Callable[[Any], None],
                failure: Callable[[Exception], None]) -> None:
    """Run ``op`` (a model-server call) in the background without waiting for collection ops.
    ``success``/``failure`` run on the main thread; neither ever shows a traceback window."""
    from aqt.operations import QueryOp

    QueryOp(parent=parent, op=lambda _col: op(), success=success).failure(failure) \
        .without_collection().run_in_background()


def run_long(op: Callable[[], Any], success: Callable[[Any], None],
             failure: Callable[[Exception], None]) -> None:
    """Run a job of minutes (generation, a model pull) on a worker thread.

    Not a QueryOp on purpose: Anki counts a running QueryOp as "the backend is blocking" for
    as long as it runs, and the Browser then shows blank rows instead of refreshing them. The
    job never touches the collection, so it runs like QueryOp.without_collection() without
    that. ``success``/``failure`` run on the main thread."""

    def on_done(future: Any) -> None:
        try:
            result = future.result()
        except Exception as e:  # every error reaches the dialog as a message
            failure(e)
            return
        success(result)

    mw.taskman.run_in_background(op, on_done, uses_collection=False)


def run_with_collection(parent: QWidget, op: Callable[[Any], Any], success: Callable[[Any], None],
                        failure: Callable[[Exception], None]) -> None:
    """A read-only collection call in the background (e.g. the duplicate check)."""
    from aqt.operations import QueryOp

    QueryOp(parent=parent, op=op, success=success).failure(failure).run_in_background()


def server_info(cfg: Settings) -> ServerInfo:
    """Ask the configured server for its models and version (a network call: run it in the
    background, e.g. via ``run_network``)."""
    from ..generator.backends import make_backend

    backend = make_backend(cfg)
    try:
        return backend.server_info()
    finally:
        backend.close()


def show_in_browser(note_ids: Sequence[NoteId]) -> None:
    """Open the Browser on these notes (nothing when none of them exists any more)."""
    import aqt

    from ..generator.notes.add import find_added

    search = find_added(mw.col, note_ids)
    if search:
        aqt.dialogs.open("Browser", mw, search=(search,))


def on_main(fn: Callable[[], None]) -> None:
    """Hop from a worker thread to the main thread."""
    mw.taskman.run_on_main(fn)


def error_text(err: BaseException, secret: Optional[str] = None) -> str:
    """The engine's message for ``err``, with the API key (``secret``, else the saved one)
    masked: a server may echo the key back in its error body."""
    text = describe(err)
    if secret is None:
        try:
            secret = get_settings().api_key
        except Exception:
            secret = ""
    return hide_secret(text, secret)


def hide_secret(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``mask_secret(secret)``."""
    secret = (secret or "").strip()
    return text.replace(secret, mask_secret(secret)) if secret else text


def is_alive(widget: Optional[QObject]) -> bool:
    """False once Qt deleted the widget (a late callback must not touch it)."""
    if widget is None:
        return False
    try:
        from aqt.qt import sip

        return not sip.isdeleted(widget)
    except Exception:
        return True


# --- widgets and dialogs ---------------------------------------------------------------------

def button(title: str, fn: Callable[[], Any]) -> QPushButton:
    """A push button that never becomes the default by focus, calling ``fn()`` when clicked."""
    b = QPushButton(title)
    b.setAutoDefault(False)
    b.clicked.connect(lambda _c=False: fn())
    return b


_registered_dialogs: Set[str] = set()


def register_dialog(name: str, create: Callable[..., Any]) -> None:
    """Make ``aqt.dialogs.open(name, ...)`` create the dialog with ``create``; only the first
    call for a name registers it."""
    import aqt

    if name in _registered_dialogs:
        return
    aqt.dialogs.register_dialog(name, create)
    _registered_dialogs.add(name)


def add_splitter(dialog: QWidget, outer: QVBoxLayout) -> QSplitter:
    """A horizontal splitter (children not collapsible) in the dialog's outer layout, taking
    the spare height."""
    outer.setContentsMargins(10, 10, 10, 10)
    splitter = QSplitter(Qt.Orientation.Horizontal, dialog)
    splitter.setChildrenCollapsible(False)
    outer.addWidget(splitter, 1)
    return splitter


def fit_splitter(splitter: QSplitter, width: int, side_by_side_from: int) -> None:
    """Side by side when there is room (``width`` at least ``side_by_side_from``), stacked in
    a narrow window."""
    wanted = Qt.Orientation.Horizontal if width >= side_by_side_from else Qt.Orientation.Vertical
    if splitter.orientation() != wanted:
        splitter.setOrientation(wanted)


def language_combo() -> QComboBox:
    """An editable list of ``LANGUAGES`` (title shown, config value as item data)."""
    combo = QComboBox()
    combo.setEditable(True)
    for value, title in LANGUAGES:
        combo.addItem(title, value)
    return combo


def language_value(combo: QComboBox) -> str:
    """The config value of a ``language_combo``: a listed language's value, or what was typed."""
    text = combo.currentText().strip()
    index = combo.findText(text)
    if index >= 0:
        return str(combo.itemData(index) or "")
    return text


# --- text ------------------------------------------------------------------------------------

_BLOCK_END = re.compile(r"(?i)<br\s*/?>|</(p|div|li|h[1-6]|tr|pre|blockquote)>")
_LI = re.compile(r"(?i)<li[^>]*>")
_TAG = re.compile(r"<[^>]+>")


def html_to_plain(text: str) -> str:
    """Field HTML as a reader sees it, for tables and editors (not for storage)."""
    if "<" not in text and "&" not in text:
        return text
    text = _LI.sub("• ", text)
    text = _BLOCK_END.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def plain_to_html(text: str) -> str:
    """What the user typed into a cell, as field HTML."""
    return html.escape(text.strip(), quote=False).replace("\n", "<br>")


def plural(n: int, word: str, words: str = "") -> str:
    return "%d %s" % (n, word if n == 1 else (words or word + "s"))


# --- theme -----------------------------------------------------------------------------------

def theme_color(name: str) -> str:
    """A colour of Anki's palette (``aqt.colors``), for the current theme."""
    from aqt import colors
    from aqt.theme import theme_manager

    return theme_manager.var(getattr(colors, name))


LEVEL_RGB = {"error": (220, 53, 69), "warning": (230, 150, 0), "info": (40, 120, 220),
             "success": (40, 160, 80)}


def level_color(level: str) -> QColor:
    """The colour of a message level (``LEVEL_RGB``), e.g. for a failed or a done row."""
    r, g, b = LEVEL_RGB[level]
    return QColor(r, g, b)


_CODE = re.compile(r"`([^`]+)`")


def esc(text: str) -> str:
    """Plain text (e.g. an engine message) as HTML for a label: escaped, line breaks kept,
    `backticks` shown as code."""
    out = html.escape(str(text), quote=False).replace("\n", "<br>")
    return _CODE.sub(r"<code>\1</code>", out)


def restore_size(widget: QWidget, key: str, size: Tuple[int, int]) -> None:
    """The size the user left ``widget`` at (saved under ``key``), or ``size`` the first time.
    The native window is made first: Anki's ``restoreGeom`` otherwise checks the screen bounds
    on a timer that can fire after a quickly closed window is gone (a RuntimeError in Qt's event
    loop)."""
    widget.winId()
    restoreGeom(widget, key, adjustSize=False)
    if widget.width() < 400:
        widget.resize(*size)
