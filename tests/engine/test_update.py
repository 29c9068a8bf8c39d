"""Updating a document's cards in place: real collections with real review history, the fake
server recording what was sent."""
import os

import pytest

from update_support import (DOC, answer_all, card_normally, options_for, sent_texts, snapshot,
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
