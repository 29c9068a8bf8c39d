"""The README's screenshots of the two context-menu ways in, taken from the real app: the editor's
menu on a selection and the Browser's menu on notes, each drawn over its window where it opens.

Written under the temp base folder on every run; with OF_SCREENSHOTS=1 also to docs/:

    OF_SCREENSHOTS=1 .venv/bin/python -m pytest -q tests/docs/test_docs_screenshots.py
"""
import os

import aqt
from aqt.qt import QPainter, QPoint
from dialogs import TEXT, action_named, editor_menu, editor_ready, focused_field_point, select_first_field


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def save_with_menu(app, window, menu, at, action, name):
    """``window`` with ``menu`` drawn at ``at`` (window coordinates), ``action`` highlighted."""
    menu.setActiveAction(action)
    menu.adjustSize()
    app.pump(0.1)
    shot = window.grab()
    painter = QPainter(shot)
    try:
        painter.drawPixmap(at, menu.grab())
    finally:
        painter.end()
    out = app.base / "screenshots" / (name + ".png")
    out.parent.mkdir(parents=True, exist_ok=True)
    assert shot.save(str(out))
    if os.environ.get("OF_SCREENSHOTS") == "1":
        assert shot.save(os.path.join(ROOT, "docs", name + ".png"))
    return out, shot


def test_editor_menu_screenshot(anki_app):
    add = aqt.dialogs.open("AddCards", anki_app.mw)
    anki_app.resize(add, 900, 520)
    editor = add.editor
    anki_app.wait_until(lambda: editor.note is not None, 10)
    editor.note.fields[0] = TEXT.replace("\n", "<br>")
    editor.loadNote()
    editor_ready(anki_app, editor)
    select_first_field(anki_app, editor)
    point = focused_field_point(anki_app, editor)
    menu = editor_menu(anki_app, editor, point)
    action = action_named(menu, "Generate flashcards from selection")
    at = editor.web.mapTo(add, point) + QPoint(60, 70)
    out, shot = save_with_menu(anki_app, add, menu, at, action, "editor-menu")
    menu.close()
    add.close()
    anki_app.pump(0.2)
    assert shot.width() >= 800 and out.stat().st_size > 10000


def test_browser_menu_screenshot(anki_app):
    col = anki_app.col
    deck = "Biology"  # this module's Anki has a collection of its own
    did = col.decks.id(deck, create=True)
    basic = next(m for m in col.models.all() if m.get("originalStockKind") == 1)
    for front, back in [
        ("Mitochondria", "Organelles that make most of the cell's ATP."),
        ("Ribosomes", "The machines that build proteins from amino acids."),
        ("Chloroplasts", "Where photosynthesis happens in plant cells."),
    ]:
        note = col.new_note(basic)
        note.fields = [front, back]
        col.add_note(note, did)
    browser = aqt.dialogs.open("Browser", anki_app.mw, search=('"deck:%s"' % deck,))
    anki_app.resize(browser, 1100, 560)
    browser.form.splitter.setSizes([760, 340])  # the table wide enough to read
    anki_app.wait_until(lambda: browser.table.len() == 3, 10)
    browser.table.select_all()
    anki_app.wait_until(lambda: len(browser.selected_notes()) == 3, 15)
    menus = []
    anki_app.menu_choice = lambda menu: menus.append(menu)  # look, choose nothing
    browser.table._on_context_menu(QPoint())
    anki_app.take("QMenu")
    assert menus
    menu = menus[0]
    action = action_named(menu, "Generate flashcards from 3 notes")
    view = browser.table._view
    at = view.viewport().mapTo(browser, QPoint(120, 50))
    out, shot = save_with_menu(anki_app, browser, menu, at, action, "browser-menu")
    # the Browser is left to the harness, which closes Anki's windows the way Anki does
    # (closing it here too made its editor clean up twice, after its widget was gone)
    assert shot.width() >= 1000 and out.stat().st_size > 10000
