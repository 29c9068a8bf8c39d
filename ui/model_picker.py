"""The model picker (``ModelPicker``), one widget for the Generate and the Bulk dialogs: the
server's models in an editable list, Refresh, a status line ("Ollama 0.12 at … · 3 models"),
where the text goes (privacy note), and pulling a model the server does not have yet, with
its progress.

It owns its state (``server_ok``, ``server_models``, ``pulling``) and says when it changed
(``changed``). With a ``MessageBar`` it also offers what to do there: Retry / Settings… when
the server is down (topic "server"), Pull when the model is missing (topic "model"); without
one (the Bulk dialog) it says so in its status line only. ``open_settings`` is a callback:
the picker does not know the settings dialog.

Asking the server also imports the engine's modules on that worker thread (``warm_up``), so
the first Generate click does not import them on the main thread."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, List, Optional

from aqt.qt import QComboBox, QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QVBoxLayout, QWidget, pyqtSignal
from aqt.utils import tooltip

from .common import error_text, esc, get_settings, is_alive, on_main, run_long, run_network, server_info, button
from .message_bar import MessageBar, show_privacy

if TYPE_CHECKING:
    from ..generator.backends.base import ServerInfo

DEFAULT_PULL = "llama3.2"


def same_model(a: str, b: str) -> bool:
    """'llama3.2' and 'llama3.2:latest' are the same model (the engine's one rule for both
    protocols; imported here, when the model list has already loaded the engine)."""
    from ..generator.backends.server_facts import same_model as same

    return same(a, b)


def warm_up() -> None:
    """Import what a job uses (call it on a worker thread): importing it on the main thread when
    the user clicks Generate would freeze the window for tens of milliseconds."""
    from ..generator.job import answers, chunking, run as job, prompts
    from ..generator.bulk import job as bulk
    from ..generator.notes import add as notes
    from ..generator import sources
    from ..generator.backends import http, ollama, openai_compat  # noqa: F401


class ModelPicker(QWidget):
    changed = pyqtSignal()  # the model, the server's state or pulling changed

    def __init__(self, bar: Optional[MessageBar], open_settings: Callable[[], Any],
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.bar = bar
        self.open_settings = open_settings
        self.server_ok = False
        self.server_models: List[str] = []
        self.refreshing = False
        self.pulling = False
        self._pull_cancel: Optional[threading.Event] = None

        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.currentTextChanged.connect(self._on_model_changed)
        row.addWidget(self.combo, 1)
        self.refresh_btn = button("Refresh", self.refresh)
        self.refresh_btn.setToolTip("Ask the server again for its models")
        row.addWidget(self.refresh_btn)
        v.addLayout(row)
        self.status_label = QLabel("Connecting…")
        self.status_label.setWordWrap(True)
        self.status_label.setEnabled(False)
        v.addWidget(self.status_label)
        self.privacy = MessageBar(self)  # where the text goes, when not to this machine
        v.addWidget(self.privacy)
        self.pull_bar = QProgressBar()
        self.pull_bar.setMaximumHeight(14)
        self.pull_label = QLabel("")
        self.pull_cancel_btn = button("Stop", self.cancel_pull)
        self.pull_row = QWidget()
        pull = QHBoxLayout(self.pull_row)
        pull.setContentsMargins(0, 0, 0, 0)
        pull.addWidget(self.pull_bar, 1)
        pull.addWidget(self.pull_label, 1)
        pull.addWidget(self.pull_cancel_btn)
        self.pull_row.hide()
        v.addWidget(self.pull_row)

    # --- the model ----------------------------------------------------------------------------
    def model(self) -> str:
        return self.combo.currentText().strip()

    def set_model(self, name: str) -> None:
        self.combo.setEditText(name)

    def busy(self) -> bool:
        return self.refreshing or self.pulling

    # --- the server ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask the configured server for its models (in the background)."""
        settings = get_settings()
        self.status_label.setText("Connecting to %s…" % settings.url)
        show_privacy(self.privacy, settings.server_url)
        self.refreshing = True
        self.refresh_btn.setEnabled(False)

        def op() -> ServerInfo:
            warm_up()
            return server_info(settings)

        run_network(self, op, self._on_server_info, self.server_failed)

    def _on_server_info(self, info: ServerInfo) -> None:
        if not is_alive(self):
            return
        self.refreshing = False
        self.refresh_btn.setEnabled(True)
        self.server_ok = True
        self.server_models = list(info.models)
        self.status_label.setText(info.status_line())
        current = self.model()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems(self.server_models)
        match = next((m for m in self.server_models if same_model(m, current)), None)
        self.combo.setEditText(match or current)
        self.combo.blockSignals(False)
        self._on_model_changed()

    def server_failed(self, err: BaseException) -> None:
        """The server did not answer (here, or when a job asked it)."""
        if not is_alive(self):
            return
        self.refreshing = False
        self.refresh_btn.setEnabled(True)
        self.server_ok = False
        self.server_models = []
        if self.bar is None:
            self.status_label.setText(esc(error_text(err).split("\n")[0]))
        else:
            self.status_label.setText("No answer from %s" % esc(get_settings().url))
            self.bar.show_message(esc(error_text(err)), "error",
                                  [("Retry", self.refresh), ("Settings…", self.open_settings)],
                                  topic="server")
        self.changed.emit()

    def _on_model_changed(self, *_args: Any) -> None:
        if self.server_ok and self.bar is not None:
            self._offer(self.bar, self.model())
        self.changed.emit()

    def _offer(self, bar: MessageBar, model: str) -> None:
        bar.clear("server")
        if not model:
            bar.show_message("Choose a model.", "warning", topic="model")
        elif self.server_models and not any(same_model(m, model) for m in self.server_models):
            bar.show_message(
                "The model <b>%s</b> is not on the server yet. Pull it (download it to the "
                "server), or choose another model." % esc(model), "warning",
                [("Pull %s" % model, self.pull)], topic="model")
        elif not self.server_models:
            bar.show_message(
                "The server has no models yet. Pull one, e.g. <b>%s</b>." % esc(model),
                "warning", [("Pull %s" % model, self.pull)], topic="model")
        else:
            bar.clear("model")

    # --- pulling ------------------------------------------------------------------------------
    def pull(self, model: str = "") -> None:
        """Download ``model`` (default: the chosen one) to the server, with progress."""
        from ..generator.backends import make_backend

        model = model or self.model() or DEFAULT_PULL
        if self.pulling:
            return
        self.pulling = True
        self._pull_cancel = cancel = threading.Event()
        if self.bar is not None:
            self.bar.clear("model")
        self.pull_row.show()
        self.pull_bar.setRange(0, 0)
        self.pull_label.setText("Pulling %s…" % model)
        settings = get_settings()
        self.changed.emit()

        def progress(status: str, completed: int, total: int) -> None:
            on_main(lambda: self.show_pull_progress(model, status, completed, total))

        def op() -> str:
            backend = make_backend(settings)
            try:
                backend.pull(model, on_progress=progress, cancel=cancel)
            finally:
                backend.close()
            return model

        def done(_model: str) -> None:
            if not is_alive(self):
                return
            self._pull_ended()
            if cancel.is_set():
                if self.bar is not None:
                    self.bar.show_message("Stopped pulling %s." % esc(model), "info",
                                          [("Pull %s" % model, self.pull)], topic="model")
            else:
                tooltip("Pulled %s" % model, parent=self.window())
                self.combo.setEditText(model)
                self.refresh()

        def failed(err: Exception) -> None:
            if not is_alive(self):
                return
            self._pull_ended()
            if self.bar is not None:
                self.bar.show_message(esc(error_text(err)), "error",
                                      [("Retry", lambda: self.pull(model))], topic="model")

        run_long(op, done, failed)

    def _pull_ended(self) -> None:
        self.pulling = False
        self.pull_row.hide()
        self.changed.emit()

    def show_pull_progress(self, model: str, status: str, completed: int, total: int) -> None:
        if not is_alive(self) or not self.pulling:
            return
        if total:
            self.pull_bar.setRange(0, 1000)
            self.pull_bar.setValue(int(1000 * min(completed, total) / total))
            self.pull_label.setText("%s: %s of %s" % (status.split(" ")[0].capitalize() or "Pulling",
                                                     _size(completed), _size(total)))
        else:
            self.pull_bar.setRange(0, 0)
            self.pull_label.setText(status or "Pulling %s…" % model)

    def cancel_pull(self) -> None:
        if self._pull_cancel is not None:
            self._pull_cancel.set()
            self.pull_label.setText("Stopping…")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return ("%.0f %s" if unit in ("B", "KB") else "%.1f %s") % (n, unit)
        n = n / 1024.0
    return "%d B" % n
