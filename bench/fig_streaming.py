"""Cards as they are written, and the cost of topics first.

S1. Time to the first card / the model's time to write one card, at the engine's ``on_card``
    callback: the fake server (tools/fake_ollama.py, its own process) streams each answer at a
    fixed rate, a token (4 characters) per line; a chunk's answer holds 10 cards. The model's time
    per card is that answer's streaming time / its cards (on the server's clock, which is the same
    monotonic clock). A reader that waited for the whole answer would show the first card at
    about 10 (printed as "whole answer": what ``on_chunk`` sees). Goal <= 1.5.
S2. The topic step's tokens / the generation's tokens, on the project's seeds (every topic
    chosen): prompt and answer tokens of every request, estimated the same way for both steps.
    Printed: the topic step sends each chunk once more, so most of its cost is the prompt.
S3. As S1, in the real app (bench/stream_probe.py, headless), at 30 tokens/s (a local model on
    a laptop): from Generate (reading the duplicate keys, asking the server about the model) to
    the first row in the Generate dialog's review table. Goal <= 1.5.
S4. The longest time the main thread was busy while 500 cards stream into the Generate dialog's
    review table (50 parts, 2 requests at once, a fast server), from Generate until the job has
    ended and its duplicate check is shown: the most CPU time the main thread itself spent
    between two ticks of a 5 ms timer (in any gap, not only the longest). Goal <= 50 ms. The timer's wall-clock lateness is printed beside it
    (with the machine's load: on a shared machine it is mostly other processes' turn).
"""
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TESTS = os.path.join(ROOT, "tests")
TOOLS = os.path.join(ROOT, "tools")

FIGURES = [
    ("stream_first_card_ratio", "S1. Time to first card / model's time per card (engine)", "",
     "<= 1.5", lambda v: v <= 1.5),
    ("topic_token_ratio", "S2. Topic step tokens / generation tokens (seeds)", "", "(printed)",
     lambda v: v >= 0),
    ("stream_first_row_ratio", "S3. Time to first row in the review table / time per card (app)", "",
     "<= 1.5", lambda v: v <= 1.5),
    ("stream_stall_ms", "S4. Longest main-thread busy time, 500 rows streaming in (app)", "ms",
     "<= 50 ms", lambda v: v <= 50),
]

CARDS = 10


class RateServer:
    """The fake server in a child process, streaming at ``rate`` tokens/s. A line on its stdin
    makes it print what it sent: [(request number, time, characters so far)] and the answers."""

    def __init__(self, rate: float) -> None:
        code = ("import sys, json; sys.path[:0] = [%r]\n"
                "from fake_ollama import FakeOllama\n"
                "s = FakeOllama(rate=%r).start()\n"
                "print(s.url, flush=True)\n"
                "for line in sys.stdin:\n"
                "    print(json.dumps({'sent': s.sent, 'answers': s.answers}), flush=True)\n"
                % (TOOLS, rate))
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def record(self) -> Dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("x\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(5)
        except Exception:
            self.proc.kill()


def chunk_of(i: int) -> Any:
    from generator.job.chunk import Chunk

    text = " ".join("Element %d-%d has the property number %d, measured in grams at room temperature."
                    % (i, k, k) for k in range(CARDS + 2))
    return Chunk(id="s%d" % i, document="bench.md", text=text, heading_path=("Section %d" % i,), index=i)


def first_card(rate: float, chunks: int) -> Dict[str, Any]:
    sys.path[:0] = [p for p in (ROOT, TESTS, TOOLS) if p not in sys.path]
    from generator.backends import make_backend
    from engine_fixtures import listener
    from generator.job.run import JobOptions, run_job

    srv = RateServer(rate)
    backend = make_backend({"url": srv.url, "read_timeout": 60})
    ratios, whole = [], []
    try:
        for i in range(chunks):
            firsts: List[float] = []
            ends: List[float] = []
            started = time.monotonic()
            heard = listener(on_card=lambda chunk, card: firsts.append(time.monotonic()),
                             on_chunk=lambda chunk, cards: ends.append(time.monotonic()))
            result = run_job([chunk_of(i)], backend, JobOptions(model="llama3.2", max_cards=CARDS), heard)
            assert len(result.cards) == CARDS, (len(result.cards), [f.message for f in result.failures])
            record = srv.record()
            sent = [(t, n) for number, t, n in record["sent"] if number == i + 1]
            per_card = (sent[-1][0] - sent[0][0]) / CARDS
            ratios.append((firsts[0] - started) / per_card)
            whole.append((ends[0] - started) / per_card)
    finally:
        backend.close()
        srv.close()
    return {"value": max(ratios), "median": statistics.median(ratios), "runs": [round(r, 3) for r in ratios],
            "whole_answer": round(statistics.median(whole), 2), "rate_tokens_per_s": rate,
            "cards_per_answer": CARDS}


def topic_tokens(with_prompts: bool = True, self_review: str = "flagged") -> Dict[str, Any]:
    """Tokens of the topic step beside those of the generation that follows it, on the seeds
    against the fake server: the answers' tokens, and with ``with_prompts`` what was sent too."""
    sys.path[:0] = [p for p in (ROOT, TESTS, TOOLS) if p not in sys.path]
    from fake_ollama import FakeOllama

    from generator.backends import make_backend
    from generator.config import SelfReview
    from generator.job.chunking import estimate_tokens
    from generator.job.run import JobOptions, plan_chunks, prepare_job, run_job
    from generator.sources.read import read_path
    from generator.job.topics import TopicPlan, find_topics

    seeds = sorted(os.path.join(ROOT, "seeds", f) for f in os.listdir(os.path.join(ROOT, "seeds"))
                   if f.endswith((".md", ".txt")))
    counts = {"topics": 0, "cards": 0}
    step = ["topics"]
    with FakeOllama() as srv:
        backend = make_backend({"url": srv.url, "read_timeout": 60})
        chat = backend.chat

        def counted(request: Any, cancel: Any = None, on_token: Any = None, on_text: Any = None) -> Any:
            result = chat(request, cancel, on_token, on_text)
            counts[step[0]] += estimate_tokens(result.content)
            if with_prompts:
                sent = request.system + request.user + "".join(m["content"] for m in request.extra_messages)
                counts[step[0]] += estimate_tokens(sent) + estimate_tokens(json.dumps(request.schema))
            return result

        backend.chat = counted  # type: ignore[method-assign]
        options = prepare_job(backend, JobOptions(model="llama3.2", self_review=SelfReview(self_review)))
        chunks = plan_chunks([read_path(p) for p in seeds], options)
        found = find_topics(chunks, backend, options)
        step[0] = "cards"
        result = run_job(chunks, backend, options, asks=TopicPlan.for_options(found.topics, options, chunks).ask)
        backend.close()
    return {"value": counts["topics"] / max(1, counts["cards"]), "topic_tokens": counts["topics"],
            "generation_tokens": counts["cards"], "seeds": len(seeds), "chunks": len(chunks),
            "topics": len(found.topics), "cards": len(result.cards),
            "tokens_per_topic": round(counts["topics"] / max(1, len(found.topics)), 1),
            "tokens_per_card": round(counts["cards"] / max(1, len(result.cards)), 1)}


def probe(args: List[str]) -> Dict[str, Any]:
    from probe_support import run_probe

    return run_probe("stream_probe.py", args, 900)


def app_first_row(tmp: str, rate: float, runs: int) -> Dict[str, Any]:
    ratios = []
    for i in range(runs):
        srv = RateServer(rate)
        try:
            got = probe(["first", srv.url, os.path.join(tmp, "first%d" % i)])
            record = srv.record()
        finally:
            srv.close()
        sent = [(t, n) for number, t, n in record["sent"] if number == 1]
        cards = len(json.loads(record["answers"]["1"])["cards"])
        per_card = (sent[-1][0] - sent[0][0]) / cards
        ratios.append((got["first_row"] - got["clicked"]) / per_card)
    return {"value": max(ratios), "runs": [round(r, 3) for r in ratios], "rate_tokens_per_s": rate}


def app_stall(tmp: str, rows: int) -> Dict[str, Any]:
    srv = RateServer(4000.0)  # a fast model: the cards of two requests at once pour in
    try:
        return probe(["stall", srv.url, os.path.join(tmp, "stall"), str(rows)])
    finally:
        srv.close()


def run(tmp: str, quick: bool) -> Tuple[Dict[str, float], Dict[str, Any], List[str]]:
    first = first_card(400.0 if quick else 150.0, 2 if quick else 5)
    topics = topic_tokens()
    app_first = app_first_row(tmp, 100.0 if quick else 30.0, 1 if quick else 3)
    stall = app_stall(tmp, 200 if quick else 500)
    lines = [
        "S1: first card after %s x the time per card (runs; median %.2f); %d cards per answer at %d "
        "tokens/s; whole answer: %.1f x" % (
            ", ".join("%.2f" % r for r in first["runs"]), first["median"], CARDS,
            first["rate_tokens_per_s"], first["whole_answer"]),
        "S2: topic step %d tokens, generation %d tokens (%d seeds, %d chunks, %d topics, %d cards; "
        "fake server)" % (topics["topic_tokens"], topics["generation_tokens"], topics["seeds"],
                          topics["chunks"], topics["topics"], topics["cards"]),
        "S3: first row after %s x the time per card (runs, from Generate; %d tokens/s)" % (", ".join(
            "%.2f" % r for r in app_first["runs"]), app_first["rate_tokens_per_s"]),
        "S4: %d rows from %d parts in %.1f s; main-thread CPU in a gap: max %.1f ms, p99 %.1f ms; the "
        "timer's lateness (wall): max %.1f ms, p99 %.1f ms, the idle app %.1f ms (load average %.1f "
        "on %d CPUs)" % (stall["rows"], stall["chunks"], stall["seconds"], stall["value"],
                         stall["cpu_p99_ms"], stall["wall_max_ms"], stall["wall_p99_ms"],
                         stall["idle_app_max_ms"] or 0, stall["load_average"], os.cpu_count() or 1),
    ]
    return ({"stream_first_card_ratio": first["value"], "topic_token_ratio": topics["value"],
             "stream_first_row_ratio": app_first["value"], "stream_stall_ms": stall["value"]},
            {"stream_first_card_ratio": first, "topic_token_ratio": topics,
             "stream_first_row_ratio": app_first, "stream_stall_ms": stall}, lines)
