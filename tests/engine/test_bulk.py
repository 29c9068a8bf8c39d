"""The headless bulk job: many files, streamed chunks, journal, notes; crash and resume."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import pytest

from engine_fixtures import backend_for, write_md
from fake_ollama import FakeOllama, Reply, source_text
from generator.bulk.job import MODE_REVIEW, BulkRun, BulkSpec, RunSetup, prepare, run_headless, start_journal
from generator.bulk.writer import NoteWriter
from generator.bulk.reader import Planner
from generator.bulk.status import DONE, FAILED
from generator.job.run import JobOptions
from generator.bulk.journal import ChunkIndex, Journal, unfinished
from generator.notes.accounting import Reason
from generator.notes.add import NoteTarget

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(ROOT, "tests")
TOOLS = os.path.join(ROOT, "tools")


def options(**kw):
    base = dict(model="llama3.2", num_ctx=1024, num_predict=256)
    base.update(kw)
    return JobOptions(**base)


def spec_for(files, **kw):
    target = kw.pop("target", None) or NoteTarget(deck="Bulk", tags=["bulk"])
    return BulkSpec(list(files), kw.pop("options", None) or options(), target, **kw)


def fronts(col, deck="Bulk"):
    return sorted(col.db.list("select n.sfld from notes n where n.id in (select nid from cards c "
                              "where c.did = ?)", col.decks.id_for_name(deck)))


def asked_texts(server):
    return [source_text(b["messages"][1]["content"]) for b in server.chat_bodies()]


def test_three_files_one_unreadable_all_added_in_order(tmp_path, col):
    files = [write_md(tmp_path / "a.md", tag="A"), write_md(tmp_path / "b.md", tag="B")]
    bad = tmp_path / "c.txt"
    bad.write_bytes(b"")  # empty: cannot make cards from it
    files.insert(1, str(bad))
    with FakeOllama(latency=0.01, slots=2) as srv:
        b = backend_for(srv.url)
        result = run_headless(col, b, str(tmp_path / "j"), spec_for(files, options=options(parallel=2)),
                              setup=RunSetup(batch_seconds=0))
    states = [f.state for f in result.files]
    assert states == [DONE, FAILED, DONE]
    assert result.files[1].error and "Failed" in result.files[1].text()
    assert result.finished and not result.pending and not result.fatal
    n_chunks = result.files[0].chunks_total + result.files[2].chunks_total
    assert len(srv.chat_bodies()) == n_chunks
    assert col.note_count() == len(result.note_ids) == sum(f.cards for f in result.files) > 0
    # notes were added in document order: A's before B's, sections in order
    ordered = [col.get_note(n)["Back"] for n in sorted(result.note_ids)]
    tags = [t.split("Fact ")[1][:1] for t in ordered]
    assert tags == sorted(tags)
    sections = [(s.name, s.label(), s.cards) for s in result.sections]
    assert [s[1] for s in sections if s[0] == "a.md"] == ["Topic A0", "Topic A1", "Topic A2", "Topic A3"]
    assert all(s[2] > 0 for s in sections)
    note = col.get_note(result.note_ids[0])
    assert "bulk" in note.tags and any(t.startswith("ollama-flashcards::source::a.md") for t in note.tags)


def test_running_the_same_files_again_skips_what_is_in_the_collection(tmp_path, col):
    files = [write_md(tmp_path / "a.md")]
    with FakeOllama() as srv:
        b = backend_for(srv.url)
        first = run_headless(col, b, str(tmp_path / "j"), spec_for(files))
        asked = len(srv.chat_bodies())
        again = run_headless(col, b, str(tmp_path / "j"), spec_for(files))
        assert len(srv.chat_bodies()) == asked  # nothing asked again
        assert again.files[0].chunks_skipped == first.files[0].chunks_total
        assert "already in the collection" in again.files[0].text()
        # delete one section's notes: that section is generated again, the rest is not
        section_notes = col.find_notes('"Back:*Fact A-2-*"')
        col.remove_notes(section_notes)
        third = run_headless(col, b, str(tmp_path / "j"), spec_for(files))
        n2 = [s.chunks for s in first.sections if s.label() == "Topic A2"][0]
        assert len(srv.chat_bodies()) == asked + n2
        assert len(third.note_ids) == len(section_notes)
        # without skip_known the model is asked again, and the duplicate check drops every card
        fourth = run_headless(col, b, str(tmp_path / "j"), spec_for(files, skip_known=False))
        assert len(srv.chat_bodies()) == asked * 2 + n2
        assert fourth.note_ids == [] and col.note_count() == len(first.note_ids)


def test_failed_chunk_is_reported_by_section_and_rerun_alone(tmp_path, col):
    files = [write_md(tmp_path / "a.md")]

    def answerer(body):
        return Reply(content="not json at all") if "Fact A-1-" in body["messages"][1]["content"] else Reply()

    with FakeOllama(answerer=answerer) as srv:
        b = backend_for(srv.url)
        folder = str(tmp_path / "j")
        result = run_headless(col, b, folder, spec_for(files))
        failed = result.failed_sections()
        assert [s.label() for s in failed] == ["Topic A1"] and "not JSON" in failed[0].errors[0]
        assert result.files[0].chunks_failed >= 1 and "failed" in result.files[0].text()
        assert not result.finished and unfinished(folder) == [result.journal_path]
        good = len(result.note_ids)
        srv.answerer = None  # the model behaves now
        before = len(srv.chat_bodies())
        journal = Journal.open(result.journal_path)
        rerun = run_headless(col, b, folder, journal=journal, setup=RunSetup(only_failed=True))
        texts = asked_texts(srv)[before:]
        n1 = [s.chunks for s in result.sections if s.label() == "Topic A1"][0]
        assert len(texts) == n1 == result.files[0].chunks_failed and "Fact A-1-" in texts[0]
        assert rerun.finished and not rerun.failed_sections()
        assert len(rerun.note_ids) > good and col.note_count() == len(rerun.note_ids)
        assert unfinished(folder) == []


def test_a_cut_answer_is_a_warning_of_its_section(tmp_path, col):
    """Cards kept from an answer cut at the token limit (twice) are added, and the summary says
    which section they came from and what to change."""
    files = [write_md(tmp_path / "a.md")]
    cut = ('{"cards": [{"front": "What does item 1 weigh?", "back": "1 gram.", "quote": "item 1"}, '
           '{"front": "Wh')

    def answerer(body):
        if "Fact A-2-" in body["messages"][1]["content"]:
            return Reply(content=cut, done_reason="length")
        return Reply()

    with FakeOllama(answerer=answerer) as srv:
        result = run_headless(col, backend_for(srv.url), str(tmp_path / "j"), spec_for(files))
    warned = result.warned_sections()
    assert [s.label() for s in warned] == ["Topic A2"]
    assert "cut at the token limit" in warned[0].warnings[0] and "num_predict" in warned[0].warnings[0]
    assert not result.failed_sections() and result.finished
    assert "What does item 1 weigh?" in fronts(col)


def test_review_mode_keeps_cards_until_reviewed(tmp_path, col):
    files = [write_md(tmp_path / "a.md", sections=2)]
    with FakeOllama() as srv:
        b = backend_for(srv.url)
        folder = str(tmp_path / "j")
        result = run_headless(col, b, folder, spec_for(files, mode=MODE_REVIEW))
        assert col.note_count() == 0 and result.pending and not result.finished
        # Anki closes before the review: the cards come back from the journal
        journal = Journal.open(unfinished(folder)[0])
        pending = journal.state.pending_cards()
        assert [c.front for c in pending] == [c.front for c in result.pending]
        keep = pending[::2]
        spec = BulkSpec.from_header(journal.state.header)
        writer = NoteWriter(journal, spec.target, spec.skip_duplicates, ChunkIndex(os.path.join(folder, "added-chunks.jsonl")))
        outcome = writer.add_reviewed(col, keep, [r.id for r in journal.state.pending_chunks()])
        assert len(outcome.note_ids) == len(keep) == col.note_count()
        assert journal.state.pending_cards() == []
        # every card accounted for: added, or left out by the user in the review
        account = journal.state.account_of(0)
        assert account.made == len(pending) and account.added == len(keep)
        assert account.left == {Reason.UNCHECKED: len(pending) - len(keep)} and account.balanced
        journal.finish()
        assert unfinished(folder) == []


def test_cancel_during_parallel_requests_stops_at_once(tmp_path, col):
    files = [write_md(tmp_path / "a.md", sections=30)]
    with FakeOllama(latency=60.0, slots=4) as srv:  # every answer takes a minute
        b = backend_for(srv.url)
        cancel = threading.Event()
        folder = str(tmp_path / "j")
        opts = options(parallel=4)
        journal = start_journal(folder, spec_for(files, options=opts), opts)
        run = BulkRun(journal, b, None, cancel=cancel)
        out = {}
        t = threading.Thread(target=lambda: out.setdefault("r", run.run()))
        t.start()
        deadline = time.monotonic() + 30
        while srv.active < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert srv.active == 4  # four requests in flight
        started = time.monotonic()
        cancel.set()
        t.join(30)
        # it did not wait for the answers in flight (a minute away): it closed the requests
        assert not t.is_alive() and time.monotonic() - started < 10
        result = out["r"]
        assert result.cancelled and not result.finished
        assert result.files[0].state == "stopped" and "Stopped" in result.files[0].text()
        journal.close()
        assert unfinished(folder) == [journal.path]


def test_server_down_stops_the_job_and_keeps_it_resumable(tmp_path, col):
    files = [write_md(tmp_path / "a.md")]
    srv = FakeOllama().start()
    b = backend_for(srv.url)
    srv.stop()
    result = run_headless(col, b, str(tmp_path / "j"), spec_for(files))
    assert result.fatal is not None and "Cannot connect" in result.fatal.message
    assert "ollama serve" in result.fatal.hint


def test_add_crash_after_commit_is_recovered_without_doubles(tmp_path, col):
    """The window between the collection's commit and the journal's 'added' record."""
    files = [write_md(tmp_path / "a.md", sections=3)]

    class Crash(BaseException):
        pass

    with FakeOllama() as srv:
        b = backend_for(srv.url)
        folder = str(tmp_path / "j")
        opts = options()
        journal = start_journal(folder, spec_for(files), opts)
        index = ChunkIndex(os.path.join(folder, "added-chunks.jsonl"))
        writer = NoteWriter(journal, NoteTarget(deck="Bulk", tags=["bulk"]), True, index)
        real_added = journal.added
        calls = []

        def crashing_added(*a, **k):
            calls.append(1)
            if len(calls) == 2:
                raise Crash()  # notes committed, journal not yet written
            return real_added(*a, **k)

        journal.added = crashing_added
        from generator.bulk.writer import DirectAdder

        run = BulkRun(journal, b, DirectAdder(col, writer), setup=RunSetup(batch_seconds=0))
        with pytest.raises(Crash):
            run.run()
        journal.close()
        in_collection = col.note_count()
        assert in_collection > 0
        again = Journal.open(journal.path)
        assert again.state.adding  # one batch in doubt
        result = run_headless(col, b, folder, journal=again)
        assert result.finished
        all_fronts = fronts(col)
        assert len(all_fronts) == len(set(all_fronts)) == col.note_count()
        assert col.note_count() == sum(f.cards for f in result.files)
        # the batch found after the crash is accounted for like the others
        assert result.account.balanced and result.account.added == col.note_count()
        texts = asked_texts(srv)
        # nothing answered was asked again; only the request in flight at the crash was
        assert len(set(texts)) == result.files[0].chunks_total and len(texts) <= len(set(texts)) + 1


def test_add_crash_before_commit_adds_the_batch_on_resume(tmp_path, col, monkeypatch):
    files = [write_md(tmp_path / "a.md", sections=2)]

    class Crash(BaseException):
        pass

    with FakeOllama() as srv:
        b = backend_for(srv.url)
        folder = str(tmp_path / "j")
        journal = start_journal(folder, spec_for(files), options())
        writer = NoteWriter(journal, NoteTarget(deck="Bulk", tags=["bulk"]), True)
        real = col.add_notes

        def crash(requests):
            raise Crash()

        monkeypatch.setattr(col, "add_notes", crash)
        from generator.bulk.writer import DirectAdder

        with pytest.raises(Crash):
            BulkRun(journal, b, DirectAdder(col, writer), setup=RunSetup(batch_seconds=0)).run()
        journal.close()
        monkeypatch.setattr(col, "add_notes", real)
        assert col.note_count() == 0
        again = Journal.open(journal.path)
        assert again.state.adding
        result = run_headless(col, b, folder, journal=again)
        assert result.finished and col.note_count() == sum(f.cards for f in result.files) > 0


CHILD = textwrap.dedent("""
    import os, sys
    sys.path[:0] = [{root!r}, {tests!r}, {tools!r}]
    from anki.lang import set_lang
    set_lang("en")
    from generator.notes.add import open_collection, NoteTarget
    from generator.bulk.job import BulkSpec, RunSetup, run_headless
    from generator.job.run import JobOptions
    from engine_fixtures import backend_for
    col = open_collection({col!r})
    spec = BulkSpec({files!r}, JobOptions(model="llama3.2", num_ctx=1024, num_predict=256, parallel=2),
                    NoteTarget(deck="Bulk", tags=["bulk"]))
    def on_event(kind, data):
        print(kind, flush=True)
    run_headless(col, backend_for({url!r}), {folder!r}, spec, on_event=on_event, setup=RunSetup(batch_seconds=0))
    print("finished", flush=True)
""")


def test_resume_after_sigkill_asks_each_chunk_once_and_adds_each_card_once(tmp_path):
    from generator.notes.add import open_collection

    files = [write_md(tmp_path / "a.md", sections=8, tag="A"), write_md(tmp_path / "b.md", sections=8, tag="B")]
    col_path = str(tmp_path / "col" / "collection.anki2")
    os.makedirs(os.path.dirname(col_path))
    open_collection(col_path).close()
    folder = str(tmp_path / "j")
    with FakeOllama(latency=0.05, slots=2) as srv:
        # One early chunk is slow: the answers that arrive behind it must reach the journal
        # before the kill, not wait for their turn (else a resume asks for them again).
        srv.script(*([Reply()] * 5 + [Reply(delay=1.5)]))
        script = tmp_path / "child.py"
        script.write_text(CHILD.format(root=ROOT, tests=TESTS, tools=TOOLS, col=col_path, files=files, url=srv.url,
                                       folder=folder))
        child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
        chunks_seen = 0
        for line in child.stdout:
            if line.strip() == "chunk":
                chunks_seen += 1
                if chunks_seen == 6:
                    os.kill(child.pid, signal.SIGKILL)  # mid-job, requests in flight
                    break
        child.wait(10)
        assert child.returncode == -signal.SIGKILL
        paths = unfinished(folder)
        assert len(paths) == 1
        journal = Journal.open(paths[0])
        done_before = {cid for cid in journal.state.done}
        assert len(done_before) >= 6
        col = open_collection(col_path)
        try:
            notes_before = col.note_count()
            result = run_headless(col, backend_for(srv.url), folder, journal=journal)
            assert result.finished and not result.fatal
            texts = asked_texts(srv)
            total_chunks = sum(f.chunks_total for f in result.files)
            # every chunk was answered once: those done before the kill were not asked again;
            # only the requests in flight at the kill (at most 2, parallel=2) were asked twice
            assert len(set(texts)) == total_chunks
            assert total_chunks <= len(texts) <= total_chunks + 2
            final = Journal.open(result.journal_path).state
            assert set(final.done) >= done_before and len(final.done) == total_chunks
            budget = int(final.header["budget"])
            planner = Planner(files, budget).start()
            chunk_text = {c.id: c.text for i in range(len(files)) for c in planner.iter_file(i)}
            planner.close()
            assert set(chunk_text) == set(final.done)
            for cid in done_before:  # answered before the kill: never asked again
                assert texts.count(chunk_text[cid]) == 1
            assert sum(texts.count(t) - 1 for t in chunk_text.values()) == len(texts) - total_chunks
            # every card added once
            all_fronts = fronts(col)
            cards = sum(f.cards for f in result.files)
            assert col.note_count() == cards == len(all_fronts) == len(set(all_fronts))
            assert notes_before <= col.note_count()
            assert len(result.note_ids) == cards
        finally:
            col.close()


def test_planner_streams_and_counts(tmp_path):
    path = write_md(tmp_path / "big.md", sections=50)
    planner = Planner([path, str(tmp_path / "missing.md")], budget=300).start()
    chunks = list(planner.iter_file(0))
    assert [c.index for c in chunks] == list(range(len(chunks))) and len(chunks) >= 50
    assert planner.counts[0] == len(chunks) and planner.finished[0]
    assert list(planner.iter_file(1)) == [] and planner.errors[1] is not None
    planner.close()
    assert not os.path.exists(planner.spool_dir)


def test_prepare_finds_chunks_in_the_collection(tmp_path, col):
    files = [write_md(tmp_path / "a.md", sections=2)]
    with FakeOllama() as srv:
        b = backend_for(srv.url)
        folder = str(tmp_path / "j")
        first = run_headless(col, b, folder, spec_for(files))
        journal = start_journal(folder, spec_for(files), options())
        index = ChunkIndex(os.path.join(folder, "added-chunks.jsonl"))
        known = prepare(col, journal, index)
        assert len(known) == first.files[0].chunks_total
        journal.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("flagged", ["tag", "skip"])
def test_add_mode_counts_flagged_cards_and_tags_or_skips_them(tmp_path, col, flagged):
    """"Add as they come" adds a flagged card tagged ollama-flashcards::flagged (or
    skips it, bulk_flagged = "skip"); the file status and the summary count them."""
    from generator.config import FlaggedInBulk, SelfReview
    from generator.notes.add import FLAGGED_TAG

    def answer(body):
        n = zlib.crc32(body["messages"][1]["content"].encode()) % 100000  # one item per chunk
        return Reply.cards([{"front": "Is item %d heavy?" % n, "back": "Yes", "quote": "weighs"},
                            {"front": "How much does item %d weigh?" % n, "back": "3 grams", "quote": "weighs"}])

    files = [write_md(tmp_path / "a.md", sections=2, facts=5)]
    with FakeOllama(answerer=answer) as srv:
        spec = spec_for(files, options=options(self_review=SelfReview.OFF), flagged=FlaggedInBulk.parse(flagged))
        result = run_headless(col, backend_for(srv.url), str(tmp_path / "j"), spec,
                              setup=RunSetup(batch_seconds=0))
    chunks = result.files[0].chunks_total
    assert result.files[0].flagged == chunks and "%d flagged" % chunks in result.files[0].text()
    said = "%d flagged by the card checks" if flagged == "tag" else "%d flagged and left out"
    assert said % chunks in result.summary() and said % chunks in result.files[0].text()
    tagged = col.find_notes("tag:" + FLAGGED_TAG)
    if flagged == "tag":
        assert len(tagged) == chunks and col.note_count() == 2 * chunks
        assert all(col.get_note(n)["Front"].startswith("Is item") for n in tagged)
    else:
        assert not tagged and col.note_count() == chunks


def parts_of(summary):
    """A bulk summary's account: made, and each (count, words) after the colon."""
    import re

    head = summary.split(";")[0].rstrip(".")
    made = re.match(r"([\d,]+) cards? made from \d+ files?: (.*)$", head)
    assert made, summary
    parts = [re.match(r"([\d,]+) (.*)", x.strip()).groups() for x in made.group(2).split(",")]
    return int(made.group(1).replace(",", "")), [(int(n.replace(",", "")), w) for n, w in parts]


@pytest.mark.timeout(120)
def test_every_card_is_accounted_for_per_file_and_in_the_summary(tmp_path, col):
    """One job meets every reason a card is not added: the same question in two sections,
    a question already a note, a flagged card skipped, a model that writes more than a section
    can hold. Each file's status and the summary add up: made = added + each reason."""
    from generator.config import FlaggedInBulk, SelfReview

    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "Which question is already a note?", "This one"
    col.add_note(note, col.decks.id("Bulk"))

    def answer(body):
        n = zlib.crc32(body["messages"][1]["content"].encode()) % 100000
        cards = [{"front": "What is fact %d.%d?" % (n, k), "back": "Item %d weighs %d grams." % (k, k),
                  "quote": "weighs"} for k in range(3)]
        shared = {"front": "What do all the sections say?", "back": "That items weigh grams.", "quote": "weighs"}
        cards += [shared, dict(shared),  # twice in the answer: once a duplicate in the batch
                  {"front": "Which question is already a note?", "back": "This one", "quote": "weighs"},
                  {"front": "Is item %d heavy?" % n, "back": "Yes", "quote": "weighs"}]  # flagged
        if "Fact A-0-0 " in body["messages"][1]["content"]:  # a model in a loop, in one part
            cards += [{"front": "What else about %d? (%d)" % (n, k), "back": "More.", "quote": "weighs"}
                      for k in range(150)]
        return Reply.cards(cards)

    files = [write_md(tmp_path / "a.md", sections=3, facts=12, tag="A"),
             write_md(tmp_path / "b.md", sections=2, facts=12, tag="B")]
    with FakeOllama(answerer=answer) as srv:
        spec = spec_for(files, options=options(self_review=SelfReview.OFF), flagged=FlaggedInBulk.SKIP)
        result = run_headless(col, backend_for(srv.url), str(tmp_path / "j"), spec,
                              setup=RunSetup(batch_seconds=0))
    total = result.account
    chunks = sum(f.chunks_total for f in result.files)
    assert chunks >= 3
    assert total.balanced and total.added == col.note_count() - 1 == len(result.note_ids)
    assert set(total.left) == {Reason.BATCH, Reason.COLLECTION, Reason.FLAGGED, Reason.BOUND}, total.left
    # The shared question, twice in each answer: in the first batch once added and once a
    # duplicate in the batch; in every later one both times already in the collection (an
    # earlier batch added it), like the note there before.
    assert total.left[Reason.BATCH] == 1
    assert total.left[Reason.COLLECTION] == chunks + 2 * (chunks - 1)
    assert total.left[Reason.FLAGGED] == chunks
    assert total.left[Reason.BOUND] > 50
    assert total.added == 3 * chunks + 1 + 150 - total.left[Reason.BOUND]
    for f in result.files:
        assert f.account.balanced and f.account.made == f.cards + f.account.left.get(Reason.BOUND, 0)
        made, parts = parts_of(f.text().replace("Done · ", "").replace(" cards made:", " cards made from 1 file:"))
        assert made == f.account.made == sum(n for n, _ in parts)
    made, parts = parts_of(result.summary())
    assert made == total.made == sum(n for n, _ in parts)
    words = [w for _, w in parts]
    assert words == ["added", "duplicate in the batch", "already in the collection", "flagged and left out",
                     "over what the text can hold"], result.summary()
    assert "flagged by the card checks" not in result.summary()  # said once, as left out
