"""Shared fixtures. Keep this small: fixtures with a theme live in their own module.

- The repository root is on sys.path, so tests can ``import generator`` (the engine).
- ``anki_app`` / ``anki_session`` / ``qapp``: the real Anki main window, headless, with the
  add-on installed (tests/anki_app.py). aqt is imported only when a test asks for them.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
for _p in (_ROOT, _HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from anki_app import anki_app, anki_session, qapp  # noqa: E402,F401  (fixtures)
from engine_fixtures import backend, col, server  # noqa: E402,F401  (fixtures)
