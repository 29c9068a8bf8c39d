"""Small pieces every dialog uses: config, background calls, inline messages, theme colours.

Thin Qt over the engine (``..generator``); nothing here talks to a model server itself."""
import html
import os
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from aqt import mw
from aqt.qt import (
    QBoxLayout,
    QColor,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    Qt,
    QVBoxLayout,
    QWidget,
)

from ..generator import config as engine_config
from ..generator.errors import describe
from ..generator.privacy import INTERNET, mask_secret, privacy_note, url_scope

ADDON = __name__.split(".")[0]  # "ollama_flashcards", or AnkiWeb's numeric folder name

KIND_LABELS: List[Tuple[str, str]] = [
    ("basic", "Basic"),
    ("reversed", "Basic and reversed"),
    ("cloze", "Cloze"),
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

def get_config() -> Dict[str, Any]:
    """config.json's defaults overlaid with the user's settings."""
    return engine_config.load(mw.addonManager.getConfig(ADDON) or {}).to_dict()


def save_config(changes: Dict[str, Any]) -> Dict[str, Any]:
    """Store some keys (the rest of the user's settings stay as they are)."""
    cfg = dict(mw.addonManager.getConfig(ADDON) or {})
    cfg.update(changes)
    mw.addonManager.writeConfig(ADDON, cfg)
    return cfg


# --- log -------------------------------------------------------------------------------------

LOG_NAME = "ollama-flashcards.log"
_log_state: Dict[str, Any] = {}


def log_path() -> str:
    """``<add-on folder>/user_files/ollama-flashcards.log`` (user_files survives upgrades)."""
    folder = mw.addonManager.addonsFolder(mw.addonManager.addonFromModule(__name__))
    return os.path.join(folder, "user_files", LOG_NAME)


def ensure_log() -> None:
    """Point the engine's log (generator/log.py) at ``log_path()`` with the settings'
    ``log_content``. Dialogs call it when they open; it configures again only for another
    profile or a changed ``log_content`` (settings saved), so later calls cost one config read."""
    try:
        cfg = get_config()
        key = (getattr(mw.pm, "name", None), log_path(), bool(cfg.get("log_content", False)))
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

    query = QueryOp(parent=parent, op=lambda _col: op(), success=success).failure(failure)
    if hasattr(query, "without_collection"):
        query = query.without_collection()
    query.run_in_background()


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


def server_info(cfg: Dict[str, Any]) -> Any:
    """Ask the configured server for its models and version (a network call: run it in the
    background, e.g. via ``run_network``)."""
    from ..generator.backends import make_backend

    backend = make_backend(cfg)
    try:
        return backend.server_info()
    finally:
        backend.close()


def show_in_browser(note_ids: Sequence[int]) -> None:
    """Open the Browser on these notes (nothing when none of them exists any more)."""
    import aqt

    from ..generator.notes import find_added

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
            secret = str(get_config().get("api_key") or "")
        except Exception:
            secret = ""
    return hide_secret(text, secret)


def hide_secret(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``mask_secret(secret)``."""
    secret = (secret or "").strip()
    return text.replace(secret, mask_secret(secret)) if secret else text


def is_alive(widget: Optional[QWidget]) -> bool:
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


def progress_row(on_cancel: Callable[[], Any], cancel_tip: str
                 ) -> Tuple[QWidget, QProgressBar, QLabel, QPushButton]:
    """A hidden row of a job's progress: bar, label and a Cancel button calling ``on_cancel()``.
    Returns (row, bar, label, cancel button)."""
    bar = QProgressBar()
    bar.setTextVisible(False)
    bar.setMaximumHeight(14)
    label = QLabel("")
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    cancel = button("Cancel", on_cancel)
    cancel.setToolTip(cancel_tip)
    prog = QHBoxLayout()
    prog.setContentsMargins(0, 0, 0, 0)
    prog.addWidget(bar, 1)
    prog.addWidget(label, 2)
    prog.addWidget(cancel)
    row = QWidget()
    row.setLayout(prog)
    row.hide()
    return row, bar, label, cancel


_registered_dialogs: Set[str] = set()


def register_dialog(name: str, create: Callable[..., Any]) -> None:
    """Make ``aqt.dialogs.open(name, ...)`` create the dialog with ``create``; only the first
    call for a name registers it."""
    import aqt

    if name in _registered_dialogs:
        return
    if hasattr(aqt.dialogs, "register_dialog"):
        aqt.dialogs.register_dialog(name, create)
    else:  # very old Anki
        aqt.dialogs._dialogs[name] = [create, None]
    _registered_dialogs.add(name)


def splitter_layout(dialog: QWidget) -> Tuple[QVBoxLayout, QSplitter]:
    """The dialog's outer layout with a horizontal splitter (children not collapsible) that
    takes the spare height. Returns (layout, splitter)."""
    outer = QVBoxLayout(dialog)
    outer.setContentsMargins(10, 10, 10, 10)
    splitter = QSplitter(Qt.Orientation.Horizontal, dialog)
    splitter.setChildrenCollapsible(False)
    outer.addWidget(splitter, 1)
    return outer, splitter


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

def theme_color(name: str, light: str, dark: str) -> str:
    """A colour from Anki's palette (aqt.colors), with a fallback for older versions."""
    try:
        from aqt import colors
        from aqt.theme import theme_manager

        return theme_manager.var(getattr(colors, name))
    except Exception:
        try:
            from aqt.theme import theme_manager

            return dark if theme_manager.night_mode else light
        except Exception:
            return light


def night_mode() -> bool:
    try:
        from aqt.theme import theme_manager

        return bool(theme_manager.night_mode)
    except Exception:
        return False


LEVEL_RGB = {"error": (220, 53, 69), "warning": (230, 150, 0), "info": (40, 120, 220),
             "success": (40, 160, 80)}


def level_color(level: str) -> QColor:
    """The colour of a message level (``LEVEL_RGB``), e.g. for a failed or a done row."""
    r, g, b = LEVEL_RGB[level]
    return QColor(r, g, b)


class MessageBar(QFrame):
    """An inline message in a dialog (never a popup), with optional action buttons.

    Readable in light and dark mode: a translucent tint of the level's colour over the
    window's own background, text in the palette's text colour. Buttons sit right of the
    text, or under it when the bar is narrow."""

    def __init__(self, parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setObjectName("ofMessageBar")
        self.level = "info"
        self.topic = ""  # what the message is about, so only that topic's check clears it
        self.box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(10, 6, 6, 6)
        self.box.setSpacing(6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.box.addWidget(self.label, 1)
        self.button_row = QHBoxLayout()
        self.button_row.setSpacing(6)
        self.button_row.addStretch(1)
        self.box.addLayout(self.button_row)
        self._buttons: List[QPushButton] = []
        self.hide()

    def text(self) -> str:
        """The message as plain text ("" when hidden)."""
        return html_to_plain(self.label.text()) if not self.isHidden() else ""

    def show_message(self, text: str, level: str = "info",
                     actions: Sequence[Tuple[str, Callable[[], None]]] = (),
                     topic: str = "") -> None:
        """``text`` is HTML (escape what came from elsewhere: see ``esc``)."""
        self.level = level
        self.topic = topic
        self.label.setText(text)
        self._clear_buttons()
        for title, fn in actions:
            b = QPushButton(title, self)
            b.setAutoDefault(False)
            b.clicked.connect(lambda _checked=False, fn=fn: fn())
            self.button_row.addWidget(b)
            self._buttons.append(b)
        r, g, b_ = LEVEL_RGB.get(level, LEVEL_RGB["info"])
        self.setStyleSheet(
            "#ofMessageBar { background: rgba(%d, %d, %d, 0.14); border: 1px solid "
            "rgba(%d, %d, %d, 0.55); border-radius: 6px; }" % (r, g, b_, r, g, b_))
        self._arrange()
        self.show()

    def _clear_buttons(self) -> None:
        for b in self._buttons:
            b.hide()
            self.button_row.removeWidget(b)
            b.deleteLater()
        self._buttons = []

    def _arrange(self) -> None:
        narrow = self.width() < 520 and bool(self._buttons)
        self.box.setDirection(QBoxLayout.Direction.TopToBottom if narrow
                              else QBoxLayout.Direction.LeftToRight)

    def resizeEvent(self, event: Any) -> None:  # type: ignore[override]
        self._arrange()
        super().resizeEvent(event)

    def action_titles(self) -> List[str]:
        return [b.text() for b in self._buttons]

    def trigger(self, title: str) -> None:
        """Click an action button by its title (tests, keyboard)."""
        for b in self._buttons:
            if b.text() == title:
                b.click()
                return
        raise LookupError("no action %r in %r" % (title, self.action_titles()))

    def clear(self, topic: Optional[str] = None) -> None:
        """Hide the message (only if it is about ``topic``, when given)."""
        if topic is not None and self.topic != topic:
            return
        self.hide()
        self.topic = ""
        self.label.setText("")
        self._clear_buttons()


def show_privacy(bar: MessageBar, url: str) -> None:
    """Where the text goes, in ``bar``: nothing for a server on this machine, a note for the
    local network, a warning for anything else (the internet)."""
    note = privacy_note(url)
    if not note:
        bar.clear()
    elif url_scope(url) == INTERNET:
        bar.show_message("⚠ " + esc(note), "warning", topic="privacy")
    else:
        bar.show_message(esc(note), "info", topic="privacy")


_CODE = re.compile(r"`([^`]+)`")


def esc(text: str) -> str:
    """Plain text (e.g. an engine message) as HTML for a label: escaped, line breaks kept,
    `backticks` shown as code."""
    out = html.escape(str(text), quote=False).replace("\n", "<br>")
    return _CODE.sub(r"<code>\1</code>", out)
