"""Topics first: finding a source's key topics (parallel, merged, quotes checked, faults), and
cards written for the chosen topics only."""
import json
import threading
import time

import pytest

from engine_fixtures import backend_for
from fake_ollama import FakeOllama, Reply
from generator.cards.card import Card
from generator.job.chunk import Chunk
from generator.errors import ServerUnreachable, UnreadableSource
from generator.job.run import JobOptions, run_job
from generator.notes.add import NoteTarget, add_cards
from generator.job.topics import (SAME_TOPIC, Topic, TopicPlan, find_topics, merge_topics, read_topics,
                              similarity, slug, topic_schema)

SECTIONS = {
    "Cells": "Mitochondria produce most of the cell's ATP through respiration. Ribosomes translate "
             "messenger RNA into proteins.",
    "Genetics": "DNA stores genetic information in sequences of four bases. Mutations change the "
                "sequence of bases in DNA.",
    "Ecology": "Predators control the size of prey populations. Decomposers return nutrients to the soil.",
}
OPTIONS = JobOptions(model="llama3.2", num_predict=512)


def chunks_of(options=None):
    return [Chunk(id=f"bio-{i}", document="bio.md", text=text, heading_path=("Biology", heading), index=i)
            for i, (heading, text) in enumerate(SECTIONS.items())]


def topic(title, chunks=("c1",), cards=1, **kw):
    return Topic(title=title, chunks=list(chunks), cards=cards, **kw)


# --- merging and comparing -----------------------------------------------------------------------

def test_same_topic_named_twice_is_one():
    merged = merge_topics([
        topic("The Calvin cycle", ["a"], 2, summary="Fixes CO2.", quote="x", grounded=False),
        topic("Light reactions", ["a"]),
        topic("Calvin cycles", ["b"], 3, quote="the Calvin cycle fixes carbon", grounded=True),
        topic("calvin CYCLE.", ["c"], 1),
        topic("Cell wall", ["c"]),
        topic("Cell membrane", ["c"]),
    ])
    assert [t.title for t in merged] == ["The Calvin cycle", "Light reactions", "Cell wall", "Cell membrane"]
    calvin = merged[0]
    assert calvin.chunks == ["a", "b", "c"] and calvin.cards == 6
    assert calvin.grounded and calvin.quote == "the Calvin cycle fixes carbon"  # a checked quote wins
    assert calvin.summary == "Fixes CO2."
    assert calvin.cards_in("b") == 3


def test_similarity_folds_case_plurals_small_words_and_order():
    assert similarity("Enzymes and their active sites", "enzyme active site") == 1.0
    assert similarity("Cycle of Krebs", "Krebs cycle") == 1.0
    assert similarity("Photosynthesis", "Photosynthesys") == 1.0  # a typo
    for a, b in (("Mitosis", "Meiosis"), ("Structure of DNA", "Structure of RNA"), ("Alkanes", "Alkenes"),
                 ("World War I", "World War II"), ("Type 1 diabetes", "Type 2 diabetes"),
                 ("Fact A-0-0 says", "Fact A-1-0 says"), ("Chapter 1 part 2", "Chapter 2 part 1")):
        assert similarity(a, b) < SAME_TOPIC, (a, b)
        assert len(merge_topics([topic(a), topic(b)])) == 2


def test_slug_is_tag_safe():
    assert slug("The Krebs cycle: steps & energy!") == "the-krebs-cycle-steps-energy"
    assert slug("Fotosíntesis y luz") == "fotosíntesis-y-luz"
    assert slug("::") == "topic"
    assert " " not in slug("a b c" * 30) and len(slug("word " * 40)) <= 60


def test_schema_is_flat_and_simple():
    schema = topic_schema()
    text = json.dumps(schema)
    assert "$ref" not in text and "anyOf" not in text and "pattern" not in text
    items = schema["properties"]["topics"]["items"]
    # no summary is asked: the cited sentence says what the topic is about, for no output tokens
    assert items["required"] == ["n", "title", "cards"]
    assert items["properties"]["n"] == {"type": "integer"} and items["properties"]["cards"] == {"type": "integer"}


# --- finding topics --------------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_topics_of_every_chunk_in_parallel_merged_in_document_order():
    with FakeOllama(latency=2.0, slots=3) as srv:
        b = backend_for(srv.url)
        chunks = chunks_of()
        assert len(chunks) == 3
        options = JobOptions(model="llama3.2", num_predict=512, parallel=3)
        started = time.monotonic()
        result = find_topics(chunks, b, options)
        took = time.monotonic() - started
        b.close()
    # the three requests ran at once (one after the other would take 6 s)
    assert srv.max_active == 3 and took < 5.0
    assert not result.failures and result.fatal is None
    titles = [t.title for t in result.topics]
    assert titles == ["Mitochondria produce most", "Ribosomes translate messenger", "DNA stores genetic",
                      "Mutations change the", "Predators control the", "Decomposers return nutrients"]
    first = result.topics[0]
    assert first.section == "Biology › Cells" and first.grounded and first.chunks == [chunks[0].id]
    assert "Mitochondria produce most of the cell's ATP" in first.quote and first.summary == ""
    bodies = srv.chat_bodies()
    assert all("topics" in body["format"]["properties"] for body in bodies)


def test_topic_whose_quote_is_not_in_the_text_is_marked(server, backend):
    chunk = chunks_of()[:1]
    server.script(Reply(content=json.dumps({"topics": [
        {"title": "Mitochondria", "section": "Cells", "summary": "ATP", "cards": 2,
         "quote": "Mitochondria produce most of the cell's ATP"},
        {"title": "Golgi apparatus", "section": "Cells", "summary": "Packaging", "cards": 1,
         "quote": "The Golgi apparatus packages proteins for export"}]})))
    result = find_topics(chunk, backend, OPTIONS)
    assert [(t.title, t.grounded) for t in result.topics] == [("Mitochondria", True), ("Golgi apparatus", False)]


def test_topics_arrive_while_the_list_is_written():
    with FakeOllama(rate=60) as srv:
        b = backend_for(srv.url)
        seen = []
        result = find_topics(chunks_of()[:1], b, OPTIONS, on_topic=lambda c, t: seen.append(time.monotonic()))
        b.close()
    assert len(seen) == len(result.topics) == 2
    last_piece = max(t for _n, t, _c in srv.sent)
    assert seen[0] < last_piece - 0.2


# --- faults of the topic step ----------------------------------------------------------------------

def test_server_down_is_fatal_and_clear():
    b = backend_for("http://127.0.0.1:9")
    result = find_topics(chunks_of(), b, OPTIONS)
    assert isinstance(result.fatal, ServerUnreachable) and not result.topics
    assert "ollama serve" in result.fatal.user_text()


def test_schema_ignored_prose_fences_and_other_key_names(server, backend):
    server.script(Reply(content="<think>Let me see.</think>Sure! Here are the topics:\n```json\n" + json.dumps([
        {"name": "ATP synthesis", "chapter": "Cells", "description": "Mitochondria make ATP",
         "count": "3", "excerpt": "Mitochondria produce most of the cell's ATP"},
        {"topic": "Translation", "about": "Ribosomes make proteins", "number_of_cards": 2.0}]) + "\n```\nEnjoy!"))
    result = find_topics(chunks_of()[:1], backend, OPTIONS)
    # the old form (a quote) is read; a topic citing nothing is placed where its title stands
    assert [(t.title, t.section, t.cards, t.grounded) for t in result.topics] == [
        ("ATP synthesis", "Cells", 3, True), ("Translation", "Biology › Cells", 2, True)]
    assert result.topics[1].quote == "Ribosomes translate messenger RNA into proteins."
    assert len(server.chat_bodies()) == 1


def test_a_broken_answer_is_asked_again_once_with_the_problem(server, backend):
    server.script(Reply(content="I cannot answer in JSON, sorry."))
    result = find_topics(chunks_of()[:1], backend, OPTIONS)
    bodies = server.chat_bodies()
    assert len(bodies) == 2 and result.topics and not result.failures
    assert "could not be used" in bodies[1]["messages"][-1]["content"]


def test_two_broken_answers_fail_that_chunk_only(server, backend):
    server.script(Reply(content="{not json"), Reply(content="no topics here"))
    result = find_topics(chunks_of(), backend, OPTIONS)
    assert len(result.failures) == 1 and result.fatal is None
    assert len(result.topics) == 4 and "not JSON" in result.failures[0].message


def test_a_topic_list_cut_short_keeps_the_closed_topics_and_says_so(server, backend):
    full = json.dumps({"topics": [
        {"title": "Mitochondria", "section": "", "summary": "ATP", "cards": 2, "quote": "x"},
        {"title": "Ribosomes", "section": "", "summary": "Proteins", "cards": 1, "quote": "y"},
        {"title": "Nucleus", "section": "", "summary": "DNA", "cards": 1, "quote": "z"}]})
    server.script(Reply(content=full[: full.index("Nucleus")], done_reason="length"))
    result = find_topics(chunks_of()[:1], backend, OPTIONS)
    assert [t.title for t in result.topics] == ["Mitochondria", "Ribosomes"]
    assert len(result.cut) == 1 and "2 topics" in result.cut[0].message
    assert len(server.chat_bodies()) == 1


def test_a_stream_cut_mid_list_keeps_what_arrived(server, backend):
    content = json.dumps({"topics": [
        {"title": f"Topic number {i}", "section": "", "summary": "s", "cards": 1, "quote": "q"}
        for i in range(4)]})
    server.script(Reply(mode="cut", content=content, pieces=4))
    result = find_topics(chunks_of()[:1], backend, OPTIONS)
    assert 1 <= len(result.topics) < 4 and len(result.cut) == 1 and not result.failures


def test_cancel_returns_quickly_with_what_is_done():
    with FakeOllama(latency=60) as srv:  # every answer takes a minute
        b = backend_for(srv.url)
        cancel = threading.Event()
        threading.Timer(0.3, cancel.set).start()
        started = time.monotonic()
        result = find_topics(chunks_of(), b, OPTIONS, cancel)
        # it did not wait for the answer in flight: it closed the request
        assert result.cancelled and time.monotonic() - started < 10
        b.close()


def test_focus_goes_with_every_request_of_both_steps(server, backend):
    options = JobOptions(model="llama3.2", num_predict=512, focus="only the genetics")
    chunks = chunks_of()
    found = find_topics(chunks, backend, options)
    run_job(chunks, backend, options, asks=TopicPlan.for_options(found.topics, options, chunks).ask)
    run_job(chunks, backend, options)
    bodies = server.chat_bodies()
    assert len(bodies) == 9
    assert all("focus for this text: only the genetics" in b["messages"][0]["content"] for b in bodies)


# --- cards for the chosen topics -----------------------------------------------------------------

def test_only_the_checked_topics_get_cards_and_a_chunk_without_one_is_not_asked(server, backend, col):
    chunks = chunks_of()
    topics = find_topics(chunks, backend, OPTIONS).topics
    by_title = {t.title: t for t in topics}
    by_title["Ribosomes translate messenger"].checked = False
    for title in ("Predators control the", "Decomposers return nutrients"):
        by_title[title].checked = False  # nothing chosen in the third chunk
    asked_before = len(server.chat_bodies())
    plan = TopicPlan.for_options(topics, OPTIONS, chunks)
    result = run_job(chunks, backend, OPTIONS, asks=plan.ask)
    bodies = server.chat_bodies()[asked_before:]
    assert len(bodies) == 2 and result.chunks_done == 3  # the ecology chunk was not asked
    assert {c.topic for c in result.cards} == {"Mitochondria produce most", "DNA stores genetic",
                                               "Mutations change the"}
    assert all("ollama-flashcards::topic::" + slug(c.topic) in c.tags for c in result.cards)
    first = bodies[0]
    items = first["format"]["properties"]["cards"]["items"]
    assert items["properties"]["topic"]["enum"] == ["Mitochondria produce most"]
    user = first["messages"][1]["content"]
    assert "- Mitochondria produce most" in user and "in particular: Ribosomes translate messenger" in user
    # one subdeck per topic, and the tag on the note
    outcome = add_cards(col, result.cards, NoteTarget(deck="Bio", topic_subdecks=True))
    decks = {col.decks.name(col.get_card(col.get_note(n).card_ids()[0]).did) for n in outcome.note_ids}
    assert decks == {"Bio::Mitochondria produce most", "Bio::DNA stores genetic", "Bio::Mutations change the"}
    note = col.get_note(outcome.note_ids[0])
    assert "ollama-flashcards::topic::mitochondria-produce-most" in note.tags


def test_a_topic_of_the_users_own_goes_to_the_chunks_that_mention_it(server, backend):
    chunks = chunks_of()
    topics = [Topic("Mutations and DNA", custom=True, cards=2)]
    plan = TopicPlan.for_options(topics, OPTIONS, chunks)
    assert [bool(plan.here(c)) for c in chunks] == [False, True, False]
    result = run_job(chunks, backend, OPTIONS, asks=plan.ask)
    assert len(server.chat_bodies()) == 1
    assert result.cards and all(c.topic == "Mutations and DNA" for c in result.cards)


def test_a_topic_no_chunk_mentions_is_asked_of_every_chunk(server, backend):
    chunks = chunks_of()
    plan = TopicPlan.for_options([Topic("Quantum chromodynamics", custom=True)], OPTIONS, chunks)
    result = run_job(chunks, backend, OPTIONS, asks=plan.ask)
    assert len(server.chat_bodies()) == 3 and not result.failures  # an empty answer is fine


def test_cards_are_mapped_to_topics_tolerantly_and_left_out_topics_dropped(server, backend):
    chunk = Chunk(id="c1", document="d.md", text="Alpha beta gamma delta. Epsilon zeta eta theta.")
    chosen = topic("Alpha beta", ["c1"], 2)
    other = topic("Epsilon zeta", ["c1"], 1, summary="Epsilon, zeta, eta and theta")
    left = topic("Gamma rays", ["c1"], 1, checked=False)
    server.script(Reply.cards([
        {"front": "What follows alpha?", "back": "Beta", "quote": "Alpha beta gamma", "topic": "alpha-beta"},
        {"front": "What about gamma rays?", "back": "Delta", "quote": "gamma delta", "topic": "Gamma Rays"},
        {"front": "What follows epsilon?", "back": "Zeta", "quote": "Epsilon zeta", "topic": "no idea"},
        {"front": "What is eta?", "back": "Theta", "quote": "eta theta"},
    ]))
    plan = TopicPlan([chosen, other, left], ["c1"])
    result = run_job([chunk], backend, JobOptions(model="llama3.2"), asks=plan.ask)
    assert [(c.back, c.topic) for c in result.cards] == [
        ("Beta", "Alpha beta"), ("Zeta", "Epsilon zeta"), ("Theta", "Epsilon zeta")]


# --- topics files --------------------------------------------------------------------------------

def test_topics_file_as_json_or_lines():
    printed = json.dumps([topic("Krebs cycle", ["a", "b"], 4).to_json(),
                          dict(topic("History", ["c"]).to_json(), checked=False)])
    topics = read_topics(printed)
    assert [(t.title, t.checked, t.chunks, t.cards) for t in topics] == [
        ("Krebs cycle", True, ["a", "b"], 4), ("History", False, ["c"], 1)]
    assert read_topics(json.dumps({"topics": [{"title": "X"}]}))[0].title == "X"
    lines = read_topics("\ufeff# my topics\n- Krebs cycle\n\n* Glycolysis\x1b[31m red\n")
    assert [(t.title, t.custom) for t in lines] == [("Krebs cycle", True), ("Glycolysis red", True)]


@pytest.mark.parametrize("text", ["", "   \n", "[1, 2]", '{"topics": "x"}', "[{]",
                                  json.dumps([{"title": "A", "checked": False}])])
def test_unusable_topics_files_are_refused_clearly(text):
    with pytest.raises(UnreadableSource) as e:
        read_topics(text)
    assert e.value.hint


def test_hostile_topic_text_is_cleaned():
    t = Topic.from_json({"title": "<b>Bold</b>\x07 " + "x" * 500, "summary": "\u202eevil", "cards": "1e9",
                         "chunks": "not a list"})
    assert t is not None and t.title.startswith("Bold ") and len(t.title) <= 80
    assert "\u202e" not in t.summary and t.cards == 20 and t.chunks == []
