"""Figures in the real app (headless): an image file, a pasted image and dropped files as
sources of the Generate dialog; the figures choice and the "cannot see" line; figure cards in
the review table (thumbnail, mark) and in the collection (media); figures in the fields of notes
picked in the Browser. The fake server knows which models can see and checks the images'
form on the wire. The README's screenshot of figure cards is made here (OF_SCREENSHOTS=1)."""
import os
import re

import aqt
import pytest
from aqt.qt import QImage, QMimeData, QPoint, QUrl

from fake_ollama import FakeOllama, Reply
from pdf_maker import qt_image, slide_deck
from dialogs import action_named, front_cell, generate, load_files, open_dialog, wait_for_generate_dialog

COLORS = ["#d62728", "#2ca02c", "#1f77b4"]


@pytest.fixture
def vision_server():
    with FakeOllama(models=("llama3.2", "llava:7b")) as s:
        yield s


@pytest.mark.timeout(120)
def test_an_image_file_gives_figure_cards_with_thumbnails_and_media(anki_app, vision_server, tmp_path):
    png = tmp_path / "mitosis.png"
    png.write_bytes(qt_image(800, 600, "PNG"))
    dlg = open_dialog(anki_app, vision_server.url, model="llava:7b")
    try:
        load_files(anki_app, dlg, [png])
        assert "mitosis.png" in dlg.source.label.text() and "1 image" in dlg.source.label.text()
        anki_app.wait_until(lambda: dlg.source.images.labels, 15, "no thumbnail of the image")
        generate(anki_app, dlg)
        assert len(vision_server.images) == 1
        figure_cards = [c for c in dlg.table.cards if c.figure]
        assert figure_cards, dlg.message.text()
        card = figure_cards[0]
        assert "Shows figure" in dlg.table.marks_of(card)
        assert front_cell(anki_app, dlg, card).data(0x1) is not None  # DecorationRole: the thumbnail
        # editing the question keeps the figure
        dlg.table.edit_cell(card, anki_app.module("ui.review").COL_FRONT, "What phase is shown?")
        assert card.front.startswith("What phase is shown?") and ('<img src="%s">' % card.figure) in card.front
        dlg.table.set_all_checked(False)
        dlg.table.set_checked(dlg.table.row_of(card), True)
        dlg.add_btn.click()
        anki_app.wait_until(lambda: dlg.adder.last_added, 10)
        note = anki_app.col.get_note(dlg.adder.last_added[0])
        name = re.search(r'<img src="([^"]+)">', note["Front"]).group(1)
        assert name == card.figure
        path = os.path.join(anki_app.col.media.dir(), name)
        data = open(path, "rb").read()
        assert data.startswith(b"\x89PNG") and data in vision_server.images
    finally:
        dlg.close()


@pytest.mark.timeout(120)
def test_a_pasted_image_and_dropped_files_become_sources(anki_app, vision_server, tmp_path):
    dlg = open_dialog(anki_app, vision_server.url, model="llava:7b")
    try:
        dlg.source.edit.setPlainText("Cells divide by mitosis into two daughter cells of equal size.")
        image = QImage(400, 300, QImage.Format.Format_RGB32)
        image.fill(0x3366CC)
        mime = QMimeData()
        mime.setImageData(image)
        assert dlg.source.edit.canInsertFromMimeData(mime)
        dlg.source.edit.insertFromMimeData(mime)
        anki_app.wait_until(dlg.idle, 10)
        names = [d.name for d in dlg.source.documents()]
        assert names == ["pasted text", "pasted image.png"]  # the typed text stays
        assert "1 image" in dlg.source.label.text()
        generate(anki_app, dlg)
        assert len(vision_server.images) == 1
        assert {c.source.document for c in dlg.table.cards} == {"pasted text", "pasted image.png"}

        deck = tmp_path / "cells.pdf"
        deck.write_bytes(slide_deck(2, [qt_image(400, 300, "JPEG", c) for c in COLORS]))
        drop = QMimeData()
        drop.setUrls([QUrl.fromLocalFile(str(deck))])
        dlg.source.edit.insertFromMimeData(drop)
        anki_app.wait_until(dlg.idle, 15)
        assert [d.name for d in dlg.source.documents()] == ["cells.pdf"]
    finally:
        dlg.table.set_all_checked(False)
        dlg.close()


@pytest.mark.timeout(120)
def test_the_figures_choice_and_the_cannot_see_line(anki_app, vision_server, tmp_path):
    deck = tmp_path / "cells.pdf"
    deck.write_bytes(slide_deck(3, [qt_image(400, 300, "JPEG", c) for c in COLORS]))
    dlg = open_dialog(anki_app, vision_server.url, model="llama3.2", figures="auto", max_cards=0)
    try:
        load_files(anki_app, dlg, [deck])
        dlg.check_figures()
        anki_app.wait_until(dlg.idle, 10)
        assert dlg.figures.warning.isVisible()
        assert "llama3.2" in dlg.figures.warning.text() and "cannot see" in dlg.figures.warning.text()
        assert "cells.pdf" in dlg.figures.warning.text()
        generate(anki_app, dlg)
        assert vision_server.images == []  # text only
        assert "cannot see" in dlg.message.text() and dlg.table.cards

        dlg.models.set_model("llava:7b")
        dlg.check_figures()
        anki_app.wait_until(dlg.idle, 10)
        assert not dlg.figures.warning.isVisible()

        dlg.models.set_model("llama3.2")
        dlg.figures.set_mode("off")
        dlg.check_figures()
        anki_app.wait_until(dlg.idle, 10)
        assert not dlg.figures.warning.isVisible()
        generate(anki_app, dlg)
        assert anki_app.config()["figures"] == "off"  # remembered
        assert vision_server.images == [] and "cannot see" not in dlg.message.text()

        dlg.models.set_model("llava:7b")
        dlg.figures.set_mode("slides")
        generate(anki_app, dlg)
        assert len(vision_server.images) == 3
        assert anki_app.config()["figures"] == "slides"
    finally:
        dlg.table.set_all_checked(False)
        dlg.close()
        anki_app.write_config(figures="auto")


@pytest.mark.timeout(120)
def test_figures_in_the_fields_of_notes_from_the_browser(anki_app, vision_server):
    col = anki_app.col
    anki_app.write_config(url=vision_server.url, model="llava:7b")
    deck = anki_app.new_deck("Figures")
    did = col.decks.id_for_name(deck)
    basic = next(m for m in col.models.all() if m.get("originalStockKind") == 1)
    image = col.media.write_data("cell-diagram.png", qt_image(300, 200, "PNG", "#2ca02c"))
    note = col.new_note(basic)
    note.fields = ["The plant cell", 'Its wall is made of cellulose fibres laid in layers. <img src="%s">'
                   % image]
    col.add_note(note, did)
    only = col.new_note(basic)
    only.fields = ['<img src="%s">' % image, '<img src="../../etc/passwd">']
    col.add_note(only, did)

    browser = aqt.dialogs.open("Browser", anki_app.mw, search=('"deck:%s"' % deck,))
    anki_app.wait_until(lambda: browser.table.len() == 2, 10)
    browser.table.select_all()
    anki_app.wait_until(lambda: len(browser.selected_notes()) == 2, 15)
    anki_app.menu_choice = lambda menu: action_named(menu, "Generate flashcards from 2 notes")
    browser.table._on_context_menu(QPoint())
    assert anki_app.take("QMenu")
    dlg = wait_for_generate_dialog(anki_app)
    try:
        docs = dlg.source.documents()
        assert len(docs) == 2 and all(d.figures is not None and d.figures.figures for d in docs)
        generate(anki_app, dlg)
        assert len(vision_server.images) == 2  # one image per note (the same file)
        assert any(c.figure for c in dlg.table.cards)
        assert any("outside the document" in line for line in dlg.figure_notes)  # ../../etc/passwd
    finally:
        dlg.table.set_all_checked(False)
        dlg.close()  # (the Browser stays open, as in the other Browser tests)


# What a model that can see might answer for each slide (the fake server's cards are for tests).
SLIDE_CARDS = [
    [{"front": "Which phase of the cell cycle does this diagram show?", "back": "Prophase: the "
      "chromosomes condense.", "quote": "", "figure": "1"},
     {"front": "What guards the cell cycle at checkpoint 1?", "back": "Cyclin-dependent kinases.",
      "quote": "checkpoint 1 guards the phase", "figure": ""}],
    [{"front": "What happens in the phase shown here?", "back": "The spindle pulls the sister "
      "chromatids apart.", "quote": "", "figure": "1"}],
    [{"front": "Which structure is marked in the middle of the figure?", "back": "The metaphase "
      "plate.", "quote": "", "figure": "1"},
     {"front": "What rises and falls during the cell cycle?", "back": "The level of cyclins.",
      "quote": "cyclins rise and fall", "figure": ""}],
]


@pytest.mark.timeout(120)
def test_screenshot_of_figure_cards_in_the_review_table(anki_app, vision_server, tmp_path):
    deck = tmp_path / "cell-cycle.pdf"
    deck.write_bytes(slide_deck(3, [qt_image(400, 300, "JPEG", c) for c in COLORS]))
    dlg = open_dialog(anki_app, vision_server.url, model="llava:7b", figures="auto", parallel_requests=1,
                      max_cards=0)
    try:
        load_files(anki_app, dlg, [deck])
        vision_server.script(*[Reply.cards(cards) for cards in SLIDE_CARDS])
        generate(anki_app, dlg)
        shown = [c for c in dlg.table.cards if c.figure]
        assert len(shown) == 3 and [c.source.location for c in shown] == ["page 1", "page 2", "page 3"]
        anki_app.resize(dlg, 1100, 720)
        dlg.table.selectRow(0)
        anki_app.screenshot(dlg, "figure-cards")
    finally:
        dlg.table.set_all_checked(False)
        dlg.close()


@pytest.mark.timeout(180)
def test_the_bulk_dialog_has_the_figures_choice_and_sends_images(anki_app, vision_server, tmp_path):
    import shutil

    bulk = anki_app.module("ui.bulk")
    shutil.rmtree(bulk.bulk_folder(), ignore_errors=True)
    anki_app.module("ui.resume")._offered.clear()
    deck_file = tmp_path / "cells.pdf"
    deck_file.write_bytes(slide_deck(3, [qt_image(400, 300, "JPEG", c) for c in COLORS]))
    photo = tmp_path / "leaf.png"
    photo.write_bytes(qt_image(500, 400, "PNG", "#2ca02c"))
    anki_app.write_config(url=vision_server.url, model="llama3.2", figures="auto", bulk_mode="add")
    anki_app.tools_action("Bulk Generate from Files…").trigger()
    dlg = anki_app.wait_for_window(bulk.BulkDialog)
    try:
        anki_app.wait_until(dlg.idle, 10)
        deck = anki_app.new_deck("BulkFigures")
        dlg.options.deck_chooser.selected_deck_id = anki_app.col.decks.id_for_name(deck)
        assert dlg.add_paths([str(deck_file), str(photo)]) == 2
        dlg.check_figures()
        anki_app.wait_until(dlg.idle, 10)
        assert dlg.figures.warning.isVisible() and "cannot see" in dlg.figures.warning.text()
        assert "cells.pdf" in dlg.figures.warning.text() and "leaf.png" in dlg.figures.warning.text()
        dlg.models.set_model("llava:7b")
        dlg.figures.set_mode("slides")
        dlg.check_figures()
        anki_app.wait_until(dlg.idle, 10)
        assert not dlg.figures.warning.isVisible()
        dlg.start_btn.click()
        anki_app.wait_until(lambda: not dlg.busy and dlg.last_result is not None, 60, "the job did not finish")
        anki_app.wait_until(dlg.idle, 10)
        assert len(vision_server.images) == 4 and anki_app.config()["figures"] == "slides"
        col = anki_app.col
        notes = [col.get_note(n) for n in col.find_notes('"deck:%s"' % deck)]
        shown = [re.search(r'<img src="([^"]+)">', n["Front"]).group(1) for n in notes if "<img" in n["Front"]]
        assert len(shown) == 4
        assert all(os.path.exists(os.path.join(col.media.dir(), p)) for p in shown)
    finally:
        dlg.close()
        anki_app.write_config(figures="auto")
        shutil.rmtree(bulk.bulk_folder(), ignore_errors=True)
