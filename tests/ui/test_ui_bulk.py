"""The bulk import dialog in the real Anki main window (headless), against the fake Ollama
server: files of several types and a broken one, cancel and resume, review mode, retry of
failed sections, server down."""
import os
import json
import re
import threading
import time

from dialogs import HTML, MD, TXT, bulk, deck_notes, open_bulk, wait_finished, write  # noqa: F401  (bulk: a fixture)
from fake_ollama import FakeOllama, Reply, source_text


def long_md(sections=30, tag="S"):
    return "\n\n".join(
        "# Part %s%d\n\n%s" % (tag, i, " ".join(
            "Statement %s-%d-%d tells that the lake number %d holds %d fish in spring." % (tag, i, k, k, k)
            for k in range(16)))
        for i in range(sections))


def test_three_file_types_and_a_broken_file(anki_app, bulk, server, tmp_path):
    deck = anki_app.new_deck("Bulk")
    dlg = open_bulk(anki_app, bulk, server.url, deck)
    files = [write(tmp_path, "rivers.md", MD), write(tmp_path, "volcanoes.txt", TXT),
             write(tmp_path, "broken.pdf", "this is not a PDF at all, just some words"),
             write(tmp_path, "cells.html", HTML)]
    assert dlg.add_paths(files) == 4
    assert dlg.files.status_texts() == ["Waiting"] * 4
    dlg.start_btn.click()
    wait_finished(anki_app, dlg)
    statuses = dlg.files.status_texts()
    assert [s.split(" ")[0] for s in statuses] == ["Done", "Done", "Failed:", "Done"], statuses
    assert "broken.pdf" in statuses[2] or "PDF" in statuses[2]
    result = dlg.last_result
    col = anki_app.col
    nids = deck_notes(col, deck)
    assert len(nids) == len(result.note_ids) == sum(f.cards for f in result.files) > 0
    sources = {t.split("::source::")[1] for nid in nids for t in col.get_note(nid).tags if "::source::" in t}
    assert sources == {"rivers.md", "volcanoes.txt", "cells.html"}
    text = dlg.message.text()
    assert "broken.pdf" in text and "could not be read" in text
    assert "Show in Browser" in dlg.message.action_titles()
    assert dlg.coverage.tree.topLevelItemCount() == 4
    sections = [s.label() for s in result.sections if s.name == "rivers.md"]
    assert sections and all(s.startswith("Rivers") for s in sections)
    assert result.finished  # the journal is closed: nothing to resume
    assert bulk.unfinished(bulk.bulk_folder()) == []
    anki_app.resize(dlg, 900, 600)
    anki_app.screenshot(dlg, "bulk-dialog")
    dlg.tabs.setCurrentIndex(bulk.TAB_SUMMARY)
    anki_app.screenshot(dlg, "bulk-summary")


def test_cancel_stops_at_once_and_resume_finishes_without_doubles(anki_app, bulk, tmp_path):
    deck = anki_app.new_deck("Bulk")
    files = [write(tmp_path, "long.md", long_md(30)), write(tmp_path, "more.txt", long_md(10, "T"))]
    hold, release, held = threading.Event(), threading.Event(), []

    def answerer(body):
        if hold.is_set():  # the server holds these answers back for a minute
            held.append(1)
            release.wait(60)
        return Reply()

    with FakeOllama(latency=0.25, slots=2, answerer=answerer) as srv:
        dlg = open_bulk(anki_app, bulk, srv.url, deck, parallel_requests=2)
        dlg.add_paths(files)
        dlg.start_btn.click()
        anki_app.wait_until(lambda: dlg.run is not None and dlg.run.generated >= 3, 20)
        # the running job does not count as "the backend is blocking" (Browser rows stay)
        anki_app.wait_until(lambda: anki_app.mw._background_op_count == 0, 15)
        hold.set()
        anki_app.wait_until(lambda: len(held) == 2, 15)  # two requests in flight, held back
        started = time.monotonic()
        dlg.progress.cancel_btn.click()
        anki_app.wait_until(lambda: not dlg.busy, 15)
        # the cancel did not wait for the held answers (a minute): it closed the requests
        assert time.monotonic() - started < 10
        hold.clear()
        release.set()
        anki_app.wait_until(dlg.idle, 10)
        result = dlg.last_result
        assert result.cancelled and not result.finished
        assert "Stopped" in dlg.message.text() and "Resume" in dlg.message.action_titles()
        kept = len(deck_notes(anki_app.col, deck))
        assert kept == len(result.note_ids) > 0  # the cards made before the cancel were added
        assert any(s.startswith("Stopped at chunk") for s in dlg.files.status_texts())
        anki_app.resize(dlg, 900, 600)
        anki_app.screenshot(dlg, "bulk-cancelled")
        dlg.close()
        anki_app.wait_until(lambda: not anki_app.top_windows(bulk.BulkDialog), 15)

        # Anki starts again: the job is offered for resuming
        anki_app.module("ui.resume").offer_resume(anki_app.mw, anki_app.module("ui.launch").open_bulk)
        dlg = anki_app.wait_for_window(bulk.BulkDialog, 10)
        anki_app.wait_until(lambda: "unfinished bulk job" in dlg.message.text(), 10)
        assert dlg.files.status_texts() and len(dlg.files.status_texts()) == 2
        dlg.message.trigger("Resume")
        wait_finished(anki_app, dlg, 60)
        final = dlg.last_result
        assert final.finished and not final.cancelled and not final.fatal
        texts = [source_text(b["messages"][1]["content"]) for b in srv.chat_bodies()]
        total = sum(f.chunks_total for f in final.files)
        assert len(set(texts)) == total
        assert len(texts) - total <= 2  # only the two requests in flight at the cancel were asked again
        col = anki_app.col
        nids = deck_notes(col, deck)
        fronts = [col.get_note(n)["Back"] for n in nids]
        assert len(nids) == len(set(fronts)) == sum(f.cards for f in final.files) == len(final.note_ids)
        assert all(s.startswith("Done") for s in dlg.files.status_texts())


def test_review_mode_adds_only_the_checked_cards(anki_app, bulk, server, tmp_path):
    deck = anki_app.new_deck("Bulk")
    dlg = open_bulk(anki_app, bulk, server.url, deck)
    dlg.mode_review.setChecked(True)
    dlg.add_paths([write(tmp_path, "r.md", long_md(2, "R")), write(tmp_path, "q.txt", long_md(2, "Q"))])
    dlg.start_btn.click()
    wait_finished(anki_app, dlg)
    anki_app.wait_until(lambda: dlg.review.table.cards, 10)
    assert len(deck_notes(anki_app.col, deck)) == 0  # nothing added before the review
    assert dlg.tabs.currentIndex() == bulk.TAB_REVIEW
    n = len(dlg.review.table.cards)
    dlg.review.table.set_checked(0, False)
    assert dlg.review.add_btn.text() == "Add %d card%s" % (n - 1, "" if n - 1 == 1 else "s")
    anki_app.resize(dlg, 900, 600)
    anki_app.screenshot(dlg, "bulk-review")
    dlg.review.add_btn.click()
    anki_app.wait_until(lambda: not dlg.review.table.cards and dlg.idle(), 10)
    assert len(deck_notes(anki_app.col, deck)) == n - 1
    assert bulk.unfinished(bulk.bulk_folder()) == []
    assert "Added" in dlg.message.text()


def test_failed_sections_are_shown_and_retried_alone(anki_app, bulk, tmp_path):
    deck = anki_app.new_deck("Bulk")
    broken = {"on": True}

    def answerer(body):
        if broken["on"] and "Part F1" in body["messages"][1]["content"]:
            return Reply(content="I cannot do that.")
        return Reply()

    with FakeOllama(answerer=answerer) as srv:
        dlg = open_bulk(anki_app, bulk, srv.url, deck)
        dlg.add_paths([write(tmp_path, "f.md", long_md(3, "F"))])
        dlg.start_btn.click()
        wait_finished(anki_app, dlg)
        assert "Retry failed sections" in dlg.message.action_titles()
        assert "failed" in dlg.files.status_texts()[0]
        failed = dlg.last_result.failed_sections()
        assert failed and "Part F1" in failed[0].label()
        assert dlg.coverage.retry_btn.isEnabled()
        broken["on"] = False
        before = len(srv.chat_bodies())
        dlg.message.trigger("Retry failed sections")
        wait_finished(anki_app, dlg)
        assert len(srv.chat_bodies()) - before == len(failed)
        assert not dlg.last_result.failed_sections() and dlg.last_result.finished
        assert len(deck_notes(anki_app.col, deck)) == len(dlg.last_result.note_ids)


def test_cards_from_a_cut_answer_are_a_warning_in_the_report(anki_app, bulk, tmp_path):
    deck = anki_app.new_deck("Bulk")
    cut = ('{"cards": [{"front": "How many fish does lake 1 hold?", "back": "1 fish.", "quote": "lake"}, '
           '{"front": "Wh')

    def answerer(body):
        if "Part C1" in body["messages"][1]["content"]:
            return Reply(content=cut, done_reason="length")
        return Reply()

    with FakeOllama(answerer=answerer) as srv:
        dlg = open_bulk(anki_app, bulk, srv.url, deck)
        dlg.add_paths([write(tmp_path, "c.md", long_md(3, "C"))])
        dlg.start_btn.click()
        wait_finished(anki_app, dlg)
    text = dlg.message.text()
    assert "section has a warning" in text and "cut at the token limit" in text and "num_predict" in text
    assert dlg.last_result.finished and not dlg.last_result.failed_sections()
    top = dlg.coverage.tree.topLevelItem(0)
    outcomes = [top.child(i).text(3) for i in range(top.childCount())]
    assert any(o.startswith("kept, but: ") for o in outcomes), outcomes


def test_server_down_says_what_to_do(anki_app, bulk, tmp_path):
    deck = anki_app.new_deck("Bulk")
    srv = FakeOllama().start()
    url = srv.url
    srv.stop()
    dlg = open_bulk(anki_app, bulk, url, deck)
    dlg.add_paths([write(tmp_path, "rivers.md", MD)])
    dlg.start_btn.click()
    anki_app.wait_until(lambda: not dlg.busy and dlg.message.text(), 15)
    text = dlg.message.text()
    assert "Cannot connect" in text and "ollama serve" in text
    assert dlg.message.action_titles() == ["Retry", "Settings…"]
    assert len(deck_notes(anki_app.col, deck)) == 0


def test_add_folder_takes_supported_files_only(anki_app, bulk, server, tmp_path):
    deck = anki_app.new_deck("Bulk")
    dlg = open_bulk(anki_app, bulk, server.url, deck)
    folder = tmp_path / "course"
    (folder / "week2").mkdir(parents=True)
    write(folder, "a.md", MD)
    write(folder / "week2", "b.txt", TXT)
    write(folder, "image.png", "x")
    write(folder, ".hidden.md", MD)
    assert dlg.add_paths([str(folder)]) == 2
    assert [os.path.basename(p) for p in dlg.files.paths] == ["a.md", "b.txt"]
    assert dlg.add_paths([str(folder)]) == 0  # already there


def test_no_resume_offer_without_an_unfinished_job(anki_app, bulk):
    anki_app.module("ui.resume").offer_resume(anki_app.mw, anki_app.module("ui.launch").open_bulk)
    anki_app.pump(1.5)
    assert not anki_app.top_windows(bulk.BulkDialog)


def vocab_plus(col):
    """The user's own note type "Vocab+" (Word, Meaning, Source)."""
    mm = col.models
    if mm.by_name("Vocab+") is None:
        nt = mm.new("Vocab+")
        for f in ("Word", "Meaning", "Source"):
            mm.add_field(nt, mm.new_field(f))
        t = mm.new_template("Card 1")
        t["qfmt"], t["afmt"] = "{{Word}}", "{{Meaning}}<br>{{Source}}"
        mm.add_template(nt, t)
        mm.add(nt)
    return "Vocab+"


def test_user_note_type_with_field_mapping_and_resume(anki_app, bulk, tmp_path):
    col = anki_app.col
    name = vocab_plus(col)
    deck = anki_app.new_deck("BulkVocab")
    files = [write(tmp_path, "v.md", long_md(8, "V")), write(tmp_path, "w.txt", long_md(4, "W"))]
    with FakeOllama(latency=0.2, slots=1) as srv:
        dlg = open_bulk(anki_app, bulk, srv.url, deck)
        # the user's note type is offered in the Card type list, as in the Generate dialog
        index = dlg.options.kind_combo.findData("notetype:" + name)
        assert index >= 0 and dlg.options.kind_combo.itemText(index) == "Note type: " + name
        assert not dlg.options.mapping.isVisibleTo(dlg)
        dlg.options.kind_combo.setCurrentIndex(index)
        assert dlg.options.notetype() == name and dlg.options.kind() == "basic"
        assert dlg.options.mapping.isVisibleTo(dlg)
        assert dlg.options.mapping.mapping() == {"front": "Word", "back": "Meaning", "source": "Source"}
        assert dlg.add_paths(files) == 2
        dlg.start_btn.click()
        anki_app.wait_until(lambda: dlg.run is not None and dlg.run.generated >= 2, 20)
        assert not dlg.options.kind_combo.isEnabled() and not dlg.options.mapping.isEnabled()
        dlg.progress.cancel_btn.click()
        anki_app.wait_until(lambda: not dlg.busy, 15)
        anki_app.wait_until(dlg.idle, 10)
        assert dlg.last_result.cancelled and len(dlg.last_result.note_ids) > 0
        target = dlg.journal.state.header["target"]
        assert target["notetype"] == name and target["field_mapping"]["source"] == "Source"

        # resuming uses the job's note type and mapping, whatever the dialog shows now
        dlg.options.select_kind("cloze")
        assert dlg.options.notetype() == "" and not dlg.options.mapping.isVisibleTo(dlg)
        dlg.resume()
        wait_finished(anki_app, dlg, 60)
        final = dlg.last_result
        assert final.finished and not final.fatal
    notes = [col.get_note(n) for n in deck_notes(col, deck)]
    assert len(notes) == len(final.note_ids) == sum(f.cards for f in final.files) > 0
    assert all(n.note_type()["name"] == name for n in notes)
    assert all(n["Word"] and n["Meaning"] for n in notes)
    assert all("{{c1::" not in n["Word"] for n in notes)
    # the source reference ("v.md · Part V3") is in its own field, not under the meaning
    assert all("Source:" not in n["Meaning"] for n in notes)
    # what the user reads in the field (the file's name is a link to the file)
    shown = [re.sub(r"<[^>]*>", "", n["Source"]) for n in notes]
    documents = {text.split(" · ")[0] for text in shown}
    assert documents == {"v.md", "w.txt"}, documents
    assert all(" · Part " in text for text in shown)


def test_a_note_type_added_while_the_dialog_is_open_is_offered_on_reopen(anki_app, bulk, server):
    col = anki_app.col
    deck = anki_app.new_deck("BulkVocab")
    dlg = open_bulk(anki_app, bulk, server.url, deck)
    dlg.options.select_kind("reversed")
    mm = col.models
    name = "Late %s" % deck
    nt = mm.new(name)
    for f in ("Term", "Gloss"):
        mm.add_field(nt, mm.new_field(f))
    t = mm.new_template("Card 1")
    t["qfmt"], t["afmt"] = "{{Term}}", "{{Gloss}}"
    mm.add_template(nt, t)
    mm.add(nt)
    assert dlg.options.kind_combo.findData("notetype:" + name) < 0
    assert anki_app.module("ui.launch").open_bulk() is dlg
    anki_app.wait_until(dlg.idle, 10)
    assert dlg.options.kind_combo.findData("notetype:" + name) >= 0
    assert dlg.options.kind() == "reversed" and dlg.options.notetype() == ""  # the choice is kept


def account_of(text):
    """'N cards made from M files: A added, B duplicates in the batch, ...' -> (N, [(count, words)])."""
    m = re.search(r"([\d,]+) cards? made(?: from \d+ files?)?: (.*?)(?:[;.](?:\s|$)| \(|$)", text)
    assert m, text
    parts = [re.match(r"([\d,]+) (.*)", p.strip()).groups() for p in m.group(2).split(",")]
    return int(m.group(1).replace(",", "")), [(int(n.replace(",", "")), w) for n, w in parts]


def test_the_message_accounts_for_every_card(anki_app, bulk, tmp_path):
    """The bulk job's message, its Summary tab and every file's status say how many cards were
    made, how many were added and why each of the others was not: the counts add up, and the
    added ones are the notes in the deck."""
    deck = anki_app.new_deck("Bulk")
    col = anki_app.col
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "Which river flows north?", "The Nile"
    col.add_note(note, col.decks.id("Default"))

    def answerer(body):
        text = body["messages"][1]["content"]
        if '"action"' in json.dumps(body.get("format") or body.get("response_format") or {}):
            return Reply(content='{"cards": []}')  # the rewrite pass: keep every card as it is
        n = abs(hash(text)) % 100000
        shared = {"front": "What do these notes describe?", "back": "Rivers and volcanoes.",
                  "quote": "the"}
        cards = [{"front": "What does part %d say? (%d)" % (n, k), "back": "Fact %d." % k, "quote": "the"}
                 for k in range(3)]
        cards += [shared, dict(shared), {"front": "Which river flows north?", "back": "The Nile", "quote": "the"}]
        if "Nile" in text:  # a model in a loop, in one part
            cards += [{"front": "And more about %d? (%d)" % (n, k), "back": "More.", "quote": "the"}
                      for k in range(60)]
        return Reply.cards(cards)

    with FakeOllama(answerer=answerer) as srv:
        dlg = open_bulk(anki_app, bulk, srv.url, deck)
        dlg.add_paths([write(tmp_path, "rivers.md", MD), write(tmp_path, "volcanoes.txt", TXT)])
        dlg.start_btn.click()
        wait_finished(anki_app, dlg)
    result = dlg.last_result
    text = dlg.message.text()
    made, parts = account_of(text)
    assert made == sum(n for n, _ in parts), text
    counts = {w: n for n, w in parts}
    assert counts["added"] == len(deck_notes(col, deck)) == len(result.note_ids) > 0, text
    words = [w for _, w in parts]
    assert "already in the collection" in words and "over what the text can hold" in words, text
    assert any(w.startswith("duplicate") for w in words), text
    # the Summary tab says the same, and each file's status adds up to its own share
    assert account_of(dlg.coverage.label.text()) == (made, parts)
    statuses = dlg.files.status_texts()
    per_file = [account_of(s) for s in statuses]
    assert all(m == sum(n for n, _ in p) for m, p in per_file), statuses
    assert sum(m for m, _ in per_file) == made
