"""Inputs at the edges a user can reach: each is refused with a message or handled within
bounded memory."""
import tracemalloc

import pytest

from engine_fixtures import backend_for
from fake_ollama import FakeOllama
from generator.bulk.job import BulkSpec, RunSetup, run_headless
from generator.bulk.status import DONE
from generator.errors import SourceTooLarge
from generator.job.run import JobOptions
from generator.notes.add import NoteTarget
from generator.sources.read import iter_blocks_path, read_path


def test_a_file_over_200_mb_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.txt"
    with open(path, "wb") as f:  # sparse: costs no disk
        f.truncate(201 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(SourceTooLarge) as e:
            read_path(str(path))
        with pytest.raises(SourceTooLarge):
            list(iter_blocks_path(str(path)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "huge.txt" in e.value.message and e.value.hint
    assert peak < 5 * 1024 * 1024


def test_a_folder_of_1000_files_in_one_bulk_job(tmp_path, col):
    folder = tmp_path / "lectures"
    folder.mkdir()
    files = []
    for i in range(1000):
        path = folder / f"lecture-{i:04d}.md"
        path.write_text(f"# Lecture {i}\n\nLecture {i} explains that item {i} weighs exactly {i} grams.\n",
                        encoding="utf-8")
        files.append(str(path))
    spec = BulkSpec(files, JobOptions(model="llama3.2", num_ctx=1024, num_predict=256, parallel=2),
                    NoteTarget(deck="Lectures", tags=["bulk"]))
    tracemalloc.start()
    try:
        with FakeOllama(slots=2) as srv:
            result = run_headless(col, backend_for(srv.url), str(tmp_path / "journal"), spec,
                                  setup=RunSetup(sync=False))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [f.state for f in result.files] == [DONE] * 1000
    assert col.note_count() == len(result.note_ids) == 1000
    assert len(srv.chat_bodies()) == 1000
    assert peak < 200 * 1024 * 1024
