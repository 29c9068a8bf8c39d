"""The Generate dialog's model list and model pulls (a mixin of ``GenerateDialog``)."""
import threading
from typing import Any

from aqt.utils import tooltip

from .common import (
    error_text,
    esc,
    get_config,
    is_alive,
    on_main,
    run_long,
    run_network,
    server_info,
    show_privacy,
)


def same_model(a: str, b: str) -> bool:
    """'llama3.2' and 'llama3.2:latest' are the same model to Ollama."""
    def norm(name: str) -> str:
        name = name.strip()
        return name[: -len(":latest")] if name.endswith(":latest") else name

    return bool(a) and norm(a) == norm(b)


class GenerateModels:
    """The server's models in the model box, its status line, and pulling a missing model."""

    def refresh_models(self) -> None:
        from ..generator.config import Settings

        cfg = get_config()
        self.status_label.setText("Connecting to %s…" % cfg.get("url"))
        show_privacy(self.privacy, Settings.from_dict(cfg).server_url)
        self.refresh_btn.setEnabled(False)
        run_network(self, lambda: server_info(cfg), self._on_server_info, self._on_server_error)

    def _on_server_info(self, info: Any) -> None:
        if not is_alive(self):
            return
        self.refresh_btn.setEnabled(True)
        self._server_ok = True
        self._server_models = list(info.models)
        self.status_label.setText(info.status_line())
        current = self.model()
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for name in self._server_models:
            self.model_combo.addItem(name)
        match = next((m for m in self._server_models if same_model(m, current)), None)
        self.model_combo.setEditText(match or current)
        self.model_combo.blockSignals(False)
        self._on_model_changed()

    def _on_server_error(self, err: Exception) -> None:
        if not is_alive(self):
            return
        self.refresh_btn.setEnabled(True)
        self._server_ok = False
        self._server_models = []
        url = get_config().get("url")
        self.status_label.setText("No answer from %s" % url)
        self.message.show_message(
            esc(error_text(err)), "error",
            [("Retry", self.refresh_models), ("Settings…", self.open_settings)], topic="server")
        self._update_buttons()

    def _on_model_changed(self, *_args: Any) -> None:
        model = self.model()
        if not self._server_ok:
            self._update_buttons()
            return
        self.message.clear("server")
        if not model:
            self.message.show_message("Choose a model.", "warning", topic="model")
        elif self._server_models and not any(same_model(m, model) for m in self._server_models):
            self.message.show_message(
                "The model <b>%s</b> is not on the server yet. Pull it (download it to the "
                "server), or choose another model." % esc(model), "warning",
                [("Pull %s" % model, self.pull_model)], topic="model")
        elif not self._server_models:
            self.message.show_message(
                "The server has no models yet. Pull one, e.g. <b>%s</b>." % esc(model or "llama3.2"),
                "warning", [("Pull %s" % (model or "llama3.2"), self.pull_model)], topic="model")
        else:
            self.message.clear("model")
        self._update_buttons()

    def pull_model(self, model: str = "") -> None:
        from ..generator.backends import make_backend

        model = model or self.model() or "llama3.2"
        if self.pulling:
            return
        self.pulling = True
        self._pull_cancel = cancel = threading.Event()
        self.message.clear("model")
        self.pull_row.show()
        self.pull_bar.setRange(0, 0)
        self.pull_label.setText("Pulling %s…" % model)
        cfg = get_config()
        self._update_buttons()

        def progress(status: str, completed: int, total: int) -> None:
            on_main(lambda: self._on_pull_progress(model, status, completed, total))

        def op() -> str:
            backend = make_backend(cfg)
            try:
                backend.pull(model, on_progress=progress, cancel=cancel)
            finally:
                backend.close()
            return model

        def done(_model: str) -> None:
            if not is_alive(self):
                return
            self.pulling = False
            self.pull_row.hide()
            if cancel.is_set():
                self.message.show_message("Stopped pulling %s." % esc(model), "info",
                                          [("Pull %s" % model, self.pull_model)], topic="model")
            else:
                tooltip("Pulled %s" % model, parent=self)
                self.model_combo.setEditText(model)
                self.refresh_models()
            self._update_buttons()

        def failed(err: Exception) -> None:
            if not is_alive(self):
                return
            self.pulling = False
            self.pull_row.hide()
            self.message.show_message(esc(error_text(err)), "error",
                                      [("Retry", lambda: self.pull_model(model))], topic="model")
            self._update_buttons()

        run_long(op, done, failed)

    def _on_pull_progress(self, model: str, status: str, completed: int, total: int) -> None:
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


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return ("%.0f %s" if unit in ("B", "KB") else "%.1f %s") % (n, unit)
        n = n / 1024.0
    return "%d B" % n
