"""Cards cite numbered sentences, and every card knows its place: the request's text carries the
markers, a card is grounded from the sentence(s) it cites (corrected when it cites the wrong one,
"Not in source" when its answer is nowhere), the old quote form still reads, and the page or line
of the cited sentence reaches the note's source line, its link and its tag in a real collection."""
import importlib.util
import io
import json
import os
import re
import zipfile

import pytest

from engine_fixtures import backend_for
from fake_ollama import FakeOllama, Reply, source_text
from generator.cards.sanitize import is_source_link, sanitize_html, source_link
from generator.job.chunk import Chunk
from generator.job.chunking import chunk_document
from generator.job.citations import Grounder
from generator.job.run import JobOptions, plan_chunks, run_job
from generator.job.sentences import numbered, parse_citation, unmarked
from generator.job.topics import find_topics
from generator.notes.add import NoteTarget, add_cards
from generator.sources.read import read_path, read_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("make_samples", os.path.join(ROOT, "seeds", "make_samples.py"))
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)

TEXT = ("Mitochondria produce most of the cell's ATP through respiration. Ribosomes translate "
        "messenger RNA into proteins. The nucleus was first described by Robert Brown in 1831.")
CHUNK = Chunk(id="bio", document="bio.md", text=TEXT, heading_path=("Biology", "Cells"))


def user_of(body):
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


# --- numbering ----------------------------------------------------------------------------------

def test_sentences_list_items_table_rows_and_headings_are_numbered_and_the_text_comes_back():
    doc = read_text("# Cells\n\nMitochondria make ATP. Ribosomes make proteins, e.g. enzymes.\n\n"
                    "- Nucleus: holds the DNA\n- Golgi body\n\n| Organelle | Job |\n|---|---|\n"
                    "| Vacuole | storage |\n\nSee [12] for more.", "t.md")
    chunk = chunk_document(doc, 500)[0]
    marks = numbered(chunk)
    assert [s.text for s in marks.sentences] == [
        "Cells", "Mitochondria make ATP.", "Ribosomes make proteins, e.g. enzymes.", "Nucleus: holds the DNA",
        "Golgi body", "Organelle | Job", "Vacuole | storage", "See [12] for more."]
    assert marks.sentences[0].heading and not marks.sentences[1].heading
    assert "[1] Cells\n\n[2] Mitochondria make ATP. [3] Ribosomes make" in marks.marked
    assert "- [4] Nucleus: holds the DNA\n- [5] Golgi body" in marks.marked
    # a bracketed number of the text's own cannot pass for a marker
    assert "[8] See (12) for more." in marks.marked
    assert unmarked(marks.marked) == chunk.text.replace("[12]", "(12)")
    assert all(chunk.text[s.start:s.end] == s.text for s in marks.sentences)
    assert marks.heading_of(3) == "Cells" and marks.image_marker(0) == 9


@pytest.mark.parametrize("value, expected", [
    (3, [3]), ("3", [3]), ([3, 4], [3, 4]), ("[3], [5]", [3, 5]), ("3-5", [3, 4, 5]), ("sentence 2", [2]),
    (99, []), (0, []), (True, []), (None, []), ({"n": 3}, []), (3.0, [3]), (float("nan"), []),
    (list(range(1, 40)), [1, 2, 3, 4, 5, 6, 7, 8]),
])
def test_a_citation_is_read_in_the_forms_models_write(value, expected):
    assert parse_citation(value, 10) == expected


# --- grounding from the citation ----------------------------------------------------------------

def test_grounding_from_the_cited_sentence_corrected_or_not_in_source():
    g = Grounder(CHUNK)
    right = g.ground("ATP", [1])
    assert right.grounded and right.numbers == [1] and right.quote.startswith("Mitochondria produce")
    wrong = g.ground("Robert Brown", [1])  # cites sentence 1, the name stands in sentence 3
    assert wrong.grounded and wrong.corrected and wrong.numbers == [3] and "1831" in wrong.quote
    made_up = g.ground("In 1838", [3])  # a wrong year: nowhere in the text
    assert not made_up.grounded and made_up.numbers == [3]
    outside = g.ground("Golgi apparatus", [])
    assert not outside.grounded and outside.numbers == []
    # the old form: a copied quote places the card, then the same check
    old = g.ground("messenger RNA", [], quote="Ribosomes translate messenger RNA")
    assert old.grounded and old.numbers == [2]
    assert not g.ground("Paris", [], quote="Paris is the capital of France").grounded


def test_request_text_carries_markers_and_cards_citing_numbers_are_grounded_on_both_backends():
    answer = {"cards": [
        {"n": 1, "front": "What produces most of the cell's ATP?", "back": "Mitochondria"},
        {"n": 1, "front": "Who first described the nucleus?", "back": "Robert Brown"},  # wrong number
        {"n": 3, "front": "When was the nucleus first described?", "back": "1838"},  # not in the text
        {"front": "What do ribosomes make?", "back": "Proteins", "quote": "Ribosomes translate messenger RNA"},
    ]}
    for backend_name in ("ollama", "openai"):
        with FakeOllama() as srv:
            srv.script(Reply(content=json.dumps(answer)))
            backend = backend_for(srv.url, backend=backend_name)
            try:
                result = run_job([CHUNK], backend, JobOptions(model="llama3.2", self_review="off"))
            finally:
                backend.close()
            user = user_of(srv.chat_bodies()[0])
        assert "<<<\n[1] Mitochondria produce" in user and " [2] Ribosomes translate" in user
        assert " [3] The nucleus was first described" in user
        cards = {c.back: c for c in result.cards}
        assert cards["Mitochondria"].grounded and cards["Mitochondria"].sentences == [1]
        assert cards["Mitochondria"].quote == "Mitochondria produce most of the cell's ATP through respiration."
        assert cards["Robert Brown"].grounded and cards["Robert Brown"].sentences == [3], backend_name
        assert cards["1838"].grounded is False
        assert cards["Proteins"].grounded and cards["Proteins"].sentences == [2]
        assert cards["Mitochondria"].source.heading_path == ("Biology", "Cells")
        as_json = cards["Robert Brown"].to_json()
        assert as_json["sentences"] == [3] and "1831" in as_json["quote"]


def test_an_answer_in_the_language_asked_is_read_in_it_as_the_checks_read_it():
    # An English text, cards asked in German: "Nach Paris" is grounded in sentence 1 ("nach" is a
    # German small word, as the card checks know); read with English word lists it is not.
    chunk = Chunk(id="paris", document="tower.md",
                  text="The Eiffel Tower was completed in 1889 for the World Fair in Paris. It is made of iron.")
    answer = {"cards": [{"n": 1, "front": "Wohin kam der Turm zur Weltausstellung?", "back": "Nach Paris"}]}
    got = {}
    for language in ("German", ""):
        with FakeOllama() as srv:
            srv.script(Reply(content=json.dumps(answer)))
            backend = backend_for(srv.url)
            try:
                got[language] = run_job([chunk], backend, JobOptions(model="llama3.2", self_review="off",
                                                                      language=language)).cards[0]
            finally:
                backend.close()
    german = got["German"]
    assert german.grounded and german.sentences == [1] and "answer_not_in_text" not in [c for c, _r in german.flags]
    assert not got[""].grounded  # no setting: the source's language (English) is the one read


def test_the_fake_models_cards_cite_their_sentences(server, backend):
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2"))
    assert result.cards and all(c.grounded and c.sentences for c in result.cards)
    for card in result.cards:
        assert card.back == numbered(CHUNK).get(card.sentences[0]).text == card.quote


def test_topics_cite_the_sentence_where_they_start(server, backend):
    found = find_topics([CHUNK], backend, JobOptions(model="llama3.2"))
    body = server.chat_bodies()[0]
    assert "[2] Ribosomes translate" in user_of(body)
    items = body["format"]["properties"]["topics"]["items"]
    assert "quote" not in items["properties"] and "section" not in items["properties"]
    assert found.topics and all(t.grounded for t in found.topics)
    assert found.topics[0].quote.startswith("Mitochondria produce") and found.topics[0].section == "Biology › Cells"


# --- every card knows its place -----------------------------------------------------------------

def pdf_of_pages(tmp_path) -> str:
    pages = [[("Cell Biology", 24, True), ("", 12),
              ("Mitochondria produce most of the cell's ATP through respiration.", 12)],
             [("Protein synthesis", 16, True), ("", 12),
              ("Ribosomes translate messenger RNA into proteins in the cytoplasm.", 12)]]
    path = tmp_path / "lecture 3.pdf"
    path.write_bytes(samples.build_pdf(pages))
    return str(path)


def test_pages_reach_the_note_source_line_link_and_tag(tmp_path, server, backend, col):
    path = pdf_of_pages(tmp_path)
    doc = read_path(path)
    assert [b.page for b in doc.blocks] == [1, 1, 2, 2] and doc.path == os.path.abspath(path)
    options = JobOptions(model="llama3.2", num_ctx=8192)
    chunks = plan_chunks([doc], options)
    assert len(chunks) == 1  # both pages in one request: the page is the cited sentence's
    result = run_job(chunks, backend, options)
    by_page = {c.source.page: c for c in result.cards}
    assert set(by_page) == {1, 2}
    card = by_page[2]
    assert card.source.label() == "lecture 3.pdf · p. 2 · Cell Biology › Protein synthesis"
    link = card.source.link()
    assert link.startswith("file:///") and link.endswith("/lecture%203.pdf#page=2") and is_source_link(link)
    added = add_cards(col, [card], NoteTarget(deck="Bio", tags=["x"]))
    note = col.get_note(added.note_ids[0])
    assert '<a href="%s" rel="noopener noreferrer">lecture 3.pdf · p. 2 · Cell Biology › Protein synthesis</a>' \
        % link in note["Back"]
    assert "ollama-flashcards::source::lecture_3.pdf::p2" in note.tags
    # the Browser finds it by the page's tag, and by the document's (a page is its child)
    assert col.find_notes("tag:ollama-flashcards::source::lecture_3.pdf::p2") == [note.id]
    assert col.find_notes("tag:ollama-flashcards::source::lecture_3.pdf") == [note.id]
    assert col.find_notes('"p. 2 · Cell Biology"') == [note.id]


def test_a_text_files_cards_name_their_line_and_pasted_text_none(tmp_path, server, backend):
    path = tmp_path / "notes.md"
    path.write_text("---\ntitle: x\n---\n# Cells\n\nMitochondria produce most of the cell's ATP.\n\n"
                    "Ribosomes translate messenger RNA into proteins.\n", encoding="utf-8")
    result = run_job(plan_chunks([read_path(str(path))], JobOptions(model="llama3.2")), backend,
                     JobOptions(model="llama3.2"))
    lines = {c.back: c.source for c in result.cards}
    assert lines["Ribosomes translate messenger RNA into proteins."].line == 8
    assert lines["Mitochondria produce most of the cell's ATP."].label() == "notes.md · line 6 · Cells"
    pasted = run_job(plan_chunks([read_text("# Cells\n\nMitochondria produce most of the cell's ATP.", "pasted text")],
                                 JobOptions(model="llama3.2")), backend, JobOptions(model="llama3.2"))
    assert pasted.cards[0].source.label() == "pasted text · Cells" and not pasted.cards[0].source.link()


def docx_with_rendered_breaks() -> bytes:
    data = samples.build_docx([("h1", "Intro"), ("p", "First page text here."), ("p", "Second page text here."),
                               ("p", "Still on the second page."), ("p", "Third page text here.")])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "word/document.xml":
                text = content.decode("utf-8")
                # where Word broke the pages when it last saved: before "Second", inside "Still ... page."
                text = text.replace("<w:t xml:space=\"preserve\">Second", "<w:lastRenderedPageBreak/>"
                                    "<w:t xml:space=\"preserve\">Second")
                text = text.replace("second page.</w:t>", "second</w:t><w:lastRenderedPageBreak/>"
                                    "<w:t xml:space=\"preserve\"> page.</w:t>")
                content = text.encode("utf-8")
            dst.writestr(item, content)
    return out.getvalue()


def test_docx_pages_when_word_saved_them_and_none_when_not(tmp_path):
    path = tmp_path / "paged.docx"
    path.write_bytes(docx_with_rendered_breaks())
    pages = {b.text: b.page for b in read_path(str(path)).blocks}
    assert pages == {"Intro": 1, "First page text here.": 1, "Second page text here.": 2,
                     "Still on the second page.": 2, "Third page text here.": 3}
    plain = tmp_path / "plain.docx"
    plain.write_bytes(samples.build_docx([("h1", "Intro"), ("p", "Text.")]))
    assert {b.page for b in read_path(str(plain)).blocks} == {0}


def test_a_resumed_job_keeps_the_places(tmp_path):
    from generator.bulk.journal import card_from_json, card_to_json, chunk_from_json, chunk_to_json

    doc = read_path(pdf_of_pages(tmp_path))
    chunk = chunk_document(doc, 500)[0]
    back = chunk_from_json(json.loads(json.dumps(chunk_to_json(chunk))))
    assert back.marks == chunk.marks and back.path == chunk.path and numbered(back).place(4) == (2, 0)
    hostile = dict(chunk_to_json(chunk), marks=[[0, 1, 0, 0], "x", [-1, 2, 0, 0], [5, True, 0, 0, 9]])
    assert chunk_from_json(hostile).marks == ((0, 1, 0, 0),)
    g = Grounder(back)
    from generator.cards.card import Card

    card = Card(kind="basic", front="q", back="Ribosomes")
    from generator.job.answers import CardMaker

    CardMaker(back, "basic").ground(card, [4])
    again = card_from_json(json.loads(json.dumps(card_to_json(card))))
    assert again.source.page == 2 and again.sentences == [4] and again.source.path == chunk.path
    assert g.place([4])[0] == 2


# --- the link is the add-on's, never a model's ----------------------------------------------------

def test_only_the_add_ons_own_file_links_pass_the_sanitizer(tmp_path):
    link = source_link(str(tmp_path / "a b.pdf"), 3)
    assert re.match(r"^file:///.*a%20b\.pdf#page=3$", link)
    assert 'href="%s"' % link in sanitize_html('<a href="%s">x</a>' % link, links={link})
    for html in ('<a href="%s">x</a>' % link,  # not built for this field
                 '<a href="file:///etc/passwd">x</a>', '<a href="file:///C:/Windows/calc.exe">x</a>'):
        assert "href" not in sanitize_html(html)
    evil = 'file:///x.pdf#page=1"><script>alert(1)</script>'
    assert not is_source_link(evil) and "href" not in sanitize_html('<a href=\'%s\'>x</a>' % evil, links={evil})
    assert source_link("relative/x.pdf") == "" and source_link("/x/y.txt", 4) == "file:///x/y.txt"


def test_a_chunk_halved_for_a_small_context_keeps_its_sentences_pages(tmp_path):
    from generator.job.run import split_chunk

    chunk = chunk_document(read_path(pdf_of_pages(tmp_path)), 500)[0]
    first, second = split_chunk(chunk)
    assert first.text + "\n\n" + second.text == chunk.text
    assert numbered(first).place(1)[0] == 1 and numbered(second).place(1)[0] == 2
    assert numbered(second).get(1).text == "Protein synthesis" and numbered(second).get(1).heading
