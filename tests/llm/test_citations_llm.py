"""Numbered sentences with the real model (SmolLM2-135M on llama.cpp's OpenAI-compatible server):
what citing a number instead of copying a quote saves, measured where it is spent.

- Output tokens per kept card, before and after, on the same texts: the same pieces of the seeds
  asked for the same number of cards, once as the add-on asked before (the quote rule, its
  example and a required "quote" in the schema, the text after the instructions) and once as it
  asks now (numbered sentences, "n"); both answers read by today's tolerant parser, which keeps
  the old form. Tokens are the server's (usage.completion_tokens).
- The topic step's output tokens / the generation's, on the same pieces.
- The sentence markers' share of the prompt's tokens, by the model's own tokenizer.
- The prompt tokens the server had to evaluate for the rewrite pass, against those it was sent
  (llama.cpp keeps the last prompt and reuses its longest common prefix: its log says how much),
  and how much of each card request the identical system prompt saved in the same way.

The figures are printed as one RESULT line (recorded in bench/results.json, "llm_citations").
Checked is only what must hold whatever the model writes: the rewrite request shares the card
request's prefix up to the end of the text, and the server reused it."""
import json
import re
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from llm_support import Spy

from generator.backends import make_backend
from generator.backends.base import ChatRequest
from generator.config import SelfReview
from generator.errors import FlashcardError
from generator.job.answers import CardMaker, build_cards
from generator.job.prompts import RULES, system_prompt, user_prompt
from generator.job.rewrite import ReviewPass, review_chunk
from generator.job.run import JobOptions, base_request, plan_chunks, prepare_job, run_job
from generator.job.schema import answer_schema
from generator.job.sentences import numbered, unmarked
from generator.job.topics import find_topics
from generator.sources.read import read_path

ROOT = Path(__file__).resolve().parents[2]

# How the add-on asked before cards cited sentence numbers: today's rules with the quote line
# they had instead of the sentence number's.
NUMBER_LINE = '- "n" is the number of the sentence the card rests on (each sentence of the text starts with it: [n]).\n'
QUOTE_LINE = ('- "quote" is a short verbatim excerpt (5-20 words) copied exactly from the text that supports '
              'the card.\n')
assert NUMBER_LINE in RULES
BEFORE_RULES = RULES.replace(NUMBER_LINE, QUOTE_LINE)
BEFORE_FORMAT = """Answer with JSON only: {"cards": [{"front": "question", "back": "answer", "quote": "verbatim excerpt"}]}"""
BEFORE_SCHEMA = {"type": "object", "properties": {"cards": {"type": "array", "items": {
    "type": "object", "properties": {n: {"type": "string"} for n in ("front", "back", "quote")},
    "required": ["front", "back", "quote"]}}}, "required": ["cards"]}

CARDS_ASKED = 6
PIECES = 3


def before_user(chunk, wanted: int) -> str:
    where = chunk.document + (f" — {chunk.heading_label()}" if chunk.heading_path else "")
    ask = (f"Write up to {wanted} cards (fewer if the text has fewer facts worth learning). "
           "Write the cards in the language of the text.")
    return f"{ask}\nSource: {where}\nText:\n<<<\n{chunk.text}\n>>>"


def evaluated(log_text: str):
    """(prompt tokens, of them evaluated) for each request the server answered, in order: its
    log says "N prefix-match hit, remaining M prompt tokens to eval" when it reused a prefix, and
    "prompt eval time = ... / M tokens" for every request."""
    out, hit = [], 0
    for line in log_text.splitlines():
        m = re.search(r"Llama\.generate: (\d+) prefix-match hit", line)
        if m:
            hit = int(m.group(1))
            continue
        m = re.search(r"prompt eval time =\s*[\d.]+ ms /\s*(\d+) tokens", line)
        if m:
            out.append((hit + int(m.group(1)), int(m.group(1))))
            hit = 0
    return out


def tokens(url: str, text: str) -> int:
    body = json.dumps({"input": text, "model": "smollm2"}).encode()
    request = urllib.request.Request(url + "/extras/tokenize", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return len(json.loads(r.read())["tokens"])


@pytest.mark.timeout(1800)  # about 25 answers of a few hundred tokens at the model's CPU speed
def test_citing_numbers_costs_fewer_tokens_and_the_rewrite_pass_reuses_the_prefix(wide_llm_server):
    big_server = wide_llm_server
    cfg = {"backend": "openai", "url": big_server.url, "model": "smollm2", "api_key": "", "read_timeout": 300,
           "temperature": 0.0, "seed": 7, "num_ctx": 4096, "num_predict": 600, "parallel_requests": 1}
    backend = make_backend(cfg)
    options = prepare_job(backend, JobOptions.from_config(cfg, self_review=SelfReview.OFF))
    docs = [read_path(str(p)) for p in sorted((ROOT / "seeds").glob("*.md"))[:2]]
    chunks = [c for c in plan_chunks(docs, options) if len(numbered(c)) >= 4][:PIECES]
    assert chunks
    out = {"pieces": len(chunks), "cards_asked_per_piece": CARDS_ASKED}

    # --- output tokens per kept card, before and after, on the same pieces ---------------------
    base = ChatRequest(model=options.model, system="", user="", schema={}, temperature=0.0, num_ctx=0,
                       num_predict=600, seed=7)
    for name, make in (
            ("before", lambda c: (BEFORE_RULES + BEFORE_FORMAT, before_user(c, CARDS_ASKED), BEFORE_SCHEMA)),
            ("after", lambda c: (system_prompt("basic"), user_prompt(c, CARDS_ASKED), answer_schema("basic")))):
        spent = kept = grounded = 0
        for chunk in chunks:
            system, user, schema = make(chunk)
            result = backend.chat(ChatRequest(**dict(base.__dict__, system=system, user=user, schema=schema)))
            spent += result.answer_tokens
            try:
                cards = build_cards(result.content, chunk, "basic", 300)
            except FlashcardError:
                cards = []
            kept += len(cards)
            grounded += sum(1 for c in cards if c.grounded)
        out[name] = {"output_tokens": spent, "kept_cards": kept, "grounded": grounded,
                     "tokens_per_kept_card": round(spent / kept, 1) if kept else None}
        print("\n%s: %s" % (name, out[name]), flush=True)

    # --- the topic step's output against the generation's, same pieces ------------------------
    topics = find_topics(chunks, backend, options)
    generation = run_job(chunks, backend, options)
    out["topics"] = {"topic_output_tokens": topics.answer_tokens, "generation_output_tokens": generation.tokens,
                     "ratio": round(topics.answer_tokens / max(1, generation.tokens), 3),
                     "topics": len(topics.topics), "cards": len(generation.cards)}
    print("\ntopics: %s" % out["topics"], flush=True)

    # --- the markers' share of the prompt, by the model's tokenizer ----------------------------
    with_markers = without = 0
    system = system_prompt("basic")
    for chunk in chunks:
        user = user_prompt(chunk, CARDS_ASKED)
        marked = numbered(chunk).marked
        with_markers += tokens(big_server.url, system + user)
        without += tokens(big_server.url, system + user.replace(marked, unmarked(marked)))
    out["markers"] = {"prompt_tokens_with": with_markers, "without": without,
                      "share": round(with_markers / without - 1, 3)}

    # --- the rewrite pass: evaluated against sent, and the system prompt's saving ---------------
    # A card request for a piece, then the rewrite pass on a card of it (written here: what is
    # measured is what the server evaluates, whatever the model made of the piece).
    chunk = chunks[0]
    card = CardMaker(chunk, "basic").card({"n": 2, "front": "Is this the first fact of the text?",
                                           "back": numbered(chunk).get(2).text})
    assert card is not None
    spy = Spy(backend)
    log_before = len(evaluated(big_server.log_tail(10 ** 7)))
    card_request = ChatRequest(**dict(base.__dict__, system=system_prompt("basic"), user=user_prompt(chunk, 6),
                                      schema=answer_schema("basic")))
    backend.chat(card_request)
    review_base = replace(base_request(options), system=system_prompt("basic"))
    review_chunk([card], chunk, backend, ReviewPass(review_base, "", SelfReview.ALL))
    backend.close()
    calls = [(req, res) for req, res in spy.calls if not isinstance(res, BaseException)]
    counts = evaluated(big_server.log_tail(10 ** 7))[log_before:]
    assert len(calls) == 2 and len(counts) == 2, (len(calls), counts)
    (card_req, _), (review_req, _) = calls
    prefix = card_req.user.split(">>>\n\n")[0] + ">>>\n\n"
    assert "\nYou review flashcards" in review_req.user
    assert review_req.system == card_req.system and review_req.user.startswith(prefix)
    (card_sent, card_evaluated), (review_sent, review_evaluated) = counts
    text_tokens = tokens(big_server.url, numbered(chunk).marked)
    assert review_sent - review_evaluated > text_tokens  # the server reused the text it had evaluated
    out["rewrite"] = {"prompt_tokens_sent": review_sent, "evaluated": review_evaluated,
                      "text_tokens": text_tokens}
    out["card_request"] = {"prompt_tokens_sent": card_sent, "evaluated": card_evaluated,
                           "system_prompt_tokens": tokens(big_server.url, system_prompt("basic"))}
    print("\nRESULT " + json.dumps(out))
