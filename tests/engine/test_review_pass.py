"""The rewrite pass (generator/job/rewrite.py) against the fake server, on both backends:
flagged cards go back once with their reasons and the chunk; rewrites are checked, grounded and
duplicate-checked again; drops; a rewrite still flagged is kept and not sent again; an answer
that breaks the JSON keeps the originals; the model never removes a card the checks passed."""
import json
from typing import List

import pytest

from engine_fixtures import backend_for, listener
from fake_ollama import FakeOllama, Reply, review_cards, source_text

from generator.cards.checks import is_flagged
from generator.job.chunk import Chunk
from generator.config import SelfReview
from generator.job.run import JobOptions, Progress, run_job

TEXT = ("Mitochondria produce ATP through oxidative phosphorylation. "
        "The inner membrane is folded into cristae, which increase its surface area.")
YES_NO = {"front": "Do mitochondria produce ATP?", "back": "Yes",
          "quote": "Mitochondria produce ATP through oxidative phosphorylation"}
GOOD = {"front": "Into what is the inner mitochondrial membrane folded?", "back": "Cristae",
        "quote": "The inner membrane is folded into cristae"}


@pytest.fixture(params=["ollama", "openai"])
def setup(request):
    with FakeOllama() as srv:
        b = backend_for(srv.url, backend=request.param, response_format="json_schema")
        try:
            yield srv, b
        finally:
            b.close()


def chunk() -> Chunk:
    return Chunk(id="c1", document="bio.md", text=TEXT)


def run(b, mode: SelfReview = SelfReview.FLAGGED, progress: List[Progress] = None):
    options = JobOptions(model="llama3.2", self_review=mode)
    return run_job([chunk()], b, options, None if progress is None else listener(on_progress=progress.append))


def review_bodies(srv: FakeOllama) -> list:
    return [b for b in srv.chat_bodies() if "\nYou review flashcards" in user_of(b)]


def user_of(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


@pytest.mark.timeout(30)
def test_a_flagged_card_is_rewritten_once_with_its_reasons_and_the_chunk(setup) -> None:
    srv, b = setup
    srv.script(Reply.cards([YES_NO, GOOD]),
               Reply.review({"1": {"front": "What do mitochondria produce through oxidative phosphorylation?",
                                   "back": "ATP"}}))
    progress: List[Progress] = []
    result = run(b, progress=progress)
    assert len(srv.chat_bodies()) == 2
    (body,) = review_bodies(srv)
    sent = review_cards(user_of(body))
    assert [c["front"] for c in sent] == ["Do mitochondria produce ATP?"]  # only the flagged card
    assert any("yes/no" in p for p in sent[0]["problems"]) and source_text(user_of(body)) == TEXT
    assert sent[0]["n"] == 1  # the sentence the card cites
    assert body.get("format") or body.get("response_format")  # a JSON Schema answer
    # ordered for the server's prompt cache: the card request's system prompt and, first in the
    # user message, its text exactly as the card request sent it
    card_body = srv.chat_bodies()[0]
    assert body["messages"][0] == card_body["messages"][0]
    prefix = user_of(card_body).split(">>>\n\n")[0] + ">>>\n\n"
    assert prefix.startswith("Source: bio.md\nText:\n<<<\n[1] Mitochondria") and user_of(body).startswith(prefix)
    rewritten, good = result.cards
    assert rewritten.front == "What do mitochondria produce through oxidative phosphorylation?"
    assert rewritten.back == "ATP" and rewritten.flags == [] and rewritten.grounded
    assert rewritten.rewritten and rewritten.original["front"] == "Do mitochondria produce ATP?"
    assert "yes/no" in rewritten.original["reasons"]
    assert good.front == GOOD["front"] and not good.rewritten
    assert result.review.rewritten == 1 and result.review.tokens > 0 and result.flagged == 0
    assert progress[-1].review_tokens == result.review.tokens and progress[-1].tokens == result.tokens


@pytest.mark.timeout(30)
def test_drop_removes_only_flagged_cards(setup) -> None:
    srv, b = setup
    srv.script(Reply.cards([YES_NO, GOOD]), Reply.review({"1": "drop", "2": "drop"}))
    result = run(b, SelfReview.ALL)
    (body,) = review_bodies(srv)
    assert len(review_cards(user_of(body))) == 2  # "all" sends every card
    assert [c.front for c in result.cards] == [GOOD["front"]]  # the good card was not removable
    assert result.review.dropped == 1


@pytest.mark.timeout(30)
def test_a_rewrite_still_flagged_is_kept_flagged_and_not_sent_again(setup) -> None:
    srv, b = setup
    srv.script(Reply.cards([YES_NO, GOOD]), Reply.review({"1": {"front": "Is ATP made by mitochondria?",
                                                                 "back": "Yes"}}))
    result = run(b)
    assert len(srv.chat_bodies()) == 2 and len(review_bodies(srv)) == 1  # never a second pass
    card = result.cards[0]
    assert card.front == "Is ATP made by mitochondria?" and card.rewritten and is_flagged(card)
    assert result.flagged == 1


@pytest.mark.timeout(30)
def test_a_rewrite_that_breaks_the_json_keeps_the_originals_flagged(setup) -> None:
    srv, b = setup
    srv.script(Reply.cards([YES_NO, GOOD]), Reply(content='{"cards": [{"id": "1", "action": "rewr'))
    result = run(b)
    assert [c.front for c in result.cards] == [YES_NO["front"], GOOD["front"]]
    assert is_flagged(result.cards[0]) and not result.cards[0].rewritten
    assert result.review.failed == 1 and not result.failures


@pytest.mark.timeout(30)
def test_a_rewrite_that_repeats_another_card_drops_the_flagged_one(setup) -> None:
    srv, b = setup
    srv.script(Reply.cards([YES_NO, GOOD]), Reply.review({"1": {"front": GOOD["front"], "back": "Cristae"}}))
    result = run(b)
    assert [c.front for c in result.cards] == [GOOD["front"]]


@pytest.mark.timeout(30)
def test_ungrounded_rewrite_is_marked_and_unknown_ids_are_ignored(setup) -> None:
    srv, b = setup
    srv.script(Reply.cards([YES_NO, GOOD]),
               Reply.review({"1": {"front": "Which organelle makes ATP?", "back": "Chloroplasts in leaves"},
                             "7": "drop"}))
    result = run(b)
    assert result.cards[0].front == "Which organelle makes ATP?" and not result.cards[0].grounded
    assert len(result.cards) == 2


@pytest.mark.timeout(30)
def test_off_checks_but_sends_nothing_and_clean_cards_send_nothing(setup) -> None:
    srv, b = setup
    srv.script(Reply.cards([YES_NO, GOOD]))
    result = run(b, SelfReview.OFF)
    assert len(srv.chat_bodies()) == 1 and result.flagged == 1
    assert [c for c, _ in result.cards[0].flags] == ["yes_no_question"]
    srv.script(Reply.cards([GOOD]))
    result = run(b)
    assert len(srv.chat_bodies()) == 2 and result.flagged == 0  # nothing flagged: no extra request


@pytest.mark.timeout(30)
def test_a_cloze_rewrite(setup) -> None:
    srv, b = setup
    cloze = [{"text": "{{c1::The}} inner membrane is folded into cristae.", "extra": "",
              "quote": "The inner membrane is folded into cristae"}]
    srv.script(Reply.cards(cloze), Reply.review({"1": {"text": "The inner membrane is folded into {{c1::cristae}}."}}))
    result = run_job([chunk()], b, JobOptions(model="llama3.2", kind="cloze"))
    (card,) = result.cards
    assert card.text == "The inner membrane is folded into {{c1::cristae}}." and card.flags == []
    assert card.original["text"].startswith("{{c1::The}}")


def test_cli_json_prints_flags(tmp_path) -> None:
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = tmp_path / "bio.txt"
    src.write_text(TEXT, encoding="utf-8")
    with FakeOllama() as srv:
        srv.script(Reply.cards([YES_NO, GOOD]))
        r = subprocess.run([sys.executable, "flashcards.py", str(src), "--dry-run", "--json", "--url", srv.url,
                            "--model", "llama3.2", "--self-review", "off", "--depth", "key_ideas"],
                           cwd=root, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        cards = json.loads(r.stdout)
        assert cards[0]["flags"] == [{"check": "yes_no_question",
                                      "reason": "A yes/no question: ask for the fact itself instead."}]
        assert cards[1]["flags"] == [] and "1 flagged" in r.stderr
        assert "key idea" in srv.chat_bodies()[0]["messages"][1]["content"]
