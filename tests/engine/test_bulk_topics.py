"""Topics first and focus in a bulk job: found over the files as the job reads them, recorded in
the journal, and asked again the same way by a resumed job."""
import threading

import pytest

from engine_fixtures import backend_for
from fake_ollama import FakeOllama, source_text
from generator.bulk.job import BulkSpec, RunSetup, run_headless, start_journal
from generator.bulk.topics import chunks_of_files, find_topics_in_files
from generator.job.run import JobOptions, chunk_budget, prepare_job
from generator.bulk.journal import Journal, unfinished
from generator.notes.add import NoteTarget
from engine_fixtures import write_md

FOCUS = "only the weights"


@pytest.mark.timeout(120)
def test_a_resumed_bulk_job_asks_for_the_same_topics_with_the_same_focus(tmp_path, col):
    files = [write_md(tmp_path / "a.md", sections=4, facts=6), str(tmp_path / "missing.md")]
    folder = str(tmp_path / "jobs")
    with FakeOllama(latency=0.05) as srv:
        b = backend_for(srv.url)
        options = prepare_job(b, JobOptions(model="llama3.2", num_ctx=1024, num_predict=512, focus=FOCUS))
        found, errors = find_topics_in_files(files, b, options)
        assert [p for p, _e in errors] == [files[1]] and not found.failures
        chunks, _ = chunks_of_files(files[:1], chunk_budget(options))
        assert len(chunks) == 4 and {c for t in found.topics for c in t.chunks} == {c.id for c in chunks}
        # keep the topics of sections 0 and 2 only
        wanted = {chunks[0].id, chunks[2].id}
        for t in found.topics:
            t.checked = any(c in wanted for c in t.chunks)
        spec = BulkSpec(files[:1], options, NoteTarget(deck="Bulk"), topics=found.topics)
        journal = start_journal(folder, spec, options)
        asked_before = len(srv.chat_bodies())

        # first run: stopped after its first chunk
        cancel = threading.Event()
        first = run_headless(col, b, folder, journal=journal, cancel=cancel,
                             on_event=lambda kind, data: cancel.set() if kind == "chunk" else None,
                             setup=RunSetup(batch_seconds=0))
        assert first.cancelled and not first.finished
        # the journal holds the topics and the focus
        (path,) = unfinished(folder)
        reopened = Journal.open(path)
        again = BulkSpec.from_header(reopened.state.header)
        assert again.options.focus == FOCUS
        assert [(t.title, t.checked, t.chunks) for t in again.topics] == [
            (t.title, t.checked, t.chunks) for t in found.topics]

        # resumed: asks the rest, with the same topics and focus; unchosen sections never asked
        second = run_headless(col, b, folder, journal=reopened, setup=RunSetup(batch_seconds=0))
        b.close()
        bodies = srv.chat_bodies()[asked_before:]
    assert second.finished and not second.fatal
    asked = [source_text(body["messages"][1]["content"]) for body in bodies]
    assert sorted(asked) == sorted(c.text for c in chunks if c.id in wanted)  # each once, only those
    assert all(FOCUS in body["messages"][0]["content"] for body in bodies)
    assert all("Write cards only about these topics" in body["messages"][1]["content"] for body in bodies)
    chosen = {t.tag for t in found.topics if t.checked}
    notes = [col.get_note(n) for n in col.find_notes("deck:Bulk")]
    assert len(notes) == len(second.note_ids) > 0
    assert all({tag for tag in n.tags if tag.startswith("ollama-flashcards::topic::")} <= chosen
               and any(tag in chosen for tag in n.tags) for n in notes)
