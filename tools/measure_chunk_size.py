"""How long may a chunk be before a small model loses track of it? (it sets the chunk cap that num_ctx "auto" uses)

Asks `make test-llm`'s real model (SmolLM2-135M-Instruct on llama.cpp's server, started here
with an 8192-token context, the model's training context) about six facts in texts of growing
length, two placed near the start, two in the middle, two near the end. The text is made of
short paragraphs about fictional things (names and numbers the model cannot know), so an answer
is right only if the model found the fact in the text. Two things are asked of each fact,
through the engine's backend with a JSON Schema as for cards:

- its number ("number": the first number of the answer is it; "digits": it starts with its
  digits: a small model copies the right digits and goes on with more of its own);
- to copy the sentence that names the thing ("copied": the answer starts with four or more
  words of that paragraph): what a card's verbatim "quote" needs.

A model that keeps track of the text does as well at any length and place; one that has lost
track does worse as the text grows, or only at the start or the end.

(Cards themselves are no measure with this model: asked for 8 cards of a 600-token chunk it
copies the format's placeholder and repeats one invented card until the token limit.)

    python tools/measure_chunk_size.py [--sizes 300,600,...] [--reps 3] [--json out.json]

Needs `python tools/llm_server.py setup` first (make test-llm does it). The two questions of a
fact have different system prompts, so the server reads the text again for each (its prompt
cache holds only the last prefix): on 2 busy cores a fact of a 4,800-token text took 4 minutes.
Run it once when the model or the prompt changes, not in the tests; the run that set the chunk
cap is recorded in bench/chunk_cap.json, and docs/design.md shows it (tools/gen_docs.py)."""
import argparse
import json
import random
import re
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import llm_server  # noqa: E402

SYLLABLES = ("ka ve lo mir dan tes ul gor phi na bri sel om tav ren qui dro lem as fen "
             "bar tis cor ul wen hal pa zu ri mon").split()
THINGS = [
    ("bridge", "The {n} Bridge crosses the river {p}. It was finished in {y} by the engineer {m}. "
               "The bridge is {a} metres long and rests on {b} stone arches."),
    ("lake", "Lake {n} lies in the {p} Mountains at {a} metres above sea level. It covers {b} square "
             "kilometres. The surveyor {m} first mapped it in {y}."),
    ("enzyme", "The enzyme {n}ase breaks down {p}ose in the liver of the {m} shrew. It works best at "
               "pH {b}. Its discovery in {y} earned a prize of {a} crowns."),
    ("treaty", "The Treaty of {n} ended the war between {p} and {m} in {y}. It moved the border {a} "
               "kilometres north and fixed a toll of {b} silver coins."),
    ("comet", "Comet {n} returns every {b} years. The astronomer {m} of {p} saw it first in {y}. Its "
              "tail once reached {a} thousand kilometres."),
]


def word(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def fact_paragraph(rng: random.Random) -> str:
    _kind, template = rng.choice(THINGS)
    return template.format(n=word(rng), p=word(rng), m=word(rng, 3), y=rng.randint(1500, 1990),
                           a=rng.randint(11, 990), b=rng.randint(2, 60))


QUESTIONS = {
    "bridge": ("In which year was the {n} Bridge finished?", "y"),
    "lake": ("How many square kilometres does Lake {n} cover?", "b"),
    "enzyme": ("At which pH does the enzyme {n}ase work best?", "b"),
    "treaty": ("How many kilometres north did the Treaty of {n} move the border?", "a"),
    "comet": ("Every how many years does Comet {n} return?", "b"),
}
PLACES = ("start", "middle", "end")
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
SYSTEM = ("You answer questions about a text the user gives you. Use only the text. Answer with "
          'JSON only: {"answer": "..."}')


NAMES = {"bridge": "the {n} Bridge", "lake": "Lake {n}", "enzyme": "the enzyme {n}ase",
         "treaty": "the Treaty of {n}", "comet": "Comet {n}"}
COPY_SCHEMA = {"type": "object", "properties": {"sentence": {"type": "string"}}, "required": ["sentence"]}
COPY_SYSTEM = ("You copy sentences from a text the user gives you, word for word. Answer with JSON "
               'only: {"sentence": "..."}')
PLANTED = (("start", 0.05), ("start", 0.15), ("middle", 0.45), ("middle", 0.55),
           ("end", 0.85), ("end", 0.95))


def haystack(tokens: int, seed: int) -> Tuple[str, List[Tuple[str, str, str, str, str]]]:
    """Fictional facts of about ``tokens`` tokens and the questions about six of them, two near
    the start, two in the middle, two near the end: (place, question, right answer)."""
    from generator.job.chunking import estimate_tokens

    rng = random.Random(seed)
    paragraphs: List[str] = []
    while estimate_tokens("\n\n".join(paragraphs)) < tokens:
        paragraphs.append(fact_paragraph(rng))
    asked = []  # (place, number question, right number, entity, its paragraph)
    used = set()
    for place_name, place in PLANTED:
        at = min(len(paragraphs) - 1, int(place * len(paragraphs)))
        while at in used and at + 1 < len(paragraphs):
            at += 1
        used.add(at)
        kind, template = THINGS[len(asked) % len(THINGS)]
        values = dict(n=word(rng), p=word(rng), m=word(rng, 3), y=rng.randint(1500, 1990),
                      a=rng.randint(11, 990), b=rng.randint(2, 60))
        paragraphs[at] = template.format(**values)
        question, key = QUESTIONS[kind]
        asked.append((place_name, question.format(**values), str(values[key]),
                      NAMES[kind].format(**values), paragraphs[at]))
    return "\n\n".join(paragraphs), asked


def first_number(text: str) -> str:
    m = re.search(r"\d+", text)
    return m.group(0) if m else ""


def starts_like(answer: str, paragraph: str) -> bool:
    """The answer begins with at least four words of the paragraph, in order (a small model
    often goes on with words of its own after copying: only the start counts)."""
    from generator.cards.grounding import normalise

    words = normalise(answer).split()[:8]
    return len(words) >= 4 and " %s " % " ".join(words) in " %s " % normalise(paragraph)


def ask(backend: Any, system: str, text: str, question: str, schema: Dict[str, Any],
        num_predict: int, key: str) -> Dict[str, Any]:
    """One question after the text (the same text first, so the server's prompt cache holds it)."""
    from generator.backends.base import ChatRequest
    from generator.errors import FlashcardError

    user = "Text:\n<<<\n%s\n>>>\n\n%s" % (text, question)
    request = ChatRequest(llm_server.MODEL_ALIAS, system, user, schema, temperature=0.0,
                          num_predict=num_predict, seed=7)
    t0 = time.monotonic()
    try:
        answer, error = backend.chat(request).content, ""
    except FlashcardError as e:
        answer, error = "", type(e).__name__
    try:
        said = str(json.loads(answer, strict=False).get(key, ""))
    except (ValueError, AttributeError):
        said = answer
    return {"said": said, "error": error, "seconds": time.monotonic() - t0}


def measure(url: str, sizes: List[int], reps: int) -> List[Dict[str, Any]]:
    """Every question about one text goes after the same text (the server's prompt cache reuses
    it while the system prompt stays the same)."""
    from generator.backends import make_backend
    from generator.job.chunking import estimate_tokens
    backend = make_backend({"backend": "openai", "url": url, "read_timeout": 1800,
                            "connect_timeout": 5})
    rows = []
    for size in sizes:
        for rep in range(reps):
            text, asked = haystack(size, seed=1000 * size + rep)
            for place_name, question, right, name, paragraph in asked:
                number = ask(backend, SYSTEM, text, "Question: " + question, SCHEMA, 24, "answer")
                copied = ask(backend, COPY_SYSTEM, text, "Copy the first sentence of the text that "
                             "names %s." % name, COPY_SCHEMA, 60, "sentence")
                found = first_number(number["said"])
                row = {"size": size, "tokens": estimate_tokens(text), "place": place_name, "rep": rep,
                       "right": found == right,
                       "prefix": found == right or (len(right) > 1 and found.startswith(right)),
                       "copied": starts_like(copied["said"], paragraph),
                       "answer": number["said"][:60], "expected": right,
                       "copy": copied["said"][:80],
                       "seconds": round(number["seconds"] + copied["seconds"], 1),
                       "error": number["error"] or copied["error"]}
                rows.append(row)
                print(json.dumps(row), flush=True)
    backend.close()
    return rows


def summary(rows: List[Dict[str, Any]]) -> List[str]:
    lines = ["%6s %9s %9s %9s   %-23s %7s" % ("tokens", "number", "digits", "copied",
                                             "copied: start/mid/end", "s/fact")]
    for size in sorted({r["size"] for r in rows}):
        rs = [r for r in rows if r["size"] == size]

        def share(sub: List[Dict[str, Any]], key: str) -> str:
            return "%.0f%%" % (100 * sum(r[key] for r in sub) / max(1, len(sub)))

        lines.append("%6d %9s %9s %9s   %-23s %7.1f" % (
            size, share(rs, "right"), share(rs, "prefix"), share(rs, "copied"),
            " / ".join(share([r for r in rs if r["place"] == p], "copied") for p in PLACES),
            sum(r["seconds"] for r in rs) / len(rs)))
    return lines


def main(argv: Any = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="300,1200,2400,4800")
    ap.add_argument("--reps", type=int, default=3, help="texts per size (6 questions each)")
    ap.add_argument("--json", default="", help="write the rows here")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    python, model = (str(llm_server.venv_python(llm_server.DEFAULT_VENV)), str(llm_server.model_path()))
    with llm_server.LlmServer(python, model, n_ctx=8192) as srv:
        rows = measure(srv.url, sizes, args.reps)
    for line in summary(rows):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
