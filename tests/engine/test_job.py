"""The generation job against the fake Ollama server: what is sent, and what comes back."""
import json
import threading
import time

import pytest

from engine_fixtures import backend_for, listener
from fake_ollama import FakeOllama, Reply
from generator.job.chunk import Chunk
from generator.errors import ModelNotFound
from generator.job.run import JobOptions, chunk_budget, plan_chunks, prepare_job, run_job
from generator.sources.read import read_text

TEXT = """# Biology

## Cells
The cell is the basic unit of life. Mitochondria produce most of the cell's ATP through respiration.

## Genetics
DNA stores genetic information in sequences of four bases. Ribosomes translate messenger RNA into proteins.
"""


def chunks_of(text=TEXT, options=None):
    options = options or JobOptions(model="llama3.2", num_ctx=1024, num_predict=256)
    return plan_chunks([read_text(text, "bio.md")], options)


def make_chunks(n):
    return [Chunk(id=f"c{i}", document="doc.txt", text=f"Fact number {i} is that item {i} weighs {i} grams exactly.",
                  heading_path=("Section", f"Part {i}"), index=i) for i in range(n)]


def test_system_prompt_first_and_identical_for_every_chunk(server, backend):
    options = JobOptions(model="llama3.2", parallel=1)
    result = run_job(make_chunks(4), backend, options)
    bodies = server.chat_bodies()
    assert len(bodies) == 4 and len(result.cards) >= 4
    systems = {b["messages"][0]["content"] for b in bodies}
    assert len(systems) == 1 and all(b["messages"][0]["role"] == "system" for b in bodies)
    system = systems.pop()
    assert "One fact per card" in system and "yes/no" in system
    for i, b in enumerate(bodies):
        user = b["messages"][1]["content"]
        # the text first (numbered by sentence), what is asked after it
        assert user.startswith(f"Source: doc.txt — Section › Part {i}\nText:\n<<<\n"
                               f"[1] Fact number {i} is that item {i} weighs {i} grams exactly.\n>>>\n\n")
        assert "Write one card for every distinct fact" in user.split(">>>")[1]
        assert b["options"]["num_ctx"] == bodies[0]["options"]["num_ctx"]
        items = b["format"]["properties"]["cards"]["items"]
        assert items["required"] == ["n", "front", "back"] and items["properties"]["n"] == {"type": "integer"}


def test_cards_are_grounded_and_carry_their_source(server, backend):
    result = run_job(chunks_of(), backend, JobOptions(model="llama3.2", max_cards=10))
    assert not result.failures
    assert result.cards and all(c.grounded for c in result.cards)
    assert any("Mitochondria" in c.back for c in result.cards)
    card = result.cards[0]
    assert card.source.document == "bio.md" and card.source.heading_path[0] == "Biology"


def test_ungrounded_quote_is_marked(server, backend):
    server.script(Reply.cards([{"front": "What is the capital of France?", "back": "Paris",
                                "quote": "Paris is the capital of France"}]))
    result = run_job(make_chunks(1), backend, JobOptions(model="llama3.2"))
    assert len(result.cards) == 1 and result.cards[0].grounded is False


def test_results_in_document_order_with_parallel_requests():
    # Later chunks answer faster: order must still be the document's.
    def answerer(body):
        user = body["messages"][1]["content"]
        n = int(user.split("Fact number ")[1].split(" ")[0])
        return Reply(delay=0.02 * (6 - n))

    with FakeOllama(answerer=answerer, slots=3) as srv:
        b = backend_for(srv.url)
        seen = []
        result = run_job(make_chunks(6), b, JobOptions(model="llama3.2", parallel=3),
                         listener(on_chunk=lambda chunk, cards: seen.append(chunk.index)))
        assert seen == list(range(6))
        assert [c.chunk_id for c in result.cards] == sorted({c.chunk_id for c in result.cards}, key=lambda s: int(s[1:]))
        assert srv.max_active == 3


def test_cancel_keeps_the_cards_already_made():
    def answerer(body):  # the first two chunks answer at once, the others take a minute
        first = any("Fact number %d " % i in body["messages"][1]["content"] for i in (0, 1))
        return Reply(delay=0.15 if first else 60)

    with FakeOllama(answerer=answerer) as srv:
        b = backend_for(srv.url)
        cancel = threading.Event()
        progress = []
        cancelled_at = []

        def on_progress(p):
            progress.append(p)
            if p.chunks_done == 2:
                cancel.set()
                cancelled_at.append(time.monotonic())

        result = run_job(make_chunks(50), b, JobOptions(model="llama3.2"), listener(on_progress=on_progress),
                         cancel=cancel)
        assert result.cancelled
        assert result.chunks_done == 2 and len(result.cards) >= 2
        # it did not wait for the answers in flight (a minute away): it closed the requests
        assert time.monotonic() - cancelled_at[0] < 10
        assert progress[-1].tokens_per_s > 0


def test_invalid_answer_is_retried_once_with_the_problem(server, backend):
    server.script(Reply(content="Sure! Here are your cards: none."), Reply())
    result = run_job(make_chunks(1), backend, JobOptions(model="llama3.2"))
    assert len(result.cards) == 1 and not result.failures
    retry = server.chat_bodies()[1]["messages"]
    assert retry[2]["role"] == "assistant" and retry[3]["role"] == "user"
    assert "could not be used" in retry[3]["content"]


def test_two_bad_answers_fail_that_chunk_only(server, backend):
    server.script(Reply(content="no"), Reply(content="still no"))
    result = run_job(make_chunks(3), backend, JobOptions(model="llama3.2"))
    assert len(result.failures) == 1 and result.failures[0].chunk.index == 0
    assert "not JSON" in result.failures[0].message
    assert {c.chunk_id for c in result.cards} == {"c1", "c2"}


@pytest.mark.parametrize("wrap", [
    "```json\n{}\n```",
    "Here you go:\n```\n{}\n```\nHope that helps!",
    "<think>Let me think about cards.</think>{}",
    "Cards: {} -- end",
])
def test_model_that_ignores_the_schema_with_fences_or_prose(server, backend, wrap):
    payload = json.dumps({"cards": [{"front": "What do mitochondria produce?", "back": "**ATP**",
                                     "quote": "Mitochondria produce most of the cell's ATP"}]})
    server.script(Reply(content=wrap.replace("{}", payload)))
    result = run_job(make_chunks(1), backend, JobOptions(model="llama3.2"))
    assert [c.back for c in result.cards] == ["<b>ATP</b>"]


def test_answer_only_in_thinking_is_used(server, backend):
    payload = json.dumps({"cards": [{"question": "What is item 0's weight?", "answer": "0 grams", "quote": "weighs 0 grams"}]})
    server.script(Reply(content="", thinking=payload))
    result = run_job(make_chunks(1), backend, JobOptions(model="llama3.2"))
    assert result.cards[0].front == "What is item 0's weight?"


def test_truncated_answer_is_retried_with_more_room(server, backend):
    server.script(Reply(content='{"cards": [{"front": "What', done_reason="length"))
    result = run_job(make_chunks(1), backend, JobOptions(model="llama3.2", num_predict=300))
    assert len(result.cards) == 1
    first, second = server.chat_bodies()
    assert second["options"]["num_predict"] > first["options"]["num_predict"]
    assert second["options"]["num_ctx"] == first["options"]["num_ctx"]


def test_truncated_twice_is_reported(server, backend):
    server.script(*[Reply(content='{"cards": [{"front": "What', done_reason="length")] * 2)
    result = run_job(make_chunks(1), backend, JobOptions(model="llama3.2"))
    assert "cut off" in result.failures[0].message


def test_thinking_model_gets_think_false_and_context_cap(server, backend):
    options = prepare_job(backend, JobOptions(model="qwen3:4b", num_ctx=32768))
    assert options.think is False and options.num_ctx == 8192
    run_job(make_chunks(1), backend, options)
    assert server.chat_bodies()[-1]["think"] is False
    plain = prepare_job(backend, JobOptions(model="llama3.2"))
    assert plain.think is None


def test_missing_model_fails_early(server, backend):
    with pytest.raises(ModelNotFound):
        prepare_job(backend, JobOptions(model="mistral"))


def test_server_gone_mid_job_stops_and_keeps_cards():
    srv = FakeOllama(latency=0.05).start()
    b = backend_for(srv.url)
    done = []

    def on_chunk(chunk, cards):
        done.append(chunk.index)
        if len(done) == 2:
            srv.stop()

    result = run_job(make_chunks(10), b, JobOptions(model="llama3.2"), listener(on_chunk=on_chunk))
    assert len(result.cards) >= 2
    assert result.fatal is not None and "Cannot connect" in result.fatal.message
    assert result.chunks_done < 10


def test_max_cards_is_a_hard_limit(server, backend):
    result = run_job(make_chunks(10), backend, JobOptions(model="llama3.2", max_cards=3))
    assert len(result.cards) == 3


def test_chunk_budget_leaves_room_for_prompt_and_answer():
    # With a number of cards set, only the context bounds a piece (with an automatic count the
    # depth's cards must fit in the answer as well: tests/engine/test_depth.py).
    options = JobOptions(model="m", num_ctx=4096, num_predict=1024, max_cards=50)
    budget = chunk_budget(options)
    assert 1500 < budget < 4096 - 1024
    for chunk in chunks_of(TEXT * 40, options):
        from generator.job.chunking import estimate_tokens
        assert estimate_tokens(chunk.text) <= budget


def test_cloze_job_produces_normalised_clozes(server, backend):
    result = run_job(make_chunks(2), backend, JobOptions(model="llama3.2", kind="cloze"))
    assert result.cards and all("{{c1::" in c.text for c in result.cards)
    assert "{{c1::" in server.chat_bodies()[0]["messages"][0]["content"]


def test_cards_copying_the_prompts_format_example_are_dropped(server, backend):
    server.script(Reply.cards([{"front": "question", "back": "answer", "quote": "verbatim excerpt"},
                               {"front": "How much does item 0 weigh?", "back": "0 grams",
                                "quote": "verbatim excerpt"}]))
    result = run_job(make_chunks(1), backend, JobOptions(model="llama3.2"))
    assert [c.front for c in result.cards] == ["How much does item 0 weigh?"]
    # the placeholder quote cites nothing; the answer stands in sentence 1, so it rests there
    card = result.cards[0]
    assert card.grounded and card.sentences == [1] and card.quote.startswith("Fact number 0 is")


def test_a_slow_first_chunk_holds_back_only_a_bounded_window():
    def answerer(body):
        return Reply(delay=1.0 if "Fact number 0 " in body["messages"][1]["content"] else 0.0)

    with FakeOllama(answerer=answerer, slots=2) as srv:
        b = backend_for(srv.url)
        seen = []
        run_job(make_chunks(60), b, JobOptions(model="llama3.2", parallel=2),
                listener(on_chunk=lambda chunk, cards: seen.append((chunk.index, len(srv.chat_bodies())))))
        assert [i for i, _ in seen] == list(range(60))
        asked_when_first_done = seen[0][1]
        assert asked_when_first_done <= 2 * 2 + 16 + 1  # not all 60 asked while chunk 0 was stuck


def test_answers_are_handed_over_as_they_arrive_on_their_worker():
    """``on_answer`` gets a chunk's cards the moment they are ready, while the chunk still waits
    behind a slower one (a journal keeps them there: a crash loses only requests in flight);
    ``on_chunk`` still goes in document order."""
    others = threading.Event()
    waited = []

    def answerer(body):
        if "Fact number 0 " in body["messages"][1]["content"]:
            waited.append(others.wait(60))  # chunk 0 answers once the others are handed over
        return Reply()

    answered, seen = [], []

    def on_answer(chunk, cards):
        answered.append((chunk.index, threading.current_thread() is threading.main_thread(), len(cards)))
        if len(answered) == 5:
            others.set()

    with FakeOllama(answerer=answerer, slots=2) as srv:
        b = backend_for(srv.url)
        result = run_job(make_chunks(6), b, JobOptions(model="llama3.2", parallel=2),
                         listener(on_answer=on_answer,
                                  on_chunk=lambda chunk, cards: seen.append((chunk.index, len(answered)))))
    assert waited and all(waited)
    assert sorted(i for i, _main, _n in answered[:5]) == [1, 2, 3, 4, 5] and answered[5][0] == 0
    assert not any(main for _i, main, _n in answered)  # on the workers
    assert all(n > 0 for _i, _main, n in answered) and len(result.cards) == sum(n for _i, _m, n in answered)
    assert seen == [(i, 6) for i in range(6)]  # document order, each after every answer was in


def test_what_on_answer_raises_run_job_raises_and_nothing_is_handed_on(server, backend):
    def on_answer(chunk, cards):
        raise OSError(28, "No space left on device")

    seen = []
    with pytest.raises(OSError):
        run_job(make_chunks(4), backend, JobOptions(model="llama3.2", parallel=2),
                listener(on_answer=on_answer, on_chunk=lambda chunk, cards: seen.append(chunk.index)))
    assert seen == []  # no chunk passed on as done that was not kept


def test_chunk_too_long_for_the_server_is_split_and_still_covered():
    from generator.job.chunk import Chunk

    def answerer(body):
        if len(body["messages"][1]["content"]) > 700:
            return Reply.error(400, "the input length exceeds the context length")
        return Reply()

    text = "\n\n".join(f"Paragraph {i} says that element {i} melts at {i * 10} degrees exactly." for i in range(24))
    chunk = Chunk(id="big", document="chem.txt", text=text, heading_path=("Metals",), index=0)
    with FakeOllama(answerer=answerer) as srv:
        result = run_job([chunk], backend_for(srv.url), JobOptions(model="llama3.2", max_cards=40))
    assert not result.failures
    assert {c.chunk_id for c in result.cards} == {"big"}
    asked = [b["messages"][1]["content"] for b in srv.chat_bodies() if len(b["messages"][1]["content"]) <= 700]
    for i in range(24):  # every paragraph reached the model in some half
        assert any(f"Paragraph {i} says" in a for a in asked)


def test_context_error_on_a_chunk_that_cannot_shrink_is_reported(server, backend):
    server.script(*[Reply.error(400, "the input length exceeds the context length")] * 10)
    from generator.job.chunk import Chunk
    result = run_job([Chunk(id="x", document="d", text="Tiny.")], backend, JobOptions(model="llama3.2"))
    assert "context window" in result.failures[0].message
