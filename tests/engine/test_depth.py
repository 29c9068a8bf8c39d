"""Depth: the number of cards asked of a text follows its content. The passages in
tests/data/depth_passages.json (en, de, fr, es; dense and sparse prose, lists, tables) carry
their facts and key ideas counted by hand; the count asked for lands within a band of them."""
from typing import List

import pytest

from generator.job.chunk import Chunk
from generator.config import Depth, SelfReview, Settings
from generator.job.depth import ANSWER_TOKENS_PER_CARD
from generator.job.run import JobOptions, cards_for_chunk, chunk_budget, run_job
from generator.job.prompts import user_prompt
from labelled_sets import BANDS, asked, passages


def test_the_passages_cover_languages_and_shapes() -> None:
    rows = passages()
    assert {r["lang"] for r in rows} >= {"en", "de", "fr", "es"}
    assert {r["shape"] for r in rows} >= {"dense prose", "sparse prose", "list", "table"}


@pytest.mark.parametrize("depth", list(Depth))
def test_count_asked_is_within_a_band_of_the_hand_count(depth: Depth) -> None:
    key, low, high = BANDS[depth]
    for row in passages():
        n = asked(row["text"], depth)
        assert low * row[key] <= n <= high * row[key], (row["id"], depth, n, row[key])


def test_depths_are_ordered_and_dense_text_gets_more_than_sparse() -> None:
    for row in passages():
        counts = [asked(row["text"], d) for d in (Depth.KEY_IDEAS, Depth.EVERY_FACT, Depth.EXHAUSTIVE)]
        assert counts == sorted(counts) and counts[0] < counts[2], row["id"]
    by_id = {r["id"]: r for r in passages()}
    dense, sparse = by_id["mitochondria"]["text"], by_id["testing-effect"]["text"]
    assert len(sparse) >= len(dense) * 0.9  # about as long ...
    assert asked(dense, Depth.EVERY_FACT) > asked(sparse, Depth.EVERY_FACT) * 1.4  # ... but more facts


def test_the_ceiling_respects_the_answer_room() -> None:
    long_text = " ".join(r["text"] for r in passages() if r["shape"] == "dense prose") * 6
    assert asked(long_text, Depth.EXHAUSTIVE, num_predict=400, num_ctx=4096) == 400 // ANSWER_TOKENS_PER_CARD
    # and the text is cut so that a piece's cards fit: fewer tokens per piece at a deeper level
    # (with a context where the answer's room binds; at 4,096 the context does for all but one)
    opts = {d: JobOptions(model="m", depth=d, num_ctx=16384) for d in Depth}
    assert chunk_budget(opts[Depth.KEY_IDEAS]) > chunk_budget(opts[Depth.EVERY_FACT]) > chunk_budget(opts[Depth.EXHAUSTIVE])
    small = {d: chunk_budget(JobOptions(model="m", depth=d)) for d in Depth}
    assert small[Depth.KEY_IDEAS] >= small[Depth.EVERY_FACT] > small[Depth.EXHAUSTIVE]


def test_an_explicit_number_of_cards_wins() -> None:
    text = passages()[0]["text"]
    assert asked(text, Depth.EXHAUSTIVE, max_cards=2) == 2
    prompt = user_prompt(Chunk(id="p", document="p.txt", text=text), 2, "", None)
    assert "up to 2 cards" in prompt and "every" not in prompt.split("\n")[0]


@pytest.mark.parametrize("depth, words", [
    (Depth.KEY_IDEAS, "key idea"), (Depth.EVERY_FACT, "every distinct fact"), (Depth.EXHAUSTIVE, "every fact and detail"),
])
def test_prompt_asks_one_card_per_fact_of_the_depth_as_a_ceiling(depth: Depth, words: str) -> None:
    line = user_prompt(Chunk(id="p", document="p.txt", text="x"), 7, "", depth).split("\n")[-1]  # after the text
    assert words in line and "up to 7 cards" in line and "fewer" in line


def test_depth_setting_reaches_the_job() -> None:
    assert Settings().depth is Depth.EVERY_FACT
    assert JobOptions.from_config(Settings().replace(depth="key_ideas")).depth is Depth.KEY_IDEAS
    problems: List[str] = []
    assert Settings.from_dict({"depth": "everything"}, problems).depth is Depth.EVERY_FACT and problems


@pytest.mark.timeout(30)
def test_extra_good_cards_are_kept(server, backend) -> None:
    """The model writes more cards than the ceiling: without a limit of the user's, all are kept."""
    from fake_ollama import Reply

    cards = [{"front": f"What is the atomic number of element {i}?", "back": str(i), "quote": "atomic number"}
             for i in range(1, 31)]
    server.script(Reply.cards(cards))
    chunk = Chunk(id="c", document="d.txt", text="Hydrogen has atomic number 1.")
    options = JobOptions(model="llama3.2", self_review=SelfReview.OFF)
    assert cards_for_chunk(chunk, options, 0) < 30
    result = run_job([chunk], backend, options)
    assert len(result.cards) == 30
    server.script(Reply.cards(cards))
    limited = run_job([chunk], backend, JobOptions(model="llama3.2", self_review=SelfReview.OFF, max_cards=4))
    assert len(limited.cards) == 4
