"""What the reader highlighted, in the real app's dialogs against the fake server: the Generate
dialog offers only / first / ignore and the colours once a file with highlights is open (only
by default), asks accordingly, and the cards it adds are tagged and name their page; a file read
again asks only about highlights made since. The Bulk dialog counts the files' highlights and
asks about them as chosen."""
import json

from dialogs import bulk, deck_notes, generate, open_bulk, open_dialog, wait_finished, write  # noqa: F401
from fake_ollama import Reply, highlighted_numbers, numbered_sentences, source_text
from pdf_maker import highlighted_pdf

PAGE1 = ["{t}Mitochondria make most of the ATP of the cell.", "They have their own DNA and ribosomes.", "",
         "Ribosomes translate messenger RNA into proteins.", "They sit free or on the rough ER."]
PAGE2 = ["{t}Meiosis halves the number of chromosomes.", "It makes four haploid cells from one cell.", "",
         "Mitosis keeps the number of chromosomes.", "It makes two identical diploid cells."]
MARKED = ["Mitochondria make most of the ATP", "Meiosis halves the number"]
# What a good model answers about each highlight (for the screenshot)
GOOD = {MARKED[0]: {"front": "Which organelles make most of a cell's ATP?", "back": "Mitochondria."},
        MARKED[1]: {"front": "What does meiosis do to the number of chromosomes?", "back": "It halves it."}}


def write_pdf(tmp_path, name="biology.pdf", unique=False):
    """The two pages; ``unique``: their sentences made unique to the file (a token first), so the
    cards one test adds are no duplicates in another test sharing the collection."""
    token = "Q%04x " % (sum(map(ord, name)) & 0xFFFF) if unique else ""
    pages = [[line.format(t=token) for line in page] for page in (PAGE1, PAGE2)]
    path = tmp_path / name
    path.write_bytes(highlighted_pdf([(pages[0], [(0, MARKED[0], (1, 0.9, 0), "why so many?")]),
                                      (pages[1], [(0, MARKED[1], (0.2, 0.8, 0.2), None)])]))
    return str(path)


def card_requests(server):
    users = [b["messages"][-1]["content"] for b in server.chat_bodies()]
    return [u for u in users if "\nYou review flashcards" not in u]


def open_file(app, dlg, path):
    dlg.source.load_files([path])
    app.wait_until(dlg.idle, 15, "the file was not read")


def test_generate_offers_the_choice_and_asks_about_the_highlights(anki_app, server, tmp_path):
    deck = anki_app.new_deck("Highlights")
    dlg = open_dialog(anki_app, server.url, max_cards=0, self_review="off")
    picker = dlg.highlight_choice
    assert picker.isHidden()  # no source with highlights yet
    dlg.source.edit.setPlainText("Some typed text without any highlight at all.")
    assert picker.isHidden()
    open_file(anki_app, dlg, write_pdf(tmp_path))
    assert not picker.isHidden()
    items = [picker.combo.itemText(i) for i in range(picker.combo.count())]
    assert items == ["Only what I highlighted (2 highlights)", "Highlights first, then the rest",
                     "Ignore highlights"]
    assert picker.combo.currentIndex() == 0  # only, by default
    assert sorted(b.text() for b in picker.boxes.values()) == ["green (1)", "yellow (1)"]
    dlg.options.deck_chooser.selected_deck_id = anki_app.col.decks.id_for_name(deck)

    # as a good model answers (the screenshot in the README)
    def good(body):
        user = body["messages"][-1]["content"]
        n = highlighted_numbers(user)[0]
        sentence = dict(numbered_sentences(user))[n]
        return Reply.cards([dict(GOOD[m], n=n) for m in MARKED if m in sentence])

    server.answerer = good
    try:
        generate(anki_app, dlg)
    finally:
        server.answerer = None
    requests = card_requests(server)
    assert len(requests) == 2 and all(highlighted_numbers(u) for u in requests)
    assert all(any(m in source_text(u) for m in MARKED) for u in requests)
    cards = list(dlg.table.cards)
    assert [c.front for c in cards] == [GOOD[m]["front"] for m in MARKED]
    assert all("ollama-flashcards::highlight" in c.tags for c in cards)
    assert all(any(m in c.quote for m in MARKED) for c in cards)
    assert [c.source.label() for c in cards] == ["biology.pdf · p. 1", "biology.pdf · p. 2"]
    dlg.table.selectRow(0)
    anki_app.resize(dlg, 1000, 680)
    anki_app.screenshot(dlg, "highlights")

    # only the yellow ones
    server.requests.clear()
    picker.boxes["green"].setChecked(False)
    generate(anki_app, dlg)
    assert [MARKED[0] in source_text(u) for u in card_requests(server)] == [True]

    # ignore them: the whole text, as before
    server.requests.clear()
    picker.boxes["green"].setChecked(True)
    picker.set_mode("ignore")
    generate(anki_app, dlg)
    asked = card_requests(server)
    assert asked and not any(highlighted_numbers(u) for u in asked)
    assert "Mitosis keeps" in " ".join(source_text(u) for u in asked)
    dlg.close()


def test_generate_adds_tagged_cards_and_asks_only_about_new_highlights_later(anki_app, server, tmp_path):
    deck = anki_app.new_deck("Highlights later")
    path = write_pdf(tmp_path, "later.pdf", unique=True)
    dlg = open_dialog(anki_app, server.url, max_cards=0, self_review="off")
    open_file(anki_app, dlg, path)
    dlg.options.deck_chooser.selected_deck_id = anki_app.col.decks.id_for_name(deck)
    generate(anki_app, dlg)
    n = len(dlg.table.checked_cards())
    assert n >= 2
    dlg.add_btn.click()
    anki_app.wait_until(lambda: dlg.adder.last_added, 10, "cards were not added: %s" % dlg.message.text())
    anki_app.wait_until(dlg.idle, 15)
    col = anki_app.col
    nids = deck_notes(col, deck)
    assert len(nids) == n
    notes = [col.get_note(nid) for nid in nids]
    assert all("ollama-flashcards::highlight" in note.tags for note in notes)
    assert any("p. 1" in note["Back"] for note in notes) and any("p. 2" in note["Back"] for note in notes)
    dlg.close()

    # the file read again: its two highlights had cards; nothing new is asked
    server.requests.clear()
    dlg = open_dialog(anki_app, server.url, max_cards=0, self_review="off")
    open_file(anki_app, dlg, path)
    anki_app.wait_until(lambda: dlg.highlight_choice.note.text(), 10, "earlier cards not looked up")
    assert dlg.highlight_choice.note.text() == "2 highlights had cards made before: only the new ones are asked."
    generate(anki_app, dlg)
    assert card_requests(server) == []
    dlg.close()


def test_a_source_replaced_while_its_earlier_cards_are_looked_up_leaves_the_dialog_idle(anki_app, server,
                                                                                          tmp_path):
    """A highlighted PDF is shown (its earlier cards are being looked up in the collection) and
    at once replaced by pasted text: the dialog does not wait for the dropped look-up."""
    dlg = open_dialog(anki_app, server.url, max_cards=0, self_review="off")
    picker = dlg.highlight_choice
    seen = {}

    def replace_at_once():
        # connected after the picker: it has just started the look-up for the PDF
        if dlg.source.has_documents() and "checking" not in seen:
            seen["checking"] = picker.checking
            dlg.source.set_text("Pasted text without any highlight replaces the file.")

    dlg.source.changed.connect(replace_at_once)
    try:
        dlg.source.load_files([write_pdf(tmp_path, "replaced.pdf")])
        anki_app.wait_until(lambda: "checking" in seen, 15, "the file was not read")
        assert seen["checking"]  # the look-up was running when the text replaced the file
        anki_app.wait_until(dlg.idle, 10, "the dialog kept waiting for a dropped look-up")
    finally:
        dlg.source.changed.disconnect(replace_at_once)
    assert not picker.checking and picker.isHidden()
    assert not dlg.source.has_documents()
    dlg.close()


def test_bulk_counts_the_highlights_and_asks_about_them(anki_app, bulk, server, tmp_path):
    deck = anki_app.new_deck("Bulk highlights")
    dlg = open_bulk(anki_app, bulk, server.url, deck, self_review="off")
    picker = dlg.highlight_choice
    plain = write(tmp_path, "lakes.txt", "Q7d1 Lake Baikal is the deepest lake on Earth.\n\n"
                  "Q7d1 Lake Titicaca lies high in the Andes between Peru and Bolivia.\n")
    dlg.add_paths([plain])
    anki_app.wait_until(dlg.idle, 10)
    assert picker.isHidden()
    dlg.add_paths([write_pdf(tmp_path, "bulk.pdf", unique=True)])
    anki_app.wait_until(lambda: not picker.isHidden() and dlg.idle(), 10, "highlights not counted")
    assert picker.combo.itemText(0) == "Only what I highlighted (2 highlights)"
    dlg.start_btn.click()
    wait_finished(anki_app, dlg)
    requests = card_requests(server)
    focused = [u for u in requests if highlighted_numbers(u)]
    assert len(focused) == 2 and all("Source: bulk.pdf" in u for u in focused)
    assert any("Lake Baikal" in source_text(u) for u in requests)  # a file without highlights: whole
    assert all(highlighted_numbers(u) for u in requests if "Source: bulk.pdf" in u)  # only the highlights
    header = json.loads(open(dlg.last_result.journal_path, encoding="utf-8").readline())
    assert header["highlights"] == {"mode": "only", "colours": []}  # kept for a resume
    col = anki_app.col
    notes = [col.get_note(nid) for nid in deck_notes(col, deck)]
    marked = [n for n in notes if "ollama-flashcards::highlight" in n.tags]
    assert marked and all("bulk.pdf" in n["Back"] for n in marked)
    dlg.close()


def test_a_pdf_written_by_qt_with_an_embedded_unicode_font(qapp, tmp_path):
    """Qt writes text as a Type0 font (Identity-H, two bytes a glyph, a ToUnicode map), each
    glyph placed on its own: the highlight's words come out as drawn, ligatures undone."""
    import io

    from aqt.qt import QFont, QFontMetricsF, QMarginsF, QPageSize, QPainter, QPdfWriter, QSizeF
    from pypdf import PdfReader, PdfWriter
    from pypdf.annotations import Highlight
    from pypdf.generic import ArrayObject, FloatObject

    from generator.highlights.pdf import read_pdf_highlights

    path = str(tmp_path / "qt.pdf")
    writer = QPdfWriter(path)
    writer.setResolution(72)
    writer.setPageSize(QPageSize(QSizeF(612, 792), QPageSize.Unit.Point))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    painter = QPainter(writer)
    font = QFont("DejaVu Sans", 12)
    painter.setFont(font)
    line = "Grüße: Mitochondria make the cell’s ATP — ﬁne text."
    painter.drawText(56, 100, line)
    metrics = QFontMetricsF(font, writer)
    x0 = 56 + metrics.horizontalAdvance("Grüße: ")
    x1 = x0 + metrics.horizontalAdvance("Mitochondria make")
    painter.end()
    pdf = PdfWriter(clone_from=PdfReader(path))
    top, bottom = 792 - 100 + 10, 792 - 100 - 3
    for a, b in ((x0, x1), (50, 600)):
        quads = ArrayObject([FloatObject(v) for v in (a, top, b, top, a, bottom, b, bottom)])
        pdf.add_annotation(0, Highlight(rect=(a, bottom, b, top), quad_points=quads))
    out = io.BytesIO()
    pdf.write(out)
    found = read_pdf_highlights(out.getvalue(), "qt.pdf")
    # in reading order: the whole line starts before the two words
    assert [h.text for h in found.items] == ["Grüße: Mitochondria make the cell’s ATP — fine text.",
                                             "Mitochondria make"]
