"""Driving the add-on's dialogs in the real Anki app (tests/anki_app.py), for the UI tests and
the documentation's screenshots: open the Generate and Bulk dialogs from the Tools menu against a
fake server, run a job and wait for it; the editor's page and its context menu; the sample texts
the dialogs are fed. aqt is imported inside the functions, when a test that has the app runs them."""
import shutil
import socket

import pytest


# --- the Generate dialog ----------------------------------------------------------------------

TEXT = """Photosynthesis

Photosynthesis is the process by which green plants turn light energy into chemical energy.
It takes in carbon dioxide and water and releases oxygen as a by-product.

Chloroplasts are the organelles where photosynthesis happens in plant cells.
The green pigment chlorophyll absorbs red and blue light most strongly.

The Calvin cycle uses ATP and NADPH to fix carbon dioxide into sugar molecules.
"""


def text_for(label: str) -> str:
    """TEXT with every sentence made unique to one test (a short token first), so the cards
    one test adds and keeps are no duplicates in another test sharing the collection."""
    import re
    import zlib

    token = "Q%04x" % (zlib.crc32(label.encode()) & 0xFFFF)
    return re.sub(r"(?m)^(?=[A-Z][a-z]* [A-Za-z])", token + " ", TEXT)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def open_dialog(app, url, **config):
    config.setdefault("max_cards", 4)  # the short TEXT would give 1 card on "Auto"
    app.write_config(url=url, **config)
    app.tools_action("Generate Flashcards…").trigger()
    dlg = app.wait_for_window(app.module("ui.generate").GenerateDialog)
    app.wait_until(dlg.idle, 10, "the model list did not load")
    return dlg


def generate(app, dlg, timeout=20):
    assert dlg.generate_btn.isEnabled()
    dlg.generate_btn.click()
    app.wait_until(lambda: dlg.busy or dlg.message.text(), 15)
    app.wait_until(dlg.idle, timeout, "generation did not finish")


def load_files(app, dlg, paths):
    """Open files in the Generate dialog and wait until they are read."""
    dlg.source.load_files([str(p) for p in paths])
    app.wait_until(dlg.idle, 15, "the files were not read")


def front_cell(app, dlg, card):
    """The review table's front cell of ``card``."""
    review = app.module("ui.review")
    return dlg.table.item(dlg.table.row_of(card), review.COL_FRONT)


def wait_for_generate_dialog(app):
    dlg = app.wait_for_window(app.module("ui.generate").GenerateDialog)
    app.wait_until(dlg.idle, 10)
    return dlg


# --- the editor's page ------------------------------------------------------------------------

def editor_ready(app, editor):
    res = {}

    def ready():
        editor.web.evalWithCallback(
            "!!(window.require && require('anki/NoteEditor').instances[0]"
            " && require('anki/NoteEditor').instances[0].fields.length)",
            lambda r: res.__setitem__("ready", r))
        app.pump(0.05)
        return res.get("ready")

    app.wait_until(ready, 20, "the editor did not load")


def select_first_field(app, editor):
    editor.web.eval("""(async () => {
        const ne = require("anki/NoteEditor").instances[0];
        await ne.fields[0].editingArea.focus();
        document.execCommand("selectAll");
    })()""")
    return app.wait_until(lambda: editor.web.selectedText(), 15, "nothing selected")


def focused_field_point(app, editor):
    """Where the focused field's first line of text is, in the web view's pixels."""
    from aqt.qt import QPoint

    res = {}
    editor.web.evalWithCallback("""(() => {
        let el = document.activeElement;
        while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
        if (!el) return null;
        const r = el.getBoundingClientRect();
        return [r.left + 12, r.top + 8];
    })()""", lambda r: res.__setitem__("p", r))
    app.wait_until(lambda: "p" in res, 15)
    if not res["p"]:
        return QPoint(40, 40)
    zoom = editor.web.zoomFactor()
    return QPoint(int(res["p"][0] * zoom), int(res["p"][1] * zoom))


def editor_menu(app, editor, point=None):
    """The editor's real context menu: a right click on the web view (Chromium asks for the
    menu, EditorWebView.contextMenuEvent builds it and runs the hooks)."""
    from PyQt6.QtTest import QTest
    from aqt import gui_hooks
    from aqt.qt import QPoint, Qt

    menus = []

    def grab(_webview, menu):
        menus.append(menu)

    gui_hooks.editor_will_show_context_menu.append(grab)
    try:
        target = editor.web.focusProxy() or editor.web
        QTest.mouseClick(target, Qt.MouseButton.RightButton, Qt.KeyboardModifier.NoModifier,
                         point or QPoint(40, 40))
        app.wait_until(lambda: menus, 15, "no context menu")
    finally:
        gui_hooks.editor_will_show_context_menu.remove(grab)
    return menus[0]


def action_named(menu, text):
    for action in menu.actions():
        if action.text() == text:
            return action
    raise LookupError("%r not in %r" % (text, [a.text() for a in menu.actions()]))


# --- the Bulk dialog --------------------------------------------------------------------------

MD = """# Rivers

## The Nile
The Nile is the longest river in Africa and flows north into the Mediterranean Sea.
Its two main branches are called the White Nile and the Blue Nile.

## The Amazon
The Amazon carries more water than any other river on Earth.
Its basin covers about seven million square kilometres of South America.
"""


TXT = """Volcanoes

A volcano is an opening in the crust of a planet through which molten rock escapes.
Magma that reaches the surface of the Earth is called lava by geologists.
Shield volcanoes have gentle slopes built from runny basaltic lava flows.
"""


HTML = """<html><head><title>Cells</title></head><body>
<h1>Cells</h1>
<p>The cell membrane controls which substances enter and leave the cell.</p>
<h2>Organelles</h2>
<p>Mitochondria release energy from glucose during cellular respiration.</p>
<p>Ribosomes build proteins from amino acids following instructions in messenger RNA.</p>
</body></html>
"""


@pytest.fixture
def bulk(anki_app):
    """The add-on's bulk module, with this profile's journals cleared."""
    mod = anki_app.module("ui.bulk")
    shutil.rmtree(mod.bulk_folder(), ignore_errors=True)
    anki_app.module("ui.resume")._offered.clear()
    yield mod
    shutil.rmtree(mod.bulk_folder(), ignore_errors=True)


def open_bulk(app, bulk, url, deck, **config):
    app.write_config(url=url, **config)
    app.tools_action("Bulk Generate from Files…").trigger()
    dlg = app.wait_for_window(bulk.BulkDialog)
    app.wait_until(dlg.idle, 10, "the dialog did not settle")
    dlg.options.deck_chooser.selected_deck_id = app.col.decks.id_for_name(deck)
    return dlg


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def deck_notes(col, deck):
    return col.find_notes('"deck:%s"' % deck)


def wait_finished(app, dlg, timeout=30):
    app.wait_until(lambda: not dlg.busy and dlg.last_result is not None, timeout, "the job did not finish")
    app.wait_until(dlg.idle, 10)
