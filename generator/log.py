"""The add-on's own log. By default it records what happened (chunks, timings, errors), never
the user's text or the cards: that needs ``log_content`` switched on. Secrets are never logged."""
import logging
import os
from typing import Optional

LOGGER_NAME = "ollama_flashcards"
_log = logging.getLogger(LOGGER_NAME)
_log.addHandler(logging.NullHandler())
_state = {"content": False}


def configure(path: Optional[str], log_content: bool = False, level: int = logging.INFO) -> None:
    """Log to ``path`` (a file in user_files/, say); ``None`` keeps the log off."""
    _state["content"] = bool(log_content)
    for handler in list(_log.handlers):
        if not isinstance(handler, logging.NullHandler):
            _log.removeHandler(handler)
            handler.close()
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        _log.addHandler(handler)
    _log.setLevel(level)
    _log.propagate = False


def event(message: str, *args: object) -> None:
    """Metadata only: ids, counts, timings, error messages."""
    _log.info(message, *args)


def content(label: str, text: str) -> None:
    """User text, prompts or answers: written only when content logging is on."""
    if _state["content"]:
        _log.info("%s:\n%s", label, text)
