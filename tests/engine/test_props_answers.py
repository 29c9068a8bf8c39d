"""Property tests for the answer parser and validator: whatever a model answers, the engine
either returns safe, well-formed cards within the limit or raises InvalidAnswer — nothing else."""
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.job.answers import build_cards, parse_json
from generator.job.chunk import Chunk
from generator.cards.cloze import CLOZE_RE
from generator.errors import AnswerError
from html_safety import CORPUS, assert_safe_html

SCALE = float(os.environ.get("HYPOTHESIS_SCALE", "1"))
CHUNK = Chunk(id="c", document="doc.md", text="Mitochondria produce most of the cell's ATP. "
              "The nucleus holds the DNA.", heading_path=("Cells",))


def _settings(n: int) -> settings:
    return settings(max_examples=int(n * SCALE), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


field_text = st.one_of(st.text(max_size=80), st.sampled_from(CORPUS),
                       st.sampled_from(["{{c1::ATP}} is made", "**bold** and `code`", "{{c1:nucleus}} holds DNA",
                                        "question", "answer", "", "  ", "Mitochondria produce most"]))
keys = st.sampled_from(["front", "back", "quote", "text", "extra", "question", "answer", "Q", "A",
                        "cloze", "source", "deck", "tags", "x"])
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), field_text)
card_objects = st.dictionaries(keys, st.one_of(field_text, json_scalars), max_size=6)
answers = st.one_of(
    st.builds(lambda cards: {"cards": cards}, st.lists(card_objects, max_size=15)),
    st.lists(card_objects, max_size=15),
    card_objects,
    st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(keys, inner, max_size=4)), max_leaves=12),
)
wrappers = st.sampled_from(["{}", "```json\n{}\n```", "Here:\n{}\nDone.", "<think>hmm</think>{}", "{}{}", "{} trailing"])


@_settings(1500)
@given(st.text(max_size=300))
def test_parse_json_never_crashes_on_any_text(text):
    try:
        parse_json(text)
    except AnswerError:
        pass


@_settings(1500)
@given(answers, wrappers, st.sampled_from(["basic", "reversed", "cloze"]), st.integers(1, 8))
def test_build_cards_gives_safe_cards_within_the_limit_or_a_clear_error(answer, wrapper, kind, limit):
    content = wrapper.replace("{}", json.dumps(answer))
    try:
        cards = build_cards(content, CHUNK, kind, limit)
    except AnswerError as e:
        assert e.message
        return
    assert 1 <= len(cards) <= limit
    for card in cards:
        assert card.kind == kind and card.chunk_id == "c" and card.source.heading_path == ("Cells",)
        for value in (card.front, card.back, card.text, card.extra):
            assert_safe_html(value)
        if kind == "cloze":
            assert CLOZE_RE.search(card.text) and not card.front
        else:
            assert card.front.strip() and card.back.strip() and not card.text
            assert card.front.lower() not in ("question", "answer")
