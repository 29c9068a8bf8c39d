"""Document readers, encodings and error handling, tested on real files on disk.

PDF, DOCX and EPUB files are generated in tmp_path by seeds/make_samples.py (plain Python), so
the readers are exercised on genuine containers without committing binary fixtures."""
import importlib.util
import io
import os
import re
import subprocess
import sys
import zipfile

import pytest

from generator import libs
from generator.job.chunking import estimate_tokens
from generator.sources.document import HEADING, LIST_ITEM, PARAGRAPH
from generator.errors import (
    BinarySource,
    EmptySource,
    EncryptedSource,
    FlashcardError,
    NoTextLayer,
    SourceTooLarge,
    UnreadableSource,
    UnsupportedSource,
    describe,
)
from generator.sources.read import (
    SUPPORTED_EXTENSIONS,
    iter_blocks_path,
    read_bytes,
    read_html,
    read_path,
    read_text,
)
from generator.sources.textfix import decode_bytes, fix_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "seeds")

_spec = importlib.util.spec_from_file_location("make_samples", os.path.join(SEEDS, "make_samples.py"))
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)


def seed(name: str) -> str:
    return os.path.join(SEEDS, name)


def texts(doc, kind=None):
    return [b.text for b in doc.blocks if kind is None or b.kind == kind]


def headings(doc):
    return [(b.level, b.text) for b in doc.blocks if b.kind == HEADING]


def all_text(doc) -> str:
    return "\n".join(b.text for b in doc.blocks)


def write(tmp_path, name, data) -> str:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def assert_helpful(err: FlashcardError, name: str) -> None:
    """The message names the input, the hint says what to do, and nothing looks like a traceback."""
    assert name in err.message, err.message
    assert err.hint and len(err.hint) > 15, err.hint
    text = describe(err)
    assert "Traceback" not in text and "File \"" not in text


# --- the user's messy sample ---------------------------------------------------------------

def test_ml_concepts_structure_and_mojibake():
    doc = read_path(seed("ml-concepts.txt"))
    assert doc.name == "ml-concepts.txt"
    hs = headings(doc)
    assert (1, "Advanced Machine Learning Concepts") in hs
    assert (2, "Backpropagation Algorithm") in hs
    assert (3, "Process") in hs  # "### Process:" without the colon
    assert (2, "Generative Adversarial Networks (GANs)") in hs
    body = all_text(doc)
    # The house emoji arrived as UTF-8 read as Mac Roman ("üè†"): repaired, never garbage.
    assert "\U0001F3E0 Local AI Note" in body
    assert "üè†" not in body and "\uf8ff" not in body
    # Markdown markers gone, words and formulas kept.
    assert "**" not in body
    assert "Neurons: Basic processing units" in body
    items = texts(doc, LIST_ITEM)
    assert "ReLU (Rectified Linear Unit): f(x) = max(0, x)" in items
    assert "Sigmoid: f(x) = 1/(1 + e^(-x))" in items
    assert "1. Forward Pass: Input data flows through the network to generate predictions" in items
    assert "4. Weight Update: Adjust weights using optimization algorithms (SGD, Adam, RMSprop)" in items
    assert "Input layer: Receives raw data" in items


def test_seed_copy_is_the_users_file():
    with open(seed("ml-concepts.txt"), "rb") as f:
        data = f.read()
    assert "üè†".encode("utf-8") in data  # committed as-is; the repair happens when reading


def test_mojibake_repaired_in_copies_of_the_sample(tmp_path):
    original = open(seed("ml-concepts.txt"), encoding="utf-8").read()
    broken = original + "\n\nThe Ã©lÃ¨ve said â€œcafÃ©â€\x9d and donâ€™t.\n"
    doc = read_path(write(tmp_path, "copy.md", broken))
    body = all_text(doc)
    assert "The élève said “café” and don’t." in body
    assert "\U0001F3E0" in body
    # Windows-1252 bytes of the same text: decoded, then the same repair.
    doc = read_path(write(tmp_path, "copy-1252.txt", original.replace("üè†", "").encode("mac_roman")))
    assert "Neural networks are computational models" in all_text(doc)


def test_fix_text_basics():
    assert fix_text("a\r\nb\rc") == "a\nb\nc"
    assert fix_text("x\x00y\x07z\x1b") == "xyz"
    assert fix_text("tab\tstays\n") == "tab\tstays\n"
    assert fix_text("cafe\u0301") == "caf\u00e9"  # NFC
    assert fix_text("\ufb01nal e\ufb00ect") == "final effect"  # PDF ligatures
    assert fix_text("schÃ¶n und Größe") == "schön und Größe"  # mixed line: only the broken word
    assert fix_text("Größe déjà « Bonjour » l’été") == "Größe déjà « Bonjour » l’été"
    assert fix_text("\ud83c\udfe0 lone \ud800 surrogate") == "\U0001F3E0 lone  surrogate"


def test_mojibake_repair_without_ftfy(monkeypatch):
    """A broken install without ftfy still repairs the common cases (built-in fallback)."""
    from generator.sources import textfix

    monkeypatch.setattr(textfix, "_ftfy_state", {"loaded": True, "fix": None, "bad_re": None})
    assert fix_text("cafÃ© and â€œquotesâ€\x9d") == "café and “quotes”"
    assert fix_text("**\uf8ffüè† Local AI") == "**\U0001F3E0 Local AI"
    assert fix_text("Größe déjà") == "Größe déjà"


# --- mojibake: UTF-8 read through a single-byte code page ----------------------------------

MOJI_TEXTS = {
    "de": "Über die Größe der Straße: Müller aß fünf Brötchen, „sagte er“ – und ging.",
    "fr": "L’élève a préféré le gâteau à la crème ; « Où est la fenêtre ? » dit-il… Noël, œuvre.",
    "is": "Þórður og Ægir fóru í ferðalag; þeir sáu fjöll, ár og jökla á Íslandi.",
    "tr": "İstanbul’da şehir hayatı güzeldir; Çağrı ve Ayşe öğretmen oldu, ılık ğ ı.",
    "emoji": "📚 Books and 🏠 home, ✅ done, ❤️ love, 🚀 go 👍🏽.",
    "symbols": "He said “hello” — it’s 5 € and 3 ™ … •bullet ± 2 °C",
    "cjk": "日本語のテキスト 中文 한국어",
    "ru": "Привет, как дела? Это тест.",
}


def misread(text: str, encoding: str) -> str:
    """UTF-8 bytes decoded through ``encoding`` (Windows-1252 passes its 5 undefined bytes
    through as C1 controls, as Python's and most tools' lenient decoders do)."""
    data = text.encode("utf-8")
    if encoding == "cp1252":
        return "".join(bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else chr(b)
                       for b in data)
    return data.decode(encoding)


@pytest.mark.parametrize("name", sorted(MOJI_TEXTS))
@pytest.mark.parametrize("encoding", ["mac_roman", "cp1252", "latin-1"])
def test_utf8_misread_through_a_code_page_is_repaired(tmp_path, name, encoding):
    text = MOJI_TEXTS[name]
    broken = misread(text, encoding)
    assert broken != text
    assert fix_text(broken) == text
    assert fix_text("Intro line.\n" + broken + "\nLast line.") == "Intro line.\n" + text + "\nLast line."
    # as a file: the broken text saved as UTF-8 (what an editor does after the wrong decoding)
    path = write(tmp_path, f"{name}-{encoding}.txt", broken)
    assert read_path(path).text() == text
    assert [b.text for b in iter_blocks_path(path)] == [text]


def test_the_apple_logo_form_of_an_emoji():
    """Mac Roman reads byte F0 as U+F8FF (the Apple logo): 📚 arrives as U+F8FF + 'üìö'."""
    assert fix_text("\uf8ffüìö Books") == "📚 Books"
    assert fix_text("Stack: \uf8ffüìö\uf8ffüìö!") == "Stack: 📚📚!"
    original = open(seed("ml-concepts.txt"), encoding="utf-8").read()
    broken = original.replace("# Advanced", "# \uf8ffüìö Advanced", 1)
    doc = read_text(broken)
    assert (1, "📚 Advanced Machine Learning Concepts") in headings(doc)
    assert "\uf8ff" not in doc.text() and "üìö" not in doc.text()


@pytest.mark.parametrize("encoding", ["mac_roman", "cp1252", "latin-1"])
def test_the_seed_misread_through_each_code_page(tmp_path, encoding):
    """The user's sample, misread once more as a whole: the same document as the sample."""
    original = open(seed("ml-concepts.txt"), encoding="utf-8").read()
    expected = read_text(original, "ml-concepts.txt").blocks
    path = write(tmp_path, "ml-concepts.txt", misread(original, encoding))
    assert read_path(path).blocks == expected


REAL_SENTENCES = {
    "de": ("Die Bäume blühen im Frühling. „Fuß“, sagte er, und ‚Äpfel‘ – „über“ alles. "
           "Größe: 5 m², Temperatur −3 °C. ÄRGER… ÖL» «ÜBER»"),
    "fr": ("« C’est déjà l’été », dit l’élève. Où est la fenêtre\u00a0? Noël à l’hôpital… "
           "«\u00a0commité\u00a0», «époque», CLICHÉ… —à mon avis—, 1er, 2e, n° 5, œuvre"),
    "is": "Þórður og Ægir fóru í ferðalag. Það er gott; þeir sáu fjöll, ár og jökla á Íslandi. Ég",
    "tr": "İstanbul’da şehir hayatı güzeldir. Çağrı ve Ayşe öğretmen oldu; ılık su, ağaç, IŞIK.",
    "sv": "PÅ”, SÅ» och TVÅ… Jag går på tå. Åsa åt ål i Umeå.",
    "maths": "√2 ≈ 1,414; ¬p ∨ q; ƒ(x) = x² ± 1; ∆t ≥ 0; π ≈ 3,14; 90° ÷ 2",
}


@pytest.mark.parametrize("name", sorted(REAL_SENTENCES))
def test_real_text_is_never_repaired(name):
    text = REAL_SENTENCES[name]
    assert fix_text(text) == text
    # ... not even beside real mojibake of each code page, which makes weak signs count
    for encoding in ("mac_roman", "cp1252", "latin-1"):
        beside = misread("Größe — ✅ 📚", encoding) + "\n" + text
        assert fix_text(beside) == "Größe — ✅ 📚\n" + text, encoding


@pytest.mark.parametrize("name", ["de", "fr", "is", "tr"])
def test_real_text_in_single_byte_code_pages_comes_out_unchanged(tmp_path, name):
    text = REAL_SENTENCES[name] + "\n\n" + MOJI_TEXTS[name].replace("’", "'")
    encodings = {"tr": ["cp1254", "iso8859_9"]}.get(name, ["cp1252", "latin-1", "mac_roman"])
    for encoding in encodings:
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            data = text.encode(encoding, "ignore")
            text_here = data.decode(encoding)
        else:
            text_here = text
        assert decode_bytes(data) == text_here, encoding
        path = write(tmp_path, f"{name}-{encoding}.txt", data)
        expected = [re.sub(r"[ \t\n]+", " ", p).strip() for p in text_here.split("\n\n")]
        assert texts(read_path(path)) == expected, encoding


# --- encodings -----------------------------------------------------------------------------

GERMAN = ("Über die Größe der Straße: Müller aß fünf Brötchen.\n\n"
          "Die Bäume blühen im Frühling, und die Vögel singen fröhlich.\n")
FRENCH = ("L'élève a préféré le gâteau à la crème.\n\n"
          "Où est la fenêtre ? Noël à côté de l'hôpital, garçon français, déjà été.\n")
FRENCH_TYPO = "« Bonjour », dit-il — c’est l’été… œuvre à 5 €.\n"


ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "mac_roman"]


def encodable(text, encoding):
    try:
        text.encode(encoding)
        return True
    except UnicodeEncodeError:
        return False


@pytest.mark.parametrize("text,encoding", [
    pytest.param(text, enc, id=f"{name}-{enc}")
    for name, text in (("de", GERMAN), ("fr", FRENCH), ("fr-typo", FRENCH_TYPO))
    for enc in ENCODINGS if encodable(text, enc)  # Latin-1 has no €, œ or curly quotes
])
def test_encodings_decode_to_the_right_text(tmp_path, text, encoding):
    data = text.encode(encoding)
    assert decode_bytes(data) == text
    doc = read_path(write(tmp_path, f"notes-{encoding}.txt", data))
    expected = [p.strip() for p in text.split("\n\n") if p.strip()]
    assert texts(doc) == expected
    assert list(iter_blocks_path(str(tmp_path / f"notes-{encoding}.txt"))) == doc.blocks


def test_short_western_words_in_cp1252():
    assert decode_bytes("Größe".encode("cp1252")) == "Größe"
    assert decode_bytes("déjà vu".encode("latin-1")) == "déjà vu"


def test_cyrillic_and_cjk_legacy_encodings():
    ru = "Привет, как дела? Это тест кодировки для русского текста, достаточно длинный."
    assert decode_bytes(ru.encode("cp1251")) == ru
    assert decode_bytes(ru.encode("koi8-r")) == ru
    assert decode_bytes(ru.encode("utf-16-le")) == ru  # no BOM
    ja = "これは日本語のテキストです。文字コードの判定をテストします。"
    assert decode_bytes(ja.encode("shift_jis")) == ja
    assert decode_bytes(ja.encode("utf-16-le")) == ja


def test_mostly_utf8_with_a_stray_cp1252_byte():
    data = "Größe und Straße, ".encode("utf-8") + "caf\xe9".encode("latin-1") + " ok".encode()
    assert decode_bytes(data) == "Größe und Straße, café ok"


# --- Markdown, plain text, HTML seeds ------------------------------------------------------

def test_photosynthesis_markdown():
    doc = read_path(seed("photosynthesis.md"))
    hs = headings(doc)
    assert hs[0] == (1, "Photosynthesis")
    assert (2, "The two stages") in hs and (3, "Light-dependent reactions") in hs
    body = all_text(doc)
    assert "tags:" not in body  # YAML front matter skipped
    assert "6CO2 + 6H2O → C6H12O6 + 6O2" in texts(doc, PARAGRAPH)
    assert "light energy" in body and "**" not in body and "`" not in body
    items = texts(doc, LIST_ITEM)
    assert "Thylakoids: flattened membrane sacs stacked into grana." in items
    assert "They contain the pigment chlorophyll, which absorbs mostly red and blue light." in items  # nested
    assert any(i.startswith("2. Water is split") and i.endswith("The oxygen we breathe comes from this step.")
               for i in items)  # continuation line joined
    assert "Light intensity | Too little ATP and NADPH are made" in body  # table row, no |---|
    assert "---" not in body


def test_french_revolution_html():
    doc = read_path(seed("french-revolution.html"))
    hs = headings(doc)
    assert hs[0] == (1, "The French Revolution (1789–1799)")
    assert (2, "Causes") in hs and (2, "Key events") in hs and (3, "Why it matters") in hs
    body = all_text(doc)
    assert "tracking" not in body and "UA-000000" not in body  # <script> ignored
    assert "Home" not in body  # <nav> ignored
    assert "Written for the Ollama Flashcards demo" not in body  # <footer> boilerplate
    assert "study notes" not in body  # <title> (in <head>)
    assert "Ancien Régime" in body and "liberté, égalité, fraternité" in body
    assert "Seven Years' War" in body and "livres & sous" in body
    assert "14 July 1789 | Storming of the Bastille" in texts(doc, PARAGRAPH)
    assert any(i.startswith("A severe financial crisis") for i in texts(doc, LIST_ITEM))
    terror = next(t for t in texts(doc) if t.startswith("From September 1793"))
    assert "\nThe Terror ended" in terror  # <br> is a line break


def test_cell_biology_plain_text():
    doc = read_path(seed("cell-biology.txt"))
    hs = headings(doc)
    assert hs[0] == (1, "CELL BIOLOGY BASICS")
    assert (2, "The cell membrane") in hs and (2, "Organelles of the eukaryotic cell") in hs
    items = texts(doc, LIST_ITEM)
    assert ("1. Size: prokaryotic cells are typically 1-10 micrometres across, eukaryotic cells "
            "10-100 micrometres.") in items
    assert any(i.startswith("4. Active transport") and "(3 Na+ out, 2 K+ in)" in i for i in items)
    assert len([i for i in items if i[0].isdigit()]) == 8


def test_markdown_details(tmp_path):
    md = ("Title\n=====\n\nIntro with *emphasis*, `code`, a [link](http://x.org) and a * b * c.\n\n"
          "Sub\n---\n\n* star item\n+ plus item\n- [x] done task\n\n"
          "```python\nx = 1\n\n# not a heading\n```\n\n> quoted **text**\n\n***\n\n"
          "Snake_case_name and 2*3*4 stay.\n")
    doc = read_path(write(tmp_path, "d.md", md))
    assert headings(doc) == [(1, "Title"), (2, "Sub")]
    t = texts(doc)
    assert "Intro with emphasis, code, a link and a * b * c." in t
    assert texts(doc, LIST_ITEM) == ["star item", "plus item", "done task"]
    assert "x = 1\n\n# not a heading" in t  # fenced code is one paragraph, verbatim
    assert "quoted text" in t
    assert "Snake_case_name and 2*3*4 stay." in t


def test_read_text_autodetects_markdown_and_html():
    doc = read_text("# Heading\n\nSome **bold** text.\n\n- one\n- two")
    assert headings(doc) == [(1, "Heading")]
    assert texts(doc, LIST_ITEM) == ["one", "two"]
    assert doc.name == "pasted text"
    plain = read_text("# of items is 3\nwhich is small.", markdown=False)
    assert texts(plain) == ["# of items is 3 which is small."]
    html = read_text("<!DOCTYPE html><html><body><h2>T</h2><p>x &amp; y</p></body></html>", name="clip")
    assert headings(html) == [(2, "T")] and texts(html, PARAGRAPH) == ["x & y"]


def test_read_html_for_note_fields():
    doc = read_html("What is <b>ATP</b>?<br>Energy&nbsp;currency<div>of the <i>cell</i></div>", "note 17")
    assert texts(doc) == ["What is ATP?\nEnergy currency", "of the cell"]
    doc = read_html("x<sup>2</sup> + CO<sub>2</sub> {{c1::mitochondria}}", "note")
    assert texts(doc) == ["x^2 + CO2 {{c1::mitochondria}}"]
    doc = read_html("<ul><li>a<ul><li>b</li></ul></li></ul><ol start='3'><li>c</li><li>d</li></ol>", "n")
    assert texts(doc, LIST_ITEM) == ["a", "b", "3. c", "4. d"]
    with pytest.raises(EmptySource):
        read_html("<p> </p><script>x()</script>", "empty note")


def test_html_charset_from_meta_and_layout_tables(tmp_path):
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
            "</head><body><table><tr><td><h2>Menu</h2><p>Größe</p></td><td><p>côté</p></td></tr>"
            "</table></body></html>")
    doc = read_path(write(tmp_path, "old.htm", html.encode("latin-1")))
    assert headings(doc) == [(2, "Menu")]  # a layout table is read cell by cell
    assert texts(doc, PARAGRAPH) == ["Größe", "côté"]


# --- PDF -----------------------------------------------------------------------------------

def test_pdf_sample(tmp_path):
    path = write(tmp_path, "water.pdf", samples.build_pdf(samples.SAMPLE_PDF_PAGES))
    doc = read_path(path)
    hs = headings(doc)
    assert hs[0] == (1, "The Water Cycle")
    assert (2, "Evaporation") in hs and (2, "Collection") in hs
    by_text = {b.text: b for b in doc.blocks}
    assert by_text["Evaporation"].location == "page 1"
    assert by_text["Precipitation"].location == "page 2"
    items = texts(doc, LIST_ITEM)
    assert items[0] == "Surface runoff flows over land into streams, rivers and finally the sea."
    assert len(items) == 3
    assert any(t.startswith("A water molecule spends") for t in texts(doc, PARAGRAPH))
    # The committed sample is the same document.
    assert texts(read_path(seed("sample.pdf"))) == texts(doc)


def test_pdf_accents_hyphenation_and_page_numbers(tmp_path):
    pages = [[("Größe und Straße – l’élève", 12), ("Die Photosynthese ist ein wich-", 12),
              ("tiger Prozess in Pflanzen.", 12), ("1", 10)],
             [("Seite zwei hat mehr Text.", 12), ("2", 10)]]
    doc = read_path(write(tmp_path, "de.pdf", samples.build_pdf(pages)))
    body = all_text(doc)
    assert "Größe und Straße – l’élève" in body
    assert "wichtiger Prozess" in body
    assert texts(doc)[-1] == "Seite zwei hat mehr Text."  # page number "2" dropped


def test_pdf_running_footers_dropped_but_repeated_sentences_kept(tmp_path):
    body = [(f"Sentence {j} about the cell. It ends here.", 11) for j in range(6)]
    pages = [body + [("Company Confidential", 9), (str(i + 1), 9)] for i in range(3)]
    doc = read_path(write(tmp_path, "report.pdf", samples.build_pdf(pages)))
    t = texts(doc)
    assert sum("Company Confidential" in x for x in t) == 1  # kept once, then recognised
    assert sum("Sentence 5 about the cell. It ends here." in x for x in t) == 3
    assert not any(x.strip().isdigit() for x in t)  # page numbers


def test_pdf_many_pages_and_page_limit(tmp_path, monkeypatch):
    pages = [[(f"Page {i} heading", 18), (f"Fact number {i} is stated on this page.", 12)] for i in range(1, 301)]
    path = write(tmp_path, "long.pdf", samples.build_pdf(pages))
    blocks = list(iter_blocks_path(path))
    assert blocks[-1].location == "page 300"
    assert blocks[-1].text == "Fact number 300 is stated on this page."
    from generator.sources import pdf

    monkeypatch.setattr(pdf, "MAX_PAGES", 100)
    with pytest.raises(SourceTooLarge) as info:
        read_path(path)
    assert "300 pages" in info.value.message
    assert_helpful(info.value, "long.pdf")


def test_pdf_without_text_layer(tmp_path):
    path = write(tmp_path, "scan.pdf", samples.build_pdf([[], []], drawing_only=True))
    with pytest.raises(NoTextLayer) as info:
        read_path(path)
    assert "no text layer" in info.value.message and "ocrmypdf" in info.value.hint
    assert_helpful(info.value, "scan.pdf")


def test_pdf_encrypted(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(samples.build_pdf(samples.SAMPLE_PDF_PAGES)))
    locked = pypdf.PdfWriter(clone_from=reader)
    locked.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    locked.write(buf)
    with pytest.raises(EncryptedSource) as info:
        read_path(write(tmp_path, "locked.pdf", buf.getvalue()))
    assert_helpful(info.value, "locked.pdf")
    # Only an owner password (printing/copying restrictions): opens with the empty password.
    restricted = pypdf.PdfWriter(clone_from=reader)
    restricted.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    restricted.write(buf)
    doc = read_path(write(tmp_path, "restricted.pdf", buf.getvalue()))
    assert headings(doc)[0] == (1, "The Water Cycle")


def test_pdf_damaged_or_not_a_pdf(tmp_path):
    good = samples.build_pdf(samples.SAMPLE_PDF_PAGES)
    with pytest.raises(UnreadableSource) as info:
        read_path(write(tmp_path, "cut.pdf", good[:200]))
    assert_helpful(info.value, "cut.pdf")
    with pytest.raises(UnreadableSource) as info:
        read_path(write(tmp_path, "error-page.pdf", "<html><body>404 Not Found</body></html>"))
    assert "not a valid PDF" in info.value.message and "web page" in info.value.message
    assert_helpful(info.value, "error-page.pdf")


def test_pdf_from_bytes():
    doc = read_bytes(samples.build_pdf(samples.SAMPLE_PDF_PAGES), "stdin")
    assert doc.name == "stdin" and headings(doc)[0] == (1, "The Water Cycle")


# --- DOCX ----------------------------------------------------------------------------------

def test_docx_sample(tmp_path):
    path = write(tmp_path, "plates.docx", samples.build_docx(samples.SAMPLE_DOCX + [("deleted", "REMOVED TEXT")]))
    doc = read_path(path)
    hs = headings(doc)
    assert hs[0] == (1, "Plate Tectonics")  # Title
    assert (2, "Types of plate boundaries") in hs  # Heading 1, one below the title
    assert (3, "Rates of movement") in hs
    items = texts(doc, LIST_ITEM)
    assert items[0].startswith("Divergent boundaries") and len(items) == 6
    assert items[3].startswith("1. Matching coastlines") and items[5].startswith("3. The pattern")
    assert "Pacific Plate | 7-10 cm per year" in texts(doc, PARAGRAPH)
    body = all_text(doc)
    assert "the lithosphere, is divided" in body  # bold run joined with its neighbours
    assert "REMOVED TEXT" not in body  # tracked deletion
    assert texts(read_path(seed("sample.docx"))) == texts(read_path(write(tmp_path, "s.docx", samples.build_docx(samples.SAMPLE_DOCX))))


def test_docx_table_of_contents_is_skipped(tmp_path):
    data = samples.build_docx([("h1", "Intro"), ("p", "Body text.")])
    toc = ('<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj>'
           '</w:sdtPr><w:sdtContent><w:p><w:r><w:t>Intro 1</w:t></w:r></w:p></w:sdtContent></w:sdt>'
           '<w:p><w:pPr><w:pStyle w:val="TOC1"/></w:pPr><w:r><w:t>Intro</w:t><w:tab/><w:t>1</w:t></w:r></w:p>')
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "word/document.xml":
                content = content.replace(b"<w:body>", b"<w:body>" + toc.encode())
            dst.writestr(item, content)
    doc = read_path(write(tmp_path, "toc.docx", buf.getvalue()))
    assert texts(doc) == ["Intro", "Body text."]


def test_docx_localised_heading_styles(tmp_path):
    data = samples.build_docx([("h1", "Einleitung"), ("p", "Text über Größe."), ("h2", "Details")],
                              localised_styles=True)
    doc = read_path(write(tmp_path, "deutsch.docx", data))
    assert headings(doc) == [(1, "Einleitung"), (2, "Details")]
    assert texts(doc, PARAGRAPH) == ["Text über Größe."]


def test_docx_errors(tmp_path, monkeypatch):
    with pytest.raises(UnreadableSource) as info:
        read_path(write(tmp_path, "broken.docx", b"PK\x03\x04 this is not really a zip"))
    assert_helpful(info.value, "broken.docx")
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    with pytest.raises(UnsupportedSource) as info:
        read_path(write(tmp_path, "old.docx", ole))
    assert ".docx" in info.value.hint
    assert_helpful(info.value, "old.docx")
    with pytest.raises(UnsupportedSource):
        read_path(write(tmp_path, "old.doc", ole))
    locked = ole + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 100
    with pytest.raises(EncryptedSource) as info:
        read_path(write(tmp_path, "locked.docx", locked))
    assert_helpful(info.value, "locked.docx")
    # A ZIP that is some other Office format.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnsupportedSource) as info:
        read_path(write(tmp_path, "table.docx", buf.getvalue()))
    assert "Excel" in info.value.message
    # XML entity declarations (billion laughs) are refused.
    evil = samples.build_docx([("p", "x")]).replace(b"", b"")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(evil)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"<w:document", b'<!DOCTYPE d [<!ENTITY a "aaaa">]><w:document', 1)
            dst.writestr(item, data)
    with pytest.raises(UnreadableSource) as info:
        read_path(write(tmp_path, "evil.docx", buf.getvalue()))
    assert "entities" in info.value.message


def test_docx_zip_bomb(tmp_path, monkeypatch):
    # Highly compressible content: 4 MB of spaces compress ~1000:1.
    paragraph = "<w:p><w:r><w:t>" + " " * (4 * 1024 * 1024) + "x</w:t></w:r></w:p>"
    data = samples.build_docx([("p", "start")])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            content = src.read(item)
            if item.filename == "word/document.xml":
                content = content.replace(b"</w:body>", paragraph.encode() + b"</w:body>")
            dst.writestr(item.filename, content)
    path = write(tmp_path, "bomb.docx", buf.getvalue())
    with pytest.raises(SourceTooLarge) as info:
        read_path(path)
    assert "zip bomb" in info.value.hint
    assert_helpful(info.value, "bomb.docx")
    # A size cap applies even when the declared sizes are small.
    from generator.sources import archive

    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(SourceTooLarge):
        read_path(write(tmp_path, "big.docx", samples.build_docx([("p", "word " * 400)])))


# --- EPUB ----------------------------------------------------------------------------------

def test_epub_sample_in_spine_order(tmp_path):
    chapters = samples.SAMPLE_EPUB_CHAPTERS
    data = samples.build_epub("Astronomy", chapters, spine_order=[2, 0, 1])
    doc = read_path(write(tmp_path, "astro.epub", data))
    assert [h for _, h in headings(doc) if h != "Kepler's laws"] == [
        "Galileo's Telescope", "Early Astronomy", "The Copernican Revolution"]
    kepler = [b for b in doc.blocks if b.kind == LIST_ITEM]
    assert kepler[0].text == "1. Planets move in ellipses with the Sun at one focus."
    assert kepler[0].location == "The Copernican Revolution"  # the chapter's title
    assert "T² ∝ a³" in all_text(doc)
    assert "chapter1.xhtml" not in all_text(doc)  # the nav document is not content
    assert headings(read_path(seed("sample.epub")))[0] == (1, "Early Astronomy")


def test_epub_errors(tmp_path):
    data = samples.build_epub("Book", samples.SAMPLE_EPUB_CHAPTERS)
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            if item.filename != "META-INF/container.xml":
                dst.writestr(item, src.read(item))
    with pytest.raises(UnreadableSource) as info:
        read_path(write(tmp_path, "nocontainer.epub", buf.getvalue()))
    assert "container.xml" in info.value.message
    assert_helpful(info.value, "nocontainer.epub")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("META-INF/encryption.xml",
                     '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
                     'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
                     '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
                     '<enc:CipherData><enc:CipherReference URI="OEBPS/text/chapter1.xhtml"/>'
                     "</enc:CipherData></enc:EncryptedData></encryption>")
    with pytest.raises(EncryptedSource) as info:
        read_path(write(tmp_path, "drm.epub", buf.getvalue()))
    assert "DRM" in info.value.message
    assert_helpful(info.value, "drm.epub")


def test_zip_content_decides_over_extension(tmp_path):
    doc = read_path(write(tmp_path, "book.zip", samples.build_epub("B", samples.SAMPLE_EPUB_CHAPTERS)))
    assert headings(doc)[0] == (1, "Early Astronomy")
    doc = read_bytes(samples.build_docx(samples.SAMPLE_DOCX), "stdin")
    assert headings(doc)[0] == (1, "Plate Tectonics")


# --- errors --------------------------------------------------------------------------------

def test_empty_and_whitespace_files(tmp_path):
    for name, data in (("empty.txt", b""), ("blank.md", b"  \n\t\n\r\n"), ("bom.txt", b"\xef\xbb\xbf\n")):
        with pytest.raises(EmptySource) as info:
            read_path(write(tmp_path, name, data))
        assert_helpful(info.value, name)
        with pytest.raises(EmptySource):
            list(iter_blocks_path(str(tmp_path / name)))
    with pytest.raises(EmptySource):
        read_text("   \n ")
    with pytest.raises(EmptySource):
        read_bytes(b"", "stdin")


def test_binary_files_renamed_as_text(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    with pytest.raises(BinarySource) as info:
        read_path(write(tmp_path, "photo.txt", png))
    assert "PNG image" in info.value.message
    assert_helpful(info.value, "photo.txt")
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 200 + bytes(range(256))
    with pytest.raises(BinarySource) as info:
        list(iter_blocks_path(write(tmp_path, "program.md", elf)))
    assert_helpful(info.value, "program.md")
    with pytest.raises(BinarySource):
        read_bytes(bytes(range(256)) * 20, "stdin")


def test_unknown_extensions_are_sniffed(tmp_path):
    doc = read_path(write(tmp_path, "notes.rst", "Heading\n=======\n\nSome text here.\n"))
    assert headings(doc) == [(1, "Heading")]
    with pytest.raises(UnsupportedSource) as info:
        read_path(write(tmp_path, "movie.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8))
    for ext in ("PDF", ".docx", "EPUB", "Markdown"):
        assert ext in info.value.hint
    assert_helpful(info.value, "movie.mp4")
    with pytest.raises(UnsupportedSource):
        read_path(write(tmp_path, "letter.rtf", r"{\rtf1\ansi Hello}"))


def test_missing_unreadable_folder_and_too_large(tmp_path, monkeypatch):
    with pytest.raises(UnreadableSource) as info:
        read_path(str(tmp_path / "nope.txt"))
    assert "not found" in info.value.message
    assert_helpful(info.value, "nope.txt")
    with pytest.raises(UnreadableSource) as info:
        read_path(str(tmp_path))
    assert "folder" in info.value.message
    path = write(tmp_path, "big.txt", "word " * 1000)
    with pytest.raises(SourceTooLarge) as info:
        read_path(path, max_bytes=1000)
    assert_helpful(info.value, "big.txt")
    with pytest.raises(SourceTooLarge):
        list(iter_blocks_path(path, max_bytes=1000))
    secret = write(tmp_path, "secret.txt", "hidden")
    real_open = os.open

    def deny(file, *args, **kwargs):  # tests run as root, where chmod 000 does not deny
        if str(file) == secret:
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(UnreadableSource) as info:
        read_path(secret)
    assert "Permission denied" in info.value.message
    assert_helpful(info.value, "secret.txt")


def test_unexpected_failures_become_source_errors(tmp_path, monkeypatch):
    from generator.sources import text

    def boom(*args, **kwargs):
        raise RuntimeError("parser bug")

    monkeypatch.setattr(text.LineParser, "feed_lines", boom)
    with pytest.raises(UnreadableSource) as info:
        read_path(write(tmp_path, "x.txt", "hello"))
    assert "parser bug" in info.value.message and "x.txt" in info.value.message
    with pytest.raises(UnreadableSource):
        list(iter_blocks_path(str(tmp_path / "x.txt")))
    with pytest.raises(UnreadableSource) as info:
        read_text("hello", name="clipboard")
    assert "clipboard" in info.value.message


def test_supported_extensions():
    assert SUPPORTED_EXTENSIONS == (
        ".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx", ".epub")


# --- streaming -----------------------------------------------------------------------------

def test_streaming_matches_whole_file_reading(tmp_path, monkeypatch):
    from generator.sources import read as sources

    monkeypatch.setattr(sources, "STREAM_READ", 7)  # boundaries everywhere, even inside \r\n
    text = open(seed("ml-concepts.txt"), encoding="utf-8").read().replace("\n", "\r\n")
    for enc in ("utf-8", "utf-16", "cp1252"):
        data = text.replace("\uf8ffüè†", "").encode(enc) if enc == "cp1252" else text.encode(enc)
        path = write(tmp_path, f"ml-{enc}.txt", data)
        assert list(iter_blocks_path(path)) == read_path(path).blocks
    path = write(tmp_path, "md.md", open(seed("photosynthesis.md"), encoding="utf-8").read())
    assert list(iter_blocks_path(path)) == read_path(path).blocks


def test_stray_windows_1252_byte_after_the_detection_sample(tmp_path):
    data = b"ascii line\n" * 8000 + b"\n" + "Un caf\xe9 cr\xe8me, s'il vous pla\xeet.\n".encode("latin-1")
    path = write(tmp_path, "late.txt", data)
    assert texts(read_path(path))[-1] == "Un café crème, s'il vous plaît."
    assert list(iter_blocks_path(path))[-1].text == "Un café crème, s'il vous plaît."


def test_streaming_a_huge_line_keeps_words(tmp_path, monkeypatch):
    from generator.sources import read as sources

    monkeypatch.setattr(sources, "MAX_LINE_CHARS", 1000)
    monkeypatch.setattr(sources, "STREAM_READ", 512)
    words = [f"w{i}" for i in range(3000)]
    path = write(tmp_path, "oneline.txt", " ".join(words) + ".")
    blocks = list(iter_blocks_path(path))
    assert " ".join(b.text for b in blocks).split() == words[:-1] + [words[-1] + "."]


def test_five_megabytes_are_read_and_chunked(tmp_path):
    unit = open(seed("cell-biology.txt"), encoding="utf-8").read()
    path = write(tmp_path, "big.txt", (unit + "\n\n") * (5 * 1024 * 1024 // len(unit)))
    chunks = list(__import__("generator.job.chunking", fromlist=["iter_chunks"]).iter_chunks(
        iter_blocks_path(path), "big.txt", 1500))
    assert len(chunks) > 100
    assert all(estimate_tokens(c.text) <= 1500 for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)


# --- libs and import cost ------------------------------------------------------------------

def test_libs_load_and_vendor_fallback(tmp_path, monkeypatch):
    assert libs.load("pypdf").__name__ == "pypdf"
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "flashcards_fake_lib.py").write_text("VALUE = 42\n")
    monkeypatch.setattr(libs, "VENDOR_DIR", str(vendor))
    monkeypatch.setattr(libs, "_vendor_added", False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert libs.load("flashcards_fake_lib").VALUE == 42
    assert str(vendor) in sys.path
    sys.modules.pop("flashcards_fake_lib", None)
    with pytest.raises(libs.MissingLibrary) as info:
        libs.load("flashcards_no_such_lib")
    assert isinstance(info.value, UnreadableSource)
    assert "Reinstall" in info.value.hint and "flashcards_no_such_lib" in info.value.message


def test_nothing_heavy_is_imported_at_start():
    code = ("import sys, generator.sources, generator.job.chunking, generator.sources.textfix, generator.libs;"
            "print(sorted(m for m in ('pypdf', 'ftfy', 'bs4', 'charset_normalizer', 'markdown') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_samples_script_writes_small_files(tmp_path):
    written = samples.main(str(tmp_path))
    assert len(written) == 3
    for path in written:
        assert os.path.getsize(path) < 20 * 1024
        assert read_path(path).blocks
        committed = seed(os.path.basename(path))
        assert open(committed, "rb").read() == open(path, "rb").read(), "run seeds/make_samples.py"
