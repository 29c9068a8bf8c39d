"""Shared fixtures. Keep this small: fixtures with a theme live in their own module.

- Tests are grouped by what they exercise: ``engine/`` (generator/ without Qt), ``cli/`` (the
  command line as a subprocess), ``ui/`` (the dialogs in the real Anki app), ``package/`` (the
  .ankiaddon built and installed). Helpers shared by tests live in support modules here at tests/
  (``dialogs``, ``cli_run``, ``html_safety``, ``labelled_sets``, ``timing``, ...); a test module
  never imports another test module. The fake model server is ``tools/fake_ollama.py`` (bench/
  and ``make run DEMO=1`` use it too).
- On sys.path: the repository root (``import generator``), tests/ and its folders, and tools/.
- ``anki_app`` / ``anki_session`` / ``qapp``: the real Anki main window, headless, with the
  add-on installed (tests/anki_app.py). aqt is imported only when a test asks for them.
- Marker ``app``: a test that starts the real Anki app. Set here for every test using one of those
  fixtures (or marked explicitly); ``make test-fast`` runs ``-m "not app"``.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
_GROUPS = ("engine", "cli", "ui", "package")
for _p in [os.path.join(_ROOT, "tools")] + [os.path.join(_HERE, g) for g in _GROUPS] + [_HERE, _ROOT]:
    if _p not in sys.path:
        sys.path.insert(0, _p)

from anki_app import anki_app, anki_session, qapp  # noqa: E402,F401  (fixtures)
from engine_fixtures import backend, col, server  # noqa: E402,F401  (fixtures)


APP_FIXTURES = {"anki_app", "anki_session", "qapp"}


def pytest_collection_modifyitems(config, items):
    """Mark every test that starts the real Anki app (through its fixtures) with ``app``."""
    import pytest

    for item in items:
        if APP_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.app)
