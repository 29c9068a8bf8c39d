"""Improving struggling notes in place, against real collections whose cards were answered through
Anki's own scheduler (lapses, leech tags, FSRS memory states are Anki's), and the fake server
speaking Ollama's protocol with scripted answers."""
import json
import time

import pytest

from fake_ollama import Reply
from history_fixtures import (AGAIN, GOOD, add_basic, add_note, answer, card_ids, deck, forget, learn,
                              remember, revlog)

from generator.improve.apply import SPLIT_TAG, UNDO_LABEL, ApplyOptions, apply_proposals
from generator.improve.diagnose import diagnose_notes
from generator.improve.history import IMPROVED_TAG, card_histories, struggling_cards
from generator.improve.request import (FAILED, KEEP, REWRITE, SPLIT, AnswerChecks, DuplicateKeys, base_for,
                                       improve, parse_decisions)

pytestmark = pytest.mark.timeout(120)


def decision(action="rewrite", reason="clearer", split=(), nid="1", **fields):
    item = {"id": nid, "action": action, "reason": reason, "front": "", "back": "", "split": list(split)}
    item.update(fields)
    return item


def answer_with(*items):
    return Reply(content=json.dumps({"notes": list(items)}))


def run(col, server, backend, nids, *replies, settings=None):
    server.script(*replies)
    diagnoses = diagnose_notes(col, nids, settings)
    base, _ = base_for(backend, {"url": server.url})
    return improve(diagnoses, backend, base, AnswerChecks("", DuplicateKeys(col, diagnoses)))


def snapshot(col):
    """Everything a learner would miss if it changed: notes, cards with their scheduling, the log."""
    return (col.db.all("select id, mid, mod, tags, flds from notes order by id"),
            col.db.all("select id, nid, did, ord, type, queue, due, ivl, reps, lapses from cards order by id"),
            col.db.all("select * from revlog order by id"))


# --- the struggling list --------------------------------------------------------------------------

def test_struggling_list_is_anki_own_leech_definition(col):
    """Two decks with their own leech thresholds; the scheduler tags a note "leech" when a card's
    lapses reach its deck's threshold. The list is exactly those cards, worst first."""
    deck(col, "Strict", leech_fails=3)
    deck(col, "Lenient", leech_fails=5)
    made = {}
    for name, lapses in [("Strict", 0), ("Strict", 2), ("Strict", 3), ("Strict", 4), ("Lenient", 3),
                         ("Lenient", 5), ("Lenient", 6)]:
        nid = add_basic(col, name, f"{name} question with {lapses} lapses?", f"Answer {name} {lapses}")
        forget(col, card_ids(col, nid)[0], lapses)
        made[nid] = (name, lapses)
    rev = add_note(col, "Strict", 2, ["Reversed term", "Its meaning"])  # only the reverse card lapses
    fwd, back = card_ids(col, rev)
    remember(col, fwd, 2)
    forget(col, back, 3)
    tagged = set(col.find_notes("tag:leech"))
    assert tagged  # the scheduler really made leeches
    found = struggling_cards(col)
    listed = {s.card_id for s in found.cards}
    leech_cards = {cid for nid in tagged for cid in card_ids(col, nid)
                   if col.get_card(cid).lapses >= (3 if made.get(nid, ("Strict",))[0] == "Strict" else 5)}
    assert listed == leech_cards
    assert {s.note_id for s in found.cards} == tagged
    assert back in listed and fwd not in listed
    assert found.total == len(listed) and not found.fsrs
    # worst first: 4 of 3 before 6 of 5 before 3 of 3 / 5 of 5
    order = [col.get_card(s.card_id).lapses / s.history.leech_threshold for s in found.cards]
    assert order == sorted(order, reverse=True)
    for s in found.cards:  # the figures are the review log's
        rows = col.db.all("select ease, time from revlog where cid = ? and ease > 0", s.card_id)
        assert s.history.answers == len(rows)
        assert s.history.again == sum(1 for e, _t in rows if e == 1)
        assert s.history.lapses == col.get_card(s.card_id).lapses
        assert s.deck in ("Strict", "Lenient") and s.question
        assert "leech" in s.why and "lapses" in s.why


def test_leech_tag_and_threshold_each_count(col):
    deck(col, "D", leech_fails=4)
    tagged_only = add_basic(col, "D", "Tagged by hand?", "Yes", tags=["leech"])  # e.g. from another tool
    remember(col, card_ids(col, tagged_only)[0], 1)
    untagged = add_basic(col, "D", "The user removed the tag?", "Still a leech")
    forget(col, card_ids(col, untagged)[0], 4)
    note = col.get_note(untagged)
    note.remove_tag("leech")
    col.update_note(note)
    calm = add_basic(col, "D", "Fine card?", "Fine")
    forget(col, card_ids(col, calm)[0], 2)
    found = {s.note_id: s for s in struggling_cards(col).cards}
    assert set(found) == {tagged_only, untagged}
    assert found[tagged_only].why == ["leech"] and found[untagged].why == ["lapses"]


def test_fsrs_difficulty_and_retrievability(col, monkeypatch):
    col.set_config("fsrs", True)
    deck(col, "F", leech_fails=20)
    hard = add_basic(col, "F", "Often forgotten?", "Yes")
    forget(col, card_ids(col, hard)[0], 4)
    easy = add_basic(col, "F", "Easy one?", "Easy")
    remember(col, card_ids(col, easy)[0], 2)
    # How hard four lapses on one day make a card depends on the FSRS version (Anki 26 gives
    # 99 %, 23.10 ignores same-day reviews): the memory state says a difficulty of 98 % here.
    cid = card_ids(col, hard)[0]
    data = json.loads(col.db.scalar("select data from cards where id = ?", cid))
    data["d"] = 9.8
    col.db.execute("update cards set data = ? where id = ?", json.dumps(data), cid)
    found = {s.note_id: s for s in struggling_cards(col).cards}
    assert hard in found and "difficulty" in found[hard].why and easy not in found
    assert found[hard].history.difficulty >= 0.9
    # Retrievability as Anki computes it, days later (the memory state's last review moved back).
    cid = card_ids(col, easy)[0]
    data = json.loads(col.db.scalar("select data from cards where id = ?", cid))
    col.db.execute("update revlog set id = id - ? where cid = ?", 400 * 86400 * 1000, cid)
    col.db.execute("update cards set due = due - 400 where id = ?", cid)
    if "lrt" in data:  # the memory state keeps the last review's time (newer Anki)
        data["lrt"] -= 400 * 86400
        col.db.execute("update cards set data = ? where id = ?", json.dumps(data), cid)
    h = card_histories(col, [cid])[cid]
    assert h.retrievability == pytest.approx(col.card_stats_data(cid).fsrs_retrievability, abs=1e-3)
    found = {s.note_id: s for s in struggling_cards(col).cards}
    assert easy in found and "retrievability" in found[easy].why
    assert set(col.find_cards("prop:r<0.7")) <= {s.card_id for s in found.values()}
    # An Anki whose search has no FSRS properties: the memory states are read instead, same list.
    import generator.improve.history as history

    monkeypatch.setattr(history, "fsrs_by_search", lambda col: None)
    again = {s.note_id: s.why for s in struggling_cards(col).cards}
    assert again == {nid: s.why for nid, s in found.items()}


# --- diagnosis ----------------------------------------------------------------------------------

def test_diagnosis_in_plain_words(col):
    deck(col, "Bio", leech_fails=4)
    made = add_basic(col, "Bio", "What does the mitochondrion do?",
                     'It makes ATP, stores calcium and starts apoptosis<br><div class="ollama-flashcards-source">'
                     "<small>Source: cell.md · Organelles</small></div>",
                     tags=["ollama-flashcards", "ollama-flashcards::source::cell.md"])
    forget(col, card_ids(col, made)[0], 5, seconds=40)
    for _ in range(30):  # the collection's usual answers are quick
        other = add_basic(col, "Other", f"Quick {_}?", f"Quick answer {_}")
        remember(col, card_ids(col, other)[0], 1, seconds=3)
    mine = add_basic(col, "Bio", "Capital of Peru?", "Lima")
    d_made, d_mine = diagnose_notes(col, [made, mine])
    text = " ".join(d_made.texts())
    assert "leech" in text and "forgotten 5 times" in text and "leech at 4 lapses" in text
    assert "to answer on average" in text  # slow
    assert "Card check: The answer lists 3 items" in text
    assert "cell.md · Organelles" in text and "keeps the name of a source, not its text" in text
    assert d_made.note.source_line and "Source:" not in d_made.note.card.back
    mine_text = " ".join(d_mine.texts())
    assert "No reviews yet" in mine_text and "did not make this note" in mine_text


def test_source_of_a_note_made_from_a_note(col):
    origin = add_basic(col, "Src", "Mitochondria make ATP. Chloroplasts make glucose. Ribosomes make proteins.", "")
    made = add_basic(col, "Bio", "Which organelle makes ATP?", "Mitochondria",
                     tags=["ollama-flashcards", "ollama-flashcards::from-note::%d" % origin])
    (d,) = diagnose_notes(col, [made])
    assert "Mitochondria make ATP" in d.source.text and f"note {origin}" in d.source.said
    col.remove_notes([origin])
    (d,) = diagnose_notes(col, [made])
    assert not d.source.text and "no longer exists" in d.source.said


def test_interference_similar_notes_failed_on_the_same_days(col):
    deck(col, "Org", leech_fails=8)
    a = add_basic(col, "Org", "Which organelle of the plant cell makes glucose from light?", "The chloroplast")
    b = add_basic(col, "Org", "Which organelle of the animal cell makes glucose from light?", "None")
    forget(col, card_ids(col, a)[0], 3)
    forget(col, card_ids(col, b)[0], 2)
    (d,) = diagnose_notes(col, [a])
    assert d.similar and d.similar[0].note_id == b and d.similar[0].by == "words"
    assert d.similar[0].shared_again_days >= 1
    assert any(r.kind == "interference" and str(b) in r.text for r in d.reasons)


# --- rewrite, split, keep -----------------------------------------------------------------------

def test_rewrite_keeps_note_cards_and_review_history(col, server, backend):
    deck(col, "Bio", leech_fails=3)
    line = '<div class="ollama-flashcards-source"><small>Source: cell.md</small></div>'
    nid = add_note(col, "Bio", 2, ["What does the chloroplast do?", "It makes glucose<br>" + line],
                   tags=["ollama-flashcards", "leech"])
    cids = card_ids(col, nid)
    forget(col, cids[0], 4)
    forget(col, cids[1], 1)
    log_before = revlog(col, cids)
    cards_before = col.db.all("select id, nid, did, ord, type, queue, due, ivl, reps, lapses from cards order by id")
    (p,) = run(col, server, backend, [nid], answer_with(decision(
        front="Which organelle makes glucose from light?", back="The chloroplast")))
    assert p.action == REWRITE and p.checked and p.reason == "clearer"
    assert set(p.changed) == {"front", "back"}
    done = apply_proposals(col, [p])
    assert done.rewritten == [nid] and not done.added
    note = col.get_note(nid)
    assert note.id == nid and card_ids(col, nid) == cids
    assert note["Front"] == "Which organelle makes glucose from light?"
    assert note["Back"].startswith("The chloroplast") and note["Back"].endswith(line)
    assert note.has_tag(IMPROVED_TAG) and note.has_tag("leech")
    assert revlog(col, cids) == log_before  # the review history is kept as it was
    assert col.db.all("select id, nid, did, ord, type, queue, due, ivl, reps, lapses from cards "
                      "order by id") == cards_before  # scheduling untouched by default
    assert col.undo_status().undo == UNDO_LABEL


def test_rewrite_can_reset_scheduling_keeping_the_log(col, server, backend):
    nid = add_basic(col, "R", "Vague question?", "Answer")
    cids = card_ids(col, nid)
    forget(col, cids[0], 3)
    log_before = revlog(col, cids)
    (p,) = run(col, server, backend, [nid], answer_with(decision(front="A precise question about the answer?")))
    assert p.action == REWRITE, p
    done = apply_proposals(col, [p], ApplyOptions(reset_scheduling=True))
    card = col.get_card(cids[0])
    assert done.reset == cids and card.type == 0 and card.lapses == 0 and card.reps == 0
    assert revlog(col, cids)[:len(log_before)] == log_before  # kept (Anki adds a "reset" entry)


def test_split_adds_tagged_notes_and_suspends_only_when_asked(col, server, backend):
    deck(col, "Bio", leech_fails=3)
    nids = []
    for i in range(2):
        nid = add_basic(col, "Bio", f"What does the mitochondrion do ({i})?", "It makes ATP and stores calcium",
                        tags=["ollama-flashcards", "mine"])
        forget(col, card_ids(col, nid)[0], 3)
        nids.append(nid)
    parts = [{"front": "Which organelle makes ATP?", "back": "The mitochondrion"},
             {"front": "Which organelle stores calcium?", "back": "The mitochondrion"}]
    for suspend, nid in zip((False, True), nids):
        cids = card_ids(col, nid)
        log_before = revlog(col, cids)
        (p,) = run(col, server, backend, [nid], answer_with(decision("split", "two facts", parts)))
        assert p.action == SPLIT and len(p.split) == 2
        if suspend:  # the first split made notes with these fronts: duplicates now, held back
            assert not p.checked and any("same front" in x for x in p.problems)
            p.problems.clear()
        done = apply_proposals(col, [p], ApplyOptions(suspend_original=suspend))
        added = done.added[nid]
        assert len(added) == 2 and set(col.find_notes("tag:" + SPLIT_TAG % nid)) == set(added)
        for new in added:
            note = col.get_note(new)
            assert "mine" in note.tags and "leech" not in note.tags
            assert col.decks.name(col.get_card(note.card_ids()[0]).did) == "Bio"
        assert [n["Front"] for n in map(col.get_note, added)] == [x["front"] for x in parts]
        assert col.get_note(nid) is not None and revlog(col, cids) == log_before
        assert all(col.get_card(c).queue == -1 for c in cids) == suspend
        assert done.suspended == (cids if suspend else [])


def test_keep_changes_nothing(col, server, backend):
    nid = add_basic(col, "K", "Capital of Peru?", "Lima")
    forget(col, card_ids(col, nid)[0], 2)
    before = snapshot(col)
    (p,) = run(col, server, backend, [nid])  # the fake server keeps every note unscripted
    assert p.action == KEEP and not p.checked
    apply_proposals(col, [p])
    assert snapshot(col) == before


HOSTILE = [
    Reply(content="{not json at all"),
    Reply(content=""),
    Reply(content="I think this card is fine, but let me explain at length why..."),
    Reply(content=json.dumps({"notes": [decision(nid="999", front="Someone else's note")]})),
    Reply(content=json.dumps({"notes": [decision("delete")]})),
    Reply(content=json.dumps({"notes": [decision(front="", back="")]})),
    Reply(content=json.dumps({"notes": [decision(front="<b> </b>", back="&nbsp;")]})),
    Reply(content=json.dumps({"notes": [decision("split", split=[{"front": "Only one?", "back": "One"}])]})),
    Reply(content=json.dumps({"notes": [decision("split", split="not a list")]})),
    Reply(content=json.dumps({"notes": "nope"})),
    Reply(content=json.dumps([[[["deep"]]]])),
    Reply(content='{"notes": [{"id": "1", "action": "rewrite", "front": "Cut off in the mid'),
    Reply.error(500),
]


@pytest.mark.parametrize("reply", HOSTILE, ids=range(len(HOSTILE)))
def test_broken_empty_or_hostile_answer_changes_nothing(col, server, backend, reply):
    nid = add_basic(col, "H", "What does the mitochondrion do?", "It makes ATP")
    forget(col, card_ids(col, nid)[0], 3)
    before = snapshot(col)
    (p,) = run(col, server, backend, [nid], reply)
    assert p.action in (FAILED, KEEP) and not p.checked and p.reason
    apply_proposals(col, [p])
    assert snapshot(col) == before


def test_hostile_fields_are_sanitized_like_generated_cards(col, server, backend):
    nid = add_basic(col, "H", "What does the mitochondrion do?", "It makes ATP")
    forget(col, card_ids(col, nid)[0], 3)
    evil = decision(front='Which organelle makes ATP?<script>alert(1)</script><img src=x onerror="x()">',
                    back="[sound:evil.mp3] The mitochondrion " + "x" * 50000,
                    reason="\x1b[31mred\x1b[0m " + "r" * 5000)
    (p,) = run(col, server, backend, [nid], answer_with(evil, decision(nid="1", front="second decision ignored")))
    assert p.action == REWRITE
    assert "<script" not in p.changed["front"] and "onerror" not in p.changed["front"]
    assert "[sound:" not in p.changed["back"] and len(p.changed["back"]) < 12000
    assert "\x1b" not in p.reason and len(p.reason) <= 300
    assert p.notes  # the cut is said


def test_many_split_parts_are_capped(col, server, backend):
    nid = add_basic(col, "S", "List every bone?", "Many bones")
    parts = [{"front": f"Which bone is number {i}?", "back": f"Bone {i}"} for i in range(500)]
    (p,) = run(col, server, backend, [nid], answer_with(decision("split", split=parts)))
    assert p.action == SPLIT and len(p.split) == 6 and any("first 6" in n for n in p.notes)


def test_rewrite_answer_not_in_note_or_source_is_held_back(col, server, backend):
    nid = add_basic(col, "G", "What does the chloroplast do?", "It makes glucose")
    (p,) = run(col, server, backend, [nid], answer_with(decision(back="It invented the steam engine in 1712")))
    assert p.action == REWRITE and not p.checked
    assert any("neither in the note nor in its source" in x for x in p.problems)


def test_cloze_rewrite_keeps_its_numbers(col, server, backend):
    nid = add_note(col, "C", 5, ["{{c1::Mitochondria}} make {{c2::ATP}} in the cell", ""])
    cids = card_ids(col, nid)
    forget(col, cids[0], 2)
    good = decision(text="The {{c1::mitochondrion}} makes {{c2::ATP}}, the cell's energy currency", back=None)
    (p,) = run(col, server, backend, [nid], answer_with(good))
    assert p.action == REWRITE and "{{c1::mitochondrion}}" in p.changed["text"]
    apply_proposals(col, [p])
    assert card_ids(col, nid) == cids and "{{c2::ATP}}" in col.get_note(nid)["Text"]
    fewer = decision(text="The {{c1::mitochondrion}} makes ATP")
    (p,) = run(col, server, backend, [nid], answer_with(fewer))
    assert p.action == FAILED and "cloze numbers" in p.reason


def test_user_note_type_by_the_settings_field_mapping(col, server, backend):
    from generator.config import Settings

    mm = col.models
    nt = mm.new("Vocab")
    for name in ("Word", "Meaning", "Example", "Source"):
        mm.add_field(nt, mm.new_field(name))
    t = mm.new_template("Card 1")
    t["qfmt"], t["afmt"] = "{{Meaning}}", "{{FrontSide}}<hr id=answer>{{Word}}<br>{{Example}}"
    mm.add_template(nt, t)
    mm.add(nt)
    nt = mm.by_name("Vocab")
    note = col.new_note(nt)
    note["Word"], note["Meaning"], note["Example"], note["Source"] = "la pomme", "the apple, fruit", "Je mange", "book p. 3"
    col.add_note(note, col.decks.id("V", create=True))
    settings = Settings().replace(note_type="Vocab", field_mapping={"front": "Meaning", "back": "Word"})
    (p,) = run(col, server, backend, [note.id], answer_with(decision(front="the apple (a fruit)")),
               settings=settings)
    assert p.action == REWRITE and set(p.changed) == {"front"}
    apply_proposals(col, [p])
    after = col.get_note(note.id)
    assert after["Meaning"] == "the apple (a fruit)" and after["Word"] == "la pomme"
    assert after["Example"] == "Je mange" and after["Source"] == "book p. 3"


def test_image_field_is_never_rewritten(col, server, backend):
    nid = add_basic(col, "P", 'What does this show? <img src="cell.png">', "A cell")
    (p,) = run(col, server, backend, [nid], answer_with(decision(front="Which image?", back="A plant cell")))
    assert set(p.changed) == {"back"} and any("image" in n for n in p.notes)


def test_a_long_field_is_sent_cut_and_kept(col, server, backend):
    long_back = "A long answer about cells. " * 2000  # 54,000 characters
    nid = add_basic(col, "P", "What about cells?", long_back)
    (p,) = run(col, server, backend, [nid], answer_with(decision(front="Which cells are meant?", back="Short")))
    sent = server.chat_bodies()[-1]["messages"][-1]["content"]
    assert len(sent) < 6000 and "[…]" in sent
    assert set(p.changed) == {"front"} and any("too long" in n for n in p.notes)


def test_note_edited_meanwhile_is_skipped(col, server, backend):
    nid = add_basic(col, "E", "Vague?", "Answer")
    (p,) = run(col, server, backend, [nid], answer_with(decision(front="Precise question about the answer?")))
    note = col.get_note(nid)
    time.sleep(1.05)  # a note's mod is in seconds
    note["Back"] = "The user's own edit"
    col.update_note(note)
    done = apply_proposals(col, [p])
    assert not done.rewritten and done.skipped and "edited" in done.skipped[0][1]
    assert col.get_note(nid)["Back"] == "The user's own edit"


def test_undo_restores_everything(col, server, backend):
    a = add_basic(col, "U", "Vague one?", "First answer")
    b = add_basic(col, "U", "What do mitochondria and ribosomes make?", "ATP and proteins")
    forget(col, card_ids(col, a)[0], 2)
    before = snapshot(col)
    ps = run(col, server, backend, [a, b],
             answer_with(decision(front="A precise question about the first answer?")),
             answer_with(decision("split", split=[{"front": "What do mitochondria make?", "back": "ATP"},
                                                  {"front": "What do ribosomes make?", "back": "Proteins"}])))
    apply_proposals(col, ps, ApplyOptions(suspend_original=True, reset_scheduling=True))
    assert snapshot(col) != before
    col.undo()
    assert snapshot(col) == before


def test_parse_decisions_ignores_ids_not_asked():
    content = json.dumps({"notes": [{"id": "2", "action": "keep"}, {"id": "1", "action": "split"},
                                    {"id": "1", "action": "keep"}]})
    assert parse_decisions(content, ["1"]) == {"1": {"id": "1", "action": "split"}}


def test_server_gone_is_an_error_not_a_change(col, backend):
    from generator.backends import make_backend
    from generator.errors import ServerUnreachable

    nid = add_basic(col, "X", "Q?", "A")
    gone = make_backend({"url": "http://127.0.0.1:9", "connect_timeout": 1})
    with pytest.raises(ServerUnreachable):
        base_for(gone, {"url": "http://127.0.0.1:9"})
    assert col.get_note(nid)["Front"] == "Q?"


def test_learning_only_history_is_said(col):
    nid = add_basic(col, "L", "Just learnt?", "Yes")
    learn(col, card_ids(col, nid)[0])
    answer(col, card_ids(col, nid)[0], AGAIN)
    answer(col, card_ids(col, nid)[0], GOOD)
    (d,) = diagnose_notes(col, [nid])
    assert any("forgotten 1 time in 3 answers" in t for t in d.texts())


# --- the source, similar notes by meaning, requests ---------------------------------------------

def test_source_sentences_from_the_linked_file(col, tmp_path):
    doc = tmp_path / "cells.md"
    filler = " ".join("Unrelated sentence number %d about rivers and mountains." % i for i in range(80))
    doc.write_text("# Cells\n\n%s Mitochondria make ATP by oxidative phosphorylation. %s" % (filler, filler),
                   encoding="utf-8")
    link = '<a href="file://%s">cells.md · line 3</a>' % doc
    line = '<div class="ollama-flashcards-source"><small>Source: %s</small></div>' % link
    nid = add_basic(col, "Src", "What do mitochondria make?", "ATP<br>" + line,
                    tags=["ollama-flashcards", "ollama-flashcards::source::cells.md"])
    (d,) = diagnose_notes(col, [nid])
    assert "Mitochondria make ATP by oxidative phosphorylation." in d.source.text
    assert len(d.source.text) <= 1500 and "the sentences it was made from are sent" in d.source.said
    assert d.origin.label == "cells.md · line 3" and d.origin.file_path == str(doc)
    doc.unlink()
    (d,) = diagnose_notes(col, [nid])
    assert not d.source.text and "no longer there" in d.source.said


def test_similar_notes_by_meaning_and_split_repeating_another_note(col, tmp_path):
    from fake_ollama import FakeOllama
    from engine_fixtures import backend_for
    from generator.improve.request import mark_similar
    from generator.similar.question import collection_questions
    from generator.similar.search import SimilarNotes

    deck(col, "M", leech_fails=3)
    a = add_basic(col, "M", "Which organelle produces ATP in the cell?", "The mitochondrion")
    b = add_basic(col, "M", "Which cell organelle is where ATP is produced?", "Mitochondria")
    add_basic(col, "M", "What is the capital of Australia?", "Canberra")
    forget(col, card_ids(col, a)[0], 3)
    forget(col, card_ids(col, b)[0], 3)
    with FakeOllama(models=("llama3.2:latest", "all-minilm:latest"), embedding_models=("all-minilm",)) as srv:
        backend = backend_for(srv.url)
        similar = SimilarNotes.for_collection(backend, "all-minilm", str(tmp_path / "emb"), col.path, 0.5)
        similar.update(collection_questions(col))
        (d,) = diagnose_notes(col, [a], similar=similar)
        assert [s.note_id for s in d.similar][:1] == [b] and d.similar[0].by == "meaning"
        assert any(r.kind == "interference" and "in meaning" in r.text for r in d.reasons)
        srv.script(answer_with(decision("split", split=[
            {"front": "Which cell organelle is where ATP is produced?", "back": "Mitochondria"},
            {"front": "What is the main product of the mitochondrion?", "back": "ATP"}])))
        base, _ = base_for(backend, {"url": srv.url})
        (p,) = improve([d], backend, base, AnswerChecks("", DuplicateKeys(col, [d])))
        assert p.action == SPLIT
        assert mark_similar([p], similar) == ""
        assert any("note %d asks this in other words" % b in x for x in p.problems)
        assert any("same front" in x for x in p.problems)  # exactly note b's front: a duplicate too
        assert not p.checked
        backend.close()


def test_notes_of_one_source_share_a_request(col, server, backend):
    origin = add_basic(col, "O", "Mitochondria make ATP. Ribosomes make proteins. Nuclei hold DNA.", "")
    tags = ["ollama-flashcards", "ollama-flashcards::from-note::%d" % origin]
    made = [add_basic(col, "O", q, a, tags=tags) for q, a in
            [("What do mitochondria make?", "ATP"), ("What do ribosomes make?", "Proteins")]]
    other = add_basic(col, "O", "Capital of Peru?", "Lima")
    proposals = run(col, server, backend, made + [other])
    assert [p.action for p in proposals] == ["keep", "keep", "keep"]
    bodies = server.chat_bodies()
    assert len(bodies) == 2
    shared = bodies[0]["messages"][-1]["content"]
    assert "Note 1:" in shared and "Note 2:" in shared and shared.count("Source sentences") == 1
    assert "Mitochondria make ATP." in shared


def test_cancel_keeps_what_was_answered(col, server, backend):
    import threading

    nids = [add_basic(col, "X", "Question %d about a topic?" % i, "Answer %d" % i) for i in range(3)]
    diagnoses = diagnose_notes(col, nids)
    base, _ = base_for(backend, {"url": server.url})
    cancel = threading.Event()
    got = []

    def on(ps):
        got.extend(ps)
        cancel.set()  # the user pressed Stop after the first answer

    proposals = improve(diagnoses, backend, base, AnswerChecks(), 1, cancel, on)
    assert [p.action for p in proposals] == ["keep", "failed", "failed"]
    assert "cancelled" in proposals[1].reason and len(server.chat_bodies()) == 1


def test_source_is_the_passage_a_tracked_note_was_made_from(col, server, backend, tmp_path):
    from update_support import DOC, card_normally, options_for, target_for, write

    path = write(tmp_path / "cells.md", DOC)
    outcome = card_normally(col, backend, path, options_for(backend), target_for("Cells"))
    by_front = {col.get_note(nid)["Front"]: nid for _card, nid in outcome.added}
    nid = next(n for front, n in by_front.items() if "Ribosomes translate" in front)
    (d,) = diagnose_notes(col, [nid])
    assert "passage it was made from is sent" in d.source.said
    assert "Ribosomes translate messenger RNA into proteins." in d.source.text
    assert "Mitochondria" not in d.source.text  # that unit only, not the whole document
    write(tmp_path / "cells.md", DOC.replace("Ribosomes translate messenger RNA", "Ribosomes read mRNA"))
    (d,) = diagnose_notes(col, [nid])
    assert "has changed since" in d.source.said and "Ribosomes read mRNA" in d.source.text


def test_improved_notes_are_never_overwritten_by_an_update(col, server, backend, tmp_path):
    from update_support import DOC, card_normally, options_for, target_for, write
    from generator.update.record import MARK_ATTR, edited_by_hand, read_mark

    path = write(tmp_path / "cells.md", DOC)
    outcome = card_normally(col, backend, path, options_for(backend), target_for("Cells"))
    nid = outcome.added[0][1]
    note = col.get_note(nid)
    assert not edited_by_hand(note.fields, read_mark(note.fields))
    (p,) = run(col, server, backend, [nid], answer_with(decision(
        "split", split=[{"front": "What do mitochondria make?", "back": "Most of the cell's ATP"},
                        {"front": "What do mitochondria keep of their own?", "back": "A small genome"}])))
    (r,) = run(col, server, backend, [outcome.added[1][1]], answer_with(decision(back="A short answer")))
    done = apply_proposals(col, [p, r])
    rewritten = col.get_note(outcome.added[1][1])
    assert edited_by_hand(rewritten.fields, read_mark(rewritten.fields))  # an update leaves it alone
    for new in done.added[nid]:
        fields = col.get_note(new).fields
        assert read_mark(fields) is None and MARK_ATTR not in "".join(fields)
        assert "Source:" in fields[1]
