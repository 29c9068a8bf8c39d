"""Screenshots of every dialog, light and dark, normal and small, from the real app.

They are written to the temp profile on every run; with OF_SCREENSHOTS=1 also to docs/.
The committed docs/*.png are made with

    OF_SCREENSHOTS=1 .venv/bin/python -m pytest -q tests/ui/test_ui_screenshots.py tests/ui/test_ui_generate.py tests/ui/test_ui_quality.py

(test_ui_generate.py adds progress, server-down and pull-offer; test_ui_quality.py the review list
with flagged cards, review-flagged). The small-window test also
checks that the layout holds: the splitter stacks and the buttons stay inside the window."""
import contextlib

import pytest

from fake_ollama import Reply
from dialogs import TEXT, generate, open_dialog

# What a good model answers for TEXT (the fake server's own cards are made for tests, not looks).
CARDS = [
    {"front": "What does photosynthesis turn light energy into?", "back": "Chemical energy.",
     "n": 2},
    {"front": "Which gas do plants release during photosynthesis?",
     "back": "Oxygen, as a by-product.", "n": 3},
    {"front": "In which organelles does photosynthesis happen?", "back": "In the chloroplasts.",
     "n": 4},
    {"front": "Which colours of light does chlorophyll absorb most strongly?",
     "back": "Red and blue light.", "n": 5},
    {"front": "What does the Calvin cycle use to fix carbon dioxide?",
     "back": "ATP and NADPH.", "n": 6},
]


@contextlib.contextmanager
def theme(app, dark):
    from aqt.theme import Theme

    mw = app.mw
    old = mw.pm.theme()
    mw.set_theme(Theme.DARK if dark else Theme.LIGHT)
    app.pump(0.1)
    try:
        yield
    finally:
        mw.set_theme(old)
        app.pump(0.1)


def fill_review(app, dlg, server):
    dlg.source.edit.setPlainText(TEXT)
    server.script(Reply.cards(CARDS))
    generate(app, dlg)
    cards = dlg.table.cards
    assert len(cards) == len(CARDS)
    cards[3].grounded = False  # show what the marks look like
    cards[4].duplicate = "collection"
    dlg.table.refresh_marks()
    dlg.table.set_checked(4, False)
    dlg.table.selectRow(0)


def rows_shown(app, table):
    """(front, back) of every row as the review table shows them."""
    review = app.module("ui.review")
    return [(table.item(r, review.COL_FRONT).text(), table.item(r, review.COL_BACK).text())
            for r in range(table.rowCount())]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_generate_and_review_screenshots(anki_app, server, dark):
    with theme(anki_app, dark):
        dlg = open_dialog(anki_app, server.url, max_cards=5)
        anki_app.resize(dlg, 1100, 700)
        suffix = "-dark" if dark else ""
        dlg.source.edit.setPlainText(TEXT)
        dlg.options.tags_edit.setText("biology ollama-flashcards")
        anki_app.pump(0.1)
        shot = anki_app.screenshot(dlg, "generate-dialog" + suffix)
        assert (anki_app.lightness(shot) < 0.5) is dark  # the theme the file name says
        assert dlg.generate_btn.isVisible() and dlg.generate_btn.isEnabled()
        fill_review(anki_app, dlg, server)
        shot = anki_app.screenshot(dlg, "review" + suffix)
        assert (anki_app.lightness(shot) < 0.5) is dark
        assert rows_shown(anki_app, dlg.table) == [(c["front"], c["back"]) for c in CARDS]
        assert dlg.add_btn.isVisible() and dlg.add_btn.text() == "Add 4 cards"  # the duplicate unchecked
        dlg.table.set_all_checked(False)  # close without asking


def test_small_window_stacks_and_keeps_the_buttons(anki_app, server):
    dlg = open_dialog(anki_app, server.url, max_cards=5)
    fill_review(anki_app, dlg, server)
    anki_app.resize(dlg, 640, 480)
    anki_app.pump(0.2)
    from aqt.qt import Qt

    assert dlg.splitter.orientation() == Qt.Orientation.Vertical
    for b in (dlg.generate_btn, dlg.add_btn, dlg.close_btn):
        assert b.isVisible()
        assert dlg.rect().contains(b.geometry().translated(b.parentWidget().mapTo(dlg, b.pos()) - b.pos()))
    shot = anki_app.screenshot(dlg, "generate-small")
    assert anki_app.lightness(shot) > 0.5  # the light theme
    assert [front for front, _back in rows_shown(anki_app, dlg.table)] == [c["front"] for c in CARDS]
    anki_app.resize(dlg, 1000, 650)
    anki_app.pump(0.1)
    assert dlg.splitter.orientation() == Qt.Orientation.Horizontal
    dlg.table.set_all_checked(False)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_settings_screenshots(anki_app, dark):
    settings = anki_app.module("ui.settings")
    with theme(anki_app, dark):
        dlg = settings.SettingsDialog(anki_app.mw)
        anki_app.resize(dlg, 640, 760)
        dlg.show()
        anki_app.pump(0.1)
        shot = anki_app.screenshot(dlg, "settings" + ("-dark" if dark else ""))
        assert (anki_app.lightness(shot) < 0.5) is dark
        # the stored settings, as a user reads them on the Server page
        cfg = anki_app.config()
        assert dlg.url.text() == cfg["url"] and dlg.model.currentText() == cfg["model"]
        assert dlg.values()["url"] == cfg["url"]
        assert dlg.buttons.isVisible() and dlg.test_btn.isVisible()
        dlg.reject()
