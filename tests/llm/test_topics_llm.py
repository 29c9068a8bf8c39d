"""Topics first against a real model (SmolLM2-135M on llama.cpp's OpenAI-compatible server): the
topic step once, end to end, then cards for the topics it found.

Checked is what a weak real model can be trusted with: the topic schema reaches the server in the
form it takes (json_object with the schema), the answers stream in and become topics with titles
and checked quotes, and generation for those topics asks only their chunks and tags the cards.
What the topics are is not checked (a 135M model names them poorly)."""
import json

import jsonschema

from generator.backends import make_backend
from generator.job.run import JobOptions, plan_chunks, prepare_job, run_job
from generator.job.topics import TOPIC_TAG, TopicPlan, find_topics, topic_schema

from llm_support import SECTIONS, Spy, document


def test_the_topic_step_with_the_real_model(llm_config):
    backend = make_backend(llm_config)
    spy = Spy(backend)
    options = prepare_job(backend, JobOptions.from_config(llm_config, kind="basic", focus="the biology"))
    chunks = [c for name, sentences in list(SECTIONS.items())[:2]
              for c in plan_chunks([document({name: sentences})], options)]
    seen = []
    result = find_topics(chunks, backend, options, on_topic=lambda chunk, topic: seen.append(topic))

    assert result.fatal is None, result.fatal
    assert result.topics, [f.message for f in result.failures]
    assert seen  # handed on as the answers streamed
    answers = [(req, res) for req, res in spy.calls if not isinstance(res, BaseException)]
    assert answers and all(req.schema == topic_schema() for req, _ in answers)
    assert all("the biology" in req.system for req, _ in answers)
    valid = 0
    for _req, res in answers:
        try:
            jsonschema.validate(json.loads(res.content, strict=False), topic_schema())
            valid += 1
        except (ValueError, jsonschema.ValidationError):
            pass
    assert valid >= 1, [res.content for _, res in answers]
    for topic in result.topics:
        assert 0 < len(topic.title) <= 80 and "\n" not in topic.title
        assert 1 <= topic.cards <= 20 and topic.chunks and set(topic.chunks) <= {c.id for c in chunks}
    print("\ntopics:", [(t.title, t.grounded, t.cards) for t in result.topics],
          "tokens:", result.prompt_tokens + result.answer_tokens)

    # cards for the first topic only: only its chunks are asked, its cards carry its tag
    first = result.topics[0]
    for topic in result.topics[1:]:
        topic.checked = False
    calls_before = len(spy.calls)
    plan = TopicPlan.for_options(result.topics, options, chunks)
    cards = run_job(chunks, backend, options, asks=plan.ask)
    backend.close()
    asked = spy.calls[calls_before:]
    assert asked and all(first.title in req.user for req, _ in asked)
    assert len({req.user for req, _ in asked}) <= len(first.chunks)
    assert cards.fatal is None
    assert all(c.topic == first.title and TOPIC_TAG + first.slug in c.tags for c in cards.cards)
