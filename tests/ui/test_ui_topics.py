"""Topics first and cards as they are written, in the real Anki main window (headless) against the
fake Ollama server: the topic checklist (uncheck, edit, add one, generate → only those topics'
cards), the focus in every request, rows streaming in while the job runs (edited rows survive,
deleted rows stay deleted, Add while running)."""

from fake_ollama import FakeOllama, title_of
from dialogs import TEXT, free_port, open_dialog, text_for

TOPIC_TAG = "ollama-flashcards::topic::"


def sentences(text):
    import re

    return [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text) if len(s.split()) >= 4]


def find_topics(app, dlg):
    assert dlg.topics.find_btn.isEnabled()
    dlg.topics.find_btn.click()  # (the step clears the message bar when it starts)
    app.wait_until(lambda: dlg.idle() and (dlg.message.text() or dlg.topics.has_topics()), 20,
                   "the topic step did not finish")


def test_checked_topics_only_with_an_edited_title_and_one_of_the_users_own(anki_app, server):
    text = text_for("topics checklist")
    deck = anki_app.new_deck("Topics")
    dlg = open_dialog(anki_app, server.url, max_cards=0)
    anki_app.resize(dlg, 1100, 760)
    dlg.source.edit.setPlainText(text)
    dlg.options.deck_chooser.selected_deck_id = anki_app.col.decks.id_for_name(deck)
    dlg.options.focus_edit.setText("only the plants")
    find_topics(anki_app, dlg)

    listed = dlg.topics.topics()
    titles = [t.title for t in listed]
    assert titles == [title_of(s) for s in sentences(text)][:len(titles)] and len(titles) >= 5
    tree = dlg.topics.tree
    first = tree.topLevelItem(0)
    assert "Photosynthesis is the process" in first.toolTip(0)  # the summary on hover
    assert first.text(2) == "1"
    assert "Found %d topics" % len(titles) in dlg.message.text()
    assert dlg.generate_btn.text() == "Generate for %d topics" % len(titles)
    bodies = server.chat_bodies()
    assert all("topics" in b["format"]["properties"] for b in bodies)
    assert all("only the plants" in b["messages"][0]["content"] for b in bodies)
    anki_app.screenshot(dlg, "topics-checklist")

    # uncheck the second topic, rename the first, add one of my own
    dlg.topics.set_checked(1, False)
    first.setText(0, "Light into chemical energy")
    dlg.topics.add_edit.setText("Calvin cycle")
    dlg.topics.add_btn.click()
    kept = [t.title for t in dlg.topics.topics() if t.checked]
    assert titles[1] not in kept and "Light into chemical energy" in kept and "Calvin cycle" in kept
    assert dlg.generate_btn.text() == "Generate for %d topics" % len(kept)
    calvin_sentence = next(s for s in sentences(text) if "Calvin" in s)
    dlg.topics.set_checked(dlg.topics.index_of(title_of(calvin_sentence)), False)
    kept.remove(title_of(calvin_sentence))

    asked_before = len(server.chat_bodies())
    dlg.generate_btn.click()
    anki_app.wait_until(lambda: dlg.busy, 15)
    anki_app.wait_until(dlg.idle, 20, "generation did not finish")
    cards = dlg.table.cards
    assert cards, dlg.message.text()
    made = {c.topic for c in cards}
    assert made <= set(kept) and {"Light into chemical energy", "Calvin cycle"} <= made
    assert not any(sentences(text)[1] in c.back for c in cards)  # the unchecked topic's sentence
    assert any("Calvin" in c.back and c.topic == "Calvin cycle" for c in cards)
    asked = server.chat_bodies()[asked_before:]
    assert all("only the plants" in b["messages"][0]["content"] for b in asked)
    assert all("Write cards only about these topics" in b["messages"][1]["content"] for b in asked)

    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10, "cards were not added")
    anki_app.wait_until(dlg.idle, 15)
    tags = [anki_app.col.get_note(n).tags for n in dlg.adder.last_added]
    assert all(any(t.startswith(TOPIC_TAG) for t in note_tags) for note_tags in tags)
    assert any(TOPIC_TAG + "calvin-cycle" in note_tags for note_tags in tags)


def test_the_topic_list_is_cleared_when_the_source_changes(anki_app, server):
    dlg = open_dialog(anki_app, server.url)
    dlg.source.edit.setPlainText(text_for("topics cleared"))
    find_topics(anki_app, dlg)
    assert dlg.topics.has_topics()
    dlg.source.edit.setPlainText(text_for("topics cleared, another text"))
    assert not dlg.topics.has_topics() and dlg.generate_btn.text() == "Generate"
    assert "find topics again" in dlg.message.text().lower()


def test_find_topics_with_the_server_down_says_what_to_do(anki_app):
    dlg = open_dialog(anki_app, "http://127.0.0.1:%d" % free_port())
    dlg.source.edit.setPlainText(text_for("topics server down"))
    dlg.models.set_model("llama3.2")
    find_topics(anki_app, dlg)
    assert "ollama serve" in dlg.message.text() and not dlg.topics.has_topics()
    assert "Retry" in dlg.message.action_titles()


def test_rows_arrive_while_the_model_writes_and_edits_survive(anki_app):
    review = anki_app.module("ui.review")
    text = text_for("rows arrive while the model writes")
    with FakeOllama(rate=60) as srv:  # about 1.5 s per card
        dlg = open_dialog(anki_app, srv.url, max_cards=5)
        anki_app.resize(dlg, 1100, 700)
        dlg.source.edit.setPlainText(text)
        dlg.generate_btn.click()
        anki_app.wait_until(lambda: len(dlg.table.rows) >= 2, 20, "no rows arrived")
        writing = srv.active  # the answer is still being sent (a piece every 17 ms, for seconds)
        assert dlg.busy and writing >= 1
        rows = list(dlg.table.rows)
        assert all("Arriving…" in dlg.table.marks_of(r.card) for r in rows)
        anki_app.screenshot(dlg, "rows-arriving")

        # edit the first row, delete the second, and add what is checked, all while it runs
        dlg.table.edit_cell(rows[0].card, review.COL_FRONT, "My own question about light?")
        dlg.table.remove(rows[1].key)
        deleted_back = rows[1].card.back
        assert dlg.add_btn.isEnabled() and dlg.busy
        dlg.add_btn.click()
        anki_app.wait_until(lambda: dlg.adder.last_added, 10, "the add while running did not happen")
        assert dlg.busy, "the job should go on while the checked cards are added"
        early_added = list(dlg.adder.last_added)

        anki_app.wait_until(dlg.idle, 30, "generation did not finish")
    fronts = [r.card.front for r in dlg.table.rows]
    assert "My own question about light?" in fronts
    assert deleted_back not in [r.card.back for r in dlg.table.rows]  # stays deleted
    assert not any("Arriving…" in dlg.table.marks_of(r.card) for r in dlg.table.rows)
    assert len(dlg.table.rows) == 4  # five made, one deleted
    note = anki_app.col.get_note(early_added[0])
    assert note["Front"] == "My own question about light?"
    # the job's end message took the bar: the cards added while it ran are still one click away
    assert "Made " in dlg.message.text() or "already in your collection" in dlg.message.text()
    assert "Added %d card" % len(early_added) in dlg.message.text()
    dlg.message.trigger("Show in Browser")
    browser = anki_app.wait_until(lambda: __import__("aqt").dialogs._dialogs["Browser"][1], 10)
    assert browser.form.searchEdit.lineEdit().text() == "nid:" + ",".join(str(n) for n in early_added)
    dlg.table.set_all_checked(False)


# What a good model answers for dialogs.TEXT (the fake server's own answers are made for
# tests, not looks): the README's screenshots of the checklist and of rows arriving.
TOPICS = [
    {"n": 2, "title": "What photosynthesis does", "summary": "Green plants turn light energy into chemical energy.",
     "cards": 2},
    {"n": 3, "title": "Inputs and outputs", "summary": "Carbon dioxide and water in; oxygen out.", "cards": 2},
    {"n": 4, "title": "Chloroplasts", "summary": "The organelles where photosynthesis happens.", "cards": 1},
    {"n": 5, "title": "Chlorophyll and light colours", "summary": "It absorbs red and blue light most strongly.",
     "cards": 2},
    {"n": 6, "title": "Photorespiration", "summary": "RuBisCO binds oxygen instead of carbon dioxide.",
     "cards": 2},  # the text never names it: marked
]
CARDS = [
    {"n": 2, "front": "What does photosynthesis turn light energy into?", "back": "Chemical energy.",
     "topic": "What photosynthesis does"},
    {"n": 2, "front": "Which organisms carry out photosynthesis?", "back": "Green plants.",
     "topic": "What photosynthesis does"},
    {"n": 4, "front": "In which organelles does photosynthesis happen?", "back": "In the chloroplasts.",
     "topic": "Chloroplasts"},
    {"n": 5, "front": "Which colours of light does chlorophyll absorb most strongly?", "back": "Red and blue.",
     "topic": "Chlorophyll and light colours"},
    {"n": 6, "front": "What does the Calvin cycle use to fix carbon dioxide?", "back": "ATP and NADPH.",
     "topic": "Photorespiration"},
]


def test_screenshots_of_the_checklist_and_of_rows_arriving(anki_app, server):
    import json

    from fake_ollama import Reply

    dlg = open_dialog(anki_app, server.url, max_cards=0)
    anki_app.resize(dlg, 1100, 780)
    dlg.source.edit.setPlainText(TEXT)
    dlg.options.focus_edit.setText("the biology, not the chemistry")
    server.script(Reply(content=json.dumps({"topics": TOPICS})))
    find_topics(anki_app, dlg)
    assert [t.title for t in dlg.topics.topics()] == [t["title"] for t in TOPICS]
    assert [t.grounded for t in dlg.topics.topics()] == [True, True, True, True, False]
    assert "⚠" in dlg.topics.tree.topLevelItem(4).text(1)
    dlg.topics.set_checked(1, False)
    dlg.topics.add_edit.setText("Where the oxygen comes from")
    dlg.topics.add_btn.click()
    anki_app.screenshot(dlg, "topics-checklist")

    server.script(Reply(content=json.dumps({"cards": CARDS}), rate=40))
    dlg.generate_btn.click()
    anki_app.wait_until(lambda: len(dlg.table.rows) >= 3, 30, "no rows arrived")
    anki_app.pump(0.2)
    assert dlg.busy and dlg.table.item(2, 2).text() == "In the chloroplasts."
    anki_app.screenshot(dlg, "rows-arriving")
    dlg.progress.cancel_btn.click()
    anki_app.wait_until(dlg.idle, 10)
    dlg.table.set_all_checked(False)
