"""Improving struggling cards in the real Anki app: the Browser's right-click on notes → Improve
with Ollama…, and Tools → Improve struggling cards…; the cards were answered through Anki's own
scheduler; Apply is one undo step that Edit → Undo takes back whole. With OF_SCREENSHOTS=1 the
README's screenshots (docs/improve-dialog.png, docs/struggling-cards.png) are made here."""
import json

import aqt
import pytest
from aqt.qt import QPoint

from dialogs import action_named
from fake_ollama import Reply
from history_fixtures import add_basic, card_ids, deck, forget, remember, revlog

pytestmark = pytest.mark.timeout(120)

SPLIT = {"action": "split", "reason": "Two facts on one card: one note for each.",
         "split": [{"front": "Which molecule do mitochondria make for the cell's energy?", "back": "ATP"},
                   {"front": "Which ion do mitochondria store?", "back": "Calcium"}]}
REWRITE = {"action": "rewrite", "reason": "A one-word question can be answered many ways; ask for the "
                                          "product and its source.",
           "front": "What does the chloroplast make from light?", "back": "Glucose"}
KEEP = {"action": "keep", "reason": "The card is clear; it is forgotten because it is confused with a "
                                    "similar card, which is improved instead."}


def answer_by_content(server, broken=False):
    """The model's answer to each note's request, whichever order they come in."""
    def answerer(body):
        if broken:
            return Reply(content="Sorry, I can't do JSON today {{{")
        user = body["messages"][-1]["content"]
        item = dict(SPLIT if "mitochondria" in user else REWRITE if "Chloroplast" in user else KEEP)
        item.update({"id": "1", "front": item.get("front", ""), "back": item.get("back", ""),
                     "split": item.get("split", [])})
        return Reply(content=json.dumps({"notes": [item]}))
    server.answerer = answerer


def struggling_notes(anki_app):
    """A deck whose leech threshold is 3, with two leeches and a note that is fine."""
    col = anki_app.col
    name = anki_app.new_deck("Improve")
    deck(col, name, leech_fails=3)
    nids = {
        "split": add_basic(col, name, "What do mitochondria do?", "They make ATP and store calcium"),
        "rewrite": add_basic(col, name, "Chloroplast?", "Glucose from light"),
        "keep": add_basic(col, name, "Capital of Peru?", "Lima"),
    }
    forget(col, card_ids(col, nids["split"])[0], 5)
    forget(col, card_ids(col, nids["rewrite"])[0], 3)
    forget(col, card_ids(col, nids["keep"])[0], 3)
    return name, nids


def state(col, nids):
    """What must come back after an undo: the notes, their cards' scheduling, the review log,
    and which notes exist."""
    ids = ",".join(str(n) for n in nids)
    return (col.db.all(f"select id, mod, flds, tags from notes where id in ({ids}) order by id"),
            col.db.all(f"select id, nid, type, queue, due, ivl, lapses from cards where nid in ({ids}) order by id"),
            revlog(col, [c for n in nids for c in card_ids(col, n)]),
            col.db.scalar("select count() from notes"))


def wait_for_proposals(anki_app, dlg, count):
    anki_app.wait_until(lambda: dlg.idle() and len(dlg.table.proposals) == count, 30,
                        "the proposals did not arrive: %s" % dlg.message.text())


def open_from_browser(anki_app, deck_name, count):
    browser = aqt.dialogs.open("Browser", anki_app.mw, search=('"deck:%s"' % deck_name,))
    anki_app.wait_until(lambda: browser.table.len() == count, 10)
    browser.table.select_all()
    anki_app.wait_until(lambda: len(browser.selected_notes()) == count, 15)
    anki_app.menu_choice = lambda menu: action_named(menu, "Improve with Ollama…")
    browser.table._on_context_menu(QPoint())
    assert anki_app.take("QMenu")
    return anki_app.wait_for_window(anki_app.module("ui.improve").ImproveDialog)


def test_browser_right_click_improves_in_place_and_undo_restores(anki_app, server):
    col = anki_app.col
    anki_app.write_config(url=server.url)
    name, nids = struggling_notes(anki_app)
    answer_by_content(server)
    cids = {k: card_ids(col, n) for k, n in nids.items()}
    before = state(col, nids.values())

    dlg = open_from_browser(anki_app, name, 3)
    wait_for_proposals(anki_app, dlg, 3)
    proposals = dlg.table.proposals
    assert proposals[nids["split"]].action == "split" and proposals[nids["rewrite"]].action == "rewrite"
    assert proposals[nids["keep"]].action == "keep"
    # before → after with the reasons; the changes are checked by default, the keep has no box
    assert dlg.table.is_checked(nids["split"]) and dlg.table.is_checked(nids["rewrite"])
    assert not dlg.table.is_checked(nids["keep"])
    row = dlg.table.row_of[nids["rewrite"]]
    assert "forgotten 3 times" in dlg.table.item(row, 2).text()
    assert "Chloroplast?" in dlg.table.item(row, 3).text()
    assert "What does the chloroplast make from light?" in dlg.table.item(row, 4).text()
    assert REWRITE["reason"][:30] in dlg.table.item(row, 4).text()
    assert dlg.apply_btn.text() == "Apply 2 changes"
    assert state(col, nids.values()) == before  # nothing changed before Apply

    dlg.apply_btn.click()
    anki_app.wait_until(lambda: dlg.table.applied and dlg.idle(), 15)
    note = col.get_note(nids["rewrite"])
    assert note["Front"] == "What does the chloroplast make from light?" and note["Back"] == "Glucose"
    for key, n in nids.items():  # same notes, same cards, the review log untouched
        assert card_ids(col, n) == cids[key]
    assert revlog(col, [c for cs in cids.values() for c in cs]) == before[2]
    added = col.find_notes("tag:ollama-flashcards::split-from::%d" % nids["split"])
    assert len(added) == 2
    assert all(col.get_card(c).queue != -1 for c in cids["split"])  # not suspended unless asked
    assert col.undo_status().undo == "Improve with Ollama"
    assert "Edit → Undo Improve with Ollama" in dlg.message.text()

    # another change to the notes (here: an edit of the kept note) leaves the applied rows applied
    from aqt.operations.note import update_note

    applied = dict(dlg.table.applied)
    assert set(applied) == {nids["split"], nids["rewrite"]}
    kept = col.get_note(nids["keep"])
    kept["Back"] = kept["Back"] + " (edited)"
    done = []
    update_note(parent=anki_app.mw, note=kept).success(lambda _c: done.append(1)).run_in_background()
    anki_app.wait_until(lambda: done, 10, "the edit was not saved")
    anki_app.pump(0.2)
    assert dlg.table.applied == applied
    anki_app.mw.undo()  # the edit
    anki_app.wait_until(lambda: "(edited)" not in col.get_note(nids["keep"])["Back"], 10)
    assert dlg.table.applied == applied and col.undo_status().undo == "Improve with Ollama"

    anki_app.mw.undo()
    anki_app.wait_until(lambda: not col.find_notes("tag:ollama-flashcards::split-from::%d" % nids["split"]), 10)
    anki_app.wait_until(lambda: state(col, nids.values()) == before, 10)
    # the undone changes are offered again
    anki_app.wait_until(lambda: not dlg.table.applied, 10)
    assert dlg.table.is_checked(nids["rewrite"]) and dlg.apply_btn.isEnabled()


def test_tools_lists_struggling_cards_worst_first_then_improves_the_checked(anki_app, server):
    col = anki_app.col
    anki_app.write_config(url=server.url)
    name, nids = struggling_notes(anki_app)
    answer_by_content(server, broken=True)
    anki_app.tools_action("Improve struggling cards…").trigger()
    dlg = anki_app.wait_for_window(anki_app.module("ui.improve").StrugglingDialog)
    anki_app.wait_until(lambda: not dlg.loading and dlg.table.rowCount(), 15)
    expected = anki_app.module("generator.improve.history").struggling_cards(col, limit=500)
    assert [s.card_id for s in dlg.table.rows] == [s.card_id for s in expected.cards]
    listed = {s.note_id for s in dlg.table.rows}
    assert set(nids.values()) <= listed  # all three are leeches of a deck with threshold 3
    mine = [r for r, s in enumerate(dlg.table.rows) if s.note_id == nids["split"]][0]
    assert dlg.table.item(mine, 3).text() == "5" and dlg.table.item(mine, 2).text() == name
    assert "tagged leech" in dlg.table.item(mine, 9).text()
    dlg.table.set_all_checked(False)
    assert not dlg.improve_btn.isEnabled()
    dlg.table.item(mine, 0).setCheckState(aqt.qt.Qt.CheckState.Checked)
    assert dlg.improve_btn.text() == "Improve 1 note…"
    before = state(col, nids.values())
    dlg.improve_btn.click()
    improve = anki_app.wait_for_window(anki_app.module("ui.improve").ImproveDialog)
    assert improve.note_ids == [nids["split"]]
    wait_for_proposals(anki_app, improve, 1)
    p = improve.table.proposals[nids["split"]]
    # a broken answer changes nothing: the note is "not improved", with why, and Apply stays off
    assert p.action == "failed" and "could not be used" in p.reason
    assert not improve.apply_btn.isEnabled()
    improve.close()
    assert state(col, nids.values()) == before


def test_options_suspend_the_original_and_reset_rewritten_cards(anki_app, server):
    col = anki_app.col
    anki_app.write_config(url=server.url)
    name, nids = struggling_notes(anki_app)
    answer_by_content(server)
    cids = {k: card_ids(col, n) for k, n in nids.items()}
    log_before = revlog(col, [c for cs in cids.values() for c in cs])
    dlg = open_from_browser(anki_app, name, 3)
    wait_for_proposals(anki_app, dlg, 3)
    dlg.suspend_box.setChecked(True)
    dlg.reset_box.setChecked(True)
    dlg.apply_btn.click()
    anki_app.wait_until(lambda: dlg.table.applied and dlg.idle(), 15)
    assert all(col.get_card(c).queue == -1 for c in cids["split"])  # the split's original
    rewritten = col.get_card(cids["rewrite"][0])
    assert rewritten.type == 0 and rewritten.lapses == 0  # starts again as a new card
    assert col.get_card(cids["keep"][0]).queue != -1  # kept: untouched
    assert revlog(col, [c for cs in cids.values() for c in cs])[:len(log_before)] == log_before


def screenshot_notes(anki_app):
    """What a learner's leeches look like: a card with three facts (made by the add-on from a
    PDF), and two enzymes that are confused with each other."""
    from history_fixtures import add_note

    col = anki_app.col
    name = "Cells and digestion"  # once a session; not under another test's deck
    deck(col, name, leech_fails=4)
    line = ('<br><div class="ollama-flashcards-source"><small>Source: cell-biology.pdf · p. 12 · '
            "Organelles</small></div>")
    nids = {
        "split": add_note(col, name, 1, ["What do mitochondria do?",
                                          "They make ATP, store calcium and trigger apoptosis" + line],
                          ["ollama-flashcards", "ollama-flashcards::source::cell-biology.pdf"]),
        "rewrite": add_basic(col, name, "Which enzyme splits starch into maltose?", "Amylase"),
        "keep": add_basic(col, name, "Which enzyme splits maltose into glucose?", "Maltase"),
    }
    forget(col, card_ids(col, nids["split"])[0], 6, seconds=25)
    forget(col, card_ids(col, nids["rewrite"])[0], 5)
    forget(col, card_ids(col, nids["keep"])[0], 4)
    return name, nids


def screenshot_answers(server):
    def answerer(body):
        user = body["messages"][-1]["content"]
        if "mitochondria" in user:
            item = {"action": "split", "reason": "Three facts on one card: one note for each.",
                    "split": [{"front": "Which molecule do mitochondria make for the cell's energy?", "back": "ATP"},
                              {"front": "Which ion do mitochondria store?", "back": "Calcium"},
                              {"front": "Which cell death do mitochondria trigger?", "back": "Apoptosis"}]}
        elif "starch into maltose" in user.split("Note 1:")[1].split("\n")[1]:
            item = {"action": "rewrite", "reason": "Confused with maltase: ask for what tells them apart.",
                    "front": "Which enzyme splits starch (not maltose) into maltose?", "back": "Amylase"}
        else:
            item = {"action": "keep", "reason": "Clear once the amylase card names the difference."}
        item.update({"id": "1", "front": item.get("front", ""), "back": item.get("back", ""),
                     "split": item.get("split", [])})
        return Reply(content=json.dumps({"notes": [item]}))
    server.answerer = answerer


def test_screenshots(anki_app, server):
    anki_app.write_config(url=server.url)
    name, nids = screenshot_notes(anki_app)
    screenshot_answers(server)
    dlg = open_from_browser(anki_app, name, 3)
    wait_for_proposals(anki_app, dlg, 3)
    assert dlg.table.proposals[nids["rewrite"]].action == "rewrite"
    assert any(r.kind == "interference" for r in dlg.table.proposals[nids["rewrite"]].diagnosis.reasons)
    anki_app.resize(dlg, 1250, 720)
    dlg.table.resizeRowsToContents()
    shot = anki_app.screenshot(dlg, "improve-dialog")
    assert shot.stat().st_size > 20000
    dlg.close()
    anki_app.tools_action("Improve struggling cards…").trigger()
    listing = anki_app.wait_for_window(anki_app.module("ui.improve").StrugglingDialog)
    anki_app.wait_until(lambda: not listing.loading and listing.table.rowCount(), 15)
    anki_app.resize(listing, 1100, 420)
    assert anki_app.screenshot(listing, "struggling-cards").stat().st_size > 10000


def test_the_source_file_of_a_note_is_read_without_holding_the_collection(anki_app, server, tmp_path,
                                                                           monkeypatch):
    """A note made from a file: the file is read for its sentences on a worker, not inside the
    collection read (which blanks the Browser for as long as it runs); the diagnosis has them."""
    col = anki_app.col
    anki_app.write_config(url=server.url)
    answer_by_content(server)
    doc = tmp_path / "cells.md"
    filler = " ".join("Unrelated sentence number %d about rivers and mountains." % i for i in range(80))
    doc.write_text("# Cells\n\n%s Mitochondria make ATP by oxidative phosphorylation. %s" % (filler, filler),
                   encoding="utf-8")
    line = ('<div class="ollama-flashcards-source"><small>Source: <a href="file://%s">cells.md · line 3</a>'
            "</small></div>" % doc)
    name = anki_app.new_deck("Improve from a file")
    nid = add_basic(col, name, "What do mitochondria make?", "ATP<br>" + line,
                    tags=["ollama-flashcards", "ollama-flashcards::source::cells.md"])
    source = anki_app.module("generator.improve.source")
    diagnose = anki_app.module("generator.improve.diagnose")
    read, diagnose_notes, diagnosing, held = source.SourceFiles._read, diagnose.diagnose_notes, [], []

    def watched_read(files, path):
        held.append(bool(diagnosing))  # read inside the collection op's diagnosis?
        return read(files, path)

    def watched_diagnose(*args, **kwargs):
        diagnosing.append(1)
        try:
            return diagnose_notes(*args, **kwargs)
        finally:
            diagnosing.pop()

    monkeypatch.setattr(source.SourceFiles, "_read", watched_read)
    monkeypatch.setattr(diagnose, "diagnose_notes", watched_diagnose)
    dlg = anki_app.module("ui.improve").open_improve_dialog([nid])
    try:
        wait_for_proposals(anki_app, dlg, 1)
        (d,) = dlg.diagnoses
        assert "Mitochondria make ATP by oxidative phosphorylation." in d.source.text
        assert "the sentences it was made from are sent" in d.source.said
        assert held == [False]  # read once, outside the collection op
    finally:
        dlg.close()
