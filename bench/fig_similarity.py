"""Duplicates by meaning: the pure-Python search and the embedding cache.

S1. Search time per new card against 50,000 cached notes (384-dimensional vectors, the size of
    all-minilm's): the sign-signature shortlist and exact cosine of generator/similar/index.py.
    Goal <= 20 ms.
S2. Matches found: of the queries whose nearest note by an exact search (every note scored) is
    at least as close as the threshold, the share for which the fast search returns that note.
    Goal >= 0.95.
S3. Cache build: notes per second through the whole path (the collection's questions read, sent
    to the server in batches, quantized, appended to the cache file), against the fake server
    in its own process (its embedding is nearly free, so this is the add-on's own cost; a real
    model adds its time: all-minilm on these 2 cores is measured in make test-llm).
S4. Size of the cache on disk per 10,000 notes (384 dimensions).

The notes are made-up card questions (tests/similar_pairs.question_corpus); the queries rephrase
half of them and ask about unknown things for the other half. Vectors come from the fake server's
deterministic embedding (tools/fake_ollama.fake_embedding) at 384 dimensions."""
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Tuple

from fake_ollama import fake_embedding
from similar_pairs import corpus_queries, question_corpus

DIMS = 384
THRESHOLD = 0.5  # on the fake embedding's scale (it sees shared words and word parts)

FIGURES = [
    ("similarity_search_ms", "S1. Similar cards: search per card, 50,000 notes", "ms", "<= 20 ms",
     lambda v: v <= 20),
    ("similarity_recall", "S2. Similar cards: exact search's matches found", "", ">= 0.95",
     lambda v: v >= 0.95),
    ("similarity_build_notes_per_s", "S3. Similar cards: cache build (fake embedding)", "notes/s",
     "report", lambda v: v > 0),
    ("similarity_mb_per_10k", "S4. Similar cards: cache size per 10,000 notes", "MB", "report",
     lambda v: v > 0),
]


def build_cache(path: str, texts: List[str]) -> Tuple[Any, float]:
    from generator.similar.cache import EmbedCache, text_hash
    from generator.similar.index import quantize

    cache = EmbedCache(path, "fake-embed")
    cache.load()
    t0 = time.perf_counter()
    batch = []
    for nid, text in enumerate(texts, 1):
        batch.append((nid, text_hash(text), *quantize(fake_embedding(text, DIMS))))
        if len(batch) == 1000:
            cache.append(batch)
            batch = []
    cache.append(batch)
    return cache, time.perf_counter() - t0


def search_figures(tmp: str, notes: int, queries: int) -> Dict[str, Any]:
    from generator.similar.cache import EmbedCache

    texts = question_corpus(notes)
    path = os.path.join(tmp, "search.emb")
    _cache, seconds = build_cache(path, texts)
    load0 = time.perf_counter()
    cache = EmbedCache(path, "fake-embed")
    index = cache.load()
    load_s = time.perf_counter() - load0
    plane0 = time.perf_counter()
    index.planes()
    plane_s = time.perf_counter() - plane0
    asked = corpus_queries(notes, queries)
    vectors = [fake_embedding(q, DIMS) for q, _ in asked]
    times = []
    fast = []
    for vec in vectors:
        t = time.perf_counter()
        fast.append(index.nearest(vec))
        times.append((time.perf_counter() - t) * 1000)
    exact = [index.nearest_exact(vec) for vec in vectors]
    matches = [(f, e) for f, e in zip(fast, exact) if e is not None and e[1] >= THRESHOLD]
    found = sum(1 for f, e in matches if f is not None and (f[0] == e[0] or f[1] >= e[1] - 1e-9))
    rephrased = sum(1 for (q, i), e in zip(asked, exact) if i >= 0 and e is not None and e[0] == i + 1)
    return {
        "notes": notes, "queries": len(asked), "ms_per_card": round(statistics.median(times), 2),
        "ms_p95": round(sorted(times)[int(0.95 * (len(times) - 1))], 2),
        "matches": len(matches), "found": found,
        "recall": round(found / len(matches), 4) if matches else 1.0,
        "nearest_agrees": round(sum(1 for f, e in zip(fast, exact) if f and e and f[0] == e[0]) / len(asked), 3),
        "rephrased_found_by_exact": rephrased, "load_s": round(load_s, 2), "planes_s": round(plane_s, 2),
        "write_s": round(seconds, 1), "bytes": os.path.getsize(path),
    }


SERVER_CHILD = (
    "import sys; sys.path[:0] = [%r]\n"
    "from fake_ollama import FakeOllama\n"
    "s = FakeOllama(models=('all-minilm',), embedding_models=('all-minilm',)).start()\n"
    "print(s.url, flush=True)\n"
    "sys.stdin.read()\n")


def build_figure(tmp: str, notes: int) -> Dict[str, Any]:
    """The whole build path on a real collection, with the fake server in its own process."""
    from anki.collection import AddNoteRequest, Collection

    from engine_fixtures import backend_for
    from generator.similar.question import collection_questions
    from generator.similar.search import SimilarNotes

    tools = os.path.dirname(os.path.abspath(sys.modules["fake_ollama"].__file__))
    server = subprocess.Popen([sys.executable, "-c", SERVER_CHILD % tools], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    col = Collection(os.path.join(tmp, "build.anki2"))
    try:
        url = server.stdout.readline().strip()
        nt = col.models.by_name("Basic")
        did = col.decks.id("Default")
        requests = []
        for text in question_corpus(notes):
            note = col.new_note(nt)
            note["Front"], note["Back"] = text, "answer"
            requests.append(AddNoteRequest(note, did))
        col.add_notes(requests)
        backend = backend_for(url, read_timeout=300)
        folder = os.path.join(tmp, "emb")
        t0 = time.perf_counter()
        questions = collection_questions(col)
        read_s = time.perf_counter() - t0
        similar = SimilarNotes.for_collection(backend, "all-minilm", folder, col.path, 0.9)
        stats = similar.update(questions)
        seconds = time.perf_counter() - t0
        t1 = time.perf_counter()
        SimilarNotes.for_collection(backend, "all-minilm", folder, col.path, 0.9).update(
            collection_questions(col))
        unchanged = time.perf_counter() - t1
        backend.close()
        return {"notes": stats.notes, "seconds": round(seconds, 2), "read_s": round(read_s, 2),
                "notes_per_s": round(stats.notes / seconds, 1), "unchanged_update_s": round(unchanged, 2),
                "bytes": similar.cache.size_on_disk(), "dims": similar.cache.dims}
    finally:
        col.close()
        server.stdin.close()
        server.wait(10)


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    search = search_figures(tmp, 10000 if quick else 50000, 20 if quick else 60)
    build = build_figure(tmp, 2000 if quick else 10000)
    mb_per_10k = search["bytes"] / search["notes"] * 10000 / 1e6
    values = {"similarity_search_ms": search["ms_per_card"], "similarity_recall": search["recall"],
              "similarity_build_notes_per_s": build["notes_per_s"],
              "similarity_mb_per_10k": round(mb_per_10k, 2)}
    lines = [
        "similar cards: %d notes, %d queries: %.1f ms per card (p95 %.1f), %d matches >= %.2f, %d found; "
        "nearest note agrees with the exact search for %.0f%% of all queries" % (
            search["notes"], search["queries"], search["ms_per_card"], search["ms_p95"],
            search["matches"], THRESHOLD, search["found"], 100 * search["nearest_agrees"]),
        "cache: load %.2f s and sign planes %.2f s for %d notes; a build of %d notes (%d dims) took "
        "%.1f s (collection read %.2f s); an unchanged collection is re-checked in %.2f s" % (
            search["load_s"], search["planes_s"], search["notes"], build["notes"], build["dims"],
            build["seconds"], build["read_s"], build["unchanged_update_s"]),
    ]
    return values, {"similarity_search": search, "similarity_build": build}, lines
