"""Updating cards from a changed file in the real Anki app (headless), against the fake server:
from the Browser's right-click and from the Bulk dialog; the old → new review, Apply as one undo
step, and Undo."""
import aqt
import pytest
from aqt.qt import QPoint, Qt

from dialogs import action_named, bulk, open_bulk  # noqa: F401  (bulk: a fixture)
from engine_fixtures import backend_for
from fake_ollama import FakeOllama, Reply, source_text
from update_support import (answer_all, card_normally, doc_for, edited, options_for, sent_texts, snapshot,
                            target_for, write)

pytestmark = pytest.mark.timeout(120)


def carded(anki_app, server, tmp_path, deck):
    """The file carded as a normal job does it (its text the test's own: the tests share the
    collection), its cards answered (with lapses), then edited."""
    text = doc_for(deck.replace(" ", ""))
    path = write(tmp_path / "cells.md", text)
    backend = backend_for(server.url)
    try:
        card_normally(anki_app.col, backend, path, options_for(backend), target_for(deck))
    finally:
        backend.close()
    answer_all(anki_app.col, search='"deck:%s"' % deck)
    before = snapshot(anki_app.col, '"deck:%s"' % deck)
    write(tmp_path / "cells.md", edited(text))
    server.requests.clear()
    return path, before


def wait_review(anki_app, dlg):
    anki_app.wait_until(lambda: dlg.stage in ("review", "done"), 30, "the update was not proposed")
    assert dlg.stage == "review", dlg.message.text()


def rows(dlg):
    return [(r.item.text(1), r.item.checkState(0) == Qt.CheckState.Checked) for r in dlg.rows]


def test_update_from_the_browser_then_undo(anki_app, server, tmp_path):
    deck = anki_app.new_deck("Update")
    anki_app.write_config(url=server.url, model="llama3.2", self_review="off")
    path, before = carded(anki_app, server, tmp_path, deck)
    col = anki_app.col
    browser = aqt.dialogs.open("Browser", anki_app.mw, search=('"deck:%s"' % deck,))
    anki_app.wait_until(lambda: browser.table.len() == len(before), 10)
    browser.table.select_all()
    anki_app.wait_until(lambda: len(browser.selected_notes()) == len(before), 15)
    anki_app.menu_choice = lambda menu: action_named(menu, "Update from source…")
    browser.table._on_context_menu(QPoint())
    assert anki_app.take("QMenu")
    dlg = anki_app.wait_for_window(anki_app.module("ui.update").UpdateDialog)
    wait_review(anki_app, dlg)

    sent = "\n".join(sent_texts(server))  # the changed parts only
    assert "make proteins used there" in sent and "nucleus holds" in sent and "Passive transport" in sent
    assert "Mitochondria produce" not in sent and "lipid bilayer" not in sent
    assert sorted(rows(dlg)) == [("Add", True), ("Add", True), ("Source removed", True), ("Update", True)]
    assert "cells.md" in dlg.summary.text() and "1 to update, 2 to add" in dlg.summary.text()
    update_row = next(r for r in dlg.rows if r.item.text(1) == "Update")
    assert "of the cell" in update_row.item.text(2) and "make proteins used there" in update_row.item.text(3)
    dlg.table.setCurrentItem(update_row.item)
    assert "make proteins used there" in dlg.details.toPlainText()
    assert dlg.apply_btn.isEnabled() and dlg.apply_btn.text() == "Apply 4 changes"

    dlg.apply_btn.click()
    anki_app.wait_until(lambda: dlg.stage == "done", 15, "the update was not applied")
    assert "1 updated, 2 added, 1 source removed, 0 kept your edits" in dlg.message.text()
    after = snapshot(col, '"deck:%s"' % deck)
    nid = next(n for n in before if "Free ribosomes" in before[n]["fields"][1])
    assert after[nid]["cards"].keys() == before[nid]["cards"].keys()
    assert after[nid]["revlog"] == before[nid]["revlog"] and after[nid]["revlog"]
    assert "make proteins used there" in after[nid]["fields"][1]
    unchanged = [n for n in before if before[n]["fields"] == after[n]["fields"] and n != nid]
    assert all(after[n]["mod"] == before[n]["mod"] for n in unchanged if "Active transport" not in before[n]["fields"][1])
    assert len(after) == len(before) + 2

    assert col.undo_status().undo == "Update Flashcards from Source"
    anki_app.mw.undo()
    anki_app.wait_until(lambda: len(snapshot(col, '"deck:%s"' % deck)) == len(before), 10, "undo did not take the update back")
    undone = snapshot(col, '"deck:%s"' % deck)
    assert {n: v["fields"] for n, v in undone.items()} == {n: v["fields"] for n, v in before.items()}
    assert all(undone[n]["revlog"] == before[n]["revlog"] for n in before)
    dlg.close()
    browser.close()


def test_the_bulk_dialog_offers_the_update_of_a_file_carded_before(anki_app, server, bulk, tmp_path):
    deck = anki_app.new_deck("Update")
    path, before = carded(anki_app, server, tmp_path, deck)
    dlg = open_bulk(anki_app, bulk, server.url, deck, model="llama3.2", self_review="off")
    other = write(tmp_path / "other.md", "# Other\n\nA file never carded before has nothing to update here.\n")
    dlg.add_paths([other])
    assert "Update cards from changed files" not in dlg.message.action_titles()
    dlg.add_paths([path])
    assert "Update cards from changed files" in dlg.message.action_titles()
    assert "cells.md" in dlg.message.text()
    dlg.message.trigger("Update cards from changed files")
    upd = anki_app.wait_for_window(anki_app.module("ui.update").UpdateDialog)
    wait_review(anki_app, upd)
    assert [d.name for d in upd.docs] == ["cells.md"]
    update_row = next(r for r in upd.rows if r.item.text(1) == "Update")
    update_row.item.setCheckState(0, Qt.CheckState.Unchecked)  # keep this note as it is
    assert upd.apply_btn.text() == "Apply 3 changes"
    upd.apply_btn.click()
    anki_app.wait_until(lambda: upd.stage == "done", 15)
    assert "0 updated, 2 added, 1 source removed, 1 kept your edits" in upd.message.text()
    col = anki_app.col
    after = snapshot(col, '"deck:%s"' % deck)
    nid = next(n for n in before if "Free ribosomes" in before[n]["fields"][1])
    assert after[nid]["fields"] == before[nid]["fields"]
    assert "ollama-flashcards::source-changed" in after[nid]["tags"]
    upd.close()
    dlg.close()


BAIKAL = """# Lake Baikal

## Depth

Lake Baikal is the deepest lake on Earth: 1,642 metres at its deepest point.

## Water

It holds about 20 percent of the world's unfrozen fresh surface water.

## Life

The Baikal seal is the only seal that lives in fresh water alone.

The omul, a whitefish, is caught only in this lake.
"""

# What a good model answers for each fact (the fake server's own cards are made for tests, not
# for looks): (words that must be in the text sent, the card).
FACTS = [
    ("1,642 metres", {"front": "How deep is Lake Baikal at its deepest point?", "back": "1,642 metres.",
                      "quote": "1,642 metres at its deepest point"}),
    ("1,637 metres", {"front": "How deep is Lake Baikal at its deepest point?",
                      "back": "1,637 metres (a newer survey).", "quote": "1,637 metres at its deepest point"}),
    ("20 percent", {"front": "What share of the world's unfrozen fresh surface water is in Lake Baikal?",
                    "back": "About 20 percent.", "quote": "about 20 percent of the world's unfrozen"}),
    ("Baikal seal", {"front": "Which seal lives in fresh water alone?", "back": "The Baikal seal.",
                     "quote": "The Baikal seal is the only seal"}),
    ("omul", {"front": "Which whitefish is caught only in Lake Baikal?", "back": "The omul.",
              "quote": "The omul, a whitefish, is caught only"}),
    ("25 million", {"front": "How old is Lake Baikal?", "back": "About 25 million years: the oldest lake on Earth.",
                    "quote": "about 25 million years old"}),
]


def good_model(body):
    text = source_text((body.get("messages") or [{}])[-1].get("content") or "")
    return Reply.cards([card for words, card in FACTS if words in text])


def test_update_review_screenshot(anki_app, tmp_path):
    """The old → new review as the README shows it: a depth corrected, a new section, a
    paragraph deleted."""
    deck = anki_app.new_deck("Baikal")
    with FakeOllama(answerer=good_model) as server:
        anki_app.write_config(url=server.url, model="llama3.2", self_review="off")
        path = write(tmp_path / "baikal.md", BAIKAL)
        backend = backend_for(server.url)
        try:
            card_normally(anki_app.col, backend, path, options_for(backend, self_review="off"), target_for(deck))
        finally:
            backend.close()
        write(path, BAIKAL.replace("1,642", "1,637").replace(
            "\nThe omul, a whitefish, is caught only in this lake.\n", "")
            + "\n## Age\n\nLake Baikal is about 25 million years old, the oldest lake on Earth.\n")
        dlg = anki_app.module("ui.update").open_update(anki_app.mw, [path])
        wait_review(anki_app, dlg)
        assert sorted(rows(dlg)) == [("Add", True), ("Source removed", True), ("Update", True)]
        update_row = next(r for r in dlg.rows if r.item.text(1) == "Update")
        dlg.table.setCurrentItem(update_row.item)
        assert "1,637 metres" in dlg.details.toPlainText()
        anki_app.resize(dlg, 960, 460)
        anki_app.screenshot(dlg, "update-review")
        dlg.close()


def test_cards_added_in_the_generate_dialog_follow_their_file(anki_app, server, tmp_path):
    from generator.update.record import load, load_index, same_path, tracked_notes

    from dialogs import generate, open_dialog

    deck = anki_app.new_deck("Generated")
    path = write(tmp_path / "cells.md", doc_for(deck.replace(" ", "")))
    dlg = open_dialog(anki_app, server.url, max_cards=0, self_review="off")
    dlg.options.deck_chooser.selected_deck_id = anki_app.col.decks.id(deck)
    dlg.source.load_files([path])
    anki_app.wait_until(lambda: not dlg.source.reading and dlg.source.has_documents(), 10)
    generate(anki_app, dlg)
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10, "the cards were not added")
    col = anki_app.col
    (doc_id,) = [d for d, p in load_index(col).items() if same_path(p, path)]
    record = load(col, doc_id)
    assert record.deck == deck and len(record.fps) >= 8
    followed = {n.id for n in tracked_notes(col, record)}
    assert followed == set(dlg.adder.last_added)  # every note added carries its mark
    assert all(not n.edited for n in tracked_notes(col, record))
    assert col.undo_status().undo == "Generate Flashcards"  # one step: the notes and the record
    anki_app.mw.undo()
    anki_app.wait_until(lambda: not col.find_notes('"deck:%s"' % deck), 10)
    assert doc_id not in load_index(col)
    dlg.close()


def test_cards_of_a_bulk_job_follow_their_files(anki_app, server, bulk, tmp_path):
    from generator.update.record import load, load_index, same_path, tracked_notes

    from dialogs import deck_notes, wait_finished

    deck = anki_app.new_deck("Bulked")
    text = doc_for(deck.replace(" ", ""))
    path = write(tmp_path / "cells.md", text)
    dlg = open_bulk(anki_app, bulk, server.url, deck, model="llama3.2", self_review="off")
    dlg.add_paths([path])
    dlg.start_btn.click()
    wait_finished(anki_app, dlg)
    col = anki_app.col
    nids = set(deck_notes(col, deck))
    (doc_id,) = [d for d, p in load_index(col).items() if same_path(p, path)]
    assert nids and {n.id for n in tracked_notes(col, load(col, doc_id))} == nids
    dlg.close()

    write(path, edited(text))
    server.requests.clear()
    upd = anki_app.module("ui.update").open_update(anki_app.mw, [path])
    wait_review(anki_app, upd)
    assert sorted(rows(upd)) == [("Add", True), ("Add", True), ("Source removed", True), ("Update", True)]
    assert "Mitochondria produce" not in "\n".join(sent_texts(server))
    upd.close()


def test_with_an_embedding_model_the_questions_are_embedded_without_holding_the_collection(anki_app, tmp_path):
    """Matching by meaning asks the server for embeddings: no collection read is running while
    it answers (a running one blanks the Browser), and the review is the same as by words."""
    with FakeOllama(models=("llama3.2", "all-minilm"), embedding_models=("all-minilm",)) as server:
        deck = anki_app.new_deck("Update by meaning")
        anki_app.write_config(url=server.url, model="llama3.2", self_review="off", embed_model="all-minilm")
        path, _before = carded(anki_app, server, tmp_path, deck)
        mw = anki_app.mw
        blocking = []  # at each embedding request: how many collection reads were running

        class Watched(list):
            def extend(self, texts):
                blocking.append(mw._background_op_count)
                super().extend(texts)

        server.embedded = Watched()
        update = anki_app.module("ui.update")
        dlg = update.open_update(None, [path])
        try:
            wait_review(anki_app, dlg)
            assert blocking and blocking == [0] * len(blocking)  # asked, and nothing held meanwhile
            assert sorted(rows(dlg)) == [("Add", True), ("Add", True), ("Source removed", True), ("Update", True)]
        finally:
            dlg.close()
