"""Cards from what the reader highlighted, through the CLI (a real process, the fake server that
records every request, a real collection): with ``--highlights only`` no request carries a
passage without a highlight and every card cites a highlighted sentence; ``first`` and
``ignore``; colours; Kindle clippings that grow."""
import json
import re

import pytest

from cli_run import cli, collection_notes
from fake_ollama import Reply, highlighted_numbers, numbered_sentences, source_text
from pdf_maker import highlighted_pdf as pdf_with

PAGE1 = ["Mitochondria make most of the ATP of the cell.", "They have their own DNA and ribosomes.", "",
         "Ribosomes translate messenger RNA into proteins.", "They sit free or on the rough ER."]
PAGE2 = ["Meiosis halves the number of chromosomes.", "It makes four haploid cells from one cell.", "",
         "Mitosis keeps the number of chromosomes.", "It makes two identical diploid cells."]
MARKED = ["Mitochondria make most of the ATP", "Meiosis halves the number"]


def highlighted_pdf(tmp_path):
    path = tmp_path / "biology.pdf"
    path.write_bytes(pdf_with([(PAGE1, [(0, MARKED[0], (1, 0.9, 0), "why so many?")]),
                               (PAGE2, [(0, MARKED[1], (0.2, 0.8, 0.2), None)])]))
    return str(path)


def card_requests(server):
    """The user messages of the card requests (not the rewrite pass's)."""
    users = [b["messages"][-1]["content"] for b in server.chat_bodies()]
    return [u for u in users if "\nYou review flashcards" not in u]


def run(server, *args):
    r = cli(*args, "--url", server.url, "--model", "llama3.2", "--self-review", "off")
    assert r.returncode == 0, r.stderr
    return r


@pytest.mark.timeout(120)
def test_only_every_request_holds_a_highlight_and_every_card_cites_one(server, tmp_path):
    pdf = highlighted_pdf(tmp_path)
    # the model also writes a card about a sentence nobody highlighted: it is not kept
    server.script(Reply.cards([{"n": 2, "front": "What do mitochondria have of their own?",
                                "back": "DNA and ribosomes."},
                               {"n": 1, "front": "What makes most of the ATP of the cell?",
                                "back": "Mitochondria."}]))
    r = run(server, pdf, "--dry-run", "--json")
    requests = card_requests(server)
    assert len(requests) == 2
    for user in requests:
        text = source_text(user)
        assert any(m in text for m in MARKED)  # no passage without a highlight
        marked = highlighted_numbers(user)
        assert marked and all(any(m in s for m in MARKED) for n, s in numbered_sentences(user) if n in marked)
    assert "The reader's note on [1]: “why so many?”" in requests[0]  # the note travels as intent
    cards = json.loads(r.stdout)
    assert [c["front"] for c in cards][:1] == ["What makes most of the ATP of the cell?"]
    assert len(cards) == 2
    for card in cards:
        assert any(m in card["quote"] for m in MARKED), card  # it cites a highlighted sentence
        assert "ollama-flashcards::highlight" in card["tags"]
    assert [c["source"]["label"] for c in cards] == ["biology.pdf · p. 1", "biology.pdf · p. 2"]
    assert "2 of 2 highlight(s) asked about" in r.stderr


@pytest.mark.timeout(120)
def test_first_then_the_rest_and_ignore(server, tmp_path):
    pdf = highlighted_pdf(tmp_path)
    run(server, pdf, "--dry-run", "--highlights", "first")
    requests = card_requests(server)
    focused = ["The reader highlighted:" in u for u in requests]
    assert focused[:2] == [True, True] and not any(focused[2:]) and len(requests) > 2
    rest = " ".join(source_text(u) for u in requests[2:])
    assert "Mitosis keeps" in rest and "Mitochondria make" not in rest
    server.requests.clear()
    r = run(server, pdf, "--dry-run", "--highlights", "ignore")
    assert not any("The reader highlighted:" in u for u in card_requests(server))
    assert "2 highlight(s) ignored" in r.stderr


@pytest.mark.timeout(120)
def test_colours_choose_the_highlights(server, tmp_path):
    pdf = highlighted_pdf(tmp_path)
    r = run(server, pdf, "--dry-run", "--json", "--highlight-colors", "green")
    assert [MARKED[1] in source_text(u) for u in card_requests(server)] == [True]
    assert all(c["source"]["page"] == 2 for c in json.loads(r.stdout))
    bad = cli(pdf, "--dry-run", "--url", server.url, "--highlight-colors", "sparkly")
    assert bad.returncode == 2 and "sparkly" in bad.stderr and "yellow" in bad.stderr


CLIPPINGS = """The Cell (Alberts, Bruce)
- Your Highlight on page 12 | Location 180-182 | Added on Sunday, March 3, 2019 10:01:02 AM

Mitochondria make most of the ATP of the cell.
==========
The Cell (Alberts, Bruce)
- Your Note on page 12 | Location 182 | Added on Sunday, March 3, 2019 10:02:02 AM

why so many?
==========
Gödel, Escher, Bach (Hofstadter, Douglas)
- Your Highlight at location 1020-1022 | Added on Monday, March 4, 2019 9:00:00 PM

A strange loop returns to where it started.
==========
"""
LATER = """The Cell (Alberts, Bruce)
- Your Highlight on page 40 | Location 610-611 | Added on Tuesday, March 5, 2019 8:00:00 AM

Ribosomes translate messenger RNA into proteins.
==========
"""


@pytest.mark.timeout(180)
def test_kindle_clippings_grow(server, tmp_path):
    clippings = tmp_path / "My Clippings.txt"
    clippings.write_text(CLIPPINGS, encoding="utf-8")
    col_path = str(tmp_path / "collection.anki2")
    run(server, str(clippings), "--collection", col_path, "--deck", "Reading", "--book-subdecks")
    first = card_requests(server)
    assert len(first) == 2 and all("The reader highlighted:" in u for u in first)
    assert "Source: My Clippings.txt" in first[0] and "The Cell (Alberts, Bruce)" in source_text(first[0])
    notes, col = collection_notes(col_path)
    try:
        assert len(notes) == 2
        tags = [set(n.tags) for n in notes]
        assert all("ollama-flashcards::highlight" in t for t in tags)
        assert {t for ts in tags for t in ts if "::book::" in t} == {
            "ollama-flashcards::book::the-cell", "ollama-flashcards::book::gödel-escher-bach"}
        decks = {col.decks.name(col.get_card(n.card_ids()[0]).did) for n in notes}
        assert decks == {"Reading::The Cell", "Reading::Gödel, Escher, Bach"}  # a subdeck per book
        sources = " ".join(n["Back"] for n in notes)
        assert "p. 12" in sources and "loc. 180–182" in sources and "loc. 1020–1022" in sources
    finally:
        col.close()
    # the reader highlights more; reading the clippings again asks only about the new one
    clippings.write_text(CLIPPINGS + LATER, encoding="utf-8")
    server.requests.clear()
    r = run(server, str(clippings), "--collection", col_path, "--deck", "Reading")
    again = card_requests(server)
    assert len(again) == 1 and "Ribosomes translate" in again[0]
    assert re.search(r"1 of 3 highlight\(s\) asked about; 2 had cards from before", r.stderr), r.stderr
    notes, col = collection_notes(col_path)
    col.close()
    assert len(notes) == 3
