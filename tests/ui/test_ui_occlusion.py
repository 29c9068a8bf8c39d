"""Image occlusion in the real app (headless): the card kind "Image occlusion (from labelled
figures)" in the Generate dialog on a PDF of labelled figures; each note a row with its figure
and masks as thumbnail, unchecked like any card; the notes added are of Anki's own Image
Occlusion type and open in Anki's Image Occlusion editor; a raster figure with the fake server's
boxes arrives unchecked and marked "Check the masks"; beside Basic cards the figures are offered.
The README's screenshot of reviewed occlusion notes is made here (OF_SCREENSHOTS=1)."""
import json

import aqt
import pytest

from fake_ollama import FakeOllama, Reply
from dialogs import bulk, deck_notes, front_cell, generate, load_files, open_bulk, open_dialog  # noqa: F401  (bulk: a fixture)
from occlusion_pages import HEART_LABELS, figures_pdf
from pdf_maker import qt_image

KIND_TITLE = "Image occlusion (from labelled figures)"


@pytest.fixture
def vision_server():
    with FakeOllama(models=("llama3.2", "gemma3:4b")) as s:
        yield s


def choose_kind(app, dlg, kind):
    combo = dlg.options.kind_combo
    index = combo.findData("kind:" + kind)
    assert index >= 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)
    app.pump(0.05)
    return combo.itemText(index)


def mask_editor_loads(app, note_id):
    """Open the note in the Browser and wait for Anki's Image Occlusion editor to load its image
    (Anki's own hook, fired by the editor's page when the mask editor has the note's image)."""
    from aqt import gui_hooks

    loaded = []

    def on_loaded(_editor, path_or_nid):
        loaded.append(path_or_nid)

    gui_hooks.editor_mask_editor_did_load_image.append(on_loaded)
    browser = aqt.dialogs.open("Browser", app.mw, search=("nid:%d" % note_id,))
    try:
        app.wait_until(lambda: browser.table.len() >= 1, 10)  # a row per card, or the note
        browser.table._select_rows([0])
        app.wait_until(lambda: loaded, 30, "Anki's Image Occlusion editor did not load the note")
        return loaded
    finally:
        gui_hooks.editor_mask_editor_did_load_image.remove(on_loaded)
        browser.close()
        app.pump(0.2)


def studied(app, deck_id, name):
    """The deck's first card in Anki's reviewer, once its page has drawn the masks over the
    figure (Anki's own Image Occlusion script fills the canvas over the image)."""
    mw = app.mw
    app.col.decks.select(deck_id)
    mw.moveToState("review")
    app.wait_until(lambda: mw.reviewer.card is not None, 10, "the reviewer shows no card")
    state = {}

    def drawn():
        mw.reviewer.web.evalWithCallback(
            "(() => { const c = document.getElementById('image-occlusion-canvas');"
            " const img = document.querySelector('#image-occlusion-container img');"
            " return !!(c && img && img.complete && img.naturalWidth > 0 && c.width > 0); })()",
            lambda r: state.__setitem__("drawn", r))
        app.pump(0.1)
        return state.get("drawn")

    try:
        app.wait_until(drawn, 20, "the reviewer did not draw the figure and its masks")
        app.pump(0.5)
        app.resize(mw, 900, 640)
        app.pump(0.3)
        return app.screenshot(mw, name)
    finally:
        mw.moveToState("deckBrowser")
        app.pump(0.2)


@pytest.mark.timeout(180)
def test_the_kind_image_occlusion_makes_notes_that_open_in_anki_s_editor(anki_app, server, tmp_path):
    pdf = tmp_path / "anatomy.pdf"
    pdf.write_bytes(figures_pdf(["heart", "cell", "chart", "slide", "text"])[0])
    dlg = open_dialog(anki_app, server.url)
    try:
        assert choose_kind(anki_app, dlg, "occlusion") == KIND_TITLE
        load_files(anki_app, dlg, [pdf])
        generate(anki_app, dlg, timeout=60)
        rows = dlg.table.cards
        assert [c.kind for c in rows] == ["occlusion"] * 4, dlg.message.text()
        heart, cell_figure, chart, slide = rows
        assert heart.front == "The chambers of the heart." and "Left atrium" in heart.back
        assert "Image occlusion" in dlg.table.marks_of(heart)
        cell = front_cell(anki_app, dlg, heart)
        assert cell.data(0x1) is not None  # DecorationRole: the figure with its masks
        assert cell.toolTip().startswith('<img src="data:image/png;base64,')
        assert dlg.add_btn.text() == "Add 4 cards"
        anki_app.resize(dlg, 1100, 720)
        dlg.table.selectRow(0)
        anki_app.screenshot(dlg, "occlusion-review")
        for other in (cell_figure, chart, slide):
            dlg.table.set_checked(dlg.table.row_of(other), False)  # unchecked like any card
        deck = anki_app.new_deck("Occlusion")
        dlg.options.deck_chooser.selected_deck_id = anki_app.col.decks.id_for_name(deck)
        dlg.add_btn.click()
        anki_app.wait_until(lambda: dlg.adder.last_added, 10)
        (nid,) = dlg.adder.last_added
        note = anki_app.col.get_note(nid)
        assert note.note_type()["originalStockKind"] == 6 and len(note.cards()) == 4
        assert anki_app.col.decks.name(note.cards()[0].did) == deck
        assert "Added" in dlg.table.marks_of(heart)
        assert mask_editor_loads(anki_app, nid) == [nid]
        studied(anki_app, anki_app.col.decks.id_for_name(deck), "occlusion-studied")
        generate(anki_app, dlg, timeout=60)  # again: the heart is in the collection now
        again = dlg.table.review_rows.cards_of_run(dlg.run_no)
        assert again[0].duplicate == "collection" and not dlg.table.is_checked(dlg.table.row_of(again[0]))
        assert [c.duplicate for c in again[1:]] == [None, None, None]
    finally:
        dlg.table.set_all_checked(False)
        dlg.close()


@pytest.mark.timeout(180)
def test_a_raster_figure_with_a_model_that_sees_arrives_unchecked_to_check_its_masks(
        anki_app, vision_server, tmp_path):
    png = tmp_path / "seedling.png"
    png.write_bytes(qt_image(600, 400, "PNG", "#2ca02c"))
    labels = [{"text": "Stem", "box": [100, 100, 250, 150]}, {"text": "Leaf", "box": [600, 120, 720, 170]},
              {"text": "Root hair", "box": [300, 800, 520, 850]}]
    vision_server.script(Reply(content=json.dumps({"labels": labels})))
    dlg = open_dialog(anki_app, vision_server.url, model="gemma3:4b")
    try:
        choose_kind(anki_app, dlg, "occlusion")
        load_files(anki_app, dlg, [png])
        generate(anki_app, dlg, timeout=60)
        (card,) = dlg.table.cards
        assert card.occlusion.check_masks
        assert "Check the masks" in dlg.table.marks_of(card)
        assert not dlg.table.is_checked(dlg.table.row_of(card))
        assert front_cell(anki_app, dlg, card).data(0x1) is not None
        assert len(vision_server.images) == 1
    finally:
        dlg.close()


@pytest.mark.timeout(180)
def test_beside_basic_cards_the_labelled_figures_are_offered_unchecked(anki_app, server, tmp_path):
    pdf = tmp_path / "heart.pdf"
    pdf.write_bytes(figures_pdf(["heart", "text"])[0])
    dlg = open_dialog(anki_app, server.url, max_cards=3)
    try:
        choose_kind(anki_app, dlg, "basic")
        load_files(anki_app, dlg, [pdf])
        generate(anki_app, dlg, timeout=60)
        kinds = [c.kind for c in dlg.table.cards]
        assert kinds.count("basic") >= 1 and kinds.count("occlusion") == 1
        (offered,) = [c for c in dlg.table.cards if c.kind == "occlusion"]
        assert {m.text for m in offered.occlusion.masks} == set(HEART_LABELS)
        assert "Offered" in dlg.table.marks_of(offered)
        assert not dlg.table.is_checked(dlg.table.row_of(offered))
    finally:
        dlg.table.set_all_checked(False)
        dlg.close()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["review", "add"])
def test_the_bulk_dialog_makes_image_occlusion_notes_from_its_files(anki_app, server, bulk, tmp_path, mode):
    from occlusion_pages import chart_page, heart_page, image_page
    from pdf_maker import PdfMaker

    # figures of their own (turned, another colour): none is in the collection yet
    pdf = PdfMaker()
    heart_page(pdf, rotate=90 if mode == "review" else 270)
    first = tmp_path / "heart.pdf"
    first.write_bytes(pdf.build())
    pdf = PdfMaker()
    image_page(pdf, qt_image(400, 300, "JPEG", "#9467bd" if mode == "review" else "#8c564b"))
    chart_page(pdf)
    second = tmp_path / "seedling.pdf"
    second.write_bytes(pdf.build())
    deck = anki_app.new_deck("BulkOcclusion")
    dlg = open_bulk(anki_app, bulk, server.url, deck, bulk_mode=mode)
    try:
        choose_kind(anki_app, dlg, "occlusion")
        assert dlg.add_paths([str(first), str(second)]) == 2
        dlg.start()
        anki_app.wait_until(lambda: not dlg.busy, 60, "the job did not end")
        anki_app.wait_until(dlg.idle, 10)
        table = dlg.review.table
        rows = [r.card for r in table.rows]
        assert [c.front for c in rows] == ["The chambers of the heart.", "A seedling.",
                                           "Heart rate during exercise and at rest."], dlg.message.text()
        review = anki_app.module("ui.review")
        assert all(table.item(table.row_of(c), review.COL_FRONT).data(0x1) is not None for c in rows)
        if mode == "review":
            assert deck_notes(anki_app.col, deck) == [] and dlg.review.add_btn.isEnabled()
            table.set_checked(table.row_of(rows[2]), False)  # unchecked like any card
            assert dlg.review.add_btn.text() == "Add 2 cards"
            dlg.review.add_btn.click()
            anki_app.wait_until(lambda: dlg.occlusion.last_added, 10)
        else:
            anki_app.wait_until(lambda: dlg.occlusion.last_added, 10)
        added = [anki_app.col.get_note(n) for n in deck_notes(anki_app.col, deck)]
        assert len(added) == (2 if mode == "review" else 3)
        assert "Added %d image occlusion notes to %s." % (len(added), deck) in dlg.message.text()
        anki_app.wait_until(dlg.idle, 10)
        assert not dlg.review.add_btn.isEnabled()  # nothing waits to be added any more
        assert {n.note_type()["originalStockKind"] for n in added} == {6}
        assert all("Added" in table.marks_of(c) for c in rows[:2])
    finally:
        dlg.close()


@pytest.mark.timeout(180)
def test_bulk_review_offers_the_labelled_figures_beside_the_cards(anki_app, server, bulk, tmp_path):
    from occlusion_pages import cell_page
    from pdf_maker import PdfMaker

    pdf = PdfMaker()
    cell_page(pdf)
    path = tmp_path / "cell.pdf"
    path.write_bytes(pdf.build())
    deck = anki_app.new_deck("BulkOffered")
    dlg = open_bulk(anki_app, bulk, server.url, deck, bulk_mode="review")
    try:
        choose_kind(anki_app, dlg, "basic")
        assert dlg.add_paths([str(path)]) == 1
        dlg.start()
        anki_app.wait_until(lambda: not dlg.busy and dlg.last_result is not None, 60, "the job did not end")
        anki_app.wait_until(dlg.idle, 10)
        table = dlg.review.table
        cards = table.cards
        offered = [c for c in cards if c.kind == "occlusion"]
        assert len(offered) == 1 and any(c.kind == "basic" for c in cards), [c.kind for c in cards]
        assert "Offered" in table.marks_of(offered[0]) and not table.is_checked(table.row_of(offered[0]))
        review = anki_app.module("ui.review")
        assert table.item(table.row_of(offered[0]), review.COL_FRONT).data(0x1) is not None
        table.set_all_checked(False)
        table.set_checked(table.row_of(offered[0]), True)
        basic = next(c for c in cards if c.kind == "basic")
        table.set_checked(table.row_of(basic), True)
        dlg.review.add_btn.click()
        anki_app.wait_until(lambda: not dlg.review.table.cards, 10, "the review was not added")
        kinds = sorted(anki_app.col.get_note(n).note_type()["originalStockKind"]
                       for n in deck_notes(anki_app.col, deck))
        assert kinds == [1, 6]
        assert anki_app.col.undo_status().undo == "Generate Flashcards"
    finally:
        dlg.close()
