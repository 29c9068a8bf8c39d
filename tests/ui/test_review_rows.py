"""The review list's state without Qt (ui/review_rows.py): which rows arrive checked, how a
row shown again keeps or changes its box, added rows and undo, runs, and how a chunk's final
list settles the rows streamed while it was written."""
import subprocess
import sys

import pytest

from plain_ui import ROOT, module

rows_mod = module("ui.review_rows")
card_mod = module("generator.cards.card")
ReviewRows, Arrivals = rows_mod.ReviewRows, rows_mod.Arrivals


def card(front, back="b", **kw):
    return card_mod.Card("basic", front=front, back=back, **kw)


FLAG = [("yes_no_question", "A yes/no question")]


def similar():
    return card_mod.SimilarNote(note_id=7, front="Asked before?", score=0.9)


def test_importing_it_loads_no_qt():
    code = ("import sys; sys.path.insert(0, %r); import plain_ui; plain_ui.module('ui.review_rows'); "
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('aqt', 'PyQt6', 'PyQt5', 'anki')]; "
            "assert not loaded, loaded" % str(ROOT / "tests"))
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize("kw,checked", [
    ({}, True),
    ({"duplicate": "collection"}, False),
    ({"grounded": False}, False),
    ({"flags": FLAG}, False),
])
def test_what_arrives_checked(kw, checked):
    state = ReviewRows()
    row = state.append(card("Q?", **kw))
    assert row.checked is checked
    assert state.checked_cards() == ([row.card] if checked else [])


def test_the_settings_decide_about_flagged_and_similar_cards():
    state = ReviewRows()
    state.uncheck_flagged = False
    state.uncheck_similar = False
    assert state.append(card("A", flags=FLAG)).checked
    assert state.append(card("B", similar_to=similar())).checked
    state.uncheck_similar = True
    assert not state.append(card("C", similar_to=similar())).checked


def test_keys_are_given_once_and_runs_keep_their_own_cards():
    state = ReviewRows()
    a, b = state.append(card("A"), run=1), state.append(card("B"), run=2)
    state.remove([a.card])
    c = state.append(card("C"), run=2)
    assert len({a.key, b.key, c.key}) == 3
    assert state.row_at(a.key) is None and state.row_at(c.key) is c
    assert state.cards_of_run(2) == [b.card, c.card] and state.cards_of_run(1) == []
    assert state.runs() == [2]
    assert state.run_of(c.card, 9) == 2 and state.run_of(card("X"), 9) == 9


def test_a_row_shown_again_keeps_its_box_unless_the_new_card_changes_the_verdict():
    state = ReviewRows()
    row = state.append(card("A"))
    state.set_checked(0, False)  # the user unchecked it
    assert state.replace(0, card("A2")) is False and state.rows[0].card.front == "A2"
    state.set_checked(0, True)
    assert state.replace(0, card("A3", flags=FLAG)) is False  # flagged since it was shown
    state.set_checked(0, False)
    assert state.replace(0, card("A4")) is True  # it was unchecked as flagged; its rewrite is fine
    state.set_checked(0, True)
    assert state.replace(0, card("A5", similar_to=similar())) is False  # turned out similar
    assert row.edited is False


def test_replacing_forgets_what_was_happening_to_the_old_card():
    state = ReviewRows()
    old = state.append(card("A")).card
    state.busy[id(old)] = "Regenerating…"
    state.replace(0, card("B"))
    assert state.busy == {}


def test_settling_unchecks_a_card_the_chunks_checks_flagged_in_place():
    state = ReviewRows()
    row = state.append(card("A"), arriving=True)
    row.card.flags = list(FLAG)  # the chunk's checks ran on the same card
    assert state.settle(0) is False and row.arriving is False
    row2 = state.append(card("B"), arriving=True)
    assert state.settle(1) is True and not row2.arriving


def test_added_rows_stay_unchecked_and_come_back_after_an_undo():
    state = ReviewRows()
    a, b = state.append(card("A", duplicate="batch")), state.append(card("B"))
    state.not_added[id(a.card)] = "invalid"
    assert state.mark_added([(a.card, 101), (b.card, 102)]) == [0, 1]
    assert state.cards == [] and state.checked_cards() == [] and state.added_note_ids() == [101, 102]
    assert state.is_added(a.card) and id(a.card) not in state.not_added
    assert state.set_checked(0, True) is False and not a.checked  # an added row cannot be checked
    assert state.unmark_added([101]) == [0]
    assert state.cards == [a.card] and not a.checked and a.card.duplicate is None
    assert state.added_note_ids() == [102]


def test_duplicates_and_similar_cards_to_uncheck():
    state = ReviewRows()
    for front in ("A", "B", "C"):
        state.append(card(front))
    state.rows[1].card.duplicate = "collection"
    state.rows[2].card.similar_to = similar()
    assert state.duplicates_to_uncheck() == [1]
    assert [state.similar_to_uncheck(i) for i in range(3)] == [False, False, True]
    state.uncheck_similar = False
    assert not state.similar_to_uncheck(2)


def test_remove_gives_the_indices_last_first_and_forgets_marks():
    state = ReviewRows()
    cards = [state.append(card(f)).card for f in "ABCD"]
    state.busy[id(cards[1])] = "x"
    assert state.remove([cards[1], cards[3]]) == [3, 1]
    assert [r.card.front for r in state.rows] == ["A", "C"] and state.busy == {}


# --- a chunk's final list -------------------------------------------------------------------

def stream(state, arrivals, chunk, cards):
    keys = []
    for c in cards:
        row = state.append(c, arriving=True)
        arrivals.arrived(chunk, row.key, c)
        keys.append(row.key)
    return keys


def test_the_final_list_shows_its_cards_in_the_rows_shown_early():
    state, arrivals = ReviewRows(), Arrivals()
    early = [card("A"), card("B")]
    keys = stream(state, arrivals, "c1", early)
    final = [early[0], card("B, better")]
    plan = arrivals.plan_settle("c1", final, state)
    assert plan.steps == [(keys[0], None), (keys[1], final[1])]  # same object: nothing to show
    assert plan.withdraw == [] and plan.fresh == [] and "c1" in arrivals.settled
    assert arrivals.count == 2


def test_edited_deleted_and_added_rows_are_left_as_the_user_left_them():
    state, arrivals = ReviewRows(), Arrivals()
    early = [card("A"), card("B"), card("C"), card("D")]
    keys = stream(state, arrivals, "c1", early)
    state.rows[0].edited = True  # edited: never overwritten
    state.remove([early[1]])  # deleted: stays deleted
    state.mark_added([(early[2], 5)])  # added: left alone
    final = [card("A'"), card("B'"), card("C'")]  # D is withdrawn
    plan = arrivals.plan_settle("c1", final, state)
    assert plan.steps == [(keys[0], None)]
    assert plan.withdraw == [early[3]] and plan.fresh == []
    assert arrivals.count == 3


def test_a_withdrawn_row_the_user_edited_stays_and_final_cards_not_shown_become_rows():
    state, arrivals = ReviewRows(), Arrivals()
    early = [card("A"), card("B")]
    keys = stream(state, arrivals, "c1", early)
    state.rows[1].edited = True
    same = card("A")  # the same fields: the same card
    extra = card("New")
    plan = arrivals.plan_settle("c1", [same], state)
    assert plan.steps == [(keys[0], same), (keys[1], None)] and plan.withdraw == []
    delivered = card("Delivered")
    arrivals.seen[id(delivered)] = delivered  # in the list already (the job's end delivered it)
    plan = arrivals.plan_settle("c2", [extra, delivered], state)
    assert plan.fresh == [extra] and arrivals.count == 3


def test_leftovers_end_arriving_or_go():
    state, arrivals = ReviewRows(), Arrivals()
    early = [card("A"), card("B")]
    keys = stream(state, arrivals, "c1", early)
    assert arrivals.plan_leftovers(state).steps == [(keys[0], None), (keys[1], None)]
    assert arrivals.early == {}
    keys = stream(state, arrivals, "c2", [card("C"), card("D")])
    state.rows[-1].edited = True
    plan = arrivals.plan_leftovers(state, remove=True)
    assert [c.front for c in plan.withdraw] == ["C"] and plan.steps == [(keys[1], None)]
    arrivals.reset()
    assert arrivals.count == 0 and not arrivals.seen and not arrivals.settled


# --- the account of the list's cards ---------------------------------------------------------------

acc_mod = module("generator.notes.accounting")
Reason, CardAccount = acc_mod.Reason, acc_mod.CardAccount


def test_the_list_accounts_for_every_card_it_was_given():
    """Made = added + each reason a card is not + what is checked and not added yet: the rows,
    those deleted, those the job left out before they became rows."""
    rows = ReviewRows()
    job = CardAccount(made=9)
    job.leave(Reason.BOUND, 3)
    rows.note_job(job)
    cards = [card("Kept?"), card("Kept too?"), card("Again?", duplicate="batch"),
             card("Known?", duplicate="collection"), card("Near?", similar_to=similar()),
             card("Made up?", grounded=False), card("Is it?", flags=FLAG), card("Unwanted?"),
             card("Deleted?"), card("Broken cloze?"), card("Later?")]
    for c in cards:
        rows.append(c)
    rows.set_checked(rows.index_of(cards[7]), False)  # the user unchecks one
    rows.remove([cards[8]], by_user=True)  # ... and deletes another
    rows.remove([card("Not a row")], by_user=True)  # (nothing happens)
    rows.mark_added([(cards[0], 101), (cards[1], 102)])
    rows.not_added[id(cards[9])] = "not a valid cloze"
    account = rows.account()
    assert account.made == len(cards) + 3
    assert account.added == 2
    assert account.left == {Reason.BOUND: 3, Reason.BATCH: 1, Reason.COLLECTION: 1, Reason.SIMILAR: 1,
                            Reason.UNGROUNDED: 1, Reason.FLAGGED: 1, Reason.UNCHECKED: 2,
                            Reason.UNUSABLE: 1}
    assert account.waiting == 1  # "Later?" is checked and not added yet
    assert account.text("checked, not added yet") == (
        "14 cards made: 2 added, 1 duplicate in the batch, 1 already in the collection, 1 similar to a note, "
        "1 flagged and left out, 1 not in the source, 3 over what the text can hold, 2 left out by you, "
        "1 could not be made into a note, 1 checked, not added yet")
    # a row withdrawn by its chunk's final list is no card of its own; an added row deleted stays added
    rows.remove([cards[10]])
    rows.remove([cards[0]], by_user=True)
    after = rows.account()
    assert (after.made, after.added, after.waiting) == (13, 2, 0)
    rows.clear()
    assert rows.account().made == 0
