"""Depth: the number of cards asked of a text follows its content. The passages in
tests/data/depth_passages.json (en, de, fr, es; dense and sparse prose, lists, tables) carry
their facts and key ideas counted by hand; the count asked for lands within a band of them."""
from typing import List

import pytest

from generator.job.chunk import Chunk
from generator.config import Depth, SelfReview, Settings
from generator.job.depth import ANSWER_TOKENS_PER_CARD, HOLD_MIN, text_holds
from generator.job.reports import WarningKind
from generator.notes.accounting import Reason
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


def test_what_a_text_can_hold_leaves_room_for_every_hand_counted_fact_twice() -> None:
    """The bound on cards kept without a number set is no target: on every labelled passage
    it is at least twice the facts counted by hand (a model's good extra cards fit), and above
    what the deepest level asks."""
    for row in passages():
        holds = text_holds(row["text"])
        assert holds >= 2 * row["facts"], (row["id"], holds, row["facts"])
        assert holds > asked(row["text"], Depth.EXHAUSTIVE), row["id"]
    assert text_holds("Hydrogen has atomic number 1.") == HOLD_MIN
    dense = next(r["text"] for r in passages() if r["shape"] == "dense prose")
    assert text_holds(dense * 3) > 2.5 * text_holds(dense)  # it follows the text


def atomic_cards(n):
    return [{"front": f"What is the atomic number of element {i}?", "back": str(i), "quote": "atomic number"}
            for i in range(1, n + 1)]


@pytest.mark.timeout(30)
def test_extra_good_cards_are_kept_up_to_what_the_text_can_hold(server, backend) -> None:
    """The model writes more cards than asked: without a number of the user's, those within what
    the text can hold are kept; the rest are left out, counted and said once."""
    from fake_ollama import Reply

    server.script(Reply.cards(atomic_cards(30)))
    chunk = Chunk(id="c", document="d.txt", text="Hydrogen has atomic number 1.")
    options = JobOptions(model="llama3.2", self_review=SelfReview.OFF)
    assert cards_for_chunk(chunk, options, 0) < text_holds(chunk.text) < 30
    result = run_job([chunk], backend, options)
    assert len(result.cards) == text_holds(chunk.text)
    assert result.account.made == 30 and result.account.left == {Reason.BOUND: 30 - len(result.cards)}
    said = [w for w in result.warnings if w.kind is WarningKind.OVER_BOUND]
    assert len(said) == 1 and "20 more cards than this text can hold (10 kept)" in said[0].message
    # A number of the user's: that many, the rest over the number set (not a warning).
    server.script(Reply.cards(atomic_cards(30)))
    limited = run_job([chunk], backend, JobOptions(model="llama3.2", self_review=SelfReview.OFF, max_cards=4))
    assert len(limited.cards) == 4
    assert limited.account.made == 30 and limited.account.left == {Reason.CUT: 26}
    assert not [w for w in limited.warnings if w.kind is WarningKind.OVER_BOUND]


@pytest.mark.timeout(30)
def test_a_denser_text_keeps_more_extra_cards(server, backend) -> None:
    from fake_ollama import Reply

    dense = next(r["text"] for r in passages() if r["shape"] == "dense prose")
    chunk = Chunk(id="c", document="d.txt", text=dense)
    options = JobOptions(model="llama3.2", self_review=SelfReview.OFF)
    extra = cards_for_chunk(chunk, options, 0) + 5  # more than asked, within the bound
    assert extra <= text_holds(dense)
    server.script(Reply.cards(atomic_cards(extra)))
    result = run_job([chunk], backend, options)
    assert len(result.cards) == extra and result.account.left == {} and not result.warnings
