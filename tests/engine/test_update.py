"""Updating a document's cards in place: real collections with real review history, the fake
server recording what was sent."""
import os

import pytest

from update_support import (CLIPPINGS, DOC, answer_all, card_normally, options_for, sent_texts, snapshot,
                            target_for, write)

pytestmark = pytest.mark.timeout(120)


def update_once(col, backend, path, options, target, folder, accepted=None, suspend=False):
    from generator.update.apply import apply_update, propose
    from generator.update.plan import plan_update
    from generator.update.run import generate, read_document

    plan = plan_update(col, path, read_document(path))
    generated = generate(plan, backend, options, folder)
    assert generated.complete
    proposal = propose(col, plan, generated.cards, generated.chunks, target)
    result = apply_update(col, proposal, accepted, suspend_removed=suspend)
    generated.finish()
    return plan, proposal, result


def test_one_edited_sentence_updates_one_note_in_place(col, server, backend, tmp_path):
    path = write(tmp_path / "cells.md", DOC)
    options, target = options_for(backend), target_for()
    outcome = card_normally(col, backend, path, options, target)
    assert len(outcome.note_ids) >= 6
    answer_all(col)
    before = snapshot(col)
    assert sum(len(n["revlog"]) for n in before.values()) >= 9  # real history, lapses included
    write(path, DOC.replace("Free ribosomes float in the cytosol of the cell.",
                            "Free ribosomes float in the cytosol and make proteins used there."))
    server.requests.clear()
    plan, proposal, result = update_once(col, backend, path, options, target, str(tmp_path / "j"))

    assert plan.counts()["changed"] == 1 and plan.counts()["new"] == 0
    sent = sent_texts(server)
    assert len(sent) == 1 and "Free ribosomes float in the cytosol and make" in sent[0]
    assert "Mitochondria" not in sent[0] and "plasma membrane" not in sent[0]
    assert result.counts["updated"] == 1, proposal.entries
    assert result.counts["added"] == 0 and result.counts["source_removed"] == 0
    after = snapshot(col)
    assert set(after) == set(before)  # same note ids: nothing added, nothing deleted
    (nid,) = result.updated
    assert "make proteins used there" in after[nid]["fields"][1]
    assert after[nid]["cards"].keys() == before[nid]["cards"].keys()
    assert after[nid]["revlog"] == before[nid]["revlog"]
    assert [c[1:4] for c in after[nid]["cards"].values()] == [c[1:4] for c in before[nid]["cards"].values()]
    for other in set(before) - {nid}:
        assert after[other] == before[other]  # untouched: same mod time, fields, tags, cards
    assert col.undo_status().undo == "Update Flashcards from Source"


def test_second_update_of_unchanged_document_sends_and_changes_nothing(col, server, backend, tmp_path):
    path = write(tmp_path / "cells.md", DOC)
    options, target = options_for(backend), target_for()
    card_normally(col, backend, path, options, target)
    before = snapshot(col)
    server.requests.clear()
    plan, proposal, result = update_once(col, backend, path, options, target, str(tmp_path / "j"))
    assert sent_texts(server) == []
    assert plan.counts()["unchanged"] == len(plan.units)
    assert not result.changed and result.counts["unchanged"] == len(before)
    assert snapshot(col) == before


def test_undo_takes_back_the_notes_and_the_record_together(col, server, backend, tmp_path):
    from generator.update.record import load_index, load

    path = write(tmp_path / "cells.md", DOC)
    options, target = options_for(backend), target_for()
    card_normally(col, backend, path, options, target)
    answer_all(col)
    before = snapshot(col)
    (doc_id,) = load_index(col)
    record_before = load(col, doc_id).to_config()
    write(path, DOC.replace("small genome", "genome of 37 genes"))
    folder = str(tmp_path / "j")
    _plan, _proposal, result = update_once(col, backend, path, options, target, folder)
    assert result.counts["updated"] == 1
    assert load(col, doc_id).to_config() != record_before
    assert col.undo_status().undo == "Update Flashcards from Source"
    col.undo()
    now = snapshot(col)
    for nid in before:  # fields, cards and review history as before the update
        assert now[nid]["fields"] == before[nid]["fields"] and now[nid]["revlog"] == before[nid]["revlog"]
    assert load(col, doc_id).to_config() == record_before
    server.requests.clear()
    _plan, proposal, result = update_once(col, backend, path, options, target, folder)
    assert len(sent_texts(server)) == 1  # the change is seen again: nothing was left half done
    assert result.counts["updated"] == 1 and result.counts["kept"] == 0


def test_a_deleted_note_is_not_added_again_and_a_moved_paragraph_is_not_sent(col, server, backend, tmp_path):
    path = write(tmp_path / "cells.md", DOC)
    options, target = options_for(backend), target_for()
    card_normally(col, backend, path, options, target)
    (gone,) = col.find_notes('"Back:*Ribosomes translate*"')
    col.remove_notes([gone])
    before = snapshot(col)
    moved = DOC.replace("## Membranes", "## Membranes\n\nMembranes also hold receptors that bind hormones.")
    ribosomes = "## Ribosomes\n\nRibosomes translate messenger RNA into proteins. Free ribosomes float in the cytosol of the cell.\n\n"
    moved = moved.replace(ribosomes, "") + "\n" + ribosomes  # the Ribosomes section moved to the end
    write(path, moved)
    server.requests.clear()
    plan, proposal, result = update_once(col, backend, path, options, target, str(tmp_path / "j"))
    sent = sent_texts(server)
    assert len(sent) == 1 and "receptors that bind hormones" in sent[0] and "Ribosomes" not in sent[0]
    assert plan.counts()["new"] == 1 and plan.counts()["changed"] == 0
    assert result.counts["added"] == 1 and result.counts["updated"] == 0
    after = snapshot(col)
    assert gone not in after
    assert all(after[n] == before[n] for n in before)


def test_matching_by_meaning_pairs_what_words_miss(server_with_embeddings):
    from generator.update.match import Side, pair

    server, backend = server_with_embeddings
    old = [Side("Which cell organelles produce the energy?", "Mitochondria", False, 0)]
    new = [Side("Which organelle produces energy for a cell?", "The mitochondrion", False, 0)]
    assert pair(new, old) == []  # by words alone: not the same fact
    found = pair(new, old, embed=lambda texts: backend.embed("all-minilm", texts))
    assert [(i, j) for i, j, _s in found] == [(0, 0)]
    assert any(r["path"] == "/api/embed" for r in server.requests)


@pytest.fixture
def server_with_embeddings():
    from engine_fixtures import backend_for
    from fake_ollama import FakeOllama

    with FakeOllama(models=("llama3.2", "all-minilm"), embedding_models=("all-minilm",)) as server:
        backend = backend_for(server.url)
        yield server, backend
        backend.close()


def test_fingerprints_forgive_spacing_and_quotes_not_words():
    from generator.sources.document import Block
    from generator.update.fingerprint import fingerprint, units_of

    assert fingerprint("A “quoted”  word —\nhere") == fingerprint("A \"quoted\" word - here")
    assert fingerprint("The value is 37.") != fingerprint("The value is 38.")
    units = units_of([Block("heading", "Title", 1), Block("paragraph", "One."), Block("list_item", "a"),
                      Block("list_item", "b"), Block("paragraph", "x | y"), Block("paragraph", "1 | 2"),
                      Block("paragraph", "Two.")])
    assert [u.kind for u in units] == ["heading", "paragraph", "list", "table", "paragraph"]
    assert units[2].text == "- a\n- b" and units[4].heading_path == ("Title",)


def test_a_record_from_outside_is_checked():
    from generator.update.record import DocRecord

    good = DocRecord("0123abcd", "/x/doc.md", "doc.md", ["00000001", "ffffffff"], moved={5: "00000001"})
    assert DocRecord.from_config("0123abcd", good.to_config()) == good
    assert DocRecord.from_config("0123abcd", {"units": "not base64!!"}) is None
    assert DocRecord.from_config("0123abcd", {"units": "AAA="}) is None  # not whole fingerprints
    assert DocRecord.from_config("../../x", good.to_config()) is None
    odd = DocRecord.from_config("0123abcd", dict(good.to_config(), moved={"x": "zz", "7": 5}, path=["a"]))
    assert odd is not None and odd.moved == {} and odd.path == "['a']"


def test_the_mark_leaves_the_source_line_as_other_parts_read_it(col, server, backend, tmp_path):
    from generator.notes.add import SOURCE_LINE
    from generator.update.record import read_mark

    path = write(tmp_path / "cells.md", DOC)
    card_normally(col, backend, path, options_for(backend), target_for())
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        assert read_mark(note.fields) is not None
        assert SOURCE_LINE.search(note["Back"]), note["Back"]  # the line is found, and cut off whole
        assert "data-ollama-flashcards" not in SOURCE_LINE.sub("", note["Back"])


def test_carding_a_copy_makes_its_own_record(col, server, backend, tmp_path):
    from generator.update.record import load_index, same_path

    first = write(tmp_path / "cells.md", DOC)
    options, target = options_for(backend), target_for()
    card_normally(col, backend, first, options, target)
    copy = write(tmp_path / "cells-copy.md", DOC + "\n## Extra\n\nA paragraph only the copy has holds this fact.\n")
    card_normally(col, backend, copy, options, target_for(deck="Copy"))
    paths = list(load_index(col).values())
    assert len(paths) == 2 and any(same_path(p, first) for p in paths) and any(same_path(p, copy) for p in paths)


def card_highlights(col, backend, path, options, target, done=None):
    """Cards of a file's highlights, as the CLI makes them: read with its highlights, each
    highlight the focus of a request, added, recorded, the highlights remembered."""
    from generator.config import FigureMode
    from generator.highlights.focus import HighlightChoice, HighlightMode, asks_with_focus, plan_highlights
    from generator.highlights.read import read_with_highlights
    from generator.job.run import chunk_budget, run_job
    from generator.notes.add import add_cards
    from generator.update.highlights import remember
    from generator.update.track import track_added

    doc = read_with_highlights(path, FigureMode.OFF)
    chunks = plan_highlights([doc], HighlightChoice(HighlightMode.ONLY), chunk_budget(options), done).chunks
    result = run_job(chunks, backend, options, asks=asks_with_focus(options))
    outcome = add_cards(col, result.cards, target)
    track_added(col, path, doc, outcome.added, chunks, target)
    remember(col, [(path, doc)], outcome.added, chunks)
    return outcome


def test_a_clippings_file_is_read_again_as_its_cards_were_made(col, server, backend, tmp_path):
    # the record of a bulk job's files and a note's source read a My Clippings.txt as its
    # highlights (the parts the cards were made from), not as one long text
    from generator.improve.diagnose import diagnose_notes
    from generator.update.record import load, load_index
    from generator.update.track import FileUnits

    path = write(tmp_path / "My Clippings.txt", CLIPPINGS)
    options, target = options_for(backend), target_for()
    outcome = card_highlights(col, backend, path, options, target)
    assert len(outcome.note_ids) == 2
    (doc_id,) = load_index(col)
    found = FileUnits().of(path)
    assert found is not None and [u.fp for u in found[1]] == load(col, doc_id).fps
    for d in diagnose_notes(col, outcome.note_ids):
        assert "the passage it was made from is sent" in d.source.said, d.source.said
        assert d.source.text in CLIPPINGS


def test_which_highlights_were_carded_is_found_without_fingerprinting_the_document(
        col, server, backend, tmp_path, monkeypatch):
    # the record is found by the file's path: reading it whole into parts again would be waste
    import generator.update.fingerprint as fingerprint
    from generator.config import FigureMode
    from generator.highlights.read import read_with_highlights
    from generator.update.highlights import carded_before

    path = write(tmp_path / "My Clippings.txt", CLIPPINGS)
    options, target = options_for(backend), target_for()
    card_highlights(col, backend, path, options, target)
    doc = read_with_highlights(path, FigureMode.OFF)

    def units_of(blocks):
        raise AssertionError("the document was cut into parts again")

    monkeypatch.setattr(fingerprint, "units_of", units_of)
    before = carded_before(col, [(path, doc)])
    assert before[doc.name] == {h.key for h in doc.highlights.items}


def test_a_record_is_found_by_its_path_without_asking_the_disk_about_every_record(col, tmp_path, monkeypatch):
    # the Bulk dialog asks which of its files were carded before on every edit of its list
    from generator.update import record as rec
    from generator.recorded.lookup import recorded_among
    from generator.update.record import DocRecord, find_by_path, save

    paths = [str(tmp_path / ("doc%d.md" % i)) for i in range(60)]
    for p in paths:
        r = DocRecord.new(p, os.path.basename(p))
        r.fps = ["0000abcd"]
        save(col, r)
    real = write(tmp_path / "real.md", "Some text.")
    save(col, DocRecord.new(real, "real.md"))
    link = str(tmp_path / "link.md")
    os.symlink(real, link)
    asked = []
    samefile, stat = os.path.samefile, os.stat
    monkeypatch.setattr(rec.os.path, "samefile", lambda a, b: asked.append(a) or samefile(a, b))
    monkeypatch.setattr(rec.os, "stat", lambda p, *a, **k: asked.append(p) or stat(p, *a, **k))
    assert find_by_path(col, paths[-1]).path == paths[-1]
    assert recorded_among(col, paths[::-1] + [str(tmp_path / "new.md")])[:60] == paths[::-1]
    assert len(asked) <= 1 + len(paths) + 1  # the one unknown path and each record at most once
    asked.clear()
    assert find_by_path(col, paths[0]) is not None and asked == []
    # another spelling of a recorded file is still the same file
    assert find_by_path(col, link).path == os.path.abspath(real)
    assert recorded_among(col, [link, str(tmp_path / "new.md")]) == [link]


LATER = """The Cell (Alberts, Bruce)
- Your Highlight on page 40 | Location 610-611 | Added on Tuesday, March 5, 2019 8:00:00 AM

Ribosomes translate messenger RNA into proteins.
==========
"""


def bulk_job(col, backend, folder, files):
    """A bulk job of ``files`` (their highlights only) as the app runs it: its notes recorded
    batch by batch."""
    from generator.bulk.job import BulkRun, BulkSpec, RunSetup, prepare, start_journal
    from generator.bulk.journal import ChunkIndex
    from generator.bulk.writer import DirectAdder, NoteWriter
    from generator.job.run import JobOptions, prepare_job
    from generator.notes.add import NoteTarget
    from generator.update.track import bulk_recording

    spec = BulkSpec(list(files), JobOptions(model="llama3.2"), NoteTarget(deck="Reading"), highlights="only")
    journal = start_journal(folder, spec, prepare_job(backend, spec.options), sync=False)
    index = ChunkIndex(os.path.join(folder, "added-chunks.jsonl"), sync=False)
    known = prepare(col, journal, index)
    record, read_files = bulk_recording(journal, spec.target)
    writer = NoteWriter(journal, spec.target, spec.skip_duplicates, index, on_added=record)
    run = BulkRun(journal, backend, DirectAdder(col, writer), known,
                  setup=RunSetup(batch_seconds=0, sync=False, before_add=read_files))
    try:
        return run.run()
    finally:
        journal.close()


def test_clippings_grow_in_a_bulk_job(col, server, backend, tmp_path):
    # read again later, a My Clippings.txt gets cards only for the highlights made since
    path = write(tmp_path / "My Clippings.txt", CLIPPINGS)
    first = bulk_job(col, backend, str(tmp_path / "j1"), [path])
    assert len(first.note_ids) == 2 and len(sent_texts(server)) == 2
    write(path, CLIPPINGS + LATER)
    server.requests.clear()
    second = bulk_job(col, backend, str(tmp_path / "j2"), [path])
    sent = sent_texts(server)
    assert len(sent) == 1 and "Ribosomes translate" in sent[0], sent
    assert len(second.note_ids) == 1 and len(col.find_notes("")) == 3
    server.requests.clear()
    third = bulk_job(col, backend, str(tmp_path / "j3"), [path])  # nothing new: nothing asked
    from generator.bulk.status import DONE

    assert sent_texts(server) == [] and third.note_ids == []
    assert third.files[0].state == DONE and not third.files[0].error


def test_the_notes_of_one_document_cut_it_into_parts_once(col, server, backend, tmp_path, monkeypatch):
    # Improve finds each note's passage in its document: one pass over the document for all
    import generator.update.fingerprint as fingerprint
    from generator.improve.diagnose import diagnose_notes

    path = write(tmp_path / "cells.md", DOC)
    outcome = card_normally(col, backend, path, options_for(backend), target_for())
    assert len(outcome.note_ids) >= 6
    passes = []
    units_of = fingerprint.units_of
    monkeypatch.setattr(fingerprint, "units_of", lambda blocks: passes.append(1) or units_of(blocks))
    found = diagnose_notes(col, outcome.note_ids)
    assert all("the passage it was made from is sent" in d.source.said for d in found)
    assert len(passes) == 1


def test_the_browser_menu_asks_one_cheap_question(col, server, backend, tmp_path):
    # "Update from source…" is offered for notes made from a followed file; the question is
    # asked as the menu opens, so it imports nothing of the engine (a fresh process shows it)
    import subprocess
    import sys

    from generator.recorded.lookup import has_marked_notes

    path = write(tmp_path / "cells.md", DOC)
    outcome = card_normally(col, backend, path, options_for(backend), target_for())
    other = col.new_note(col.models.by_name("Basic"))
    other["Front"], other["Back"] = "Q", "A"
    col.add_note(other, col.decks.id_for_name("Default"))
    assert has_marked_notes(col, [other.id, outcome.note_ids[0]])
    assert not has_marked_notes(col, [other.id]) and not has_marked_notes(col, [])
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, generator.recorded.lookup; "
         "print(sorted(m for m in sys.modules if m.startswith('generator')))"],
        cwd=root, capture_output=True, text=True, timeout=60)
    assert loaded.stdout.split() == ["['generator',", "'generator.recorded',", "'generator.recorded.lookup']"], loaded
    with open(os.path.join(root, "__init__.py"), encoding="utf-8") as f:
        menu = f.read().split("def _add_update_action", 1)[1].split("\ndef ", 1)[0]
    assert "has_marked_notes" in menu and "generator.update" not in menu


def test_a_changed_paragraph_is_sent_under_the_headings_that_hold_it():
    from generator.sources.document import HEADING, PARAGRAPH, Block
    from generator.update.fingerprint import units_of
    from generator.update.plan import CHANGED, UNCHANGED, UpdatePlan

    blocks = [Block(HEADING, "Cells", 1, "page 1"), Block(HEADING, "Mitochondria", 2, "page 1"),
              Block(PARAGRAPH, "They make ATP.", 0, "page 1"), Block(HEADING, "Ribosomes", 2, "page 2"),
              Block(PARAGRAPH, "They make proteins.", 0, "page 2"), Block(HEADING, "Plants", 1, "page 3"),
              Block(HEADING, "Ribosomes", 2, "page 3"), Block(PARAGRAPH, "Plants have them too.", 0, "page 3")]
    units = units_of(blocks)
    changed = {"They make proteins.", "Plants have them too."}
    status = [CHANGED if u.blocks[0].text in changed else UNCHANGED for u in units]
    sent = UpdatePlan("x.md", "x.md", units, None, status).blocks_to_send()
    assert [(b.kind, b.text, b.level, b.location) for b in sent] == [
        (HEADING, "Cells", 1, "page 1"), (HEADING, "Ribosomes", 2, "page 2"),
        (PARAGRAPH, "They make proteins.", 0, "page 2"),
        (HEADING, "Plants", 1, "page 3"), (HEADING, "Ribosomes", 2, "page 3"),
        (PARAGRAPH, "Plants have them too.", 0, "page 3")]
