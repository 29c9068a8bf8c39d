"""The bulk job's journal: append-only, fsync'd, tolerant of a torn last line."""
import json
import os

from generator.cards.card import Card, SourceRef
from generator.job.chunk import Chunk
from generator.bulk.journal import (
    ChunkIndex,
    Journal,
    card_from_json,
    card_to_json,
    chunk_from_json,
    chunk_to_json,
    prune,
    unfinished,
)


def chunk(i, doc="a.txt"):
    return Chunk(id="c%d" % i, document=doc, text="Text number %d." % i, heading_path=("H", "S%d" % i),
                 location="page %d" % i, index=i)


def card(i, chunk_id="c0"):
    return Card(kind="basic", front="Q%d?" % i, back="A%d" % i, quote="q", grounded=i % 2 == 0,
                source=SourceRef("a.txt", "page 1", ("H", "S")), chunk_id=chunk_id, tags=["t"])


def new(tmp_path, **header):
    return Journal.create(str(tmp_path), dict({"files": ["/x/a.txt"], "mode": "add"}, **header))


def test_cards_and_chunks_round_trip():
    c = card(3, "c9")
    assert card_from_json(json.loads(json.dumps(card_to_json(c)))) == c
    k = chunk(4)
    assert chunk_from_json(json.loads(json.dumps(chunk_to_json(k)))) == k


def test_records_are_read_back(tmp_path):
    j = new(tmp_path)
    j.file_read(0, 3)
    j.chunk_done(0, chunk(0), [card(0, "c0"), card(1, "c0")])
    j.chunk_done(0, chunk(1), [])
    j.chunk_failed(0, chunk(2), "The model's answer was not JSON.", "InvalidAnswer")
    j.close()
    state = Journal.open(j.path).state
    assert state.header["files"] == ["/x/a.txt"] and state.header["v"] == 1
    assert set(state.done) == {"c0", "c1"} and set(state.failed) == {"c2"}
    assert state.failed["c2"].chunk["text"] == "Text number 2."
    assert [c.front for c in state.pending_cards()] == ["Q0?", "Q1?"]
    assert "c1" in state.added  # a chunk without cards has nothing to add
    assert state.summary()["cards_pending"] == 2 and state.summary()["chunks_total"] == 3


def test_pending_cards_in_document_order_when_answers_were_journaled_out_of_order(tmp_path):
    j = new(tmp_path, files=["/x/a.txt", "/x/b.txt"])
    j.chunk_done(1, chunk(0, "b.txt"), [card(5, "c0")])
    j.chunk_done(0, chunk(2), [card(2, "c2")])
    j.chunk_done(0, chunk(1), [card(1, "c1")])
    j.close()
    state = Journal.open(j.path).state
    assert [c.front for c in state.pending_cards()] == ["Q1?", "Q2?", "Q5?"]


def test_added_settles_chunks_and_frees_their_cards(tmp_path):
    j = new(tmp_path)
    j.chunk_done(0, chunk(0), [card(0, "c0")])
    j.chunk_done(0, chunk(1), [card(1, "c1")])
    b = j.next_batch()
    j.adding(b, ["c0"], 1000, 42)
    assert j.state.in_doubt_chunks() == {"c0"}
    j.added(b, ["c0"], [111])
    assert j.state.pending_cards()[0].front == "Q1?" and len(j.state.pending_cards()) == 1
    assert j.state.done["c0"].cards == [] and j.state.done["c0"].ncards == 1
    assert j.state.note_ids == [111] and not j.state.adding
    j.close()
    again = Journal.open(j.path)
    assert again.state.note_ids == [111] and again.state.batches == 1
    assert [c.front for c in again.state.pending_cards()] == ["Q1?"]


def test_a_batch_without_added_is_in_doubt_after_reopening(tmp_path):
    j = new(tmp_path)
    j.chunk_done(0, chunk(0), [card(0, "c0")])
    j.adding(j.next_batch(), ["c0"], 1000, 42)
    j.close()
    state = Journal.open(j.path).state
    assert state.adding and state.in_doubt_chunks() == {"c0"}


def test_torn_last_line_is_ignored_and_cut_off(tmp_path):
    j = new(tmp_path)
    j.chunk_done(0, chunk(0), [card(0, "c0")])
    j.close()
    with open(j.path, "ab") as f:
        f.write(b'{"t":"chunk","id":"c1","cards":[{"front":"Q')  # the crash hit mid-write
    again = Journal.open(j.path)
    assert again.state.torn and set(again.state.done) == {"c0"}
    again.chunk_done(0, chunk(1), [card(1, "c1")])
    again.close()
    lines = open(j.path, encoding="utf-8").read().splitlines()
    assert all(json.loads(line) for line in lines)  # every line is whole again
    assert set(Journal.open(j.path).state.done) == {"c0", "c1"}


def test_a_corrupt_middle_line_is_skipped(tmp_path):
    j = new(tmp_path)
    j.close()
    with open(j.path, "ab") as f:
        f.write(b"garbage\n")
    j2 = Journal.open(j.path)
    j2.chunk_done(0, chunk(0), [])
    j2.close()
    state = Journal.open(j.path).state
    assert state.bad_lines == 1 and "c0" in state.done


def test_every_record_is_on_disk_when_append_returns(tmp_path):
    j = new(tmp_path)
    j.chunk_done(0, chunk(0), [card(0)])
    # read through a separate handle without closing the journal: nothing is buffered
    with open(j.path, encoding="utf-8") as f:
        assert len(f.read().splitlines()) == 2
    j.close()


def test_failed_then_done_is_done(tmp_path):
    j = new(tmp_path)
    j.chunk_failed(0, chunk(0), "x")
    j.chunk_done(0, chunk(0), [card(0)])
    j.close()
    state = Journal.open(j.path).state
    assert "c0" in state.done and not state.failed


def test_unfinished_finish_and_prune(tmp_path):
    a = new(tmp_path)
    b = new(tmp_path)
    a.chunk_done(0, chunk(0), [])
    assert set(unfinished(str(tmp_path))) == {a.path, b.path}
    done_path = b.finish()
    assert done_path.endswith(".done.jsonl") and os.path.exists(done_path)
    assert unfinished(str(tmp_path)) == [a.path]
    with open(a.path, "ab") as f:  # a torn line after the last good record
        f.write(b'{"t":"en')
    assert unfinished(str(tmp_path)) == [a.path]
    a.close()
    for _ in range(12):
        Journal.create(str(tmp_path), {"files": []}).finish()
    prune(str(tmp_path), keep=3)
    assert len([n for n in os.listdir(tmp_path) if n.endswith(".done.jsonl")]) == 3
    assert unfinished(str(tmp_path)) == [a.path]
    assert unfinished(str(tmp_path / "nope")) == []


def test_discard_settles_without_notes(tmp_path):
    j = new(tmp_path)
    j.chunk_done(0, chunk(0), [card(0)])
    j.discard(["c0"])
    assert not j.state.pending_cards() and "c0" in j.state.discarded
    j.close()


def test_chunk_index_knows_which_chunks_are_in_the_collection(tmp_path):
    path = str(tmp_path / "idx" / "added-chunks.jsonl")
    idx = ChunkIndex(path)
    idx.record({"a": [1, 2], "b": [3], "empty": []})
    with open(path, "ab") as f:
        f.write(b'{"c":"torn","n":[')
    again = ChunkIndex(path)
    assert again.notes == {"a": [1, 2], "b": [3], "empty": []}
    assert again.present({2}) == {"a", "empty"}  # b's note was deleted
    assert again.all_note_ids() == {1, 2, 3}
