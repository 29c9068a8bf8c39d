"""``python flashcards.py improve`` as a script runs it: a real process, the fake server with
scripted answers, a collection file whose cards were answered through Anki's scheduler."""
import json

import pytest

from fake_ollama import Reply
from history_fixtures import add_basic, card_ids, deck, forget, remember, revlog
from cli_run import cli

pytestmark = pytest.mark.timeout(180)


def make_collection(path):
    """Two leeches (one a list of facts), a note that is fine; closed, as the CLI needs it."""
    from anki.collection import Collection
    from anki.lang import set_lang

    set_lang("en")
    col = Collection(path)
    deck(col, "Biology", leech_fails=3)
    split_me = add_basic(col, "Biology", "What do mitochondria do?", "They make ATP and store calcium")
    rewrite_me = add_basic(col, "Biology", "Chloroplast?", "Glucose from light")
    fine = add_basic(col, "Biology", "Capital of Peru?", "Lima")
    forget(col, card_ids(col, split_me)[0], 4)
    forget(col, card_ids(col, rewrite_me)[0], 3)
    remember(col, card_ids(col, fine)[0], 3)
    ids = {"split": split_me, "rewrite": rewrite_me, "fine": fine}
    logs = {k: revlog(col, card_ids(col, v)) for k, v in ids.items()}
    col.close()
    return ids, logs


def open_col(path):
    from anki.collection import Collection

    return Collection(path)


def script_answers(server):
    """The answer to each note's request, whichever order they come in."""
    def answerer(body):
        user = body["messages"][-1]["content"]
        if "mitochondria" in user:
            item = {"id": "1", "action": "split", "reason": "Two facts on one card.", "front": "", "back": "",
                    "split": [{"front": "What do mitochondria make?", "back": "ATP"},
                              {"front": "What do mitochondria store?", "back": "Calcium"}]}
        elif "Chloroplast" in user:
            item = {"id": "1", "action": "rewrite", "reason": "The question was one word.",
                    "front": "What does the chloroplast make from light?", "back": "Glucose", "split": []}
        else:
            item = {"id": "1", "action": "keep", "reason": "Fine.", "front": "", "back": "", "split": []}
        return Reply(content=json.dumps({"notes": [item]}))
    server.answerer = answerer


def test_list_struggling_cards_as_json(server, tmp_path):
    path = str(tmp_path / "collection.anki2")
    ids, _logs = make_collection(path)
    r = cli("improve", "--collection", path, "--list", "--json")
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)
    assert listed["total"] == 2 and not listed["fsrs"]
    assert [c["note_id"] for c in listed["cards"]] == [ids["split"], ids["rewrite"]]  # worst first
    first = listed["cards"][0]
    assert first["lapses"] == 4 and first["leech_threshold"] == 3 and first["leech_tagged"]
    assert first["deck"] == "Biology" and first["question"] == "What do mitochondria do?"
    assert not server.chat_bodies()  # listing asks no model


def test_dry_run_json_changes_nothing(server, tmp_path):
    path = str(tmp_path / "collection.anki2")
    ids, logs = make_collection(path)
    script_answers(server)
    before = open_col(path)
    notes_before = before.db.all("select id, mod, flds, tags from notes order by id")
    before.close()
    r = cli("improve", "--collection", path, "--search", "deck:Biology", "--dry-run", "--json",
            "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 0, r.stderr
    out = {item["note_id"]: item for item in json.loads(r.stdout)}
    assert set(out) == set(ids.values())
    split = out[ids["split"]]
    assert split["action"] == "split" and split["reason"] == "Two facts on one card."
    assert [s["Front"] for s in split["split"]] == ["What do mitochondria make?", "What do mitochondria store?"]
    assert split["old"] == {"Front": "What do mitochondria do?", "Back": "They make ATP and store calcium"}
    assert split["added"] == [] and split["applied"] is False
    assert any("forgotten 4 times" in d for d in split["diagnosis"])
    assert any("The answer lists" in d or "several" in d.lower() for d in split["diagnosis"]) or split["diagnosis"]
    rewrite = out[ids["rewrite"]]
    assert rewrite["new"]["Front"] == "What does the chloroplast make from light?"
    assert out[ids["fine"]]["action"] == "keep" and out[ids["fine"]]["new"] == {}
    after = open_col(path)
    try:
        assert after.db.all("select id, mod, flds, tags from notes order by id") == notes_before
    finally:
        after.close()


def test_applies_in_place_and_keeps_history(server, tmp_path):
    path = str(tmp_path / "collection.anki2")
    ids, logs = make_collection(path)
    script_answers(server)
    col = open_col(path)
    cids = {k: card_ids(col, v) for k, v in ids.items()}
    col.close()
    r = cli("improve", "--collection", path, "--url", server.url, "--model", "llama3.2", "--json",
            "--suspend-original")
    assert r.returncode == 0, r.stderr
    out = {item["note_id"]: item for item in json.loads(r.stdout)}
    assert set(out) == {ids["split"], ids["rewrite"]}  # the struggling cards' notes only
    assert out[ids["rewrite"]]["applied"] and len(out[ids["split"]]["added"]) == 2
    assert "1 note rewritten, 1 note split into 2" in r.stderr
    col = open_col(path)
    try:
        note = col.get_note(ids["rewrite"])
        assert note["Front"] == "What does the chloroplast make from light?" and note["Back"] == "Glucose"
        for key in ids:
            assert card_ids(col, ids[key]) == cids[key]
            assert revlog(col, cids[key]) == logs[key]
        added = out[ids["split"]]["added"]
        assert set(col.find_notes("tag:ollama-flashcards::split-from::%d" % ids["split"])) == set(added)
        assert all(col.get_card(c).queue == -1 for c in cids["split"])  # --suspend-original
        assert col.get_card(cids["rewrite"][0]).queue != -1
    finally:
        col.close()


def test_broken_answer_exits_1_and_changes_nothing(server, tmp_path):
    path = str(tmp_path / "collection.anki2")
    ids, _logs = make_collection(path)
    server.answerer = lambda body: Reply(content="<<< not json >>>")
    col = open_col(path)
    before = col.db.all("select id, mod, flds from notes order by id")
    col.close()
    r = cli("improve", "--collection", path, "--search", "tag:leech", "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 1, r.stderr
    assert "could not be used" in r.stderr and "Traceback" not in r.stderr
    col = open_col(path)
    try:
        assert col.db.all("select id, mod, flds from notes order by id") == before
    finally:
        col.close()


def test_usage_and_server_errors(server, tmp_path):
    path = str(tmp_path / "collection.anki2")
    make_collection(path)
    r = cli("improve", "--collection", path, "--search", "prop:lapses>=>>", "--url", server.url)
    assert r.returncode == 2 and "not a valid Anki search" in r.stderr and "Traceback" not in r.stderr
    r = cli("improve", "--collection", path, "--search", "tag:leech", "--url", "http://127.0.0.1:9")
    assert r.returncode == 3 and "Traceback" not in r.stderr
    r = cli("improve", "--collection", path, "--search", "tag:nothing-has-this", "--url", server.url)
    assert r.returncode == 0 and "No notes to improve" in r.stderr
    r = cli("improve", "--collection", str(tmp_path / "nope.txt"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
