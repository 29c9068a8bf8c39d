"""The command line with everything the add-on has: ``python flashcards.py DOC… [options]`` in the
add-on's folder (``python flashcards.py --help``; docs/cli.md).

This script is the command line's composition root, as the dialogs are the app's: the engine
(generator/) never names ui/ or Qt, and takes a graphics adapter from its caller
(``generator.images.figure.Graphics``). Here that is the Qt one, ui/pdf_render.py (it imports
only PyQt6 and the standard library), loaded from its file beside this script when images will
be sent, so that no other module called ``ui`` on sys.path can stand in for it. Without PyQt6 or
QtPdf there is no adapter and the engine does what it can without one, as ``python -m generator``
(the engine's own entry, which has none) always does.

Anki never imports this file; run as a script, its folder is on sys.path, so the engine is the
top-level package ``generator`` here."""
import importlib.util
import os
import sys
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
QT_ADAPTER = os.path.join(HERE, "ui", "pdf_render.py")


def qt_graphics() -> Optional[Any]:
    """The Qt adapter (``QtGraphics``), or None when PyQt6 with QtPdf cannot be imported."""
    name = "_ollama_flashcards_pdf_render"
    try:
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, QT_ADAPTER)
            if spec is None or spec.loader is None:
                return None
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[name] = module
        return module.QtGraphics()
    except Exception:  # no PyQt6, no QtPdf, or no ui/ beside this script
        return None


if __name__ == "__main__":
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from generator.cli.main import exit_now, main

    exit_now(main(graphics=qt_graphics))
