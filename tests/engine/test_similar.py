"""Duplicates by meaning against the fake server (which embeds deterministically: words and
their trigrams hashed into a unit vector) and a real collection: the cache of the notes'
embeddings (incremental, crash-safe), the pure-Python search, the marks on new cards, the bulk
job and the CLI."""
import json
import os
import random
import threading

import pytest

from engine_fixtures import backend_for
from fake_ollama import FakeOllama, fake_embedding
from generator.bulk.job import BulkSpec, RunSetup, run_headless
from generator.cards.card import Card, SimilarNote
from generator.similar.cache import EmbedCache, cache_file
from generator.errors import BackendError
from generator.job.run import JobOptions
from generator.bulk.journal import card_from_json
from generator.notes.add import NoteTarget, add_cards, stock_notetype
from generator.similar.question import collection_questions, plain, question_fields
from generator.similar.search import SimilarNotes
from generator.similar.index import VectorIndex, quantize
from similar_pairs import best_threshold, by_language, load_pairs, scores

EMBED = "all-minilm"
MODELS = ("llama3.2:latest", "llama3.2", EMBED + ":latest")
NOTES = [
    ("Which organelle produces ATP in the cell?", "The mitochondrion"),
    ("What is the capital of Australia?", "Canberra"),
    ("Who wrote the novel War and Peace?", "Leo Tolstoy"),
    ("What does the enzyme amylase break down?", "Starch"),
]


@pytest.fixture
def embed_server():
    with FakeOllama(models=MODELS, embedding_models=(EMBED, EMBED + ":latest")) as srv:
        yield srv


def add_basic(col, pairs, deck="Default"):
    nt = stock_notetype(col, "basic")
    did = col.decks.id(deck, create=True)
    ids = []
    for front, back in pairs:
        note = col.new_note(nt)
        note["Front"], note["Back"] = front, back
        col.add_note(note, did)
        ids.append(note.id)
    return ids


def checker(srv, col, tmp_path, threshold=0.6):
    return SimilarNotes.for_collection(backend_for(srv.url), EMBED, str(tmp_path / "emb"), col.path,
                                       threshold)


# --- the search --------------------------------------------------------------------------------

def random_index(n, dims, seed=1, clusters=40):
    rng = random.Random(seed)
    centres = [[rng.gauss(0, 1) for _ in range(dims)] for _ in range(clusters)]
    index = VectorIndex(dims)
    for i in range(n):
        c = centres[i % clusters]
        index.add(i + 1, [x + rng.gauss(0, 1.2) for x in c])
    return index, rng


def test_shortlist_search_finds_what_the_exact_search_finds():
    index, rng = random_index(3000, 64)
    found = 0
    for _ in range(40):
        row = rng.randrange(len(index))
        q = [x + rng.gauss(0, 25) for x in index.vectors[row * 64:(row + 1) * 64]]
        fast, exact = index.nearest(q), index.nearest_exact(q)
        assert fast is not None and exact is not None
        found += fast[0] == exact[0]
        assert fast[1] <= exact[1] + 1e-9
    assert found >= 38


def test_rows_can_be_replaced_and_discarded():
    index = VectorIndex(4)
    index.add(10, [1, 0, 0, 0])
    index.add(11, [0, 1, 0, 0])
    index.add(12, [0, 0, 1, 0])
    assert index.nearest([0.9, 0.1, 0, 0])[0] == 10
    index.add(10, [0, 0, 0, 1])  # note 10 edited
    assert index.nearest([0, 0.1, 0, 0.9])[0] == 10 and len(index) == 3
    index.discard([10, 99])
    assert len(index) == 2 and index.nearest([0, 0, 0, 1])[0] != 10
    assert pytest.approx(index.nearest([0, 1, 0, 0])[1], abs=0.01) == 1.0
    assert VectorIndex(4).nearest([1, 0, 0, 0]) is None


def test_quantized_cosine_is_close_to_the_float_one():
    rng = random.Random(4)
    a = [rng.gauss(0, 1) for _ in range(384)]
    b = [x + rng.gauss(0, 0.7) for x in a]
    index = VectorIndex(384)
    index.add(1, b)
    exact = sum(x * y for x, y in zip(a, b)) / (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    assert abs(index.nearest(a)[1] - exact) < 0.01


# --- the cache file ----------------------------------------------------------------------------

def test_cache_round_trip_edit_and_compaction(tmp_path):
    path = str(tmp_path / "c.emb")
    cache = EmbedCache(path, EMBED)
    cache.load()
    cache.append([(1, 11, *quantize([1.0, 0.0, 0.5])), (2, 22, *quantize([0.0, 1.0, 0.0]))])
    cache.append([(1, 12, *quantize([0.0, 0.0, 1.0]))])  # note 1 edited
    again = EmbedCache(path, EMBED)
    index = again.load()
    assert again.hashes == {1: 12, 2: 22} and again.records == 3 and len(index) == 2
    assert index.nearest([0, 0, 1])[0] == 1
    again.forget([2])
    again.compact()
    third = EmbedCache(path, EMBED)
    assert len(third.load()) == 1 and third.records == 1 and third.hashes == {1: 12}
    assert not os.path.exists(path + ".tmp")


def test_a_torn_last_record_is_cut_off_and_nothing_before_it_is_lost(tmp_path):
    path = str(tmp_path / "c.emb")
    cache = EmbedCache(path, EMBED)
    cache.load()
    cache.append([(n, n, *quantize([float(n), 1.0, 2.0, 3.0])) for n in range(1, 6)])
    whole = os.path.getsize(path)
    with open(path, "ab") as f:  # a crash in the middle of the next write
        f.write(b"\x07" * 9)
    reread = EmbedCache(path, EMBED)
    assert len(reread.load()) == 5 and os.path.getsize(path) == whole
    with open(path, "r+b") as f:  # a damaged record: it and what follows are dropped
        f.seek(whole - 3)
        f.write(b"\xff\xff\xff")
    assert len(EmbedCache(path, EMBED).load()) == 4


@pytest.mark.parametrize("content", [b"", b"garbage", b"OFEMB1\n\x00\x00\x00\x00"])
def test_a_foreign_or_empty_file_starts_anew(tmp_path, content):
    path = tmp_path / "c.emb"
    path.write_bytes(content)
    cache = EmbedCache(str(path), EMBED)
    assert len(cache.load()) == 0
    cache.append([(1, 1, *quantize([1.0, 2.0]))])
    assert len(EmbedCache(str(path), EMBED).load()) == 1


def test_a_file_of_another_model_is_not_used(tmp_path):
    path = str(tmp_path / "c.emb")
    cache = EmbedCache(path, "model-a")
    cache.load()
    cache.append([(1, 1, *quantize([1.0, 2.0]))])
    assert len(EmbedCache(path, "model-b").load()) == 0
    assert cache_file("/x", "/c/collection.anki2", "a/b:c") != cache_file("/x", "/d/collection.anki2", "a/b:c")


# --- which text -------------------------------------------------------------------------------

def test_question_fields_follow_the_front_template(col):
    basic = stock_notetype(col, "basic")
    cloze = stock_notetype(col, "cloze")
    assert question_fields(basic) == [0]
    assert question_fields(cloze) == [0]
    custom = col.models.new("Own")
    for name in ("Answer", "Hint", "Question", "Picture"):
        col.models.add_field(custom, col.models.new_field(name))
    t = col.models.new_template("Card 1")
    t["qfmt"] = "{{#Hint}}<i>{{Hint}}</i>{{/Hint}} {{text:Question}} {{FrontSide}} {{type:Answer}}"
    t["afmt"] = "{{Answer}}"
    col.models.add_template(custom, t)
    assert question_fields(custom) == [1, 2]
    assert question_fields({"originalStockKind": 6, "flds": [{"name": "Occlusion"}], "tmpls": []}) == []
    assert plain("{{c1::Mitochondria::organelle}} make <b>ATP</b>&nbsp;here") == "Mitochondria make ATP here"


def test_only_the_questions_are_embedded(embed_server, col, tmp_path):
    add_basic(col, NOTES)
    questions = collection_questions(col)
    assert sorted(t for _n, t in questions) == sorted(f for f, _b in NOTES)
    stats = checker(embed_server, col, tmp_path).update(questions)
    assert stats.embedded == 4 and stats.complete
    assert not any(back in " ".join(embed_server.embedded) for _f, back in NOTES)


# --- the cache follows the collection -------------------------------------------------------------

def test_edits_and_deletions_are_followed_incrementally(embed_server, col, tmp_path):
    ids = add_basic(col, NOTES)
    checker(embed_server, col, tmp_path).update(collection_questions(col))
    assert len(embed_server.embedded) == 4
    note = col.get_note(ids[1])
    note["Front"] = "Which city is the capital of Australia?"
    col.update_note(note)
    note = col.get_note(ids[2])
    note["Back"] = "Tolstoy"  # not a question field: nothing to embed
    col.update_note(note)
    col.remove_notes([ids[3]])
    second = checker(embed_server, col, tmp_path)  # a later run, from the file
    stats = second.update(collection_questions(col))
    assert (stats.notes, stats.embedded, stats.forgotten) == (3, 1, 1)
    assert embed_server.embedded[4:] == ["Which city is the capital of Australia?"]
    assert set(second.cache.hashes) == set(ids[:3])
    again = checker(embed_server, col, tmp_path).update(collection_questions(col))
    assert again.embedded == 0


def test_a_build_that_breaks_keeps_every_batch_already_written(col, tmp_path, monkeypatch):
    import generator.similar.search as similar

    monkeypatch.setattr(similar, "BATCH", 5)
    add_basic(col, [(f"Question number {i} about topic {i}?", "x") for i in range(23)])
    calls = []

    with FakeOllama(models=MODELS, embedding_models=(EMBED,)) as srv:
        b = backend_for(srv.url)
        real = b.embed

        def embed(model, texts):
            calls.append(len(texts))
            if len(calls) == 3:
                raise BackendError("The model server failed (500).")  # the crash
            return real(model, texts)

        b.embed = embed
        first = SimilarNotes.for_collection(b, EMBED, str(tmp_path / "emb"), col.path, 0.8)
        with pytest.raises(BackendError):
            first.update(collection_questions(col))
        b.embed = real
        second = SimilarNotes.for_collection(b, EMBED, str(tmp_path / "emb"), col.path, 0.8)
        stats = second.update(collection_questions(col))
    assert stats.embedded == 23 - 10  # the two batches written before the failure were kept


def test_cancel_keeps_what_is_done(embed_server, col, tmp_path, monkeypatch):
    import generator.similar.search as similar

    monkeypatch.setattr(similar, "BATCH", 2)
    add_basic(col, [(f"Question {i}?", "x") for i in range(9)])
    cancel = threading.Event()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done >= 4:
            cancel.set()

    first = checker(embed_server, col, tmp_path)
    stats = first.update(collection_questions(col), cancel=cancel, on_progress=progress)
    assert not stats.complete and stats.embedded == 4
    assert checker(embed_server, col, tmp_path).update(collection_questions(col)).embedded == 5


# --- new cards ----------------------------------------------------------------------------------

def test_a_rephrased_card_is_marked_with_the_note(embed_server, col, tmp_path):
    ids = add_basic(col, NOTES)
    similar = checker(embed_server, col, tmp_path, threshold=0.6)
    similar.update(collection_questions(col))
    cards = [Card(kind="basic", front="Which cell organelle produces the ATP?", back="Mitochondria"),
             Card(kind="basic", front="How many moons does Mars have?", back="Two"),
             Card(kind="cloze", text="{{c1::Leo Tolstoy}} wrote the novel War and Peace.")]
    assert similar.mark(cards) == 2
    first = cards[0].similar_to
    assert first is not None and first.note_id == ids[0]
    assert first.front == NOTES[0][0] and 0.6 <= first.score <= 1.0
    assert cards[1].similar_to is None
    assert cards[2].similar_to is not None and cards[2].similar_to.note_id == ids[2]


def test_nothing_cached_means_nothing_marked_and_no_request(embed_server, col, tmp_path):
    similar = checker(embed_server, col, tmp_path)
    similar.update(collection_questions(col))  # an empty collection
    assert similar.mark([Card(kind="basic", front="Anything?")]) == 0
    assert embed_server.embedded == []


def test_similar_to_survives_the_journal_and_json():
    card = Card(kind="basic", front="Q?", back="A", similar_to=SimilarNote(5, "Old Q?", 0.91))
    d = json.loads(json.dumps(card.to_json()))
    assert d["similar_to"] == {"note_id": 5, "front": "Old Q?", "score": 0.91}
    assert card_from_json(d).similar_to == card.similar_to
    assert card_from_json({"kind": "basic", "similar_to": "junk"}).similar_to is None


def test_add_cards_skips_similar_cards_only_when_asked(col):
    target = NoteTarget(deck="Default")
    card = Card(kind="basic", front="Q1?", back="A", similar_to=SimilarNote(5, "Old", 0.9))
    out = add_cards(col, [card], target, skip_similar=True)
    assert not out.note_ids and "similar to note 5" in out.skipped[0][1]
    assert len(add_cards(col, [card], target).note_ids) == 1


def test_openai_embeddings_path(col, tmp_path):
    with FakeOllama(models=MODELS, embedding_models=(EMBED + ":latest",)) as srv:
        b = backend_for(srv.url, backend="openai")
        vectors = b.embed(EMBED + ":latest", ["one text", "another"])
        assert len(vectors) == 2 and vectors[0] == pytest.approx(fake_embedding("one text"))
        with pytest.raises(BackendError):
            b.embed("llama3.2", ["x"])  # not an embedding model


def test_a_server_answer_of_the_wrong_shape_is_an_error(embed_server):
    b = backend_for(embed_server.url)
    with pytest.raises(BackendError):
        b.embed("llama3.2", ["x"])  # "does not support embeddings"
    from generator.backends.embeddings import checked

    for bad in ([[1.0, 2.0], [1.0]], [[float("nan")]], [["x"]], [[]], "nope"):
        with pytest.raises(BackendError):
            checked(bad, len(bad) if isinstance(bad, list) else 1, b.http, "/api/embed", EMBED)


# --- the bulk job and the CLI --------------------------------------------------------------------

SOURCE = "Mitochondria produce the ATP of the cell through cellular respiration in their membranes.\n"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("skip", [True, False])
def test_the_bulk_job_skips_similar_cards_unless_asked_not_to(embed_server, col, tmp_path, skip):
    from fake_ollama import Reply

    ids = add_basic(col, NOTES)
    similar = checker(embed_server, col, tmp_path, threshold=0.6)
    similar.update(collection_questions(col))
    embed_server.script(Reply.cards([
        {"front": "Which cell organelle produces ATP?", "back": "Mitochondria",
         "quote": "Mitochondria produce the ATP of the cell"},
        {"front": "Through which process do mitochondria make energy?", "back": "Cellular respiration",
         "quote": "through cellular respiration in their membranes"}]))
    path = tmp_path / "cells.txt"
    path.write_text(SOURCE, encoding="utf-8")
    spec = BulkSpec([str(path)], JobOptions(model="llama3.2", num_ctx=2048), NoteTarget(deck="Bulk"),
                    skip_similar=skip)
    result = run_headless(col, backend_for(embed_server.url), str(tmp_path / "job"), spec,
                          setup=RunSetup(similar=similar, sync=False, batch_seconds=0))
    fronts = [col.get_note(n)["Front"] for n in result.note_ids]
    assert "Through which process do mitochondria make energy?" in fronts
    assert ("Which cell organelle produces ATP?" in fronts) is (not skip)
    assert ids[0] not in result.note_ids


@pytest.mark.timeout(120)
def test_cli_names_the_similar_note_and_skips_it(embed_server, tmp_path):
    from anki.collection import Collection
    from fake_ollama import Reply
    from cli_run import cli

    path = str(tmp_path / "collection.anki2")
    col = Collection(path)
    ids = add_basic(col, NOTES)
    col.close()
    answer = Reply.cards([{"front": "Which cell organelle produces ATP?", "back": "Mitochondria",
                           "quote": "Mitochondria produce the ATP of the cell"}])
    args = ["-", "--collection", path, "--url", embed_server.url, "--model", "llama3.2", "--json",
            "--embed-model", EMBED, "--similarity", "0.6", "--cache-dir", str(tmp_path / "emb")]
    embed_server.script(answer)
    r = cli(*args, stdin=SOURCE)
    assert r.returncode == 0, r.stderr
    cards = json.loads(r.stdout)
    assert cards[0]["similar_to"]["note_id"] == ids[0]
    assert "similar to note %d" % ids[0] in r.stderr
    assert "1 card made: 0 added, 1 similar to a note;" in r.stderr, r.stderr
    assert os.listdir(tmp_path / "emb")
    embed_server.script(answer)
    kept = cli(*args, "--keep-similar", stdin=SOURCE)
    assert kept.returncode == 0 and "1 card made: 1 added;" in kept.stderr, kept.stderr
    embed_server.script(answer)
    dry = cli(*args, "--dry-run", stdin=SOURCE)  # compares, adds nothing
    same = json.loads(dry.stdout)[0]["similar_to"]  # now the note --keep-similar added
    assert same["note_id"] not in ids and same["score"] > 0.99
    assert "1 card made: 0 added, 1 not added (dry run);" in dry.stderr, dry.stderr


@pytest.mark.timeout(120)
def test_cli_without_the_embedding_model_still_adds_the_cards(tmp_path):
    from cli_run import cli

    with FakeOllama() as srv:  # no embedding model on this server
        path = str(tmp_path / "collection.anki2")
        from anki.collection import Collection

        col = Collection(path)
        add_basic(col, NOTES)
        col.close()
        r = cli("-", "--collection", path, "--url", srv.url, "--model", "llama3.2",
                "--embed-model", "nomic-embed-text", "--cache-dir", str(tmp_path / "emb"), stdin=SOURCE)
        assert r.returncode == 0, r.stderr
        assert "Similar cards are not checked" in r.stderr and "Traceback" not in r.stderr
        assert "1 card made: 1 added;" in r.stderr


# --- quality on the labelled pairs ---------------------------------------------------------------

def test_the_labelled_pairs_cover_four_languages_both_ways():
    pairs = load_pairs()
    for lang in ("en", "de", "fr", "es"):
        mine = [p for p in pairs if p.lang == lang]
        assert sum(p.same for p in mine) >= 15 and sum(not p.same for p in mine) >= 15


def test_threshold_measured_on_the_fake_embedding_beats_chance():
    """The fake server's embedding sees shared words only, so it separates the pairs poorly
    (the real model's numbers are measured in make test-llm); what is checked here is that the
    measurement works on the pairs and what a threshold does per language."""
    pairs = load_pairs()
    scored = scores(pairs, lambda texts: [fake_embedding(t) for t in texts])
    best = best_threshold(scored)
    assert 0.55 <= best.accuracy and best.recall >= 0.8
    assert set(by_language(scored, pairs, best.threshold)) == {"en", "de", "fr", "es"}
