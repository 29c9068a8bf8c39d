"""Lazy access to the pure-Python libraries that travel inside the add-on (pypdf, ftfy).

Importing them costs tens of milliseconds, so nothing imports them at module level: call
``load("pypdf")`` where the library is needed. If the library is not importable from the normal
``sys.path`` (Anki does not ship it), the add-on's own ``vendor`` folder (filled by
``make package``) is appended to ``sys.path`` once and the import is retried.
"""
import importlib
import os
import sys
import threading
from types import ModuleType

from .errors import UnreadableSource

ADDON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR_DIR = os.path.join(ADDON_DIR, "vendor")

_lock = threading.Lock()
_vendor_added = False


class MissingLibrary(UnreadableSource):
    """A library the add-on bundles could not be imported (a broken or partial install)."""

    def __init__(self, name: str, detail: str = "") -> None:
        message = f"The add-on could not load its bundled library '{name}'."
        if detail:
            message += f" ({detail})"
        super().__init__(
            message,
            "Reinstall the add-on (Tools > Add-ons, delete it, then install it again) "
            "and restart Anki.",
        )
        self.name = name


def _forget(name: str) -> None:
    """Drop a half-imported module so that a retry starts clean."""
    if name in sys.modules and sys.modules[name] is None:
        del sys.modules[name]


def _add_vendor() -> bool:
    """Append the vendor folder to sys.path (once). Returns True if it was added now."""
    global _vendor_added
    with _lock:
        if _vendor_added:
            return False
        _vendor_added = True
        if os.path.isdir(VENDOR_DIR) and VENDOR_DIR not in sys.path:
            sys.path.append(VENDOR_DIR)
            importlib.invalidate_caches()
            return True
        return False


def load(name: str) -> ModuleType:
    """Import and return the module ``name``; fall back to the add-on's vendor folder.

    Raises MissingLibrary (an UnreadableSource, so a FlashcardError with a hint) if the library
    cannot be imported at all.
    """
    module = sys.modules.get(name)
    # Not one another thread is still importing: a half-initialised module would fail with
    # "partially initialized module" (import_module waits for that import to finish instead).
    if module is not None and not getattr(getattr(module, "__spec__", None), "_initializing", False):
        return module
    try:
        return importlib.import_module(name)
    except ImportError as first:
        error: BaseException = first
    _forget(name)
    _add_vendor()
    try:
        return importlib.import_module(name)
    except ImportError as second:
        error = second
    except Exception as other:  # a vendored copy that is broken in another way
        error = other
    _forget(name)
    raise MissingLibrary(name, f"{type(error).__name__}: {error}")


def available(name: str) -> bool:
    """True if ``load(name)`` would succeed (imports the library if it can)."""
    try:
        load(name)
        return True
    except MissingLibrary:
        return False
