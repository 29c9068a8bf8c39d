"""The structure-aware chunker: budgets, heading paths, merging of tiny sections, splitting of
long blocks, deterministic ids, document order."""
import os
import re

import pytest

from generator.job.chunking import chunk_document, estimate_tokens, iter_chunks
from generator.sources.document import HEADING, PARAGRAPH, Block, Document
from generator.sources.read import iter_blocks_path, read_path, read_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ML = os.path.join(ROOT, "seeds", "ml-concepts.txt")


def words(text: str):
    return [w for w in text.split() if w != "-"]


def doc_words(doc: Document):
    out = []
    for b in doc.blocks:
        out.extend(w for w in b.text.split() if w != "-")
    return out


def test_estimate_tokens():
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("x" * 400) == 100
    assert estimate_tokens("机器学习") == 4  # one per CJK character
    assert estimate_tokens("これは日本語") == 6
    assert estimate_tokens("한국어") == 3
    assert estimate_tokens("Привет") == 3  # other scripts: about 2 characters per token
    mixed = "Deep learning (深度学习) uses layers."
    assert estimate_tokens(mixed) >= 4 + len(mixed.replace("深度学习", "")) // 4


@pytest.mark.parametrize("budget", [40, 100, 300, 1000, 5000])
def test_ml_sample_budgets_order_and_words(budget):
    doc = read_path(ML)
    chunks = chunk_document(doc, budget)
    assert chunks, "no chunks"
    for c in chunks:
        assert estimate_tokens(c.text) <= budget, (budget, c.text)
        assert c.document == "ml-concepts.txt"
        assert c.heading_path[:1] == ("Advanced Machine Learning Concepts",) or budget <= 40
    assert [c.index for c in chunks] == list(range(len(chunks)))
    # Nothing lost, nothing duplicated, document order kept.
    assert [w for c in chunks for w in words(c.text)] == doc_words(doc)


def test_heading_paths_and_heading_text_inside_chunks():
    chunks = chunk_document(read_path(ML), 100)
    process = [c for c in chunks if c.heading_path == (
        "Advanced Machine Learning Concepts", "Backpropagation Algorithm", "Process")]
    assert process, [c.heading_path for c in chunks]
    assert process[0].text.startswith("Process\n\n1. Forward Pass:")
    assert process[0].heading_label() == "Advanced Machine Learning Concepts › Backpropagation Algorithm › Process"
    for c in chunks:
        if c.heading_path and c.text.split("\n", 1)[0] in c.heading_path:
            continue
        # a chunk that does not open with its own heading continues a section
        assert any(c2.index < c.index for c2 in chunks)


def test_list_items_render_as_lines():
    doc = read_text("# Layers\n\nThe layers are:\n\n- Input layer\n- Hidden layers\n- Output layer\n\n"
                    "## Steps\n\n1. Forward pass\n2. Backward pass\n")
    (chunk,) = chunk_document(doc, 1000)
    assert chunk.text == ("Layers\n\nThe layers are:\n\n- Input layer\n- Hidden layers\n- Output layer\n\n"
                          "Steps\n\n1. Forward pass\n2. Backward pass")
    assert chunk.heading_path == ("Layers",)


def test_a_heading_closes_the_chunk_but_tiny_sections_merge():
    big = " ".join(f"Sentence {i} explains one more detail of the topic." for i in range(30))
    md = (f"# Biology\n\n## Cells\n\n{big}\n\n## Tissues\n\nShort line.\n\n## Organs\n\n{big}\n\n"
          "# Chemistry\n\nAnother short line.\n")
    chunks = chunk_document(read_text(md), 1000)
    texts = [c.text for c in chunks]
    # "Biology" + "Cells" (a heading alone is tiny) run on into one chunk.
    assert texts[0].startswith("Biology\n\nCells\n\nSentence 0")
    assert chunks[0].heading_path == ("Biology", "Cells")  # "Biology" alone has no text
    # "Tissues" is tiny and merges with its sibling "Organs" (same parent, fits the budget).
    tissues = next(c for c in chunks if "Tissues" in c.text)
    assert "Organs" in tissues.text and tissues.heading_path == ("Biology",)
    # A tiny section does not merge across a higher-level heading.
    last = chunks[-1]
    assert last.text == "Chemistry\n\nAnother short line." and last.heading_path == ("Chemistry",)


def test_small_trailing_subsection_joins_the_chunk_before_it():
    para = "This paragraph is long enough to count as a real section of the document. " * 16
    md = (f"# Doc\n\n## A\n\n{para}\n\n### Uses\n\n- first use\n- second use\n\n"
          f"## B\n\n{para}\n")
    chunks = chunk_document(read_text(md), 2000)
    assert [c.text.split("\n")[0] for c in chunks] == ["Doc", "B"]
    assert chunks[0].text.endswith("Uses\n\n- first use\n- second use")
    assert chunks[0].heading_path == ("Doc", "A")
    assert chunks[1].heading_path == ("Doc", "B")


def test_sections_stay_separate_when_not_tiny():
    para = "This paragraph is long enough to count as a real section of the document. " * 16
    md = f"# A\n\n{para}\n\n## B\n\n{para}\n\n## C\n\n{para}\n"
    chunks = chunk_document(read_text(md), 2000)
    assert [c.heading_path for c in chunks] == [("A",), ("A", "B"), ("A", "C")]
    assert [c.text.split("\n")[0] for c in chunks] == ["A", "B", "C"]


def test_long_paragraph_split_by_sentences():
    sentences = [f"Fact number {i} is that the value equals {i * 7}." for i in range(200)]
    doc = Document("long.txt", [Block(HEADING, "Facts", 1), Block(PARAGRAPH, " ".join(sentences))])
    chunks = chunk_document(doc, 120)
    assert len(chunks) > 5
    for c in chunks:
        assert estimate_tokens(c.text) <= 120
        body = c.text[len("Facts\n\n"):] if c.text.startswith("Facts\n\n") else c.text
        assert body.endswith("."), body[-40:]  # cut between sentences, not inside one
        assert c.heading_path == ("Facts",)
    assert chunks[0].text.startswith("Facts\n\nFact number 0")
    assert [w for c in chunks for w in c.text.split()] == ["Facts"] + " ".join(sentences).split()


def test_sentence_longer_than_budget_split_by_words():
    sentence = " ".join(f"word{i}" for i in range(500))
    chunks = chunk_document(Document("w.txt", [Block(PARAGRAPH, sentence)]), 50)
    assert all(estimate_tokens(c.text) <= 50 for c in chunks)
    assert [w for c in chunks for w in c.text.split()] == sentence.split()


def test_word_longer_than_budget_is_cut():
    blob = "A" * 1000
    chunks = chunk_document(Document("b.txt", [Block(PARAGRAPH, "Key: " + blob + " end")]), 30)
    assert all(estimate_tokens(c.text) <= 30 for c in chunks)
    assert "".join(c.text.replace(" ", "") for c in chunks) == "Key:" + blob + "end"


def test_cjk_budget():
    text = "机器学习是人工智能的一个分支。" * 200
    chunks = chunk_document(Document("zh.txt", [Block(PARAGRAPH, text)]), 100)
    assert all(estimate_tokens(c.text) <= 100 for c in chunks)
    assert "".join(c.text for c in chunks) == text


def test_ids_deterministic_and_unique():
    doc = read_path(ML)
    a = chunk_document(doc, 200)
    b = chunk_document(read_path(ML), 200)
    assert [c.id for c in a] == [c.id for c in b]
    assert all(re.fullmatch(r"[0-9a-f]{16}", c.id) for c in a)
    assert len({c.id for c in a}) == len(a)
    renamed = chunk_document(Document("other.txt", doc.blocks), 200)
    assert not {c.id for c in a} & {c.id for c in renamed}
    # The same text twice in one document still gets distinct ids.
    twice = Document("t.txt", [Block(PARAGRAPH, "Same text."), Block(HEADING, "H", 1),
                               Block(HEADING, "X", 1), Block(PARAGRAPH, "Same text.")])
    ids = [c.id for c in chunk_document(twice, 3)]
    assert len(ids) == len(set(ids))


def test_location_is_that_of_the_first_block():
    blocks = [Block(HEADING, "Intro", 1, "page 1"), Block(PARAGRAPH, "a " * 30, 0, "page 1"),
              Block(PARAGRAPH, "b " * 30, 0, "page 2"), Block(HEADING, "Next", 1, "page 3"),
              Block(PARAGRAPH, "c " * 30, 0, "page 3")]
    chunks = chunk_document(Document("p.pdf", blocks), 25)
    assert [c.location for c in chunks] == ["page 1", "page 2", "page 3"]


def test_streaming_twin_matches_and_accepts_generators():
    doc = read_path(ML)
    assert chunk_document(doc, 150) == list(iter_chunks(iter(doc.blocks), doc.name, 150))
    assert list(iter_chunks(iter_blocks_path(ML), "ml-concepts.txt", 150)) == chunk_document(doc, 150)
    gen = iter_chunks((Block(PARAGRAPH, f"Paragraph {i}.") for i in range(10 ** 5)), "gen", 50)
    first = next(gen)  # produced before the input is exhausted
    assert first.index == 0


def test_tiny_budgets_and_empty_input():
    assert chunk_document(Document("e", []), 100) == []
    assert chunk_document(Document("w", [Block(PARAGRAPH, "   ")]), 100) == []
    chunks = chunk_document(read_text("# T\n\nSome words here."), 2)
    assert [w for c in chunks for w in c.text.split()] == ["T", "Some", "words", "here."]
    assert all(estimate_tokens(c.text) <= 2 for c in chunks)
    chunks = chunk_document(read_text("# T\n\nSome words here."), 1)  # words cut, none lost
    assert "".join(c.text.replace(" ", "") for c in chunks) == "TSomewordshere."
    assert all(estimate_tokens(c.text) <= 1 for c in chunks)
    chunks = chunk_document(read_text("# Only a heading"), 100)
    assert [c.text for c in chunks] == ["Only a heading"]
