"""Duplicates by meaning with a real embedding model: all-minilm (sentence-transformers'
all-MiniLM-L6-v2, the model Ollama serves under that name) behind Ollama's /api/embed
(tools/embed_server.py). Measured here: the threshold on the labelled pairs, the search's
recall on real (anisotropic) vectors, and the cache build's speed with a real model.

Numbers are printed (run with -s to see them); docs/quality.md says how the threshold was chosen."""
import sys
from pathlib import Path

import pytest

from generator.backends import make_backend
from generator.cards.card import Card
from generator.config import Settings
from generator.similar.question import collection_questions
from generator.similar.search import SimilarNotes

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests"))

import embed_server  # noqa: E402
from similar_pairs import (best_threshold, by_language, corpus_queries, load_pairs,  # noqa: E402
                           question_corpus, quality_at, scores)

MODEL = "all-minilm"


@pytest.fixture(scope="module")
def embedder(tmp_path_factory):
    python = str(embed_server.venv_python(embed_server.DEFAULT_VENV))
    log = str(tmp_path_factory.mktemp("embed") / "embed-server.log")
    srv = embed_server.EmbedServer(python, log_path=log).start(timeout=300)
    yield srv
    srv.stop()


@pytest.fixture
def backend(embedder):
    b = make_backend({"url": embedder.url, "read_timeout": 600})
    yield b
    b.close()


@pytest.mark.timeout(600)
def test_the_default_threshold_is_the_one_measured_on_the_labelled_pairs(backend):
    pairs = load_pairs()
    scored = scores(pairs, lambda texts: backend.embed(MODEL, texts))
    best = best_threshold(scored)
    default = Settings().similarity_threshold
    at_default = quality_at(scored, default)
    print("\nall-minilm, all pairs:", best.line())
    for lang, q in by_language(scored, pairs, default).items():
        print("  %s at the default: %s" % (lang, q.line()))
    assert abs(best.threshold - default) <= 0.02
    english = by_language(scored, pairs, default)["en"]
    assert english.accuracy >= 0.8 and english.precision >= 0.85
    assert at_default.precision >= 0.7


@pytest.mark.timeout(900)
def test_cache_build_and_search_on_real_vectors(backend, col, tmp_path):
    from anki.collection import AddNoteRequest

    n = 2000
    nt = col.models.by_name("Basic")
    did = col.decks.id("Default")
    reqs = []
    for text in question_corpus(n):
        note = col.new_note(nt)
        note["Front"], note["Back"] = text, "answer"
        reqs.append(AddNoteRequest(note, did))
    col.add_notes(reqs)
    ids = [nid for nid, _t in sorted(collection_questions(col))]
    similar = SimilarNotes.for_collection(backend, MODEL, str(tmp_path / "emb"), col.path,
                                          Settings().similarity_threshold)
    stats = similar.update(collection_questions(col))
    assert stats.embedded == n
    print("\nall-minilm cache build: %d notes in %.1f s = %.0f notes/s, %.2f MB per 10,000 notes" % (
        n, stats.seconds, n / stats.seconds, similar.cache.size_on_disk() / n * 10000 / 1e6))
    index = similar.cache.index
    asked = corpus_queries(n, 80)
    vectors = backend.embed(MODEL, [q for q, _ in asked])
    threshold = Settings().similarity_threshold
    matches = found = agree = rephrased = 0
    for (question, i), vec in zip(asked, vectors):
        fast, exact = index.nearest(vec), index.nearest_exact(vec)
        agree += fast[0] == exact[0]
        if i >= 0 and exact[0] == ids[i]:
            rephrased += 1
        if exact[1] >= threshold:
            matches += 1
            found += fast[0] == exact[0]
    print("search on real vectors: %d of %d matches found; nearest agrees for %d of %d queries; "
          "the exact nearest is the rephrased note for %d of %d" % (
              found, matches, agree, len(asked), rephrased, sum(1 for _q, i in asked if i >= 0)))
    assert matches >= 10 and found >= 0.95 * matches
    cards = [Card(kind="basic", front=asked[0][0])]
    similar.mark(cards)
    assert asked[0][1] < 0 or cards[0].similar_to is None or cards[0].similar_to.note_id in ids


@pytest.mark.timeout(600)
def test_a_rephrased_card_is_marked_with_the_default_threshold(backend, col, tmp_path):
    nt = col.models.by_name("Basic")
    fronts = ["What is the capital of France?", "Who painted the Mona Lisa?",
              "What does the enzyme amylase break down?"]
    for front in fronts:
        note = col.new_note(nt)
        note["Front"], note["Back"] = front, "x"
        col.add_note(note, col.decks.id("Default"))
    similar = SimilarNotes.for_collection(backend, MODEL, str(tmp_path / "emb"), col.path,
                                          Settings().similarity_threshold)
    similar.update(collection_questions(col))
    cards = [Card(kind="basic", front="Which city is the capital of France?"),
             Card(kind="basic", front="What is the capital of Spain?"),
             Card(kind="basic", front="How many moons does Mars have?")]
    similar.mark(cards)
    assert cards[0].similar_to is not None and cards[0].similar_to.front == fronts[0]
    assert cards[1].similar_to is None and cards[2].similar_to is None
