"""The CLI's topics, focus and cards-as-they-are-written options, as a script would run them: a
real process, the fake server, a real collection file."""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from fake_ollama import FakeOllama, Reply

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CELLS = """# Cells

Mitochondria produce most of the cell's ATP through respiration. Ribosomes translate messenger RNA into proteins.
"""
GENETICS = """# Genetics

DNA stores genetic information in sequences of four bases. Mutations change the sequence of bases in DNA.
"""


def cli(*args, stdin=None, timeout=120):
    return subprocess.run([sys.executable, "flashcards.py", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def docs(tmp_path):
    """Two documents, a chunk each."""
    paths = []
    for name, text in (("cells.md", CELLS), ("genetics.md", GENETICS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    return paths


def notes_of(path):
    from anki.collection import Collection

    col = Collection(path)
    try:
        out = []
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            out.append((note.fields[0], note.tags, col.decks.name(col.get_card(note.card_ids()[0]).did)))
        return out
    finally:
        col.close()


@pytest.mark.timeout(120)
def test_topics_only_prints_topics_and_adds_nothing(server, docs, tmp_path):
    r = cli(*docs, "--topics-only", "--url", server.url, "--model", "llama3.2", "--focus", "only the cells")
    assert r.returncode == 0, r.stderr
    topics = json.loads(r.stdout)
    assert [t["title"] for t in topics] == ["Mitochondria produce most", "Ribosomes translate messenger",
                                            "DNA stores genetic", "Mutations change the"]
    assert {"title", "section", "summary", "cards", "quote", "grounded", "chunks", "slug"} <= set(topics[0])
    assert all(t["grounded"] for t in topics)
    assert "topic 1 (chunk" in r.stderr and "4 topic(s)" in r.stderr
    bodies = server.chat_bodies()
    assert bodies and all("topics" in b["format"]["properties"] for b in bodies)
    assert all("only the cells" in b["messages"][0]["content"] for b in bodies)
    assert sorted(os.listdir(tmp_path)) == ["cells.md", "genetics.md"]


@pytest.mark.timeout(120)
def test_topics_file_generates_for_the_checked_topics_only(server, docs, tmp_path):
    r = cli(*docs, "--topics-only", "--url", server.url, "--model", "llama3.2")
    topics = json.loads(r.stdout)
    topics[1]["checked"] = False  # the user does not want the ribosomes
    topics = [t for t in topics if not t["title"].startswith("Mutations")]  # ... nor mutations (deleted)
    topics.append({"title": "Mutations in DNA", "custom": True, "cards": 2})  # and adds their own
    chosen = tmp_path / "topics.json"
    chosen.write_text(json.dumps(topics), encoding="utf-8")
    col = str(tmp_path / "collection.anki2")
    r = cli(*docs, "--topics", str(chosen), "--collection", col, "--deck", "Bio", "--topic-subdecks",
            "--url", server.url, "--model", "llama3.2", "--json")
    assert r.returncode == 0, r.stderr
    cards = json.loads(r.stdout)
    assert {c["topic"] for c in cards} == {"Mitochondria produce most", "DNA stores genetic",
                                           "Mutations in DNA"}
    notes = notes_of(col)
    assert len(notes) == len(cards)
    assert {deck for _f, _t, deck in notes} == {"Bio::Mitochondria produce most", "Bio::DNA stores genetic",
                                                "Bio::Mutations in DNA"}
    assert all(any(t.startswith("ollama-flashcards::topic::") for t in tags) for _f, tags, _d in notes)
    assert not any("Ribosomes" in front for front, _t, _d in notes)


@pytest.mark.timeout(120)
def test_topics_file_of_titles(server, docs, tmp_path):
    titles = tmp_path / "topics.txt"
    titles.write_text("# what I want\nMutations\n", encoding="utf-8")
    r = cli(*docs, "--topics", str(titles), "--dry-run", "--json", "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 0, r.stderr
    cards = json.loads(r.stdout)
    assert cards and all(c["topic"] == "Mutations" and "Mutations" in c["back"] for c in cards)
    assert len(server.chat_bodies()) == 1  # only the genetics chunk mentions it
    assert "1 of 2 chunk(s) hold one" in r.stderr


@pytest.mark.timeout(60)
def test_a_bad_topics_file_is_a_usage_error(docs, tmp_path):
    bad = tmp_path / "t.json"
    bad.write_text("[{]", encoding="utf-8")
    r = cli(*docs, "--topics", str(bad), "--dry-run", "--url", "http://127.0.0.1:9")
    assert r.returncode == 2 and "not valid JSON" in r.stderr and "Traceback" not in r.stderr
    r = cli(*docs, "--topics", str(tmp_path / "none.txt"), "--dry-run", "--url", "http://127.0.0.1:9")
    assert r.returncode == 2 and "cannot be read" in r.stderr


@pytest.mark.timeout(120)
def test_jsonl_prints_each_card_while_the_model_still_writes(docs):
    with FakeOllama(rate=150) as srv:
        proc = subprocess.Popen([sys.executable, "flashcards.py", *docs, "--dry-run", "--jsonl",
                                 "--max-cards", "4", "--url", srv.url, "--model", "llama3.2"],
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        stderr = []
        reader = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)
        reader.start()
        for line in proc.stdout:
            lines.append((time.monotonic(), line))
        assert proc.wait(60) == 0
        reader.join(5)
        sent = list(srv.sent)
    cards = [json.loads(line) for _t, line in lines]
    assert len(cards) == 4 and all(c["id"].count("#") == 1 and c["front"] for c in cards)
    assert not any(c.get("withdrawn") for c in cards)
    first_request_end = max(t for n, t, _c in sent if n == 1)
    assert lines[0][0] < first_request_end  # printed before the model had finished that answer
    counted = [line for line in stderr if line.startswith("card ")]
    assert [line.split(" ")[1] for line in counted] == ["1", "2", "3", "4"]  # counted as they came
    assert counted[0].startswith("card 1 (chunk 1/2): ") and cards[0]["front"] in counted[0]


@pytest.mark.timeout(120)
def test_jsonl_and_json_agree_on_the_cards(server, docs):
    lines = cli(*docs, "--dry-run", "--jsonl", "--url", server.url, "--model", "llama3.2")
    whole = cli(*docs, "--dry-run", "--json", "--url", server.url, "--model", "llama3.2")
    assert lines.returncode == whole.returncode == 0
    streamed = [json.loads(line) for line in lines.stdout.splitlines()]
    for c in streamed:
        c.pop("id")
    assert streamed == json.loads(whole.stdout)


@pytest.mark.timeout(120)
def test_a_cut_answer_keeps_its_cards_says_so_and_exits_1(server, docs):
    content = json.dumps({"cards": [
        {"front": "What produces most of the cell's ATP?", "back": "Mitochondria",
         "quote": "Mitochondria produce most of the cell's ATP"},
        {"front": "What translates RNA?", "back": "Ribosomes", "quote": "Ribosomes translate messenger"}]})
    server.script(Reply(content=content[: content.index("What translates") + 4], done_reason="length"))
    r = cli(*docs, "--dry-run", "--jsonl", "--max-cards", "4", "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 1, r.stderr
    cards = [json.loads(line) for line in r.stdout.splitlines()]
    assert cards[0]["back"] == "Mitochondria"
    assert "cut short" in r.stderr and "num_predict" in r.stderr
