"""Image occlusion from labelled figures, on PDFs the tests write with labels at known points:
the figures found (and the pages with none), every mask measured against its label's true box
(it covers the label and reaches at most 1% of the page's width beyond it) on plain, rotated
and cropped pages, labels inside and around a drawing, around an embedded image, on a slide;
axis ticks and figure numbers never hidden; the model's choice of labels read as untrusted;
the notes of Anki's own Image Occlusion type, read back with Anki's own parser."""
import json
import time

import pytest

from fake_ollama import FakeOllama, Reply
from flashcards import qt_graphics
from generator.config import FigureMode
from generator.job.run import JobOptions
from generator.occlusion.choose import TICK, by_rules, label_role
from generator.occlusion.find import find_figures, is_label
from generator.occlusion.make import OcclusionRun
from generator.occlusion.notes import OCCLUSION_TAG, add_occlusion_notes, occlusion_text, share
from generator.sources.with_figures import read_source_bytes
from engine_fixtures import backend_for
from occlusion_pages import (
    CELL_LABELS,
    CHART_TICKS,
    HEART_LABELS,
    figures_pdf,
    heart_page,
)
from pdf_maker import PdfMaker

TOLERANCE = 0.01  # of the page's width: how far a mask may reach beyond its label


@pytest.fixture(scope="module")
def graphics():
    g = qt_graphics()
    assert g is not None, "PyQt6 with QtPdf is part of the test environment"
    return g


def notes_of(data, graphics, backend=None, name="figures.pdf", options=None):
    doc = read_source_bytes(data, name, FigureMode.AUTO)
    return OcclusionRun(graphics, backend, options or JobOptions(model="llama3.2")).documents([doc])


def measure(note, placed, page_width):
    """Each mask against the true box of the label it hides: (label, covers, reach beyond it)."""
    truth = {label.text: placed[1].true_box(label) for label in placed[0]}
    area = note.area
    out = []
    for mask in note.masks:
        left, top, right, bottom = truth[mask.text]
        box = mask.on_page(area)
        covers = box.left <= left and box.top <= top and box.right >= right and box.bottom >= bottom
        reach = max(left - box.left, top - box.top, box.right - right, box.bottom - bottom)
        out.append((mask.text, covers, reach / page_width))
    return out


def assert_masks_fit(result, placed_pages):
    assert result.notes, result.messages
    for note in result.notes:
        placed = placed_pages[note.source.page - 1]
        width = placed[1].shown_size[0]
        for text, covers, reach in measure(note, placed, width):
            assert covers, f"page {note.source.page}: the mask of {text!r} does not cover it"
            assert reach <= TOLERANCE, f"page {note.source.page}: the mask of {text!r} reaches {reach:.2%}"


# --- finding and masking ------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_each_labelled_figure_is_found_with_its_caption_and_no_other_page(graphics):
    data, placed = figures_pdf()
    result = notes_of(data, graphics)
    pages = {n.source.page: n for n in result.notes}
    assert sorted(pages) == [1, 2, 3, 4, 5], result.messages  # not the text page, not the table
    assert pages[1].header == "The chambers of the heart."
    assert pages[5].header == "Glycolysis in three steps"  # a slide without caption: its title
    assert {m.text for m in pages[1].masks} == set(HEART_LABELS)
    assert {m.text for m in pages[2].masks} == set(CELL_LABELS)  # inside the drawing and out
    assert {m.text for m in pages[4].masks} == {"Stem", "Leaf", "Root hair", "Xylem"}  # an image
    assert_masks_fit(result, placed)


@pytest.mark.timeout(60)
def test_axis_ticks_and_figure_numbers_are_never_hidden(graphics):
    data, placed = figures_pdf(["chart"])
    result = notes_of(data, graphics)
    (note,) = result.notes
    hidden = {m.text for m in note.masks}
    assert hidden == {"Time (min)", "Heart rate", "Exercise", "Rest"}
    assert not hidden & set(CHART_TICKS)
    assert set(CHART_TICKS) <= set(note.labels)  # they were read, and left visible
    assert_masks_fit(result, placed)
    assert [label_role(t) for t in ("12", "0.5", "-3", "10 mm", "37 °C", "50%", "mV", "(kg)", "Fig. 3",
                                    "Figure 2b", "(a)", "B")] == [TICK] * 6 + ["unit", "unit"] + \
        ["figure number"] * 2 + ["panel letter"] * 2
    assert [label_role(t) for t in ("Aorta", "Left atrium", "CO2", "Acetyl-CoA", "Layer 2")] == [""] * 5


@pytest.mark.timeout(60)
@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_masks_fit_their_labels_on_a_rotated_page(graphics, rotate):
    pdf = PdfMaker()
    placed = [heart_page(pdf, rotate=rotate)]
    result = notes_of(pdf.build(), graphics)
    (note,) = result.notes
    assert {m.text for m in note.masks} == set(HEART_LABELS)
    assert note.header == "The chambers of the heart."  # the caption, beside the figure as shown
    assert_masks_fit(result, placed)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("rotate", [0, 90])
def test_masks_fit_their_labels_on_a_cropped_page(graphics, rotate):
    pdf = PdfMaker()
    placed = [heart_page(pdf, rotate=rotate, crop=(40, 120, 580, 760))]
    result = notes_of(pdf.build(), graphics)
    (note,) = result.notes
    assert {m.text for m in note.masks} == set(HEART_LABELS)
    assert_masks_fit(result, placed)


@pytest.mark.timeout(60)
def test_the_image_shows_the_figure_area_and_the_masks_are_its_shares(graphics):
    data, _placed = figures_pdf(["heart"])
    (note,) = notes_of(data, graphics).notes
    assert note.image.startswith(b"\x89PNG") and max(note.width, note.height) == 1280
    assert abs(note.width / note.height - note.area.width / note.area.height) < 0.01
    for mask in note.masks:
        assert 0 <= mask.left < mask.left + mask.width <= 1 and 0 <= mask.top < mask.top + mask.height <= 1
    assert [m.ordinal for m in note.masks] == [1, 2, 3, 4]
    assert note.source.document == "figures.pdf" and note.source.page == 1


def test_labels_are_short_runs_not_sentences_bullets_or_captions():
    assert all(is_label(t) for t in ("Aorta", "Left atrium", "Right ventricle", "CO2", "Acetyl-CoA"))
    assert not any(is_label(t) for t in ("- happens in the cytoplasm", "• bullet", "1. first",
                                         "This is a full sentence.", "Figure 3. A cell",
                                         "A very long label with many words in it", "—"))


@pytest.mark.timeout(60)
def test_the_search_is_bounded_in_time_and_says_which_pages_it_left(graphics):
    data, _placed = figures_pdf(["heart", "cell"])
    renderer = graphics.open_pdf(data)
    try:
        search = find_figures(renderer, "figures.pdf", seconds=0)
    finally:
        renderer.close()
    assert search.figures == [] and search.notes == [
        "'figures.pdf': pages 1 to 2 were not searched for labelled figures (it took longer than 0 s)."]


# --- the model's choice ---------------------------------------------------------------------------

def chosen(server_reply, graphics, pages=("heart",)):
    data, _placed = figures_pdf(pages)
    with FakeOllama() as server:
        server.script(*server_reply)
        backend = backend_for(server.url)
        try:
            result = notes_of(data, graphics, backend)
        finally:
            backend.close()
        return result, server.chat_bodies()


@pytest.mark.timeout(60)
def test_the_model_groups_labels_and_writes_the_header(graphics):
    answer = {"figure": True, "header": "Chambers of the heart", "groups": [[1, 3], [2], [4]]}
    result, bodies = chosen([Reply(content=json.dumps(answer))], graphics)
    (note,) = result.notes
    assert note.header == "Chambers of the heart"
    groups = {}
    for m in note.masks:
        groups.setdefault(m.ordinal, []).append(m.text)
    assert groups == {1: ["Right atrium", "Right ventricle"], 2: ["Left atrium"], 3: ["Left ventricle"]}
    assert note.cards == 3
    (body,) = bodies
    user = body["messages"][-1]["content"]
    assert "Caption: Figure 1. The chambers of the heart." in user
    assert "[1] Right atrium" in user and "images" not in body["messages"][-1]  # text only
    assert body["format"]["required"] == ["figure", "header", "groups"]


@pytest.mark.timeout(60)
def test_a_hostile_answer_is_bounded_and_only_the_given_labels_count(graphics):
    answer = {"figure": True, "header": "<script>x</script>" + "H" * 5000,
              "groups": [[1, 1, 99, -2, "3", True, 2.5], [1, 2], "junk", [4] * 50]}
    result, _ = chosen([Reply(content=json.dumps(answer))], graphics)
    (note,) = result.notes
    assert "<" not in note.header and len(note.header) <= 160
    assert [(m.ordinal, m.text) for m in note.masks] == [(1, "Right atrium"), (2, "Left atrium"),
                                                         (3, "Left ventricle")]


@pytest.mark.timeout(60)
def test_a_figure_the_model_judges_not_worth_learning_gives_no_note(graphics):
    result, _ = chosen([Reply(content=json.dumps({"figure": False, "header": "", "groups": []}))], graphics)
    assert result.notes == [] and result.figures == 1
    assert result.messages == ["'figures.pdf', page 1: a labelled figure with no label worth hiding was left out."]


@pytest.mark.timeout(60)
def test_when_the_model_answers_nothing_usable_twice_the_rules_choose_and_say_so(graphics):
    result, bodies = chosen([Reply(content="no json here"), Reply(content="[]")], graphics)
    (note,) = result.notes
    assert len(bodies) == 2 and note.cards == 4 and note.header == "The chambers of the heart."
    assert "every label is hidden, each on a card of its own" in note.note
    assert any("every label is hidden" in m for m in result.messages)


def test_the_rules_join_a_label_broken_over_two_lines():
    from generator.occlusion.find import Box, LabelledFigure, Run

    runs = [Run("Left", Box(100, 100, 130, 112)), Run("ventricle", Box(96, 114, 150, 126)),
            Run("Aorta", Box(300, 100, 340, 112)), Run("Septum", Box(300, 200, 350, 212))]
    figure = LabelledFigure(1, 612, 792, Box(50, 50, 400, 300), runs)
    assert [[r.text for r in g] for g in by_rules(figure).groups] == [["Left", "ventricle"], ["Aorta"], ["Septum"]]


# --- the notes ------------------------------------------------------------------------------------

def test_the_occlusion_field_is_anki_s_own_text():
    from generator.occlusion.masks import Mask

    masks = [Mask(0.1, 0.2, 0.3, 0.04, 1, "a"), Mask(0.5, 0.25, 0.125, 0.05, 2, "b"), Mask(0.0, 0.9, 1.0, 0.1, 1, "c")]
    assert occlusion_text(masks) == (
        "{{c1::image-occlusion:rect:left=.1000:top=.2000:width=.3000:height=.0400:oi=1}}<br>"
        "{{c1::image-occlusion:rect:left=.0000:top=.9000:width=1.0000:height=.1000:oi=1}}<br>"
        "{{c2::image-occlusion:rect:left=.5000:top=.2500:width=.1250:height=.0500:oi=1}}")


@pytest.mark.timeout(60)
def test_notes_are_anki_image_occlusion_notes_that_anki_reads_back(graphics, col):
    data, _placed = figures_pdf(["heart", "chart"])
    result = notes_of(data, graphics)
    added = add_occlusion_notes(col, result.notes, "Anatomy", ["ollama-flashcards"])
    assert len(added.note_ids) == 2 and added.skipped == []
    assert col.undo_status().undo == "Generate Flashcards"
    for nid, item in zip(added.note_ids, result.notes):
        note = col.get_note(nid)
        nt = note.note_type()
        assert nt["originalStockKind"] == 6  # Anki's Image Occlusion
        read = col.get_image_occlusion_note(nid)
        assert read.WhichOneof("value") == "note", read
        io = read.note
        assert io.header == item.header and item.source.document in io.back_extra and "p. " in io.back_extra
        assert bytes(io.image_data) == item.image  # the image is in the media folder
        # Anki reads the field back as groups of shapes (with their card number since 24.x)
        read_back = sorted((getattr(o, "ordinal", None), sorted(
            (s.shape, tuple((p.name, p.value) for p in s.properties)) for s in o.shapes)) for o in io.occlusions)
        ours = sorted((ordinal, sorted(("rect", (("left", share(m.left)), ("top", share(m.top)),
                                                 ("width", share(m.width)), ("height", share(m.height)),
                                                 ("oi", "1")))
                                       for m in item.masks if m.ordinal == ordinal))
                      for ordinal in {m.ordinal for m in item.masks})
        assert sorted(shapes for _o, shapes in read_back) == sorted(shapes for _o, shapes in ours)
        if read_back[0][0] is not None:
            assert read_back == ours
        assert len(note.cards()) == item.cards  # one card per group
        assert {c.did for c in note.cards()} == {col.decks.id_for_name("Anatomy")}
        assert OCCLUSION_TAG in note.tags and "ollama-flashcards::source::figures.pdf::p%d" % item.source.page \
            in note.tags
    col.undo()
    assert col.find_notes("") == []


@pytest.mark.timeout(60)
def test_a_collection_without_the_note_type_gets_anki_s_own(graphics, col):
    for entry in col.models.all_names_and_ids():
        if col.models.get(entry.id).get("originalStockKind") == 6:
            col.models.remove(entry.id)
    data, _placed = figures_pdf(["heart"])
    added = add_occlusion_notes(col, notes_of(data, graphics).notes, "Default")
    (nid,) = added.note_ids
    assert col.get_note(nid).note_type()["originalStockKind"] == 6


@pytest.mark.timeout(60)
def test_an_unchecked_note_is_not_added(graphics, col):
    data, _placed = figures_pdf(["heart", "cell"])
    notes = notes_of(data, graphics).notes
    notes[0].checked = False
    added = add_occlusion_notes(col, notes, "Default")
    assert len(added.note_ids) == 1 and col.get_note(added.note_ids[0])["Header"] == "An animal cell."


@pytest.mark.timeout(60)
def test_without_a_renderer_it_says_what_is_needed():
    data, _placed = figures_pdf(["heart"])
    result = notes_of(data, None)
    assert result.notes == [] and result.messages == [
        "'figures.pdf': Image occlusion notes need PyQt6 with QtPdf to render the figures (Anki has "
        "it; on the command line, run python flashcards.py with PyQt6 installed)."]


@pytest.mark.timeout(60)
def test_finding_is_fast_on_pages_without_labels(graphics):
    from occlusion_pages import slide_deck_with_figures

    data = slide_deck_with_figures(60, every=20)
    renderer = graphics.open_pdf(data)
    try:
        start = time.monotonic()
        search = find_figures(renderer, "deck.pdf")
        seconds = time.monotonic() - start
    finally:
        renderer.close()
    assert [f.page for f in search.figures] == [20, 40, 60] and search.drawn == 3
    assert seconds < 10, seconds


# --- figures that are only pixels -----------------------------------------------------------------

def raster_result(graphics, replies, vision=True):
    from pdf_maker import qt_image

    image = qt_image(400, 300, "PNG")
    doc = read_source_bytes(image, "diagram.png", FigureMode.AUTO)
    with FakeOllama(models=("llama3.2", "gemma3:4b")) as server:
        server.script(*replies)
        backend = backend_for(server.url)
        try:
            options = JobOptions(model="gemma3:4b" if vision else "llama3.2", vision=vision)
            result = OcclusionRun(graphics, backend, options).documents([doc])
        finally:
            backend.close()
        return result, server.chat_bodies()


@pytest.mark.timeout(60)
def test_a_raster_figure_gets_the_boxes_of_a_model_that_can_see_and_starts_unchecked(graphics, col):
    boxes = {"Stem": [100, 100, 250, 150], "Leaf": [600, 120, 700, 170], "Root hair": [300, 800, 520, 850]}
    labels = [{"text": t, "box": b} for t, b in boxes.items()] + [
        {"text": "10", "box": [900, 900, 950, 950]},  # a scale's number: read, never hidden
        {"text": "bad", "box": [5, 5, 5, 5]}, {"text": "worse", "box": ["a", 1, 2, 3]}, {"text": "", "box": [1, 2, 3, 4]},
        {"box": [1, 2, 3, 4]}, {"text": "x" * 1000, "box": [0, 0, -10, 2000]}]
    result, bodies = raster_result(graphics, [Reply(content=json.dumps({"labels": labels}))])
    (note,) = result.notes
    assert note.check_masks and not note.checked and "check that each covers its label" in note.note
    assert note.width == 400 and note.height == 300
    assert {m.text for m in note.masks} == set(boxes)
    for mask in note.masks:
        l, t, r, b = boxes[mask.text]
        left, top, right, bottom = l / 1000, t / 1000, r / 1000, b / 1000
        assert mask.left <= left and mask.top <= top
        assert mask.left + mask.width >= right and mask.top + mask.height >= bottom
        reach = max(left - mask.left, (mask.left + mask.width) - right) * 400
        assert reach <= TOLERANCE * 400
    see, choose_body = bodies
    assert len(see["messages"][-1]["images"]) == 1 and "thousandths" in see["messages"][-1]["content"]
    assert "images" not in choose_body["messages"][-1]  # the choice is asked in text only
    note.checked = True  # the user looked at the masks and kept it
    (nid,) = add_occlusion_notes(col, [note], "Default").note_ids
    assert "ollama-flashcards::check-masks" in col.get_note(nid).tags


@pytest.mark.timeout(60)
def test_without_a_model_that_can_see_a_raster_figure_says_what_would_help(graphics):
    result, bodies = raster_result(graphics, [], vision=False)
    assert result.notes == [] and bodies == []
    assert result.messages == ["'diagram.png': its figures are images without a text layer: image "
                               "occlusion notes need a PDF whose labels are text, or a model that can see."]


@pytest.mark.timeout(60)
def test_a_model_that_sees_no_label_gives_no_note_and_says_so(graphics):
    result, _ = raster_result(graphics, [Reply(content=json.dumps({"labels": []}))])
    assert result.notes == [] and result.messages == ["'diagram.png': the model found no text label in it."]


@pytest.mark.timeout(60)
def test_cards_and_occlusion_notes_are_added_together_in_one_undo_step(graphics, col):
    from generator.cards.card import Card, SourceRef
    from generator.notes.add import NoteTarget
    from generator.occlusion.cards import add_all, as_card

    data, _placed = figures_pdf(["heart", "cell"])
    shown = [as_card(n) for n in notes_of(data, graphics).notes]
    assert shown[0].kind == "occlusion" and shown[0].front == "The chambers of the heart."
    assert shown[0].back == "Right atrium<br>Left atrium<br>Right ventricle<br>Left ventricle"
    assert shown[0].to_json()["occlusion"]["cards"] == 4 and "image" not in shown[0].to_json()
    shown[1].front = "An animal cell, edited"  # the user edited the header in review
    basic = Card("basic", front="What pumps blood?", back="The heart", source=SourceRef("figures.pdf"))
    result = add_all(col, [basic] + shown, NoteTarget("Anatomy", tags=["mine"]))
    assert len(result.note_ids) == 3 and [c for c, _n in result.added] == [basic] + shown
    io = col.get_note(result.added[2][1])
    assert io["Header"] == "An animal cell, edited" and "mine" in io.tags
    assert col.undo_status().undo == "Generate Flashcards"
    col.undo()
    assert col.find_notes("") == []


@pytest.mark.timeout(60)
def test_an_occlusion_note_left_out_is_counted_with_its_reason(graphics, col):
    """Every card given to the add is accounted for, an occlusion note that cannot be made too."""
    from generator.notes.accounting import Reason
    from generator.notes.add import NoteTarget
    from generator.occlusion.cards import add_all, as_card

    data, _placed = figures_pdf(["heart", "cell"])
    shown = [as_card(n) for n in notes_of(data, graphics).notes]
    shown[1].occlusion.masks = []  # nothing left to hide: no note can be made of it
    result = add_all(col, shown, NoteTarget("Anatomy"))
    assert len(result.note_ids) == 1 and [c for c, _why in result.skipped] == [shown[1]]
    account = result.account()
    assert account.made == 2 and account.added == 1 and account.left == {Reason.UNUSABLE: 1} and account.balanced


@pytest.mark.timeout(60)
def test_a_figure_already_in_the_collection_is_a_duplicate(graphics, col):
    from generator.occlusion.cards import as_card, mark_known

    data, _placed = figures_pdf(["heart", "cell"])
    first = notes_of(data, graphics).notes
    add_occlusion_notes(col, first[:1], "Default")
    again = [as_card(n) for n in notes_of(data, graphics).notes + notes_of(data, graphics).notes[1:]]
    assert mark_known(col, again) == 2
    assert [c.duplicate for c in again] == ["collection", None, "batch"]


@pytest.mark.timeout(60)
def test_the_duplicate_check_reads_only(graphics, col):
    # a check run in a read-only step never adds the note type to a collection that has none
    from generator.occlusion.cards import as_card, mark_known

    for entry in col.models.all_names_and_ids():
        if col.models.get(entry.id).get("originalStockKind") == 6:
            col.models.remove(entry.id)
    names = sorted(e.name for e in col.models.all_names_and_ids())
    data, _placed = figures_pdf(["heart"])
    twice = [as_card(n) for n in notes_of(data, graphics).notes * 2]
    assert mark_known(col, twice) == 1 and [c.duplicate for c in twice] == [None, "batch"]
    assert sorted(e.name for e in col.models.all_names_and_ids()) == names


@pytest.mark.timeout(60)
def test_a_page_crowded_with_labels_and_specks_is_searched_in_bounded_time(graphics):
    from pdf_maker import Label

    pdf = PdfMaker()
    labels = [Label("L%d" % i, 20 + (i % 40) * 14.5, 40 + (i // 40) * 9, 5) for i in range(3200)]
    specks = b" ".join(b"%d %d 1 1 re f" % (15 + (i % 60) * 10, 30 + (i // 60) * 13) for i in range(3600))
    pdf.labelled_page(labels, b"0 0 0 rg " + specks)
    renderer = graphics.open_pdf(pdf.build())
    try:
        start = time.monotonic()
        search = find_figures(renderer, "crowded.pdf")
        seconds = time.monotonic() - start
    finally:
        renderer.close()
    assert search.pages == 1 and search.drawn == 1
    assert seconds < 15, seconds
