"""The Generate dialog end to end in the real Anki main window (headless), against the fake
Ollama server (tools/fake_ollama.py): generate, edit, add in one undo step, undo; cancel;
server down; missing model and pull; failing chunks; closing with unsaved cards."""
from dialogs import TEXT, free_port, generate, open_dialog, text_for
from fake_ollama import FakeOllama, Reply


def long_text(paragraphs: int = 24) -> str:
    parts = []
    for i in range(paragraphs):
        parts.append("Section %d\n\nThe river number %d flows through a long green valley in the "
                     "north. Farmers along river %d grow wheat, barley and apples every summer. "
                     "Old stone bridges cross the water at many places near the villages. "
                     "Fishermen catch trout and salmon in the cold clear water of river %d."
                     % (i, i, i, i))
    return "\n\n".join(parts)


def set_deck(app, dlg, name):
    dlg.options.deck_chooser.selected_deck_id = app.col.decks.id_for_name(name)


def note_type_kind(col, note):
    return note.note_type().get("originalStockKind")


def test_status_line_and_models_from_the_server(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    host = server.url.split("://")[1]
    assert dlg.models.status_label.text() == "Ollama 0.33.1 at %s · 3 models" % host
    items = [dlg.models.combo.itemText(i) for i in range(dlg.models.combo.count())]
    assert sorted(items) == sorted(server.models)
    assert dlg.models.model() == "llama3.2"
    assert not dlg.message.text()  # the model is there: nothing to say
    assert not dlg.generate_btn.isEnabled()  # no source yet
    dlg.source.edit.setPlainText(TEXT)
    assert dlg.generate_btn.isEnabled()
    assert "Text" in dlg.source.label.text() and "words" in dlg.source.label.text()


def test_generate_edit_add_and_undo_in_one_step(anki_app, server):
    col = anki_app.col
    deck = anki_app.new_deck("Biology")
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("generate edit add and undo in one step"))
    set_deck(anki_app, dlg, deck)
    dlg.options.tags_edit.setText("biology chapter-1")
    generate(anki_app, dlg)

    cards = list(dlg.table.cards)
    assert len(cards) >= 3, dlg.message.text()
    assert "Made %d cards" % len(cards) in dlg.message.text()
    assert dlg.progress.isHidden()
    assert all(c.grounded for c in cards)
    # a chat request went to the model the dialog shows, with the text in it
    chat = server.chat_bodies()[0]
    assert chat["model"] == "llama3.2" and "chlorophyll" in chat["messages"][-1]["content"]

    table = dlg.table
    review = anki_app.module("ui.review")
    table.edit_cell(cards[0], review.COL_FRONT, "What do plants turn light into?")
    table.edit_cell(cards[0], review.COL_BACK, "Chemical energy <stored in sugar>")
    assert cards[0].front == "What do plants turn light into?"
    assert cards[0].back == "Chemical energy &lt;stored in sugar&gt;"
    table.set_checked(len(cards) - 1, False)  # leave the last one out
    wanted = len(cards) - 1
    assert dlg.add_btn.text() == "Add %d cards" % wanted

    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10, "cards were not added")
    anki_app.wait_until(dlg.idle, 15)
    nids = col.find_notes('"deck:%s"' % deck)
    assert sorted(nids) == sorted(dlg.adder.last_added) and len(nids) == wanted
    notes = [col.get_note(n) for n in nids]
    assert all(note_type_kind(col, n) == 1 for n in notes)  # Anki's stock Basic
    fronts = {n.fields[0] for n in notes}
    assert "What do plants turn light into?" in fronts
    edited = next(n for n in notes if n.fields[0] == "What do plants turn light into?")
    assert edited.fields[1].startswith("Chemical energy &lt;stored in sugar&gt;")
    for n in notes:
        assert {"biology", "chapter-1"} <= set(n.tags)
    # added cards leave the list; the unchecked one stays
    assert len(dlg.table.cards) == 1 and dlg.table.cards[0] is cards[-1]
    assert "Added %d cards" % wanted in dlg.message.text()
    assert "Show in Browser" in dlg.message.action_titles()
    assert any("Added %d cards" % wanted in t for t in anki_app.texts("tooltip"))

    # the message's action shows the added notes in the Browser
    dlg.message.trigger("Show in Browser")
    browser = anki_app.wait_until(lambda: __import__("aqt").dialogs._dialogs["Browser"][1], 10)
    assert browser.form.searchEdit.lineEdit().text().startswith("nid:")
    anki_app.wait_until(lambda: browser.table.len() == wanted, 10, "the Browser does not list the added notes")

    # one undo step, named for the add-on, undoes every note
    assert col.undo_status().undo == "Generate Flashcards"
    anki_app.wait_until(lambda: "Generate Flashcards" in anki_app.mw.form.actionUndo.text(), 15)
    anki_app.mw.undo()
    anki_app.wait_until(lambda: not col.find_notes('"deck:%s"' % deck), 10, "undo left notes")
    assert col.undo_status().undo != "Generate Flashcards"
    # the dialog notices (once the undo has run on the main thread): the message says so and no
    # longer offers to show the notes that are gone
    anki_app.wait_until(lambda: "undone" in dlg.message.text(), 10, "the dialog did not notice the undo")
    assert "Show in Browser" not in dlg.message.action_titles()

    # the last choices are remembered
    cfg = anki_app.config()
    assert cfg["deck"] == deck and cfg["tags"] == ["biology", "chapter-1"]


def test_cloze_kind_adds_cloze_notes(anki_app, server):
    col = anki_app.col
    deck = anki_app.new_deck("Cloze")
    dlg = open_dialog(anki_app, server.url)
    dlg.options.select_kind("cloze")
    assert dlg.table.horizontalHeaderItem(1).text() == "Text"
    dlg.source.edit.setPlainText(text_for("cloze kind adds cloze notes"))
    set_deck(anki_app, dlg, deck)
    generate(anki_app, dlg)
    cards = list(dlg.table.cards)
    assert cards and all("{{c1::" in c.text for c in cards)
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10)
    notes = [col.get_note(n) for n in col.find_notes('"deck:%s"' % deck)]
    assert len(notes) == len(cards)
    assert all(n.note_type()["type"] == 1 for n in notes)


def test_user_note_type_with_field_mapping(anki_app, server):
    col = anki_app.col
    deck = anki_app.new_deck("Mapped")
    mm = col.models
    name = "Vocab %s" % deck
    nt = mm.new(name)
    for f in ("Question", "Answer", "Source"):
        mm.add_field(nt, mm.new_field(f))
    t = mm.new_template("Card 1")
    t["qfmt"], t["afmt"] = "{{Question}}", "{{Answer}}<br>{{Source}}"
    mm.add_template(nt, t)
    mm.add(nt)

    dlg = open_dialog(anki_app, server.url)
    dlg.options.refill_kinds()
    dlg.options.select_kind("basic", notetype=name)
    assert dlg.options.notetype() == name and dlg.options.mapping.isVisibleTo(dlg)
    assert dlg.options.mapping.mapping() == {"front": "Question", "back": "Answer", "source": "Source"}
    dlg.source.edit.setPlainText(text_for("user note type with field mapping"))
    set_deck(anki_app, dlg, deck)
    generate(anki_app, dlg)
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10)
    notes = [col.get_note(n) for n in col.find_notes('"deck:%s"' % deck)]
    assert notes and all(n.note_type()["name"] == name for n in notes)
    assert all(n["Question"] and n["Answer"] and "pasted text" in n["Source"] for n in notes)
    assert anki_app.config()["note_type"] == name
    assert anki_app.config()["field_mapping"]["source"] == "Source"


def test_cancel_keeps_the_cards_made_so_far(anki_app):
    with FakeOllama(latency=0.25) as server:
        dlg = open_dialog(anki_app, server.url, num_ctx=1024, num_predict=512, max_cards=0)
        dlg.source.edit.setPlainText(long_text())
        dlg.generate_btn.click()
        anki_app.wait_until(lambda: dlg.table.cards, 15, "no cards arrived")
        assert dlg.busy and not dlg.progress.isHidden()
        assert "Chunk" in dlg.progress.label.text() and "of" in dlg.progress.label.text()
        anki_app.resize(dlg, 1000, 650)
        anki_app.screenshot(dlg, "progress")
        dlg.progress.cancel_btn.click()
        anki_app.wait_until(dlg.idle, 15, "cancel did not stop the job within 15 s")
        result = dlg.last_result
        assert result.cancelled and result.chunks_done < result.chunks_total
        # the cards of finished chunks, and those of the stopped chunk written before the stop
        assert len(dlg.table.cards) >= len(result.cards) > 0
        assert "Kept the %d cards" % len(dlg.table.cards) in dlg.message.text()
        assert "Cancelled" in dlg.message.text() and "Kept" in dlg.message.text()


def test_server_down_says_how_to_start_it_and_retry_works(anki_app):
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    dlg = open_dialog(anki_app, url)
    text = dlg.message.text()
    assert "Cannot connect" in text or "not reachable" in text.lower() or "connect" in text.lower()
    assert "ollama serve" in text
    assert dlg.message.action_titles() == ["Retry", "Settings…"]
    assert dlg.message.level == "error"
    anki_app.resize(dlg, 1000, 650)
    anki_app.screenshot(dlg, "server-down")

    # generating anyway gives the same short message, not a traceback
    dlg.source.edit.setPlainText(text_for("server down says how to start it and retry works"))
    generate(anki_app, dlg)
    assert "ollama serve" in dlg.message.text()
    assert not dlg.table.cards

    # start the server on that port and retry
    server = FakeOllama()
    server._server.server_close()  # never started: free its random port, use the dialog's
    from http.server import ThreadingHTTPServer

    server._server = ThreadingHTTPServer(("127.0.0.1", port), server._handler())
    server._server.daemon_threads = True
    server.url = url
    server.start()
    try:
        dlg.message.trigger("Retry")  # asks the server again, and generates
        anki_app.wait_until(dlg.idle, 10)
        assert dlg.models.status_label.text().startswith("Ollama 0.33.1 at")
        assert dlg.table.cards and "Made" in dlg.message.text()
    finally:
        server.stop()


def test_missing_model_offers_pull_with_progress(anki_app, server):
    dlg = open_dialog(anki_app, server.url, model="mistral")
    assert "not on the server" in dlg.message.text()
    assert dlg.message.action_titles() == ["Pull mistral"]
    anki_app.resize(dlg, 1000, 650)
    anki_app.screenshot(dlg, "pull-offer")
    dlg.message.trigger("Pull mistral")
    anki_app.wait_until(lambda: server.pulled == ["mistral"], 10)
    anki_app.wait_until(dlg.idle, 10)
    assert "4 models" in dlg.models.status_label.text()
    assert dlg.models.model() == "mistral"
    assert not dlg.message.text()
    assert any("Pulled mistral" in t for t in anki_app.texts("tooltip"))


def test_model_not_found_during_generate_offers_pull(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    dlg.models.combo.setEditText("phi4")
    dlg.source.edit.setPlainText(text_for("model not found during generate offers pull"))
    generate(anki_app, dlg)
    assert "phi4" in dlg.message.text()
    assert "Pull phi4" in dlg.message.action_titles()


def test_a_failing_chunk_is_a_short_message_not_a_traceback(anki_app, server):
    server.script(Reply.error(500, "out of memory"), Reply.error(500, "out of memory"))
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("a failing chunk is a short message not a traceback"))
    generate(anki_app, dlg)
    text = dlg.message.text()
    assert "failed" in text.lower() or "out of memory" in text
    assert "Traceback" not in text
    assert "Retry" in dlg.message.action_titles()
    server.script()  # the default answerer again
    dlg.message.trigger("Retry")
    anki_app.wait_until(lambda: dlg.table.cards, 10)
    anki_app.wait_until(dlg.idle, 10)


def test_closing_with_unsaved_cards_asks_first(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("closing with unsaved cards asks first"))
    generate(anki_app, dlg)
    n = len(dlg.table.cards)
    assert n
    anki_app.answers = [False]
    dlg.close()
    anki_app.pump(0.05)
    asked = anki_app.take("askUser")
    assert asked and "%d checked cards have not been added" % n in asked[0].text
    assert dlg.isVisible()
    anki_app.answers = [True]
    dlg.close()
    anki_app.pump(0.05)
    assert anki_app.take("askUser")
    assert not anki_app.top_windows(type(dlg))


def test_closing_without_cards_does_not_ask(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    dlg.close()
    anki_app.pump(0.05)
    assert not anki_app.take("askUser")
    assert not anki_app.top_windows(type(dlg))


def test_delete_and_regenerate_one(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("delete and regenerate one"))
    generate(anki_app, dlg)
    table = dlg.table
    n = len(table.cards)
    table.selectRow(0)
    dlg.delete_btn.click()
    assert len(table.cards) == n - 1
    first = table.cards[0]
    server.script(Reply.cards([{"front": "A brand new question?", "back": "A new answer.",
                                "quote": "Photosynthesis is the process"}]))
    table.selectRow(0)
    assert dlg.regenerate_btn.isEnabled()
    dlg.regenerate_btn.click()
    anki_app.wait_until(lambda: table.cards[0] is not first, 10, "the card was not replaced")
    anki_app.wait_until(dlg.idle, 15)
    assert table.cards[0].front == "A brand new question?"
    assert len(table.cards) == n - 1


def test_duplicates_are_marked_and_unchecked(anki_app, server):
    deck = anki_app.new_deck("Dupes")
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("duplicates are marked and unchecked"))
    set_deck(anki_app, dlg, deck)
    generate(anki_app, dlg)
    first_round = len(dlg.table.cards)
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10)
    anki_app.wait_until(dlg.idle, 15)
    generate(anki_app, dlg)  # the same text again: the same fronts
    cards = dlg.table.cards
    assert len(cards) == first_round
    assert all(c.duplicate == "collection" for c in cards)
    assert not dlg.table.checked_cards()
    assert "Duplicate" in dlg.table.marks_of(cards[0])
    assert "already in your collection" in dlg.message.text()
    assert dlg.add_btn.text() == "Add 0 cards" and not dlg.add_btn.isEnabled()


def test_open_file_reads_in_the_background_and_generates_from_it(anki_app, server, tmp_path):
    md = tmp_path / "cells.md"
    md.write_text("# Cells\n\nThe nucleus stores the genetic material of the cell in chromosomes.\n\n"
                  "## Membranes\n\nThe cell membrane controls what enters and leaves the cell.\n",
                  encoding="utf-8")
    dlg = open_dialog(anki_app, server.url)
    dlg.source.load_files([str(md)])
    anki_app.wait_until(dlg.idle, 10)
    assert "cells.md" in dlg.source.label.text()
    assert dlg.source.edit.isReadOnly() and "nucleus" in dlg.source.edit.toPlainText()
    generate(anki_app, dlg)
    cards = dlg.table.cards
    assert cards and all(c.source.document == "cells.md" for c in cards)
    assert anki_app.config()["last_folder"] == str(tmp_path)


def test_unreadable_file_is_a_message_in_the_dialog(anki_app, server, tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n this is not really a pdf")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    dlg = open_dialog(anki_app, server.url)
    dlg.source.load_files([str(bad), str(empty)])
    anki_app.wait_until(dlg.idle, 10)
    text = dlg.message.text()
    assert "broken.pdf" in text and "empty.txt" in text
    assert dlg.message.level == "error"
    assert "Traceback" not in text
    assert not dlg.source.edit.isReadOnly()  # still the text box: nothing was read


def test_marks_and_the_quote_on_hover(anki_app, server):
    review = anki_app.module("ui.review")
    server.script(Reply.cards([
        {"front": "Where does photosynthesis happen?", "back": "In the chloroplasts.",
         "quote": "Chloroplasts are the organelles where photosynthesis happens"},
        {"front": "What colour is the sky on Mars?", "back": "Butterscotch.",
         "quote": "the Martian sky is butterscotch"},
    ]))
    dlg = open_dialog(anki_app, server.url, max_cards=2)
    dlg.source.edit.setPlainText(text_for("marks and quote"))
    generate(anki_app, dlg)
    table = dlg.table
    good, made_up = table.cards
    assert good.grounded and not made_up.grounded
    assert table.marks_of(made_up) == ["Not in source"]
    assert table.marks_of(good) == []
    tip = table.item(0, review.COL_FRONT).toolTip()
    assert "Chloroplasts are the organelles" in tip and "Source: pasted text" in tip
    assert "not found" in table.item(1, review.COL_MARKS).toolTip()
    # a card not in the source starts unchecked, like a duplicate: Add leaves it out
    assert table.checked_cards() == [good]
    # checked on purpose, it is added with a tag saying so
    table.set_checked(1, True)
    deck = anki_app.new_deck("Marks")
    set_deck(anki_app, dlg, deck)
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10)
    tags = {t for n in dlg.adder.last_added for t in anki_app.col.get_note(n).tags}
    assert "ollama-flashcards::ungrounded" in tags


def test_closing_while_generating_asks_and_stops_the_job(anki_app):
    with FakeOllama(latency=0.3) as server:
        dlg = open_dialog(anki_app, server.url, num_ctx=1024, num_predict=512, max_cards=0)
        dlg.source.edit.setPlainText(long_text())
        dlg.generate_btn.click()
        anki_app.wait_until(lambda: dlg.busy, 15)
        anki_app.answers = [False]
        dlg.close()
        assert "still being generated" in anki_app.take("askUser")[0].text
        assert dlg.isVisible() and dlg.busy
        anki_app.answers = [True]
        cancel = dlg.runner.cancel_event
        dlg.close()
        assert anki_app.take("askUser")
        assert cancel.is_set()
        anki_app.wait_until(lambda: not anki_app.top_windows(type(dlg)), 15)
        requests = len(server.chat_bodies())
        anki_app.pump(1.0)  # the job stopped: no more requests, no late callback errors
        assert len(server.chat_bodies()) <= requests + 1


def test_pull_progress_shows_bytes(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    dlg.models.pulling = True
    dlg.models.pull_row.show()
    dlg.models.show_pull_progress("llama3.2", "pulling abc123", 512 * 1024 * 1024, 2 * 1024 ** 3)
    assert dlg.models.pull_bar.value() == 250
    assert dlg.models.pull_label.text() == "Pulling: 512.0 MB of 2.0 GB"
    dlg.models.show_pull_progress("llama3.2", "verifying sha256 digest", 0, 0)
    assert dlg.models.pull_label.text() == "verifying sha256 digest"
    dlg.models.pulling = False


def test_a_long_generation_does_not_freeze_the_browser(anki_app):
    """A QueryOp marks the backend as blocking for as long as it runs, and the Browser then
    shows blank rows; generation (minutes) must not do that."""
    import aqt

    with FakeOllama(latency=0.3) as server:
        browser = aqt.dialogs.open("Browser", anki_app.mw)
        dlg = open_dialog(anki_app, server.url, num_ctx=1024, num_predict=512, max_cards=0)
        dlg.source.edit.setPlainText(long_text())
        dlg.generate_btn.click()
        anki_app.wait_until(lambda: dlg.table.cards, 10)
        assert dlg.busy
        assert not browser.table._model._block_updates
        assert anki_app.mw._background_op_count == 0
        dlg.progress.cancel_btn.click()
        anki_app.wait_until(dlg.idle, 15)


def test_cards_cannot_be_added_as_the_wrong_kind(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("wrong kind"))
    generate(anki_app, dlg)
    n = len(dlg.table.cards)
    dlg.options.select_kind("cloze")
    dlg.add_btn.click()
    anki_app.pump(0.1)
    assert "made as question/answer cards" in dlg.message.text()
    assert len(dlg.table.cards) == n and not dlg.adder.last_added
    dlg.options.select_kind("reversed")  # same fields as basic: fine
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10)
    note = anki_app.col.get_note(dlg.adder.last_added[0])
    assert len(note.cards()) == 2  # front→back and back→front (Anki 23.10 mislabels the type's kind)


def test_editing_a_cell_with_the_keyboard(anki_app, server):
    from PyQt6.QtTest import QTest
    from aqt.qt import QApplication, Qt

    review = anki_app.module("ui.review")
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("keyboard edit"))
    generate(anki_app, dlg)
    table = dlg.table
    card = table.cards[0]
    item = table.item(0, review.COL_BACK)
    table.setCurrentItem(item)
    table.editItem(item)
    editor = anki_app.wait_until(lambda: QApplication.focusWidget()
                                 if isinstance(QApplication.focusWidget(), review._PlainEditor) else None, 15)
    editor.selectAll()
    QTest.keyClicks(editor, "First line")
    QTest.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)  # new line
    QTest.keyClicks(editor, "second & last")
    QTest.keyClick(editor, Qt.Key.Key_Return)  # done
    anki_app.pump(0.05)
    assert card.back == "First line<br>second &amp; last"
    assert table.item(0, review.COL_BACK).text() == "First line\nsecond & last"


def test_a_new_run_never_cross_flags_the_rows_of_an_earlier_one(anki_app, server):
    """Rows left from an earlier run (not added) stay, but the duplicate check of a new run
    looks only at its own cards: the same fronts again are not "Duplicate in batch"."""
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("new run does not cross flag"))
    generate(anki_app, dlg)
    first = list(dlg.table.cards)
    assert first and not dlg.table.checked_cards() == []
    generate(anki_app, dlg)  # the same text again: the same fronts, in a run of its own
    rows = dlg.table.cards
    assert len(rows) == 2 * len(first)
    second = rows[len(first):]
    assert all(c.duplicate is None for c in second), [c.duplicate for c in second]
    assert all(c.duplicate is None for c in first)
    assert len(dlg.table.checked_cards()) == len(rows)  # nothing silently left out
    assert "already in your collection" not in dlg.message.text()
    dlg.table.set_all_checked(False)


def test_undo_after_add_keeps_the_rows_so_they_can_be_added_again(anki_app, server):
    col = anki_app.col
    deck = anki_app.new_deck("Undo")
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("undo keeps rows"))
    set_deck(anki_app, dlg, deck)
    generate(anki_app, dlg)
    cards = list(dlg.table.cards)
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10)
    anki_app.wait_until(dlg.idle, 15)
    # the added cards stay in the list, marked and unchecked, not counted as to review
    assert len(dlg.table.rows) == len(cards) and not dlg.table.cards
    assert all(dlg.table.marks_of(c) == ["Added"] for c in cards)
    assert dlg.add_btn.text() == "Add 0 cards" and not dlg.table.checked_cards()

    anki_app.wait_until(lambda: "Generate Flashcards" in anki_app.mw.form.actionUndo.text(), 15)
    anki_app.mw.undo()
    anki_app.wait_until(lambda: not col.find_notes('"deck:%s"' % deck), 10, "undo left notes")
    # back in the list: correct one, then add again
    anki_app.wait_until(lambda: len(dlg.table.cards) == len(cards), 15, "the rows did not come back")
    assert "undone" in dlg.message.text()
    assert all("Added" not in dlg.table.marks_of(c) for c in cards)
    review = anki_app.module("ui.review")
    dlg.table.edit_cell(cards[0], review.COL_FRONT, "A corrected question?")
    dlg.table.set_all_checked(True)
    dlg.adder.last_added = []
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10, "the corrected cards were not added")
    fronts = {col.get_note(n).fields[0] for n in col.find_notes('"deck:%s"' % deck)}
    assert len(fronts) == len(cards) and "A corrected question?" in fronts


def test_the_engine_is_imported_on_a_worker_not_at_the_first_generate_click(anki_app, server, monkeypatch):
    import sys
    import threading

    picker = anki_app.module("ui.model_picker")
    threads = []
    real = picker.warm_up

    def spy():
        threads.append(threading.current_thread() is threading.main_thread())
        real()

    monkeypatch.setattr(picker, "warm_up", spy)
    dlg = open_dialog(anki_app, server.url)
    assert threads == [False]  # asked for the models on a worker, importing the engine there
    addon = anki_app.addon.__name__
    for name in ("generator.job.run", "generator.job.chunking", "generator.job.answers", "generator.sources",
                 "generator.notes.add", "generator.backends.ollama", "generator.backends.http"):
        assert addon + "." + name in sys.modules, name
    # the click itself imports nothing new on the main thread
    dlg.source.edit.setPlainText(text_for("warm engine"))
    before = set(sys.modules)
    dlg.generate_btn.click()
    assert {m for m in set(sys.modules) - before if m.startswith(addon)} == set()
    anki_app.wait_until(dlg.idle, 20)


CUT_ANSWER = ('{"cards": [{"front": "What is kept from a cut answer?", "back": "Its complete cards.", '
              '"quote": "x"}, {"front": "Wh')


def test_an_answer_cut_twice_says_how_many_cards_were_kept(anki_app, server):
    """Not "Made N cards" alone: the message bar says the answer was cut, how many cards were
    kept from it, and what to change."""
    server.script(Reply(content=CUT_ANSWER, done_reason="length"),
                  Reply(content=CUT_ANSWER, done_reason="length"))
    dlg = open_dialog(anki_app, server.url, max_cards=2)
    dlg.source.edit.setPlainText(text_for("an answer cut twice says how many cards were kept"))
    generate(anki_app, dlg)
    text = dlg.message.text()
    assert len(dlg.table.cards) == 1
    assert "cut at the token limit" in text and "the 1 card written before the break" in text
    assert "num_predict" in text and "Traceback" not in text
    dlg.table.set_all_checked(False)


def test_the_duplicate_check_adds_to_the_jobs_message_and_keeps_its_retry(anki_app, server):
    """The duplicate check ends after the job's own message is up: its news is added to that
    message (the cut-answer warning and its Retry stay), never put in its place."""
    col = anki_app.col
    dlg = open_dialog(anki_app, server.url, max_cards=2)
    nt, mapping = anki_app.module("generator.notes.add").resolve_notetype(col, dlg.options.target())
    note = col.new_note(nt)
    note[mapping["front"]] = "What is kept from a cut answer?"  # the card CUT_ANSWER keeps
    note[mapping["back"]] = "A note made earlier."
    col.add_note(note, col.decks.id("Default"))
    try:
        server.script(Reply(content=CUT_ANSWER, done_reason="length"),
                      Reply(content=CUT_ANSWER, done_reason="length"))
        dlg.source.edit.setPlainText(text_for("the duplicate check adds to the job's message"))
        generate(anki_app, dlg)
        assert [c.duplicate for c in dlg.table.cards] == ["collection"]
        text = dlg.message.text()
        assert "cut at the token limit" in text and "1 card looks already in your collection" in text
        assert "Retry" in dlg.message.action_titles()
        dlg.table.set_all_checked(False)
    finally:
        col.remove_notes([note.id])


def account_in(text):
    """'N cards made: A added, ...' in a message -> (N, {words: count})."""
    import re

    m = re.search(r"([\d,]+) cards? made: (.*?)\.(?:\s|$)", text)
    assert m, text
    parts = [re.match(r"([\d,]+) (.*)", p.strip()).groups() for p in m.group(2).split(",")]
    return int(m.group(1).replace(",", "")), {w: int(n.replace(",", "")) for n, w in parts}


def test_the_add_message_accounts_for_every_card(anki_app, server):
    """The model writes more than the text can hold and a question twice; the user unchecks
    one card and deletes another; the add's message adds up to every card made."""
    deck = anki_app.new_deck("Accounted")
    dlg = open_dialog(anki_app, server.url, max_cards=0)  # no number set: the text's bound applies
    text = text_for("the add message accounts for every card")
    token = text.split()[1]
    dlg.source.edit.setPlainText(text)
    set_deck(anki_app, dlg, deck)
    quote = "%s Chloroplasts are the organelles where photosynthesis happens in plant cells." % token
    cards = [{"front": "%s: where does photosynthesis happen in plant cells? (%d)" % (token, k),
              "back": "In the chloroplasts, the organelles where photosynthesis happens.", "quote": quote}
             for k in range(60)]
    cards.insert(1, dict(cards[0]))  # the same question twice
    server.script(Reply.cards(cards))
    generate(anki_app, dlg)
    table = dlg.table
    shown = list(table.cards)
    assert 10 <= len(shown) < 61, dlg.message.text()
    assert "more cards than this text can hold" in dlg.message.text()
    table.set_checked(table.review_rows.index_of(shown[2]), False)
    table.remove_cards([shown[3]], by_user=True)
    wanted = len(table.checked_cards())
    assert wanted > 5, [(c.front, c.duplicate, c.grounded, c.flags) for c in table.cards]
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10, "cards were not added: " + dlg.message.text())
    anki_app.wait_until(dlg.idle, 15)
    made, parts = account_in(dlg.message.text())
    assert made == 61 == sum(parts.values()), dlg.message.text()
    assert parts["added"] == wanted == len(anki_app.col.find_notes('"deck:%s"' % deck))
    assert parts["duplicate in the batch"] == 1 and parts["left out by you"] == 2
    assert parts["over what the text can hold"] == 61 - len(shown)
