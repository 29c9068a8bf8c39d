"""Property tests for decoding, text cleaning, reading and chunking.

- decode_bytes never crashes: any bytes give a str or a SourceError.
- fix_text leaves no control characters (other than \\n and \\t) or lone surrogates, and NFC.
- read_text on any text gives a Document or an EmptySource.
- The chunker never loses, duplicates or reorders words, respects the budget (for texts
  without over-long words), numbers chunks from 0 and gives unique ids.

HYPOTHESIS_SCALE=10 for a longer local run. The whole file runs in well under a minute.
"""
import os
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.job.chunking import chunk_document, estimate_tokens, iter_chunks
from generator.sources.document import HEADING, LIST_ITEM, PARAGRAPH, Block, Document
from generator.errors import EmptySource, SourceError
from generator.sources.read import read_bytes, read_text
from generator.sources.textfix import decode_bytes, fix_text

SCALE = float(os.environ.get("HYPOTHESIS_SCALE", "1"))


def _settings(n: int) -> settings:
    return settings(max_examples=int(n * SCALE), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Byte strings that look like real inputs: text in several encodings, with BOMs, NULs, binary
# headers and random garbage mixed in.
_sample_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@st.composite
def encoded_text(draw):
    text = draw(_sample_text)
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1",
                                     "mac_roman", "cp1251", "shift_jis", "utf-8-sig"]))
    data = text.encode(encoding, "replace")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut]  # a truncated file
    return data


_bytes = st.one_of(
    st.binary(max_size=2000),
    encoded_text(),
    st.builds(lambda head, tail: head + tail,
              st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\xff\xfe\x00\x00", b"%PDF-1.4\n",
                               b"PK\x03\x04", b"\x89PNG\r\n\x1a\n", b"<html><body>", b"{\\rtf1 "]),
              st.binary(max_size=500)),
)


@_settings(400)
@given(_bytes)
def test_decode_bytes_never_crashes(data):
    try:
        text = decode_bytes(data)
    except SourceError:
        return
    assert isinstance(text, str)
    _assert_clean(text)


@_settings(200)
@given(_bytes)
def test_read_bytes_never_crashes(data):
    try:
        doc = read_bytes(data, "stdin")
    except SourceError as err:
        assert err.message and err.hint
        return
    assert doc.blocks


def _assert_clean(text: str) -> None:
    for c in text:
        assert c in "\n\t" or not (c < " " or "\x7f" <= c <= "\x9f"), repr(c)
        assert not ("\ud800" <= c <= "\udfff"), repr(c)
    assert unicodedata.is_normalized("NFC", text)


@_settings(300)
@given(st.text(max_size=400))
def test_fix_text_output_is_clean(text):
    fixed = fix_text(text)
    _assert_clean(fixed)
    assert "\r" not in fixed


# A letter or a digit in any script: what makes a text worth reading (generator/sources).
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


@_settings(200)
@given(st.text(max_size=500))
def test_read_text_never_crashes(text):
    try:
        doc = read_text(text)
    except EmptySource as err:
        assert err.message and err.hint
        # Markdown markup never hides every word: a text refused as empty has no letter or digit
        # (an HTML page may, with its words in a <script>, but random text does not start "<html").
        assert not _LETTER_OR_DIGIT.search(fix_text(text)), repr(text)
        return
    for block in doc.blocks:
        assert block.text.strip()
        assert block.kind in (HEADING, PARAGRAPH, LIST_ITEM)
    assert _LETTER_OR_DIGIT.search(doc.text())


@_settings(200)
@given(st.one_of(st.text(max_size=300), st.text(alphabet=" \n\t\u200b\u0301#*-_.!?<>", max_size=50)))
def test_plain_text_is_empty_exactly_when_it_has_no_letter_or_digit(text):
    try:
        read_text(text, markdown=False)
        refused = False
    except EmptySource:
        refused = True
    assert refused == (not _LETTER_OR_DIGIT.search(fix_text(text))), repr(text)


# --- chunking ------------------------------------------------------------------------------

_word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüéßç", min_size=1, max_size=12)
_end = st.sampled_from(["", ".", "!", "?", ",", ";"])


@st.composite
def sentence(draw):
    ws = draw(st.lists(_word, min_size=1, max_size=25))
    return " ".join(ws) + draw(_end)


@st.composite
def markdown_document(draw):
    """Markdown with headings of several levels, paragraphs (hard-wrapped or not), bullet and
    numbered lists; only letters in words, so the words can be compared exactly."""
    parts = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["h", "p", "p", "ul", "ol", "long"]))
        if kind == "h":
            parts.append("#" * draw(st.integers(1, 4)) + " " + " ".join(draw(st.lists(_word, min_size=1, max_size=6))))
        elif kind == "p":
            lines = draw(st.lists(sentence(), min_size=1, max_size=5))
            parts.append("\n".join(lines))
        elif kind == "long":
            parts.append(" ".join(draw(st.lists(sentence(), min_size=10, max_size=60))))
        elif kind == "ul":
            parts.append("\n".join("- " + draw(sentence()) for _ in range(draw(st.integers(1, 6)))))
        else:
            parts.append("\n".join(f"{i + 1}. " + draw(sentence()) for i in range(draw(st.integers(1, 6)))))
    return "\n\n".join(parts) + "\n"


def _source_words(md: str):
    return [w for w in md.split() if w != "-" and not set(w) <= {"#"}]


def _chunk_words(chunks):
    return [w for c in chunks for w in c.text.split() if w != "-"]


@_settings(250)
@given(markdown_document(), st.integers(10, 800))
def test_chunker_keeps_every_word_in_order_within_budget(md, budget):
    doc = read_text(md, name="props.md", markdown=True)
    chunks = chunk_document(doc, budget)
    assert _chunk_words(chunks) == _source_words(md)
    for c in chunks:
        assert estimate_tokens(c.text) <= budget
        assert c.text == c.text.strip() and c.text
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    assert chunks == list(iter_chunks(iter(doc.blocks), "props.md", budget))


@st.composite
def block_list(draw):
    blocks = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from([HEADING, PARAGRAPH, PARAGRAPH, LIST_ITEM]))
        text = " ".join(draw(st.lists(_word, min_size=1, max_size=40)))
        level = draw(st.integers(1, 6)) if kind == HEADING else 0
        blocks.append(Block(kind, text, level, draw(st.sampled_from(["", "page 1", "page 2"]))))
    return blocks


@_settings(250)
@given(block_list(), st.integers(1, 300))
def test_chunker_on_arbitrary_block_sequences(blocks, budget):
    chunks = chunk_document(Document("blocks", blocks), budget)
    assert "".join("".join(c.text.split()) for c in chunks).replace("-", "") == \
        "".join("".join(b.text.split()) for b in blocks)
    for c in chunks:
        assert estimate_tokens(c.text) <= budget
        for heading in c.heading_path:
            assert heading in {b.text for b in blocks if b.kind == HEADING}
