"""Modules of ui/ that need no Qt (the review list's state, ...), imported outside Anki.

ui/ imports the engine relatively (``from ..generator ...``), so its modules load as parts of
the add-on's package. ``module("ui.review_rows")`` loads one under the package name
``of_addon`` without running the add-on's ``__init__.py`` (which would import aqt); the engine
types it uses come from the same package: ``module("generator.cards.card").Card``."""
import importlib
import sys
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "of_addon"


def module(name: str) -> Any:
    if PACKAGE not in sys.modules:
        package = types.ModuleType(PACKAGE)
        package.__path__ = [str(ROOT)]  # a package over the add-on's folder, __init__ not run
        sys.modules[PACKAGE] = package
    return importlib.import_module(PACKAGE + "." + name)
