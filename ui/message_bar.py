"""The inline message of a dialog (``MessageBar``): one message at a time, with a level
(info, success, warning, error), optional action buttons and a topic, so that a part of the
dialog clears only its own message (the model picker clears "server" and "model").
``show_privacy`` puts where the text goes into a bar."""
from typing import Any, Callable, List, Optional, Sequence, Tuple

from aqt.qt import QBoxLayout, QFrame, QHBoxLayout, QLabel, QPushButton, QResizeEvent, QSizePolicy, Qt, QWidget

from ..generator.privacy import INTERNET, privacy_note, url_scope
from .common import LEVEL_RGB, esc, html_to_plain

Action = Tuple[str, Callable[[], Any]]


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
        self.serial = 0  # counts the messages shown (and changed): is it still the same message?
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
                     actions: Sequence[Action] = (),
                     topic: str = "") -> None:
        """``text`` is HTML (escape what came from elsewhere: see ``esc``)."""
        self.serial += 1
        self.level = level
        self.topic = topic
        self.label.setText(text)
        self._clear_buttons()
        self._add_buttons(actions)
        r, g, b_ = LEVEL_RGB.get(level, LEVEL_RGB["info"])
        self.setStyleSheet(
            "#ofMessageBar { background: rgba(%d, %d, %d, 0.14); border: 1px solid "
            "rgba(%d, %d, %d, 0.55); border-radius: 6px; }" % (r, g, b_, r, g, b_))
        self._arrange()
        self.show()

    def extend(self, text: str, actions: Sequence[Action] = ()) -> None:
        """Add ``text`` (HTML) and action buttons to the message shown (or show them)."""
        if self.isHidden():
            self.show_message(text.strip(), "info", actions)
            return
        self.serial += 1
        self.label.setText(self.label.text() + text)
        self._add_buttons(actions)
        self._arrange()

    def _add_buttons(self, actions: Sequence[Action]) -> None:
        for title, fn in actions:
            b = QPushButton(title, self)
            b.setAutoDefault(False)
            b.clicked.connect(lambda _checked=False, fn=fn: fn())
            self.button_row.addWidget(b)
            self._buttons.append(b)

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

    def resizeEvent(self, event: Optional[QResizeEvent]) -> None:
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
        self.serial += 1
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
