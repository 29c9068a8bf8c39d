"""The CLI as a script would run it: a real process, the fake server, a real collection file."""
import json
import os
import re
import subprocess
import sys

import pytest

from cli_run import ROOT, cli, collection_notes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "seeds")


def test_generate_into_collection(server, tmp_path):
    path = str(tmp_path / "collection.anki2")
    r = cli(os.path.join(SEEDS, "ml-concepts.txt"), "--collection", path, "--deck", "ML",
            "--url", server.url, "--model", "llama3.2", "--tags", "cli", "--json")
    assert r.returncode == 0, r.stderr
    cards = json.loads(r.stdout)
    assert cards and {"front", "back", "kind", "grounded", "duplicate", "source"} <= set(cards[0])
    assert "chunk" in r.stderr
    made = re.search(r"(\d+) cards? made: (\d+) added", r.stderr)
    assert made and int(made.group(1)) == len(cards), r.stderr
    notes, col = collection_notes(path)
    try:
        # every card but the duplicates (skipped by default) became a note
        assert len(notes) == sum(1 for c in cards if not c["duplicate"]) >= len(cards) * 0.9
        assert all("cli" in n.tags for n in notes)
        assert all(col.decks.name(col.get_card(n.card_ids()[0]).did) == "ML" for n in notes)
        assert not any("üè" in n["Front"] + n["Back"] for n in notes)
    finally:
        col.close()
    again = cli(os.path.join(SEEDS, "ml-concepts.txt"), "--collection", path, "--deck", "ML",
                "--url", server.url, "--model", "llama3.2")
    assert again.returncode == 0 and "skipped" in again.stderr  # same cards: duplicates


def test_dry_run_from_stdin_touches_nothing(server, tmp_path):
    r = cli("-", "--dry-run", "--json", "--url", server.url, "--model", "llama3.2", "--kind", "cloze",
            stdin="Photosynthesis converts light energy into chemical energy in chloroplasts.\n")
    assert r.returncode == 0, r.stderr
    cards = json.loads(r.stdout)
    assert cards[0]["kind"] == "cloze" and "{{c1::" in cards[0]["text"]
    assert not list(tmp_path.iterdir())


def test_the_engines_own_entry_runs_the_same_command_line_without_qt(server):
    """``python -m generator`` (no graphics adapter handed in) makes the same cards from text."""
    r = subprocess.run([sys.executable, "-m", "generator", "-", "--dry-run", "--json", "--url", server.url,
                        "--model", "llama3.2", "--kind", "cloze"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, input="Photosynthesis converts light energy into chemical energy in chloroplasts.\n")
    assert r.returncode == 0, r.stderr
    cards = json.loads(r.stdout)
    assert cards[0]["kind"] == "cloze" and "{{c1::" in cards[0]["text"]


def test_exit_3_when_server_unreachable(tmp_path):
    r = cli("-", "--dry-run", "--url", "http://127.0.0.1:9", stdin="Some text to learn from here.")
    assert r.returncode == 3 and "ollama serve" in r.stderr and "Traceback" not in r.stderr


def test_exit_3_when_model_missing(server):
    r = cli("-", "--dry-run", "--url", server.url, "--model", "mistral", stdin="Some text to learn.")
    assert r.returncode == 3 and "ollama pull mistral" in r.stderr


def test_exit_2_for_bad_input(server, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = cli(str(empty), "--dry-run", "--url", server.url)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "empty" in r.stderr.lower()
    r = cli(str(tmp_path / "missing.md"), "--dry-run", "--url", server.url)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = cli("x.txt")  # neither --collection nor --dry-run
    assert r.returncode == 2


def test_exit_1_when_some_chunks_fail(server, tmp_path):
    from fake_ollama import Reply

    server.script(Reply(content="nope"), Reply(content="nope again"))
    path = str(tmp_path / "collection.anki2")
    r = cli(os.path.join(SEEDS, "ml-concepts.txt"), "--collection", path, "--deck", "ML",
            "--url", server.url, "--model", "llama3.2", "--num-ctx", "1024", "--num-predict", "256")
    assert r.returncode == 1, r.stderr
    assert "failed:" in r.stderr
    notes, col = collection_notes(path)
    col.close()
    assert notes  # the other chunks' cards were added


def test_refuses_a_collection_that_anki_has_open(server, tmp_path):
    from anki.collection import Collection

    path = str(tmp_path / "collection.anki2")
    col = Collection(path)  # what Anki holds while it runs
    try:
        r = cli("-", "--collection", path, "--url", server.url, "--model", "llama3.2", stdin="Text to learn here.")
        assert r.returncode == 2 and "open in Anki" in r.stderr
    finally:
        col.close()


def test_models_command(server):
    r = cli("models", "--url", server.url)
    assert r.returncode == 0 and "llama3.2" in r.stdout.split() and "Ollama 0.33.1" in r.stderr


def parts_of_the_last_line(stderr):
    """The CLI's last line: made, and each part after the colon as (count, words)."""
    line = [x for x in stderr.splitlines() if " made" in x][-1]
    made = re.match(r"([\d,]+) cards? made: (.*?);", line)
    assert made, line
    parts = [re.match(r"([\d,]+) (.*)", p.strip()).groups() for p in made.group(2).split(",")]
    return int(made.group(1).replace(",", "")), [(int(n.replace(",", "")), w) for n, w in parts]


@pytest.mark.timeout(60)
def test_the_last_line_accounts_for_every_card(server, tmp_path):
    """Made = added + each reason a card was not added, each with its count."""
    from anki.collection import Collection
    from fake_ollama import Reply

    path = str(tmp_path / "collection.anki2")
    col = Collection(path)
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "What produces most of the cell's ATP?", "Mitochondria"
    col.add_note(note, col.decks.id("Default"))
    col.close()
    text = "Mitochondria produce most of the cell's ATP.\n"
    cards = [{"front": "Where is ATP made? (%d)" % k, "back": "In the mitochondria.", "quote": text.strip()}
             for k in range(13)]
    cards[1] = dict(cards[0])  # the same question twice in the batch
    cards[2] = {"front": "What produces most of the cell's ATP?", "back": "Mitochondria.", "quote": text.strip()}
    server.script(Reply.cards(cards))
    r = cli("-", "--collection", path, "--url", server.url, "--model", "llama3.2", "--self-review", "off",
            stdin=text)
    assert r.returncode == 1, r.stderr  # partial: cards were left over the text's bound (said)
    made, parts = parts_of_the_last_line(r.stderr)
    assert made == 13 == sum(n for n, _ in parts), r.stderr
    assert parts == [(8, "added"), (1, "duplicate in the batch"), (1, "already in the collection"),
                     (3, "over what the text can hold")], r.stderr
    assert "3 more cards than this text can hold (10 kept)" in r.stderr
    notes, col = collection_notes(path)
    col.close()
    assert len(notes) == 1 + 8
    server.script(Reply.cards(cards[:4]))
    dry = cli("-", "--dry-run", "--url", server.url, "--model", "llama3.2", stdin=text)
    made, parts = parts_of_the_last_line(dry.stderr)
    assert (made, parts) == (4, [(0, "added"), (4, "not added (dry run)")]), dry.stderr
