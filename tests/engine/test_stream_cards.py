"""Cards as they are written: the incremental parser, and the job handing cards on before the
model's answer has ended (timestamps checked against the fake server's own stream)."""
import json
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine_fixtures import backend_for, listener
from fake_ollama import FakeOllama, Reply
from generator.job.answers import build_cards
from generator.cards.card import Card
from generator.job.chunk import Chunk
from generator.job.run import JobOptions, run_job
from generator.job.stream import CardStream, LiveDuplicates, ObjectStream, reconcile

TEXT = ("Mitochondria produce most of the cell's ATP. Ribosomes translate messenger RNA into "
        "proteins. The nucleus stores the genetic material of the cell. Chloroplasts capture "
        "light energy for photosynthesis. Lysosomes break down waste inside the cell.")
CHUNK = Chunk(id="k1", document="bio.md", text=TEXT, heading_path=("Cells",))
CARDS = [
    {"front": "What produces most of the cell's ATP?", "back": "Mitochondria",
     "quote": "Mitochondria produce most of the cell's ATP"},
    {"front": "What translates messenger RNA into proteins?", "back": "Ribosomes",
     "quote": "Ribosomes translate messenger RNA into proteins"},
    {"front": "Where is the genetic material stored?", "back": "In the nucleus",
     "quote": "The nucleus stores the genetic material of the cell"},
]
ANSWER = json.dumps({"cards": CARDS})


def feed_in(stream, text, size):
    for i in range(0, len(text), size):
        stream.feed(text[i:i + size])


def objects_of(text, size=1):
    got = []
    s = ObjectStream(got.append)
    feed_in(s, text, size)
    return got, s


# --- the incremental parser ----------------------------------------------------------------------

@pytest.mark.parametrize("wrapper", [
    "{}",
    "```json\n{}\n```",
    "Sure! Here are the cards you asked for:\n{}\nHope this helps.",
    "<think>The user wants {{cards}} [maybe]; \"quotes\" too.</think>\n{}",
    "<THINK>hmm</THINK>```\n{}```",
])
@pytest.mark.parametrize("size", [1, 3, 17, 10_000])
def test_items_found_in_any_wrapping_and_any_split(wrapper, size):
    got, s = objects_of(wrapper.format(ANSWER), size)
    assert got == CARDS
    assert s.complete and not s.open


def test_a_bare_list_and_nested_values_inside_items():
    items = [{"front": "a {b} [c]", "back": "x \"}\" y", "tags": ["t1", {"k": "v"}], "n": {"m": [1]}},
             {"front": "back\\slash\\", "back": "ok"}]
    got, _ = objects_of(json.dumps(items), 1)
    assert got == items


def test_each_item_is_handed_on_when_its_brace_arrives_not_later():
    seen = []
    s = ObjectStream(lambda obj: seen.append((obj["front"], s.chars)))
    text = ANSWER
    for ch in text:
        s.feed(ch)
    ends = [text.index(json.dumps(c)) + len(json.dumps(c)) for c in CARDS]
    assert [n for _front, n in seen] == ends


def test_a_cut_answer_keeps_what_closed_and_says_it_is_open():
    text = ANSWER[: ANSWER.index(CARDS[2]["front"])]
    got, s = objects_of(text, 5)
    assert got == CARDS[:2] and s.open and s.broken and not s.complete


def test_prose_with_brackets_before_the_json_does_not_hide_the_cards():
    got, s = objects_of("Notes [1] and (see {below): " + ANSWER, 4)
    assert got == CARDS and s.open and not s.broken  # the prose's brace never closes; the list did


def test_memory_stays_bounded_by_one_item():
    s = ObjectStream(lambda obj: None)
    s.feed('{"cards": [')
    for _ in range(2000):
        s.feed(json.dumps(CARDS[0]) + ", ")
    assert len(s._buf) < 200 and s.items == 2000


def test_a_huge_item_is_left_to_the_final_parse():
    got, s = objects_of(json.dumps({"cards": [{"front": "x" * 100_000, "back": "y"}, CARDS[0]]}), 4096)
    assert got == [CARDS[0]]


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(ANSWER) + 40), max_size=12),
       prefix=st.sampled_from(["", "<think>x</think>", "```json\n", "Here:\n"]))
def test_streamed_cards_equal_the_final_parse_however_the_text_is_split(cuts, prefix):
    text = prefix + ANSWER + ("```" if prefix.startswith("```") else "")
    shown = []
    stream = CardStream(CHUNK, "basic", 10, shown.append)
    last = 0
    for cut in sorted(set(c for c in cuts if c < len(text))) + [len(text)]:
        stream.feed(text[last:cut])
        last = cut
    final = stream.settle(text)
    assert [c.front for c in shown] == [c.front for c in build_cards(text, CHUNK, "basic", 10)]
    assert all(a is b for a, b in zip(shown, final)) and len(final) == len(shown) == 3
    assert not stream.cut


def test_stream_cards_are_validated_cleaned_and_grounded():
    items = [{"question": "<script>x()</script>What produces ATP?", "answer": "Mitochondria",
              "source_quote": "Mitochondria produce most of the cell's ATP"},
             {"front": "Same", "back": "same", "quote": "x"},  # front = back: dropped
             {"front": "Capital of France?", "back": "Paris", "quote": "Paris is the capital of France"}]
    shown = []
    stream = CardStream(CHUNK, "basic", 10, shown.append)
    feed_in(stream, json.dumps({"cards": items}), 7)
    assert len(shown) == 2
    assert "<script" not in shown[0].front and shown[0].grounded and shown[0].chunk_id == "k1"
    assert shown[1].grounded is False


def test_the_limit_holds_for_early_cards_too():
    shown = []
    stream = CardStream(CHUNK, "basic", 2, shown.append)
    feed_in(stream, ANSWER, 9)
    assert len(shown) == 2 and len(stream.settle(ANSWER)) == 2


def test_a_failing_display_does_not_cost_the_cards():
    def boom(card):
        raise RuntimeError("display broke")

    stream = CardStream(CHUNK, "basic", 10, boom)
    feed_in(stream, ANSWER, 11)
    assert len(stream.settle(ANSWER)) == 3


def test_reconcile_maps_early_cards_to_the_final_list():
    def card(front):
        return Card(kind="basic", front=front, back="b")

    a, b, c, d = card("a"), card("b"), card("c"), card("d")
    r = reconcile([a, b, c], [a, card("b"), d])
    assert r.same == [(0, 0), (1, 1)] and r.replaced == [(2, 2)] and not r.withdrawn and not r.added
    r = reconcile([a, b, c], [c])
    assert r.same == [(2, 0)] and r.withdrawn == [0, 1] and not r.added
    r = reconcile([], [a, b])
    assert r.added == [0, 1] and not r.same


def test_live_duplicates_against_the_collection_and_the_job():
    live = LiveDuplicates(exact={"What is ATP?"}, near={"what is dna"})
    marks = [live.mark(Card(kind="basic", front=f, back="x")).duplicate
             for f in ("What is ATP?", "What is DNA!", "New one?", "new ONE")]
    assert marks == ["collection", "near", None, "batch"]


# --- the job, against the fake server streaming at a fixed rate -----------------------------------

def long_chunk(n=6):
    sentences = " ".join(f"Fact {i}: element number {i} has the property called quality{i}." for i in range(n))
    return Chunk(id="long", document="facts.md", text=sentences, heading_path=("Facts",))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", ["ollama", "openai"])
def test_cards_arrive_while_the_server_is_still_writing(protocol):
    with FakeOllama(rate=200) as srv:
        b = backend_for(srv.url, backend=protocol)
        arrived = []
        lock = threading.Lock()

        def on_card(chunk, card):
            with lock:
                arrived.append((time.monotonic(), card))

        result = run_job([long_chunk()], b, JobOptions(model="llama3.2", max_cards=6),
                         listener(on_card=on_card))
        b.close()
        assert len(result.cards) == 6 and len(arrived) == 6
        assert [c for _t, c in arrived] == result.cards  # the same objects, in the same order
        answer = srv.answers[1]
        sent = [(t, n) for number, t, n in srv.sent if number == 1]
        last_piece = sent[-1][0]
        for k, (t, card) in enumerate(arrived):
            item = json.loads(answer)["cards"][k]
            closed_at = answer.index(json.dumps(item)) + len(json.dumps(item))
            written = next(ts for ts, n in sent if n >= closed_at)  # when the server sent its "}"
            assert written <= t < written + 0.75, (k, t - written)
        # the first card was on screen long before the answer ended
        assert arrived[0][0] < last_piece - 0.5 * (last_piece - sent[0][0])


@pytest.mark.timeout(30)
def test_a_truncated_answer_keeps_the_closed_cards_and_says_so(server, backend):
    cut = ANSWER[: ANSWER.index(CARDS[2]["front"]) + 5]
    server.script(Reply(content=cut, done_reason="length", pieces=9))
    shown = []
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", num_predict=400, max_cards=5),
                     listener(on_card=lambda ch, c: shown.append(c)))
    assert [c.back for c in result.cards] == ["Mitochondria", "Ribosomes"]
    assert result.cards == shown and not result.failures
    assert len(server.chat_bodies()) == 1  # kept, not asked again (that would repeat them)
    assert len(result.cut) == 1
    msg = result.cut[0].error.user_text()
    assert "2 cards" in msg and "num_predict" in msg


@pytest.mark.timeout(30)
def test_a_broken_answer_keeps_the_closed_cards(server, backend):
    broken = ANSWER[: ANSWER.index(CARDS[2]["front"])] + "oops, I lost my train of thought"
    server.script(Reply(content=broken))
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", max_cards=5))
    assert len(result.cards) == 2 and len(result.cut) == 1
    assert "broken" in result.cut[0].error.message


@pytest.mark.timeout(30)
def test_a_stream_that_dies_keeps_the_cards_written_before(server, backend):
    content = ANSWER + " " * 200
    server.script(Reply(mode="cut", content=content, pieces=4))  # two lines of four arrive
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", max_cards=5))
    half = content[: 2 * -(-len(content) // 4)]
    assert len(result.cards) == sum(1 for c in CARDS if json.dumps(c) in half) >= 1
    assert len(result.cut) == 1 and not result.failures
    assert len(server.chat_bodies()) == 1


@pytest.mark.timeout(30)
def test_an_answer_with_nothing_closed_is_still_retried(server, backend):
    server.script(Reply(content='{"cards": [{"front": "What produces', done_reason="length"))
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", max_cards=5))
    assert len(server.chat_bodies()) == 2 and result.cards and not result.cut


@pytest.mark.timeout(30)
def test_cards_carry_their_check_flags_as_they_arrive(server, backend):
    server.script(Reply.cards([
        {"front": "Is it true that mitochondria produce most of the cell's ATP?", "back": "Yes",
         "quote": "Mitochondria produce most of the cell's ATP"},
        CARDS[1]], pieces=12))
    seen = []
    result = run_job([CHUNK], backend, JobOptions(model="llama3.2", max_cards=5, self_review="off"),
                     listener(on_card=lambda ch, c: seen.append((c.front, [check for check, _ in c.flags]))))
    assert seen[0][1] and not seen[1][1]  # flagged the moment it arrived, before its chunk ended
    assert [check for check, _ in result.cards[0].flags] == seen[0][1]
