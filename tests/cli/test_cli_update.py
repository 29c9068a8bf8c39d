"""``--update`` as a script would run it: a real process, the fake server (which records what it
was sent), a real collection whose cards were answered through the scheduler."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from fake_ollama import FakeOllama, Reply, source_text
from cli_run import ROOT, cli
from update_support import CLIPPINGS, DOC, answer_all, sent_texts, snapshot, write

pytestmark = pytest.mark.timeout(180)


def run(server, path, col_path, journal, *extra):
    return cli(path, "--collection", col_path, "--deck", "Biology", "--url", server.url, "--model",
               "llama3.2", "--self-review", "off", "--journal-dir", str(journal), *extra)


def opened(col_path):
    from anki.collection import Collection
    from anki.lang import set_lang

    set_lang("en")
    return Collection(col_path)


def carded_and_reviewed(server, tmp_path, text=DOC, name="cells.md"):
    path = write(tmp_path / name, text)
    col_path = str(tmp_path / "collection.anki2")
    r = run(server, path, col_path, tmp_path / "j")
    assert r.returncode == 0, r.stderr
    col = opened(col_path)
    try:
        answer_all(col)
        before = snapshot(col)
    finally:
        col.close()
    return path, col_path, before


def after(col_path):
    col = opened(col_path)
    try:
        return snapshot(col)
    finally:
        col.close()


def last_line(stderr):
    return stderr.strip().splitlines()[-1]


def test_update_dry_run_then_apply_then_nothing(server, tmp_path):
    path, col_path, before = carded_and_reviewed(server, tmp_path)
    write(path, DOC.replace("Free ribosomes float in the cytosol of the cell.",
                            "Free ribosomes float in the cytosol and make proteins used there."))
    server.requests.clear()
    dry = run(server, path, col_path, tmp_path / "j", "--update", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert sorted(e["action"] for e in plan).count("update") == 1
    assert {e["action"] for e in plan} == {"unchanged", "update"}
    assert len(plan) == len(before)  # one entry per note
    (upd,) = [e for e in plan if e["action"] == "update"]
    assert upd["note_id"] in before
    assert "of the cell" in upd["old"]["Back"] and "make proteins used there" in upd["new"]["Back"]
    assert "data-ollama-flashcards" not in upd["new"]["Back"]
    assert after(col_path) == before  # a dry run changes nothing
    assert len(sent_texts(server)) == 1
    assert "dry run" in last_line(dry.stderr) and "1 updated" in last_line(dry.stderr)

    server.requests.clear()
    real = run(server, path, col_path, tmp_path / "j", "--update", "--json")
    assert real.returncode == 0, real.stderr
    assert sent_texts(server) == []  # the dry run's answer was kept and used
    assert last_line(real.stderr).endswith(
        "%d unchanged, 1 updated, 0 added, 0 source removed, 0 kept your edits." % (len(before) - 1))
    now = after(col_path)
    nid = upd["note_id"]
    assert set(now) == set(before)
    assert now[nid]["cards"].keys() == before[nid]["cards"].keys()
    assert now[nid]["revlog"] == before[nid]["revlog"] and now[nid]["revlog"]
    assert "make proteins used there" in now[nid]["fields"][1]
    assert all(now[n] == before[n] for n in before if n != nid)

    server.requests.clear()
    again = run(server, path, col_path, tmp_path / "j", "--update")
    assert again.returncode == 0, again.stderr
    assert server.chat_bodies() == []
    assert " 0 updated, 0 added, 0 source removed, 0 kept your edits." in last_line(again.stderr)
    assert after(col_path) == now


def test_hand_edit_kept_removed_text_tagged_new_text_added(server, tmp_path):
    path, col_path, before = carded_and_reviewed(server, tmp_path)
    col = opened(col_path)
    try:
        (mine,) = col.find_notes('"Back:*Each mitochondrion keeps*"')
        note = col.get_note(mine)
        note["Back"] = note["Back"].replace("small genome", "small circular genome (my words)")
        col.update_note(note)
        (gone,) = col.find_notes('"Back:*Active transport uses ATP*"')
        edited = snapshot(col)
    finally:
        col.close()
    write(path, DOC.replace("Each mitochondrion keeps its own small genome.",
                            "Each mitochondrion keeps its own genome of 37 genes.")
                   .replace("- Active transport uses ATP to pump molecules.\n", "")
          + "\n## Nucleus\n\nThe nucleus holds the chromosomes of the cell. Its envelope has many pores.\n")
    server.requests.clear()
    r = run(server, path, col_path, tmp_path / "j", "--update", "--json", "--suspend-removed")
    assert r.returncode == 0, r.stderr
    sent = " ".join(sent_texts(server))
    assert "37 genes" in sent and "nucleus holds" in sent and "Ribosomes translate" not in sent
    entries = {e["note_id"]: e for e in json.loads(r.stdout) if e["note_id"]}
    assert entries[mine]["action"] == "kept-edit" and "37 genes" in entries[mine]["new"]["Back"]
    assert entries[gone]["action"] == "source-removed"
    assert "kept your edit of note %d" % mine in r.stderr
    now = after(col_path)
    assert now[mine]["fields"] == edited[mine]["fields"]  # never overwritten
    assert "ollama-flashcards::source-changed" in now[mine]["tags"]
    assert "ollama-flashcards::source-removed" in now[gone]["tags"]
    col = opened(col_path)
    try:
        assert all(col.get_card(c).queue == -1 for c in now[gone]["cards"])  # suspended
        added = col.find_notes('"Back:*nucleus holds*"')
        assert len(added) == 1
    finally:
        col.close()
    assert now[gone]["revlog"] == before[gone]["revlog"]
    line = last_line(r.stderr)
    assert "2 added, 1 source removed, 1 kept your edits" in line
    numbers = [int(part.split()[0]) for part in line.split(": ", 1)[1].rstrip(".").split(", ")]
    assert sum(numbers) == len(now)  # the line adds up: every note in one group

    server.requests.clear()
    again = run(server, path, col_path, tmp_path / "j", "--update")
    assert server.chat_bodies() == [] and again.returncode == 0
    assert after(col_path) == now


def test_renamed_file_is_the_same_document(server, tmp_path):
    path, col_path, before = carded_and_reviewed(server, tmp_path)
    moved = tmp_path / "sub"
    moved.mkdir()
    new_path = str(moved / "cells-2nd-edition.md")
    os.replace(path, new_path)
    write(new_path, DOC.replace("lipid bilayer", "phospholipid bilayer"))
    server.requests.clear()
    r = run(server, new_path, col_path, tmp_path / "j", "--update", "--json")
    assert r.returncode == 0, r.stderr
    assert "(recorded)" in r.stderr
    assert len(sent_texts(server)) == 1 and "phospholipid" in sent_texts(server)[0]
    actions = [e["action"] for e in json.loads(r.stdout)]
    assert actions.count("update") == 1 and "add" not in actions


def test_clippings_carded_then_updated_send_nothing_and_remove_nothing(server, tmp_path):
    # the update reads the file as its cards were made from it (a highlight a part), not as
    # one long text: an unchanged My Clippings.txt has nothing to send and nothing removed,
    # and renamed it is still the same document
    path, col_path, before = carded_and_reviewed(server, tmp_path, CLIPPINGS, "My Clippings.txt")
    assert len(before) == 2
    for _ in range(2):
        server.requests.clear()
        r = run(server, path, col_path, tmp_path / "j", "--update", "--json")
        assert r.returncode == 0, r.stderr
        assert server.chat_bodies() == []
        assert {e["action"] for e in json.loads(r.stdout)} == {"unchanged"}
        assert last_line(r.stderr).endswith(
            "2 unchanged, 0 updated, 0 added, 0 source removed, 0 kept your edits."), r.stderr
        assert after(col_path) == before
    renamed = str(tmp_path / "kindle-export.txt")
    os.replace(path, renamed)
    server.requests.clear()
    r = run(server, renamed, col_path, tmp_path / "j", "--update")
    assert r.returncode == 0, r.stderr
    assert "(recorded)" in r.stderr and server.chat_bodies() == []
    assert after(col_path) == before


def test_update_refuses_stdin_and_needs_a_collection(server, tmp_path):
    r = cli("-", "--update", "--dry-run", "--url", server.url, stdin="Some text to learn from.")
    assert r.returncode == 2 and "--collection" in r.stderr
    r = cli("-", "--update", "--collection", str(tmp_path / "c.anki2"), "--url", server.url,
            stdin="Some text to learn from.")
    assert r.returncode == 2 and "standard input" in r.stderr


def long_part(name):
    return " ".join("%s part sentence %d says something worth a card here." % (name.title(), i)
                    for i in range(30))


def test_crash_mid_update_resumes_without_asking_twice(tmp_path):
    """The CLI killed (SIGKILL) while the second changed part is asked: the next --update asks
    only that part again, and the result is the same as an update that never stopped."""
    text = "# Notes\n\n## First\n\n%s\n\n## Second\n\n%s\n" % (long_part("first"), long_part("second"))
    hang = {"on": False}

    def answerer(body):
        user = (body.get("messages") or [{}])[-1].get("content") or ""
        if hang["on"] and "Second part sentence 3 CHANGED" in source_text(user):
            return Reply(mode="hang", delay=60)
        return Reply()

    with FakeOllama(answerer=answerer) as server:
        path, col_path, before = carded_and_reviewed(server, tmp_path, text, "notes.md")
        write(path, text.replace("First part sentence 3 ", "First part sentence 3 CHANGED ")
                        .replace("Second part sentence 3 ", "Second part sentence 3 CHANGED "))
        hang["on"] = True
        server.requests.clear()
        args = [sys.executable, "flashcards.py", path, "--collection", col_path, "--deck", "Biology",
                "--url", server.url, "--model", "llama3.2", "--self-review", "off", "--parallel", "1",
                "--journal-dir", str(tmp_path / "j"), "--update"]
        proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while len(sent_texts(server)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(sent_texts(server)) == 2, "the second part was never asked"
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        assert after(col_path) == before  # killed before applying: nothing changed
        hang["on"] = False
        server.requests.clear()
        r = run(server, path, col_path, tmp_path / "j", "--update", "--json")
        assert r.returncode == 0, r.stderr
        sent = sent_texts(server)
        assert len(sent) == 1 and "Second part sentence 3 CHANGED" in sent[0]  # the first answer was kept
        assert "1 answer(s) kept" in r.stderr
        actions = [e["action"] for e in json.loads(r.stdout)]
        assert actions.count("update") == 2 and "add" not in actions and "source-removed" not in actions
