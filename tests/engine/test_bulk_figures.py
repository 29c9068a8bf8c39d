"""Figures in a headless bulk job: a slide deck, image files (one broken) and a text file with a
model that can see; the cards' figures reach the collection's media; in review mode they wait
beside the journal (as after a crash) until the cards are added; a model that cannot see gets
the text, and an image file says why it gave nothing."""
import os
import re

import pytest

from engine_fixtures import backend_for
from fake_ollama import FakeOllama
from generator.bulk.job import MODE_REVIEW, BulkSpec, RunSetup, run_headless
from generator.bulk.figures import figures_folder
from generator.bulk.writer import NoteWriter
from generator.bulk.status import DONE, FAILED
from flashcards import qt_graphics
from generator.job.run import JobOptions
from generator.bulk.journal import ChunkIndex, Journal, unfinished
from generator.notes.add import NoteTarget
from pdf_maker import qt_image, slide_deck

COLORS = ["#d62728", "#2ca02c", "#1f77b4"]


def sources(tmp_path):
    deck = tmp_path / "cells.pdf"
    deck.write_bytes(slide_deck(3, [qt_image(400, 300, "JPEG", c) for c in COLORS]))
    photo = tmp_path / "leaf.png"
    photo.write_bytes(qt_image(500, 400, "PNG", "#2ca02c"))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(qt_image(500, 400, "JPEG")[:200])
    notes = tmp_path / "notes.md"
    notes.write_text("# Osmosis\n\nOsmosis moves water across a membrane from low to high solute "
                     "concentration without any energy input.\n")
    return [str(deck), str(photo), str(broken), str(notes)]


def spec(files, model="llava:7b", **kw):
    options = JobOptions(model=model, num_ctx=4096, num_predict=1024, figures="auto")
    return BulkSpec(list(files), options, NoteTarget(deck="Figures", tags=["bulk"]), **kw)


@pytest.mark.timeout(120)
def test_a_bulk_job_sends_images_and_adds_figure_cards_with_their_media(tmp_path, col):
    files = sources(tmp_path)
    with FakeOllama(models=("llava:7b", "llama3.2")) as srv:
        folder = str(tmp_path / "j")
        result = run_headless(col, backend_for(srv.url), folder, spec(files),
                              setup=RunSetup(graphics=qt_graphics()))
    states = {os.path.basename(f.path): f.state for f in result.files}
    assert states == {"cells.pdf": DONE, "leaf.png": DONE, "broken.jpg": FAILED, "notes.md": DONE}
    broken = next(f for f in result.files if f.path.endswith("broken.jpg"))
    assert "broken.jpg" in broken.error and "damaged" in broken.error
    assert len(srv.images) == 4  # three slides rendered, one photo
    notes = [col.get_note(n) for n in col.find_notes("")]
    shown = [n for n in notes if "<img" in n["Front"]]
    assert len(shown) == 4
    for note in shown:
        name = re.search(r'<img src="([^"]+)">', note["Front"]).group(1)
        assert os.path.exists(os.path.join(col.media.dir(), name))
    assert any("Osmosis" in n["Back"] or "Osmosis" in n["Front"] for n in notes)
    assert result.finished and not os.path.exists(figures_folder(result.journal_path))


@pytest.mark.timeout(120)
def test_review_mode_keeps_the_figures_beside_the_journal_until_the_cards_are_added(tmp_path, col):
    files = sources(tmp_path)[:2]
    with FakeOllama(models=("llava:7b",)) as srv:
        folder = str(tmp_path / "j")
        result = run_headless(col, backend_for(srv.url), folder, spec(files, mode=MODE_REVIEW),
                              setup=RunSetup(graphics=None))  # no Qt: the images found in the files, as they are
    assert col.note_count() == 0 and result.pending
    # Anki closes (or crashes) before the review: cards and figures come back from disk
    journal = Journal.open(unfinished(folder)[0])
    pending = journal.state.pending_cards()
    with_figures = [c for c in pending if c.figure]
    assert with_figures
    folder = figures_folder(journal.path)
    assert sorted(os.listdir(folder)) == sorted({c.figure for c in with_figures})
    header = BulkSpec.from_header(journal.state.header)
    writer = NoteWriter(journal, header.target, header.skip_duplicates,
                        ChunkIndex(os.path.join(folder, "added-chunks.jsonl")))
    outcome = writer.add_reviewed(col, pending, [r.id for r in journal.state.pending_chunks()])
    assert outcome.note_ids
    for card in with_figures:
        assert os.path.exists(os.path.join(col.media.dir(), card.figure))
    journal.close()


@pytest.mark.timeout(120)
def test_a_model_that_cannot_see_reads_the_text_and_says_what_a_figure_gave(tmp_path, col):
    files = sources(tmp_path)
    with FakeOllama(models=("llava:7b", "llama3.2")) as srv:
        result = run_headless(col, backend_for(srv.url), str(tmp_path / "j"), spec(files, model="llama3.2"),
                              setup=RunSetup(graphics=qt_graphics()))
    assert srv.images == []
    states = {os.path.basename(f.path): f for f in result.files}
    assert states["cells.pdf"].state == DONE and states["notes.md"].state == DONE
    assert states["leaf.png"].state == FAILED and "cannot see" in states["leaf.png"].error
    assert not any("<img" in col.get_note(n)["Front"] for n in col.find_notes(""))
