"""``python -m generator``: the program's composition root, the one module of generator/ that
names the add-on's ui/. The engine takes a graphics adapter from its caller (``images.figure.
Graphics``); here the CLI gets the Qt one, ui/pdf_render.py beside the engine (it imports only
PyQt6 and the standard library), loaded from its file when images will be sent, so that no
other module called ``ui`` on sys.path can stand in for it. Without PyQt6 or QtPdf there is no
adapter, and the images are sent as the sources hold them, where they may be."""
import importlib.util
import os
import sys
from typing import Optional

from .cli.main import exit_now, main
from .images.figure import Graphics

QT_ADAPTER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ui", "pdf_render.py")


def qt_graphics() -> Optional[Graphics]:
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
        graphics: Graphics = module.QtGraphics()
        return graphics
    except Exception:  # no PyQt6, no QtPdf, or no ui/ beside the engine
        return None


if __name__ == "__main__":
    exit_now(main(graphics=qt_graphics))
