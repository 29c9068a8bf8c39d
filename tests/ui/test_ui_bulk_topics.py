"""Topics first, focus and cards as they are written in the Bulk dialog, in the real Anki main
window (headless) against the fake Ollama server."""
import json
import re

from fake_ollama import FakeOllama
from dialogs import HTML, MD, TXT, bulk, deck_notes, open_bulk, wait_finished, write  # noqa: F401  (bulk: a fixture)

# The bulk texts of dialogs.py with every sentence made this test's own, so the cards this test
# adds are no duplicates of the ones test_ui_bulk adds to the shared collection (and the other way).
MD, TXT, HTML = (re.sub(r"(?m)(?:^|(?<=[.!?] )|(?<=<p>))(?=[A-Z])", "Zq ", t) for t in (MD, TXT, HTML))

TOPIC_TAG = "ollama-flashcards::topic::"


def test_topics_over_the_files_focus_and_rows_streaming_into_review(anki_app, bulk, tmp_path):
    deck = anki_app.new_deck("BulkTopics")
    review = anki_app.module("ui.review")
    with FakeOllama(rate=120) as srv:
        dlg = open_bulk(anki_app, bulk, srv.url, deck)
        dlg.resize(1000, 680)
        dlg.mode_review.setChecked(True)
        dlg.add_paths([write(tmp_path, "rivers.md", MD), write(tmp_path, "volcanoes.txt", TXT),
                       write(tmp_path, "cells.html", HTML)])
        dlg.options.focus_edit.setText("only the geography")

        # find topics over the three files
        dlg.topics.find_btn.click()
        assert dlg.tabs.currentIndex() == bulk.TAB_TOPICS
        anki_app.wait_until(lambda: dlg.idle() and dlg.topics.has_topics(), 60, "no topics found")
        topics = dlg.topics.topics()
        assert {t.document for t in topics} == {"rivers.md", "volcanoes.txt", "cells.html"}, topics
        assert "Found %d topics in 3 files" % len(topics) in dlg.message.text()
        anki_app.screenshot(dlg, "bulk-topics")
        # not the cells; one volcano topic renamed; one of my own
        for i, t in enumerate(topics):
            if t.document == "cells.html":
                dlg.topics.set_checked(i, False)
        volcano = next(i for i, t in enumerate(topics) if t.document == "volcanoes.txt")
        dlg.topics.tree.topLevelItem(volcano).setText(0, "Volcano openings")
        dlg.topics.add_edit.setText("Mediterranean Sea")
        dlg.topics.add_btn.click()
        chosen = {t.title for t in dlg.topics.topics() if t.checked}
        assert dlg.start_btn.text() == "Generate for %d topics" % len(chosen)
        asked_before = len(srv.chat_bodies())

        dlg.start_btn.click()
        anki_app.wait_until(lambda: dlg.review.table.rows, 30, "no rows streamed in")
        assert dlg.busy and dlg.tabs.currentIndex() == bulk.TAB_REVIEW
        first = dlg.review.table.rows[0]
        assert "Arriving…" in dlg.review.table.marks_of(first.card)
        dlg.review.table.edit_cell(first.card, review.COL_FRONT, "Edited while the job ran?")
        assert not dlg.review.add_btn.isEnabled()  # bulk review: added when the job has ended
        wait_finished(anki_app, dlg, 60)
        bodies = srv.chat_bodies()[asked_before:]

    table = dlg.review.table
    assert table.rows and not any("Arriving…" in table.marks_of(r.card) for r in table.rows)
    assert "Edited while the job ran?" in [r.card.front for r in table.rows]
    assert {r.card.topic for r in table.rows} <= chosen
    assert "Volcano openings" in {r.card.topic for r in table.rows}
    assert not any("Ribosomes" in r.card.back or "membrane" in r.card.back for r in table.rows)
    assert all("only the geography" in b["messages"][0]["content"] for b in bodies)
    asked = [b["messages"][1]["content"] for b in bodies]
    assert not any("Ribosomes build proteins" in text for text in asked)  # the cells file not asked
    header = dlg.journal.state.header
    assert header["options"]["focus"] == "only the geography"
    assert {t["title"] for t in header["topics"] if t["checked"]} == chosen

    n = len(table.checked_cards())
    dlg.review.add_btn.click()
    anki_app.wait_until(lambda: not dlg.review.table.cards and dlg.idle(), 10)
    nids = deck_notes(anki_app.col, deck)
    assert len(nids) == n
    notes = [anki_app.col.get_note(nid) for nid in nids]
    assert "Edited while the job ran?" in [note["Front"] for note in notes]
    assert all(any(t.startswith(TOPIC_TAG) for t in note.tags) for note in notes)
    json.dumps(header)  # the journal's header is plain JSON


def test_closing_while_topics_are_found_stops_the_step_and_then_closes(anki_app, bulk, tmp_path):
    deck = anki_app.new_deck("BulkTopicsClose")
    with FakeOllama(rate=20) as srv:  # slow answers: the step is still running at the close
        dlg = open_bulk(anki_app, bulk, srv.url, deck)
        dlg.add_paths([write(tmp_path, "rivers.md", MD), write(tmp_path, "volcanoes.txt", TXT)])
        dlg.topics.find_btn.click()
        anki_app.wait_until(lambda: srv.chat_bodies(), 20, "the topic step asked nothing")
        assert dlg.busy and dlg.topics.running
        dlg.close()  # "stop it and close?" yes: hidden at once, closed once the step has stopped
        assert not dlg.isVisible()
        anki_app.wait_until(lambda: dlg.cleaned, 20, "the dialog never finished closing")
    import aqt

    assert aqt.dialogs._dialogs[bulk.DIALOG_NAME][1] is None  # Anki may open a new one
    assert not anki_app.errors
