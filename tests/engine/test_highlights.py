"""Reading what a reader highlighted: PDF annotations written by the tests (highlights over known
words, several pages, rotated pages and rotated text, comments and replies, an annotation without
quadrilaterals, hostile ones), Kindle clippings in English and German, Readwise CSV and
Markdown, Zotero Markdown; each recognised by its content. And the plan of a job that focuses on
them: only / first / ignore, colours, the context each highlight is sent with."""
import pytest

from generator.highlights.focus import (
    HighlightChoice,
    HighlightMode,
    focus_instructions,
    focus_numbers,
    plan_highlights,
)
from generator.highlights.highlight import colour_name
from generator.highlights.pdf import MAX_ANNOTATIONS_PER_PAGE, read_pdf_highlights
from generator.highlights.read import export_kind, read_bytes_with_highlights, read_with_highlights
from pdf_maker import PdfMaker
from timing import assert_linear

PAGE1 = ["Mitochondria make most of the ATP of the cell.",
         "They have their own DNA and their own ribosomes.",
         "",
         "Ribosomes translate messenger RNA into proteins."]
PAGE2 = ["Meiosis halves the number of chromosomes.",
         "It makes four haploid cells from one diploid cell."]


def texts(highlights):
    return [h.text for h in highlights.items]


def two_page_pdf(**first):
    pdf = PdfMaker()
    a = pdf.annotation("Highlight", pdf.word_quad(0, PAGE1[0], "most of the ATP"), **first)
    b = pdf.annotation("Underline", pdf.word_quad(3, PAGE1[3], "messenger RNA"), colour=(0.1, 0.4, 1))
    pdf.page(text=PAGE1, mono=True, annots=[a, b])
    c = pdf.annotation("Squiggly", pdf.word_quad(0, PAGE2[0], "halves")
                       + pdf.word_quad(1, PAGE2[1], "four haploid cells"), colour=(0.2, 0.8, 0.2))
    pdf.page(text=PAGE2, mono=True, annots=[c])
    return pdf.build()


# --- PDF annotations -------------------------------------------------------------------------

@pytest.mark.timeout(30)
def test_the_words_under_each_highlight_on_several_pages():
    found = read_pdf_highlights(two_page_pdf(contents="why so many?"), "bio.pdf")
    assert texts(found) == ["most of the ATP", "messenger RNA", "halves four haploid cells"]
    assert [(h.page, h.kind, h.colour) for h in found.items] == [
        (1, "highlight", "yellow"), (1, "underline", "blue"), (2, "squiggly", "green")]
    assert found.items[0].comment == "why so many?" and not found.items[1].comment
    assert found.warnings == []


@pytest.mark.timeout(30)
def test_a_highlight_on_a_rotated_page_and_over_rotated_text():
    pdf = PdfMaker()
    lines = ["Enzymes lower the activation energy of a reaction."]
    # the page turned a quarter (/Rotate 90): annotations and text share the unrotated space
    pdf.page(text=lines, mono=True, rotate=90,
             annots=[pdf.annotation("Highlight", pdf.word_quad(0, lines[0], "activation energy"))])
    # text drawn upwards (its baseline along y): "Rotated words here" from (300, 100)
    size, step = 14, 0.6 * 14
    y0, y1 = 100 + 8 * step, 100 + 13 * step  # "words"
    quad = [300 + 0.2 * size, y0, 300 + 0.2 * size, y1, 300 - 0.8 * size, y0, 300 - 0.8 * size, y1]
    pdf.page(mono=True, raw_ops=b"BT /F2 14 Tf 0 1 -1 0 300 100 Tm (Rotated words here) Tj ET",
             annots=[pdf.annotation("Highlight", quad)])
    found = read_pdf_highlights(pdf.build(), "turned.pdf")
    assert texts(found) == ["activation energy", "words"]
    assert [h.page for h in found.items] == [1, 2]


@pytest.mark.timeout(30)
def test_a_proportional_font_with_kerning_and_a_highlight_across_lines():
    from pypdf.generic._font import Font

    widths = Font.from_core_font_name("/Helvetica").character_widths

    def width(text):
        return sum(widths[c] for c in text) / 1000 * 12

    # [(Glyco) 20 (lysis) -250 (splits) -250 (glucose)] TJ at (56, 700), 12 pt
    start = 56 + width("Glyco") - 20 / 1000 * 12 + width("lysis") + 3
    quad = [start, 709, start + width("splits"), 709, start, 697, start + width("splits"), 697]
    ops = (b"BT /F1 12 Tf 56 700 Td [(Glyco) 20 (lysis) -250 (splits) -250 (glucose)] TJ "
           b"0 -16 Td (into two pyru-) Tj 0 -16 Td (vate molecules.) Tj ET")
    end = 56 + width("into two pyru-")
    across = [56 + width("into two "), 693, end, 693, 56 + width("into two "), 681, end, 681,
              56, 677, 56 + width("vate"), 677, 56, 665, 56 + width("vate"), 665]
    pdf = PdfMaker()
    pdf.page(raw_ops=ops, annots=[pdf.annotation("Highlight", quad), pdf.annotation("Highlight", across)])
    found = read_pdf_highlights(pdf.build(), "glycolysis.pdf")
    assert texts(found) == ["splits", "pyruvate"]  # kerning and the hyphen at the line's end


@pytest.mark.timeout(30)
def test_comments_replies_and_previews_copy_of_the_text():
    pdf = PdfMaker()
    lines = ["Osmosis moves water across a membrane.", "Diffusion moves solutes down a gradient."]
    own = pdf.annotation("Highlight", pdf.word_quad(0, lines[0], "Osmosis moves water"), contents="exam!")
    # Preview puts the highlighted words themselves into /Contents: that is no comment
    copied = pdf.annotation("Highlight", pdf.word_quad(1, lines[1], "down a gradient"),
                            contents="down a gradient")
    reply = pdf.annotation("Text", rect=[0, 0, 10, 10], contents="compare with osmosis",
                           extra=b" /IRT %d 0 R" % copied)
    pdf.page(text=lines, mono=True, annots=[own, copied, reply])
    found = read_pdf_highlights(pdf.build(), "x.pdf")
    assert [(h.text, h.comment) for h in found.items] == [
        ("Osmosis moves water", "exam!"), ("down a gradient", "compare with osmosis")]


@pytest.mark.timeout(30)
def test_an_annotation_without_quads_uses_its_rectangle_and_one_without_either_is_said():
    pdf = PdfMaker()
    lines = ["Neurons fire action potentials along axons."]
    quad = pdf.word_quad(0, lines[0], "action potentials")
    rect_only = pdf.annotation("Highlight", rect=[quad[0], quad[5], quad[2], quad[1]])
    nowhere = pdf.add_object(b"<< /Type /Annot /Subtype /Highlight /C [1 1 0] >>")
    pdf.page(text=lines, mono=True, annots=[rect_only, nowhere])
    found = read_pdf_highlights(pdf.build(), "x.pdf")
    assert texts(found) == ["action potentials"]
    assert any("say nothing of where they are" in w for w in found.warnings)


@pytest.mark.timeout(30)
def test_hostile_annotations_are_bounded_and_said():
    pdf = PdfMaker()
    lines = ["Antibodies bind antigens with high specificity."]
    one = pdf.annotation("Highlight", pdf.word_quad(0, lines[0], "Antibodies"))
    many = pdf.add_object(b"[" + b" ".join(b"%d 0 R" % one for _ in range(100_000)) + b"]")
    off = pdf.annotation("Highlight", [5e5, 5e5, 5e5 + 9, 5e5, 5e5, 5e5 - 9, 5e5 + 9, 5e5 - 9])
    huge = pdf.annotation("Highlight", [99999999999, 1, 2, 3, 4, 5, 6, 7], rect=[99999999999, 0, 1, 1])
    odd = pdf.annotation("Highlight", pdf.word_quad(0, lines[0], "bind")[:7])
    pdf.page(text=lines, mono=True, raw_annots=b"%d 0 R" % many)
    pdf.page(text=lines, mono=True, annots=[off, huge, odd])
    # bounded by the timeout mark: the read takes about half a second, not a walk over all 100,000
    found = read_pdf_highlights(pdf.build(), "hostile.pdf")
    # 100,000 annotations: 2,000 looked at, the same words on one page kept once
    assert texts(found) == ["Antibodies", "bind"]
    said = " ".join(found.warnings)
    assert f"{MAX_ANNOTATIONS_PER_PAGE:,} a page" in said
    assert "outside their page" in said and "say nothing of where they are" in said


@pytest.mark.timeout(30)
def test_text_drawn_by_a_form_xobject():
    pdf = PdfMaker()
    lines = ["Nothing to see on this line."]
    pdf.page(text=lines, mono=True)  # (adds Courier)
    form = pdf._stream(b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Matrix [1 0 0 1 0 -100] "
                       b"/Resources << /Font << /F2 %d 0 R >> >>" % pdf.mono_font,
                       b"BT /F2 14 Tf 56 600 Td (Forms draw text too.) Tj ET")
    # the form's matrix moves its text 100 points down: "draw" at y = 500
    quad = [56 + 6 * 8.4, 511.2, 56 + 10 * 8.4, 511.2, 56 + 6 * 8.4, 497.2, 56 + 10 * 8.4, 497.2]
    pdf.page(images=[(form, (0, 0, 1, 1))], mono=True, annots=[pdf.annotation("Highlight", quad)])
    assert texts(read_pdf_highlights(pdf.build(), "form.pdf")) == ["draw"]


@pytest.mark.timeout(60)
def test_content_streams_are_read_as_the_specification_writes_them():
    from generator.highlights.content import operations

    ops = list(operations(
        b"BT /F#31 12 Tf (a \(nested (pair)\) \101\n) Tj <48 65 6c6C 6f> Tj [(A) -250 (B)] TJ ET\n"
        b"% a comment (with a paren\n"
        b"/Span << /MCID 0 /Alt (x)) >> BDC EMC\n"
        b"BI /W 2 /H 2 /BPC 8 /CS /G ID \x00\xff) ( EI\nQ q 1 0 0 1 .5 -3 cm"))
    assert ops == [
        ([], b"BT"), (["/F1", 12.0], b"Tf"), ([b"a (nested (pair)) A\n"], b"Tj"), ([b"Hello"], b"Tj"),
        ([[b"A", -250.0, b"B"]], b"TJ"), ([], b"ET"), (["/Span", {}], b"BDC"), ([], b"EMC"),
        ([], b"Q"), ([], b"q"), ([1.0, 0.0, 0.0, 1.0, 0.5, -3.0], b"cm")]
    # an unclosed string or array ends with the stream, in time linear in its size
    assert list(operations(b"(" + b"x" * 1_000_000)) == []
    assert list(operations(b"[" * 100_000 + b"(a) Tj")) == [([], b"Tj")]
    assert_linear(lambda data: list(operations(data)), lambda n: b"(" + b"x" * n, 100_000)
    assert_linear(lambda data: list(operations(data)), lambda n: b"[" * n + b"(a) Tj", 10_000)


@pytest.mark.timeout(30)
def test_a_pdf_without_highlights_reads_as_before(tmp_path):
    pdf = PdfMaker()
    pdf.page(text=PAGE1, mono=True)
    path = tmp_path / "plain.pdf"
    path.write_bytes(pdf.build())
    doc = read_with_highlights(str(path))
    assert doc.highlights is None and "Mitochondria" in doc.text() and doc.warnings == []


def test_colour_names():
    assert [colour_name(c) for c in ([1, 0.9, 0], [1, 1, 0.2], [0.2, 0.8, 0.2], [0.1, 0.4, 1],
                                     [1, 0.4, 0.7], [0.6, 0.2, 0.9], [1, 0.55, 0], [0.5], [1, 0, 0])] == [
        "yellow", "yellow", "green", "blue", "pink", "purple", "orange", "gray", "red"]
    assert colour_name([2, 0, 0]) == "" and colour_name([0, 0]) == "" and colour_name(["x"]) == ""


# --- exports ---------------------------------------------------------------------------------

KINDLE_EN = """\ufeffThe Cell (Alberts, Bruce)\r
- Your Highlight on page 12 | Location 180-182 | Added on Sunday, March 3, 2019 10:01:02 AM\r
\r
Mitochondria make most of the cell's ATP.\r
==========\r
The Cell (Alberts, Bruce)\r
- Your Note on page 12 | Location 182 | Added on Sunday, March 3, 2019 10:02:02 AM\r
\r
why so many?\r
==========\r
The Cell (Alberts, Bruce)\r
- Your Bookmark on page 14 | Location 200 | Added on Sunday, March 3, 2019 10:03:02 AM\r
\r
\r
==========\r
Gödel, Escher, Bach (Hofstadter, Douglas)\r
- Your Highlight at location 1020-1022 | Added on Monday, March 4, 2019 9:00:00 PM\r
\r
A strange loop returns to where it started.\r
==========\r
Gödel, Escher, Bach (Hofstadter, Douglas)\r
- Your Highlight at location 1020-1024 | Added on Monday, March 4, 2019 9:01:00 PM\r
\r
A strange loop returns to where it started, level after level.\r
==========\r
The Cell (Alberts, Bruce)\r
- Your Highlight on page 40 | Location 610-611 | Added on Tuesday, March 5, 2019 8:00:00 AM\r
\r
Ribosomes read messenger RNA.\r
==========\r
"""

KINDLE_DE = """Die Zelle (Alberts, Bruce)
- Ihre Markierung auf Seite 12 | Position 180-182 | Hinzugefügt am Sonntag, 3. März 2019 10:01:02

Mitochondrien erzeugen das meiste ATP der Zelle.
==========
Die Zelle (Alberts, Bruce)
- Ihre Notiz auf Seite 12 | Position 182 | Hinzugefügt am Sonntag, 3. März 2019 10:02:02

warum so viele?
==========
Die Zelle (Alberts, Bruce)
- Ihr Lesezeichen auf Seite 14 | Position 200 | Hinzugefügt am Sonntag, 3. März 2019 10:03:02


==========
Die Zelle (Alberts, Bruce)
- Ihre Markierung bei Position 610-611 | Hinzugefügt am Dienstag, 5. März 2019 08:00:00

Ribosomen lesen die Boten-RNA.
==========
"""


def read_export(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))  # as written, line ends included (Python 3.9 has no newline=)
    return read_with_highlights(str(path))


def test_kindle_clippings_in_english(tmp_path):
    doc = read_export(tmp_path, "notes.txt", KINDLE_EN)  # recognised by content, not by its name
    hl = doc.highlights
    assert hl.source == "kindle"
    assert [(h.book, h.text, h.comment, h.page, h.location) for h in hl.items] == [
        ("The Cell", "Mitochondria make most of the cell's ATP.", "why so many?", 12, "loc. 180–182"),
        ("The Cell", "Ribosomes read messenger RNA.", "", 40, "loc. 610–611"),
        # extended later: kept once, in its longer form
        ("Gödel, Escher, Bach", "A strange loop returns to where it started, level after level.", "", 0,
         "loc. 1020–1024")]
    assert hl.items[0].author == "Alberts, Bruce"
    # the document is the highlights: a heading per book, a paragraph per highlight
    assert [(b.kind, b.text) for b in doc.blocks][:2] == [
        ("heading", "The Cell (Alberts, Bruce)"), ("paragraph", "Mitochondria make most of the cell's ATP.")]
    assert doc.blocks[1].location == "loc. 180–182" and doc.blocks[1].page == 12


def test_kindle_clippings_in_german(tmp_path):
    hl = read_export(tmp_path, "My Clippings.txt", KINDLE_DE).highlights
    assert [(h.book, h.text, h.comment, h.page, h.location) for h in hl.items] == [
        ("Die Zelle", "Mitochondrien erzeugen das meiste ATP der Zelle.", "warum so viele?", 12, "loc. 180–182"),
        ("Die Zelle", "Ribosomen lesen die Boten-RNA.", "", 0, "loc. 610–611")]
    assert hl.items[0].added.startswith("Sonntag")


READWISE_CSV = '''Highlight,Book Title,Book Author,Amazon Book ID,Note,Color,Tags,Location Type,Location,Highlighted at,Document tags
"Mitochondria make most of the cell's ATP, ""the powerhouse"".",The Cell,Bruce Alberts,B00X,why so many?,yellow,,location,180,2019-03-03 10:01:02+00:00,
"A strange loop
returns to its start.",GEB,Douglas Hofstadter,,,blue,,page,12,2019-03-04 21:00:00+00:00,
'''

READWISE_MD = """# The Cell

![rw-book-cover](https://readwise-assets.s3.amazonaws.com/x.jpg)

## Metadata
- Author: [[Bruce Alberts]]
- Full Title: The Cell
- Category: #books

## Highlights
- Mitochondria make most of the cell's ATP. ([Location 180](https://readwise.io/to_kindle?action=open&asin=B00X&location=180))
    - **Note:** why so many?
- Ribosomes read messenger RNA. ([View Highlight](https://read.readwise.io/read/01abc))
    - **Tags:** #biology
"""

ZOTERO_MD = """# Annotations
(3/14/2024, 10:00:00 AM)

“Mitochondria make most of the cell's ATP.” ([Alberts, 2015, p. 12](zotero://select/library/items/ABCD1234)) ([pdf](zotero://open-pdf/library/items/EFGH5678?page=12&annotation=IJKL9012)) Why so many?

“Ribosomes read messenger RNA.” ([Alberts, 2015, p. 40](zotero://select/library/items/ABCD1234))
"""


def test_readwise_csv(tmp_path):
    hl = read_export(tmp_path, "export.csv", READWISE_CSV).highlights
    assert hl.source == "readwise"
    assert [(h.book, h.text, h.comment, h.colour, h.page, h.location) for h in hl.items] == [
        ("The Cell", "Mitochondria make most of the cell's ATP, \"the powerhouse\".", "why so many?", "yellow",
         0, "loc. 180"),
        ("GEB", "A strange loop returns to its start.", "", "blue", 12, "")]


def test_readwise_markdown(tmp_path):
    hl = read_export(tmp_path, "The Cell.md", READWISE_MD).highlights
    assert [(h.book, h.author, h.text, h.comment, h.location) for h in hl.items] == [
        ("The Cell", "Bruce Alberts", "Mitochondria make most of the cell's ATP.", "why so many?", "loc. 180"),
        ("The Cell", "Bruce Alberts", "Ribosomes read messenger RNA.", "", "")]


def test_zotero_markdown(tmp_path):
    hl = read_export(tmp_path, "Alberts 2015.md", ZOTERO_MD).highlights
    assert hl.source == "zotero"
    assert [(h.text, h.comment, h.page) for h in hl.items] == [
        ("Mitochondria make most of the cell's ATP.", "Why so many?", 12), ("Ribosomes read messenger RNA.", "", 40)]


def test_exports_are_recognised_by_content_only():
    assert [export_kind(t) for t in (KINDLE_EN, KINDLE_DE, READWISE_CSV, READWISE_MD, ZOTERO_MD)] == [
        "kindle", "kindle", "readwise-csv", "readwise-md", "zotero"]
    ordinary = ("# Notes\n\nSome text.\n\n==========\n\nMore text after a rule.\n\n## Highlights\n\n- a point\n",
                "Name,Title,Price\nA,B,3\n", "He said “hello” (see [x](https://example.org)).\n")
    assert [export_kind(t) for t in ordinary] == ["", "", ""]
    doc = read_bytes_with_highlights(KINDLE_EN.encode("utf-8"), "stdin")
    assert doc.highlights is not None and len(doc.highlights) == 3


@pytest.mark.timeout(60)
def test_huge_and_broken_exports_are_bounded(tmp_path):
    entry = "Book (A)\n- Your Highlight at location %d-%d | Added on Monday\n\nWord %d of a long book.\n==========\n"
    big = "".join(entry % (i, i + 1, i) for i in range(30_000))
    # the timeout is the bound: reading 30,000 entries takes about a second
    hl = read_export(tmp_path, "big.txt", big).highlights
    assert len(hl) == 20_000  # at most MAX_HIGHLIGHTS of one source
    broken = "Title\n- Your Highlight | x\n\n" + "\x07\x1b[31m" + "x" * 100_000 + "\n==========\n" + KINDLE_EN
    items = read_export(tmp_path, "broken.txt", broken).highlights.items
    assert len(items[0].text) <= 4000 and "\x1b" not in items[0].text


# --- the plan --------------------------------------------------------------------------------

def bio_document(tmp_path):
    pdf = PdfMaker()
    lines = ["Mitochondria make most of the ATP of the cell. They have their own DNA.", "",
             "Ribosomes translate messenger RNA into proteins.", "",
             "The nucleus holds the chromosomes of the cell.", "",
             "Lysosomes digest worn-out organelles."]
    a = pdf.annotation("Highlight", pdf.word_quad(0, lines[0], "Mitochondria make most of the ATP", 10),
                       contents="why so many?")
    b = pdf.annotation("Highlight", pdf.word_quad(6, lines[6], "digest worn-out organelles", 10),
                       colour=(0.2, 0.8, 0.2))
    pdf.page(text=lines, mono=True, annots=[a, b], font_size=10)
    path = tmp_path / "cell.pdf"
    path.write_bytes(pdf.build())
    return read_with_highlights(str(path))


def test_only_asks_about_each_highlight_with_its_paragraph(tmp_path):
    doc = bio_document(tmp_path)
    plan = plan_highlights([doc], HighlightChoice(HighlightMode.ONLY), 1000)
    assert plan.rest == [] and plan.used == {"cell.pdf": 2}
    first, second = plan.chunks
    assert "Mitochondria make most of the ATP" in first.text and "Ribosomes" in first.text  # with context
    assert [first.text[s:e] for s, e, *_ in first.focus] == ["Mitochondria make most of the ATP"]
    assert first.focus[0][2] == "why so many?" and first.page() == 1
    numbers = focus_numbers(first)
    assert numbers == {0: [1]}
    said = focus_instructions(first)
    assert said.startswith("The reader highlighted: [1] (the words “Mitochondria make most of the ATP”)")
    assert "The reader's note on [1]: “why so many?”" in said
    assert [second.text[s:e] for s, e, *_ in second.focus] == ["digest worn-out organelles"]


def test_first_then_the_rest_ignore_and_colours(tmp_path):
    doc = bio_document(tmp_path)
    plan = plan_highlights([doc], HighlightChoice(HighlightMode.FIRST), 1000)
    assert len(plan.chunks) == 2 and len(plan.rest) == 1
    rest = plan.rest[0].text()
    assert "nucleus" in rest and "Mitochondria" not in rest and "Lysosomes" not in rest
    ignored = plan_highlights([doc], HighlightChoice(HighlightMode.IGNORE), 1000)
    assert ignored.chunks == [] and ignored.rest == [doc]
    green = plan_highlights([doc], HighlightChoice(HighlightMode.ONLY, ("green",)), 1000)
    assert [c.text[c.focus[0][0]:c.focus[0][1]] for c in green.chunks] == ["digest worn-out organelles"]
    again = plan_highlights([doc], HighlightChoice(HighlightMode.ONLY), 1000,
                            done={"cell.pdf": {doc.highlights.items[0].key}})
    assert len(again.chunks) == 1 and again.before == 1
    # highlights first, with some carded before: their paragraphs are not carded again as the
    # rest; with all of them carded before, the rest is still asked
    first_again = plan_highlights([doc], HighlightChoice(HighlightMode.FIRST), 1000,
                                  done={"cell.pdf": {doc.highlights.items[0].key}})
    assert len(first_again.chunks) == 1 and first_again.before == 1 and len(first_again.rest) == 1
    assert first_again.rest[0].text() == rest
    all_done = plan_highlights([doc], HighlightChoice(HighlightMode.FIRST), 1000,
                               done={"cell.pdf": {h.key for h in doc.highlights.items}})
    assert all_done.chunks == [] and all_done.before == 2 and [d.text() for d in all_done.rest] == [rest]


def test_clippings_are_asked_with_their_book_and_neighbours(tmp_path):
    doc = read_export(tmp_path, "My Clippings.txt", KINDLE_EN)
    plan = plan_highlights([doc], HighlightChoice(HighlightMode.ONLY), 1000)
    texts_sent = [c.text for c in plan.chunks]
    assert all(t.startswith("The Cell (Alberts, Bruce)") or t.startswith("Gödel") for t in texts_sent)
    assert plan.chunks[0].location == "loc. 180–182"
    assert {f[3] for c in plan.chunks for f in c.focus} == {"The Cell", "Gödel, Escher, Bach"}


def test_a_bulk_job_ignoring_highlights_reads_an_export_as_the_cli_does(tmp_path):
    # a paragraph per highlight under its book (as its cards are recorded), not one long text
    from generator.bulk.reader import highlight_chunks

    path = tmp_path / "My Clippings.txt"
    path.write_bytes(KINDLE_EN.encode("utf-8"))
    chunks = highlight_chunks(str(path), 1000, HighlightChoice(HighlightMode.IGNORE))
    assert chunks is not None
    text = "\n\n".join(c.text for c in chunks)
    assert "Mitochondria make most of the cell's ATP." in text and "Ribosomes read messenger RNA." in text
    assert "Your Highlight" not in text and "==========" not in text
    assert highlight_chunks(str(tmp_path / "missing.md"), 1000, HighlightChoice(HighlightMode.IGNORE)) is None


def test_a_bulk_job_reads_a_pdfs_annotations_once_and_the_text_only_of_a_highlighted_one(tmp_path, monkeypatch):
    import generator.highlights.pdf as pdf_module
    import generator.sources.read as sources_read
    from generator.bulk.reader import highlight_chunks

    marked = tmp_path / "marked.pdf"
    marked.write_bytes(two_page_pdf())
    pdf = PdfMaker()
    pdf.page(text=PAGE1, mono=True)
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(pdf.build())
    reads = []
    for module, name in ((pdf_module, "read_pdf_highlights"), (pdf_module, "count_pdf_highlights"),
                         (sources_read, "read_path")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _n=name, _r=real, **k: reads.append(_n) or _r(*a, **k))
    chunks = highlight_chunks(str(marked), 1000, HighlightChoice(HighlightMode.ONLY))
    assert chunks and any("most of the ATP" in c.text for c in chunks)
    assert sorted(reads) == ["read_path", "read_pdf_highlights"]  # each once
    reads.clear()
    assert highlight_chunks(str(plain), 1000, HighlightChoice(HighlightMode.ONLY)) is None
    assert reads == ["read_pdf_highlights"]  # no text read: the job reads it as usual


def test_a_zotero_comment_in_its_own_paragraph_joins_the_highlight_above(tmp_path):
    text = ZOTERO_MD.replace(
        "\n\n“Ribosomes", "\n\nCompare with chloroplasts. ([Alberts, 2015, p. 12](zotero://select/library/items/ABCD1234))"
                         "\n\n“Ribosomes")
    hl = read_export(tmp_path, "Alberts 2015.md", text).highlights
    assert [(h.text, h.comment) for h in hl.items] == [
        ("Mitochondria make most of the cell's ATP.", "Why so many? Compare with chloroplasts."),
        ("Ribosomes read messenger RNA.", "")]
