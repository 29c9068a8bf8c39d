"""The model server attacks: a real socket server that streams forever, drips, redirects,
gzip-bombs, cuts, nests and lies about shapes (tests/hostile_server.py). Every request must end
in time, within its caps, as a typed error that says what to do; cancelling or a fatal error
closes the requests in flight at once. Each test has a wall-clock bound that fails it if the
client hangs."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from engine_fixtures import backend_for
from generator.backends.base import ChatRequest
from generator.job.chunk import Chunk
from generator.errors import (
    AnswerTooLarge,
    AuthFailed,
    BackendError,
    Cancelled,
    DeadlinePassed,
    FlashcardError,
    NotAModelServer,
    Redirected,
    ServerFailed,
    StreamBroken,
)
from generator.config import SelfReview
from generator.job.run import JobOptions, run_job
from generator.job.schema import answer_schema
from hostile_server import (
    Hostile,
    bad_chunks,
    by_body,
    card_answer,
    cut_after_headers,
    drip,
    drip_headers,
    giant_line,
    good_chat,
    gzip_bomb,
    gzip_json,
    hang,
    nested,
    ollama_lines,
    openai_lines,
    redirect,
    reply_bytes,
    reply_json,
    status_body,
    stream_forever,
)
from timing import assert_linear

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHAT = "POST /api/chat"
OPENAI_CHAT = "POST /v1/chat/completions"


def request(num_predict=1024):
    return ChatRequest(model="llama3.2", system="S", num_predict=num_predict,
                       user="Write up to 2 cards\nText:\n<<<\nThe sky is blue because of Rayleigh scattering.\n>>>",
                       schema=answer_schema("basic"))


@contextmanager
def within(seconds):
    """Fails the test when the block takes longer than ``seconds`` (it must not hang)."""
    started = time.monotonic()
    yield
    took = time.monotonic() - started
    assert took < seconds, f"took {took:.1f} s, bound {seconds} s"


def chat_error(h, expected, bound, **cfg):
    """The error one chat raises against ``h``, raised within ``bound`` seconds."""
    cfg.setdefault("read_timeout", 10)
    b = backend_for(h.url, **cfg)
    try:
        with within(bound):
            with pytest.raises(expected) as e:
                b.chat(request())
    finally:
        b.close()
    err = e.value
    assert err.message and err.hint
    assert "\x1b" not in err.user_text()
    return err


def closed_by_client(h, path="/api/chat", wait=2.0):
    """The longest time from a request to ``path`` to the client closing its connection, as the
    server saw it (waits until every such request was closed, at most ``wait`` s more)."""
    ends = time.monotonic() + wait
    while time.monotonic() < ends:
        sent = [r for r in h.requests if r.path == path]
        seen = [t for p, t in h.closed if p == path]
        if sent and len(seen) >= len(sent):
            return max(seen)
        time.sleep(0.02)
    raise AssertionError(f"the client did not close its connections for {path} in time")


# --- 1. an overall deadline, kept even when every read is quick ---------------------------------

@pytest.mark.timeout(30)
@pytest.mark.parametrize("behaviour", [
    drip(b" "),  # one space a second
    drip(b'{"done":false}\n', every=0.3),  # a valid, empty line now and then
    drip(b" ", every=0.5, before=[ollama_lines(card_answer())[0]]),  # a good start, then a drip
    stream_forever(b'{"done":false}\n', interval=0.05),  # empty lines, slowly enough for the caps
    stream_forever(b"\n", interval=0.05),
    drip_headers(every=0.3),  # the headers never end
    hang(),  # says nothing at all
    hang(after_headers=True),  # headers, then nothing
], ids=["drip", "drip-lines", "good-start-then-drip", "empty-lines", "blank-lines",
        "drip-headers", "silent", "silent-after-headers"])
def test_a_request_ends_at_its_deadline(behaviour):
    with Hostile() as h:
        h.route(CHAT, behaviour)
        err = chat_error(h, DeadlinePassed, 1.5 + 1.5, request_deadline=1.5, read_timeout=10)
        assert err.retryable and "request_deadline" in err.hint and "1.5 s" in err.message
        assert closed_by_client(h) < 1.5 + 1.0


@pytest.mark.timeout(30)
def test_openai_keepalive_comments_forever_end_at_the_deadline():
    with Hostile() as h:
        h.route(OPENAI_CHAT, stream_forever(b": keep-alive\n\n", interval=0.05))
        err = chat_error(h, DeadlinePassed, 3, backend="openai", response_format="json_schema",
                         request_deadline=1.0)
        assert err.retryable


@pytest.mark.timeout(30)
def test_a_healthy_slow_answer_is_not_cut():
    """An answer that streams steadily for longer than a read timeout, within its deadline."""
    def slow(conn, req):
        conn.head(200, [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")])
        for line in ollama_lines(card_answer(), pieces=12):
            conn.chunk(line)
            conn.wait(0.1)
        conn.end_chunks()

    with Hostile() as h:
        h.route(CHAT, slow)
        b = backend_for(h.url, read_timeout=0.5, request_deadline=5)
        with within(5):
            result = b.chat(request())
        assert json.loads(result.content)["cards"][0]["front"] == "What is Rayleigh scattering?"
        b.close()


def test_the_deadline_follows_the_observed_speed():
    from generator.backends.http import Http
    from generator.backends.wire import Limits

    http = Http("http://127.0.0.1:9", read_timeout=300, limits=Limits(deadline=900))
    assert http.chat_deadline(1024) == 900  # nothing seen yet: the ceiling
    http.observe(1024, 1024 / 20)  # a slow CPU model: 20 tokens/s
    slow = http.chat_deadline(1024)
    assert slow >= 300 + 1024 / 20 * 2  # a legitimate answer at half that speed still passes
    assert slow < 900
    http.observe(5000, 50)
    http.observe(5000, 50)
    assert 60 <= http.chat_deadline(1024) < slow  # faster model, shorter deadline, floor kept
    assert http.chat_deadline(10 ** 6) == 900  # never above the ceiling
    http.close()


# --- 1+2. caps on bytes, lines and characters; no unbounded decompression -----------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("behaviour,why", [
    (stream_forever(b" \n"), "lines"),  # whitespace lines forever, as fast as it can
    (stream_forever(b'{"done":false}\n'), "lines"),
    (stream_forever(b"    "), "MB"),  # whitespace without a newline
    (stream_forever(b"x" * 1000, chunked=False), "MB"),  # no chunking, no length, no end
    (giant_line(64), "MB"),  # one 64 MB line
    (gzip_bomb(64), "MB"),  # 64 MB of spaces in ~64 KB of gzip
    (gzip_bomb(64, unit=b"\n"), "lines"),  # 64 MB of newlines
    (gzip_bomb(64, unit=b'{"done":false}\n'), "lines"),
    (gzip_bomb(64, encoding="deflate"), "MB"),
], ids=["blank-lines", "empty-objects", "spaces", "raw-forever", "giant-line", "gzip-spaces",
        "gzip-newlines", "gzip-objects", "deflate"])
def test_a_runaway_answer_ends_at_its_caps(behaviour, why):
    with Hostile() as h:
        h.route(CHAT, behaviour)
        err = chat_error(h, AnswerTooLarge, 15, max_answer_mb=8)
        assert err.retryable and why in err.message and "max_answer_mb" in err.hint
        assert closed_by_client(h, wait=5) < 15


@pytest.mark.timeout(60)
def test_the_characters_of_an_answer_are_capped():
    piece = json.dumps({"message": {"role": "assistant", "content": "word " * 200}, "done": False}).encode()
    with Hostile() as h:
        h.route(CHAT, stream_forever(piece + b"\n"))
        err = chat_error(h, AnswerTooLarge, 10, max_answer_chars=50_000)
        assert "50,000 characters" in err.message


def one_line_answer(size):
    """(content, the server's whole reply): an answer of about ``size`` characters on one line,
    as a server that ignores streaming sends it."""
    content = json.dumps({"cards": [{"front": "Q", "back": "A " * (size // 2), "quote": ""}]})
    line = json.dumps({"message": {"role": "assistant", "content": content}, "done": True,
                       "done_reason": "stop", "eval_count": 10}).encode() + b"\n"
    return content, line


@pytest.mark.timeout(60)
def test_a_long_answer_on_one_line_is_read_whole():
    """10 MB of content on one line (a server that ignores streaming): read whole, quickly."""
    content, line = one_line_answer(10 * 1024 * 1024)
    with Hostile() as h:
        h.route(CHAT, reply_bytes(line, content_type="application/x-ndjson"))
        b = backend_for(h.url, max_answer_mb=64, max_answer_chars=20_000_000)
        with within(8):
            result = b.chat(request())
        assert len(result.content) == len(content)
        b.close()


@pytest.mark.timeout(120)
def test_a_long_line_arriving_in_small_reads_is_split_in_linear_time():
    """A line that arrives in many small reads: twice as many reads take about twice as long
    (searching the whole line held so far again at every read would be quadratic)."""
    from generator.backends.wire import LineSplitter

    def split(pieces):
        splitter = LineSplitter(max_line=1 << 30)
        for piece in pieces:
            assert splitter.feed(piece) == []
        assert [len(x) for x in splitter.feed(b"\n")] == [64 * len(pieces)]

    assert_linear(split, lambda n: [b"x" * 64] * n, 1024)


def test_line_splitter_splits_like_split():
    from generator.backends.wire import LineSplitter, TooLarge

    for data in (b"a\nbb\r\n\nccc" + b"d" * 5000 + b"\n\n e \nlast", b"x\n" * 300 + b"\n"):
        for size in (1, 2, 3, 7, 64, 4096, len(data)):
            splitter = LineSplitter(max_line=10_000)
            lines = []
            for i in range(0, len(data), size):
                lines += [bytes(x) for x in splitter.feed(data[i:i + size])]
            assert lines + [splitter.rest()] == data.split(b"\n")
    # A line over the cap: the whole lines that came with it are given, the overlong one is
    # marked (its start kept for a reader), and feeding more is refused.
    splitter = LineSplitter(max_line=100)
    assert [bytes(x) for x in splitter.feed(b"a\nb\n" + b"x" * 150)] == [b"a", b"b"]
    assert splitter.overlong and splitter.begun() == b"x" * 100
    with pytest.raises(TooLarge):
        splitter.feed(b"more")
    splitter = LineSplitter(max_line=100)
    assert splitter.feed(b"x" * 100) == [] and not splitter.overlong
    splitter.feed(b"y")
    assert splitter.overlong


@pytest.mark.timeout(30)
def test_a_compressed_answer_within_the_caps_is_read():
    """Accept-Encoding says identity, but a server (or proxy) that compresses anyway works."""
    import gzip

    data = gzip.compress(b"".join(ollama_lines(card_answer())))

    def gz(conn, req):
        assert req.headers.get("accept-encoding") == "identity"
        conn.head(200, [("Content-Type", "application/x-ndjson"), ("Content-Encoding", "gzip"),
                        ("Content-Length", str(len(data))), ("Connection", "close")])
        conn.send(data)

    with Hostile() as h:
        h.route(CHAT, gz).route("GET /api/tags", gzip_json({"models": [{"name": "llama3.2"}]}))
        b = backend_for(h.url)
        with within(5):
            assert json.loads(b.chat(request()).content)["cards"]
            assert b.list_models() == ["llama3.2"]
        b.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("behaviour,expected", [
    (gzip_bomb(256, streamed=False), AnswerTooLarge),  # non-streamed gzip bomb
    (gzip_bomb(256, streamed=True), AnswerTooLarge),
    (reply_bytes(b'{"models": [' + b'{"name": "m"},' * 5_000_000 + b'{}]}'), AnswerTooLarge),  # 70 MB
    (gzip_bomb(1, encoding="br", streamed=False), NotAModelServer),  # an encoding not asked for
    (reply_bytes(b"\x1f\x8b\x08\x00garbage", headers=[("Content-Encoding", "gzip")]), StreamBroken),
    (nested(100_000, streamed=False), NotAModelServer),
    (nested(2_000, streamed=False), NotAModelServer),
], ids=["gzip-bomb", "gzip-bomb-chunked", "70MB", "brotli", "bad-gzip", "nested-100k", "nested-2k"])
def test_non_streamed_replies_are_capped_before_parsing(behaviour, expected):
    for route, call in (("GET /api/tags", lambda b: b.list_models()),
                        ("POST /api/show", lambda b: b.model_info("llama3.2")),
                        ("GET /api/version", lambda b: b.server_info())):
        with Hostile() as h:
            h.route(route, behaviour)
            b = backend_for(h.url)
            with within(10):
                with pytest.raises(expected) as e:
                    call(b)
            assert e.value.hint
            b.close()


# --- 3. cancel and fatal errors close the requests in flight at once ----------------------------

@pytest.mark.timeout(30)
@pytest.mark.parametrize("behaviour", [hang(), hang(after_headers=True), drip(every=0.2), drip_headers()],
                         ids=["silent", "after-headers", "drip", "drip-headers"])
def test_cancel_closes_the_request_at_once(behaviour):
    with Hostile() as h:
        h.route(CHAT, behaviour)
        b = backend_for(h.url, read_timeout=60)
        cancel = threading.Event()
        outcome = []

        def go():
            try:
                b.chat(request(), cancel=cancel)
            except BaseException as e:
                outcome.append(e)

        t = threading.Thread(target=go)
        t.start()
        time.sleep(0.5)
        cancel.set()
        with within(1.0):
            t.join(5)
        assert not t.is_alive() and isinstance(outcome[0], Cancelled)
        assert closed_by_client(h) < 1.5
        b.close()


@pytest.mark.timeout(30)
def test_abort_and_close_stop_requests_in_flight():
    with Hostile() as h:
        h.route(CHAT, hang())
        b = backend_for(h.url, read_timeout=60)
        outcome = []
        threads = [threading.Thread(target=lambda: outcome.append(_try(b.chat, request())))
                   for _ in range(2)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        with within(0.5):
            b.close()  # closes the backend: its requests end with it
            for t in threads:
                t.join(5)
        assert [type(e) for e in outcome] == [Cancelled, Cancelled]


def _try(fn, *args):
    try:
        return fn(*args)
    except BaseException as e:
        return e


def chunk(i, marker):
    return Chunk(id=f"c{i}", document="doc.txt", index=i, heading_path=("Part", str(i)),
                 text=f"{marker}: fact number {i} is that item {i} weighs {i} grams exactly.")


@pytest.mark.timeout(30)
def test_a_fatal_error_ends_the_job_without_waiting_for_the_other_request():
    with Hostile() as h:
        h.route(CHAT, by_body({"ALPHA": reply_json({"error": "unauthorized"}, status=401),
                               "BETA": hang()}))
        b = backend_for(h.url, read_timeout=300)
        options = JobOptions(model="llama3.2", parallel=2, num_predict=256)
        with within(2.0):
            result = run_job([chunk(1, "BETA"), chunk(0, "ALPHA")], b, options)
        assert isinstance(result.fatal, AuthFailed)
        assert closed_by_client(h) < 2.0  # the hanging request was closed, not left to time out
        b.close()


@pytest.mark.timeout(30)
def test_cancelling_a_job_closes_its_requests():
    with Hostile() as h:
        h.route(CHAT, hang(after_headers=True))
        b = backend_for(h.url, read_timeout=300)
        cancel = threading.Event()
        threading.Timer(0.5, cancel.set).start()
        with within(1.5):
            result = run_job([chunk(i, "X") for i in range(3)], b,
                             JobOptions(model="llama3.2", parallel=3, num_predict=256), cancel=cancel)
        assert result.cancelled and not result.cards
        assert closed_by_client(h) < 1.5
        b.close()


# --- 4. redirects ---------------------------------------------------------------------------------

@pytest.mark.timeout(30)
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_model_requests_are_never_redirected(status):
    with Hostile() as elsewhere, Hostile() as h:
        h.route(CHAT, redirect(elsewhere.url + "/api/chat", status))
        err = chat_error(h, Redirected, 5)
        assert f"127.0.0.1:{elsewhere.port}/api/chat" in err.message
        assert "settings" in err.hint
        assert not elsewhere.requests  # the user's text went nowhere else


@pytest.mark.timeout(30)
def test_a_redirect_to_the_same_host_is_not_followed_for_a_model_request_either():
    with Hostile() as h:
        h.route(CHAT, redirect("/api/chat2")).route("POST /api/chat2", good_chat())
        chat_error(h, Redirected, 5)
        assert [r.path for r in h.requests] == ["/api/chat"]


@pytest.mark.timeout(30)
def test_gets_follow_redirects_on_the_same_host_only():
    with Hostile() as elsewhere, Hostile() as h:
        h.route("GET /api/tags", redirect("/v2/tags", 302))
        h.route("GET /v2/tags", reply_json({"models": [{"name": "moved-model"}]}))
        b = backend_for(h.url)
        assert b.list_models() == ["moved-model"]
        h.route("GET /api/tags", redirect(elsewhere.url + "/api/tags", 302))
        with pytest.raises(Redirected) as e:
            b.list_models()
        assert str(elsewhere.port) in e.value.message and not elsewhere.requests
        b.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("location", ["/api/tags", "/a", "http://127.0.0.1:{port}/api/tags"])
def test_a_redirect_loop_ends_with_a_message(location):
    with Hostile() as h:
        h.route("GET /api/tags", redirect(location.format(port=h.port), 302))
        h.route("GET /a", redirect("/api/tags", 302))
        b = backend_for(h.url)
        with within(5):
            with pytest.raises(Redirected) as e:
                b.list_models()
        assert "loop" in e.value.message
        assert len(h.requests) <= 4
        b.close()


@pytest.mark.timeout(30)
def test_a_hostile_redirect_target_is_shown_neutralised():
    with Hostile() as h:
        h.route(CHAT, redirect("http://evil.example/\x1b]0;pwned\x07" + "x" * 5000))
        err = chat_error(h, Redirected, 5)
        assert "evil.example" in err.message and "\x07" not in err.message
        assert len(err.message) < 400


# --- 5. every broken stream and wrong shape is a typed error ----------------------------------

@pytest.mark.timeout(30)
@pytest.mark.parametrize("behaviour", [
    cut_after_headers(chunked=True), cut_after_headers(chunked=False),
    bad_chunks("size"), bad_chunks("long"), bad_chunks("short"),
], ids=["cut-chunked", "cut-length", "bad-chunk-size", "endless-chunk-size", "short-chunk"])
def test_a_broken_stream_is_a_retryable_typed_error(behaviour):
    with Hostile() as h:
        h.route(CHAT, behaviour)
        err = chat_error(h, StreamBroken, 5)
        assert err.retryable and "broke" in err.message


@pytest.mark.timeout(30)
def test_a_connection_closed_without_an_answer_or_not_http():
    def close_at_once(conn, req):
        pass

    def banner(conn, req):
        conn.send(b"SSH-2.0-OpenSSH_9.6\r\n" * 5)

    with Hostile() as h:
        h.route(CHAT, close_at_once)
        err = chat_error(h, ServerFailed, 5)
        assert "closed the connection" in err.message and err.retryable
        h.route(CHAT, banner)
        chat_error(h, NotAModelServer, 5)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("depth", [100, 5_000, 200_000])
def test_deeply_nested_json_in_a_stream(depth):
    with Hostile() as h:
        h.route(CHAT, nested(depth))
        chat_error(h, BackendError, 10)


WRONG_SHAPES = [
    {"message": ["not", "a", "dict"], "done": True},
    {"message": {"content": ["a list"]}, "done": True},
    {"message": {"content": {"a": 1}, "thinking": 5}, "done": True},
    {"message": "text", "done": True, "eval_count": "many", "prompt_eval_count": [1]},
    {"message": {"content": "{}"}, "done": True, "done_reason": ["length"], "eval_count": 1e308},
    {"error": {"nested": {"message": "\x1b[2Jboom"}}},
    {"error": ["a", "list"]},
    [1, 2, 3],
    "a string",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=[str(i) for i in range(len(WRONG_SHAPES))])
def test_wrong_shapes_in_a_stream_never_escape_as_a_traceback(shape):
    line = json.dumps(shape).replace("1e+308", "Infinity").encode() + b"\n"
    with Hostile() as h:
        h.route(CHAT, reply_bytes(line, content_type="application/x-ndjson"))
        b = backend_for(h.url)
        try:
            result = b.chat(request())
        except FlashcardError as e:
            assert "\x1b" not in e.user_text()
        else:
            assert isinstance(result.content, str) and isinstance(result.answer_tokens, int)
            assert isinstance(result.done_reason, str)
        b.close()


OPENAI_SHAPES = [
    {"choices": {"0": {"delta": {"content": "x"}}}},
    {"choices": ["x", 1, None]},
    {"choices": [{"delta": "text", "finish_reason": 3}]},
    {"choices": [{"delta": {"content": 5}}], "usage": {"completion_tokens": "x"}},
    {"error": {"message": ["list"]}},
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shape", OPENAI_SHAPES, ids=[str(i) for i in range(len(OPENAI_SHAPES))])
def test_wrong_shapes_in_an_openai_stream(shape):
    body = b"data: " + json.dumps(shape).encode() + b"\n\ndata: [DONE]\n\n"
    with Hostile() as h:
        h.route(OPENAI_CHAT, reply_bytes(body, content_type="text/event-stream"))
        b = backend_for(h.url, backend="openai", response_format="json_schema")
        try:
            result = b.chat(request())
        except FlashcardError:
            pass
        else:
            assert isinstance(result.content, str)
        b.close()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("route,body", [
    ("POST /api/show", {"model_info": ["llama.context_length", 8192], "capabilities": "thinking"}),
    ("POST /api/show", {"model_info": {"llama.context_length": "8192", 5: 1}, "capabilities": [1, None]}),
    ("POST /api/show", {"model_info": {"llama.context_length": True}}),
    ("POST /api/show", ["a", "list"]),
    ("GET /api/tags", {"models": {"name": "x"}}),
    ("GET /api/tags", {"models": [{"name": ["x"]}, {"name": "ok"}, {"model": 5}, "str", {"name": "\x1b[31mred"}]}),
    ("GET /api/version", {"version": {"major": 1}}),
    ("GET /v1/models", {"data": [{"id": {"a": 1}}, {"id": "ok", "max_model_len": "big", "meta": []}]}),
    ("GET /v1/models", {"data": "none"}),
])
def test_wrong_shapes_in_server_replies_are_typed_errors_or_ignored(route, body):
    backend = "openai" if route.startswith("GET /v1") else "ollama"
    with Hostile() as h:
        h.route(route, reply_json(body))
        b = backend_for(h.url, backend=backend)
        for call in (b.server_info, b.list_models, lambda: b.model_info("ok")):
            try:
                out = call()
            except FlashcardError as e:
                assert e.message and e.hint
            else:
                names = getattr(out, "models", None) or (out if isinstance(out, list) else [])
                assert all(isinstance(n, str) and "\x1b" not in n for n in names)
                if hasattr(out, "context_length"):
                    assert isinstance(out.context_length, int)
                    assert all(isinstance(c, str) for c in out.capabilities)
        b.close()


def test_model_info_as_a_list_is_ignored():
    with Hostile() as h:
        h.route("POST /api/show", reply_json({"model_info": [1, 2], "capabilities": ["completion"]}))
        b = backend_for(h.url)
        info = b.model_info("llama3.2")
        assert info.context_length == 0 and info.capabilities == ("completion",)
        b.close()


def test_a_deeply_nested_model_answer_is_an_invalid_answer():
    from generator.job.answers import parse_json
    from generator.errors import InvalidAnswer

    for text in ("[" * 100_000, '{"cards": ' + "[" * 50_000 + "]" * 50_000 + "}", "x [" * 50_000):
        with within(5):
            with pytest.raises(InvalidAnswer):
                parse_json(text)


# --- 6. server text is neutralised and shortened ------------------------------------------------

@pytest.mark.timeout(30)
@pytest.mark.parametrize("content_type,body", [
    ("text/plain", b"\x1b[31mboom\x1b]0;title\x07\r\n" * 600_000),  # 10 MB with escape codes
    ("application/json", json.dumps({"error": "\x1b[2J\x1b[H" + "A" * 10_000_000}).encode()),
    ("application/json", json.dumps({"error": {"message": "\u202egnp.exe\x9b31m " * 1000}}).encode()),
])
def test_an_error_body_is_read_capped_and_shown_neutralised(content_type, body):
    with Hostile() as h:
        h.route(CHAT, status_body(500, body, content_type))
        err = chat_error(h, ServerFailed, 5)
        text = err.user_text()
        assert len(text) < 800
        assert not any(c in text for c in "\x1b\x07\x9b\u202e\r")


@pytest.mark.timeout(30)
def test_an_error_line_in_a_stream_is_shown_neutralised():
    line = json.dumps({"error": "\x1b]52;c;cGF5bG9hZA==\x07 CUDA out of memory " + "x" * 100_000}).encode()
    with Hostile() as h:
        h.route(CHAT, reply_bytes(line + b"\n", content_type="application/x-ndjson"))
        err = chat_error(h, ServerFailed, 5)
        assert "out of memory" in err.message and "\x1b" not in err.message and len(err.message) < 500


# --- 7. the whole CLI against the hostile server ----------------------------------------------

def cli(url, *args, stdin="The sky is blue because of Rayleigh scattering of sunlight.\n", timeout=60):
    return subprocess.run([sys.executable, "flashcards.py", "-", "--dry-run", "--json", "--url", url,
                           "--model", "llama3.2", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("behaviour,says", [
    (drip(every=0.2), "took longer than 1 s"),
    (stream_forever(b'{"done":false}\n'), "limit for one answer"),
    (gzip_bomb(256), "limit for one answer"),
    (cut_after_headers(), "broke"),
    (nested(100_000), "not like a model server"),
    (redirect("http://evil.example/x"), "evil.example"),
    (status_body(500, b"\x1b[31mboom\x07" * 1_000_000), "failed (500"),
], ids=["drip", "forever", "gzip-bomb", "cut", "nested", "redirect", "500-10MB"])
def test_cli_ends_with_a_message_whatever_the_server_does(behaviour, says):
    with Hostile() as h:
        h.route(CHAT, behaviour)
        started = time.monotonic()
        r = cli(h.url, "--deadline", "1", "--timeout", "10")
        took = time.monotonic() - started
    assert took < 30, f"the CLI took {took:.1f} s"
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert says in r.stderr
    assert "\x1b" not in r.stderr and len(r.stderr) < 5000


@pytest.mark.timeout(90)
def test_cli_exits_at_once_after_a_fatal_error_with_a_request_hanging():
    text = "ALPHA one two three four five six.\n\n" + ("BETA " + "words go here and on. " * 400 + "\n\n") * 3
    with Hostile() as h:
        h.route(CHAT, by_body({"ALPHA": reply_json({"error": "unauthorized"}, status=401)}, default=hang()))
        started = time.monotonic()
        r = cli(h.url, "--parallel", "2", "--num-ctx", "1024", "--num-predict", "256", "--timeout", "300",
                stdin=text)
        took = time.monotonic() - started
    assert r.returncode == 3 and "refused" in r.stderr and "Traceback" not in r.stderr
    assert took < 15, f"the CLI took {took:.1f} s to exit (it waited for the hanging request)"


@pytest.mark.timeout(90)
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_cli_ctrl_c_with_a_request_hanging_exits_at_once():
    with Hostile() as h:
        h.route(CHAT, hang(after_headers=True))
        proc = subprocess.Popen([sys.executable, "flashcards.py", "-", "--dry-run", "--json", "--url", h.url,
                                 "--model", "llama3.2", "--timeout", "300"], cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        proc.stdin.write("The sky is blue because of Rayleigh scattering of sunlight.\n")
        proc.stdin.close()
        ends = time.monotonic() + 30
        while not h.chats() and time.monotonic() < ends:
            time.sleep(0.05)
        assert h.chats(), "the CLI never sent its request"
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the CLI did not exit within 10 s of Ctrl-C")
        took = time.monotonic() - started
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
    assert took < 3, f"the CLI took {took:.1f} s to exit after Ctrl-C"
    assert proc.returncode != 0 and "Traceback" not in err


# --- an answer past a cap keeps the cards that closed before it, however it is framed ------------

FLOOD_TEXT = "The sky is blue because of Rayleigh scattering."


def flood_content(n):
    """A model in a loop: ``n`` cards, each its own closed object, in one JSON list."""
    return json.dumps({"cards": [{"front": f"Why is the sky blue? ({k})",
                                  "back": "Because of Rayleigh scattering.",
                                  "quote": FLOOD_TEXT} for k in range(n)]})


def closed_before(text, limit):
    """How many card objects of the answer ``text`` close within its first ``limit`` characters."""
    from generator.job.stream import ObjectStream

    got = []
    ObjectStream(got.append).feed(text[:limit])
    return len(got)


def one_line_body(content, backend, pieces=1):
    """The answer's body in ``pieces`` lines of either protocol (1: the whole text on one line)."""
    lines = openai_lines(content, pieces) if backend == "openai" else ollama_lines(content, pieces)
    return b"".join(lines)


def send_body(body, gzip_it=False):
    def run(conn, req):
        data = body
        headers = [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")]
        if gzip_it:
            import gzip
            data = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        conn.head(200, headers)
        for i in range(0, len(data), 65536):
            conn.chunk(data[i:i + 65536])
        conn.end_chunks()
    return run


def cards_before_a_cap(h, backend, **caps):
    """What a chat against ``h`` hands on before it ends with AnswerTooLarge: its cards."""
    from generator.job.stream import CardStream

    chunk = Chunk(id="c1", document="sky.md", text=FLOOD_TEXT)
    stream = CardStream(chunk, "basic", 10_000)
    path = OPENAI_CHAT if backend == "openai" else CHAT
    cfg = dict(caps, backend=backend, read_timeout=10)
    if backend == "openai":
        cfg["response_format"] = "json_schema"
    b = backend_for(h.url, **cfg)
    try:
        with within(20):
            with pytest.raises(AnswerTooLarge) as e:
                b.chat(request(), on_text=stream.feed)
    finally:
        b.close()
    assert [r for r in h.requests if r.path == path.split()[1]]
    return stream.cards, e.value


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", ["ollama", "openai"])
@pytest.mark.parametrize("pieces", [1, 7, 400], ids=["one-line", "7-lines", "400-lines"])
def test_an_answer_over_the_character_cap_keeps_its_closed_cards(backend, pieces):
    content = flood_content(2000)  # ~230,000 characters
    cap = 50_000
    with Hostile() as h:
        h.route(OPENAI_CHAT if backend == "openai" else CHAT,
                send_body(one_line_body(content, backend, pieces)))
        cards, err = cards_before_a_cap(h, backend, max_answer_chars=cap)
    assert "50,000 characters" in err.message
    assert len(cards) == closed_before(content, cap) > 300
    assert cards[-1].front == f"Why is the sky blue? ({len(cards) - 1})"


def body_offsets(body, content):
    """For each card of ``content``, the offset in ``body`` just past its encoded object."""
    ends, pos = [], 0
    for item in json.loads(content)["cards"]:
        encoded = json.dumps(json.dumps(item))[1:-1].encode()  # as it sits inside a JSON string
        at = body.index(encoded, pos)
        pos = at + len(encoded)
        ends.append(pos)
    return ends


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", ["ollama", "openai"])
@pytest.mark.parametrize("gzip_it", [False, True], ids=["plain", "gzip"])
def test_a_line_over_the_byte_cap_keeps_the_cards_that_closed_within_it(backend, gzip_it):
    """One line longer than the whole answer may be (here 0.1 MB of a 0.7 MB line): what closed
    in its first 0.1 MB is read, instead of the line being thrown away whole."""
    content = flood_content(5000)
    body = one_line_body(content, backend, 1)
    cap = int(0.1 * 1024 * 1024)
    assert len(body) > 5 * cap
    with Hostile() as h:
        h.route(OPENAI_CHAT if backend == "openai" else CHAT, send_body(body, gzip_it))
        cards, err = cards_before_a_cap(h, backend, max_answer_mb=0.1, max_answer_chars=10_000_000)
    assert "0.1 MB" in err.message and "max_answer_mb" in err.hint
    expected = sum(1 for end in body_offsets(body, content) if end <= cap)
    assert expected > 300
    assert len(cards) == expected


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_lines_before_an_overlong_line_are_all_read(backend):
    """Whole lines that arrive in the same read as the start of an overlong one still count."""
    content = flood_content(40)
    head = one_line_body(content[:len(content) // 2], backend, 3)
    if backend == "openai":
        head = b"".join(x for x in head.split(b"\n\n") if b"[DONE]" not in x and b"finish_reason\": \"stop" not in x
                        for x in (x + b"\n\n",))
    else:
        head = b"".join(x + b"\n" for x in head.split(b"\n") if x and b'"done": true' not in x)
    junk = b'{"message": {"role": "assistant", "content": "' + b"z" * (200 * 1024)
    with Hostile() as h:
        h.route(OPENAI_CHAT if backend == "openai" else CHAT, send_body(head + junk))
        cards, err = cards_before_a_cap(h, backend, max_answer_mb=0.1)
    assert len(cards) == closed_before(content[:len(content) // 2], 10 ** 9) >= 15
    assert "0.1 MB" in err.message


def test_the_start_of_a_cut_json_string_is_read_back_exactly():
    from generator.backends.http import begun_string

    text = 'Q "1" \\ é 😀 \n\t end \u2028 \x01'
    for ascii_only in (True, False):
        line = json.dumps({"message": {"role": "assistant", "content": text}},
                          ensure_ascii=ascii_only).encode()
        start = line.index(b'"content": "') + len(b'"content": "')
        for cut in range(start, len(line)):
            # every character whose encoding lies whole within the cut, and nothing more
            whole = max(k for k in range(len(text) + 1)
                        if len(json.dumps(text[:k], ensure_ascii=ascii_only).encode()) - 2 <= cut - start)
            assert begun_string(line[:cut], "content", 1000) == text[:whole], cut
    assert begun_string(line, "content", 1000) == text
    assert begun_string(line, "content", 3) == text[:3]
    assert begun_string(b'{"thinking": "a", "other": 1}', "content", 100) == ""


SIX_SENTENCES = ("The sky is blue because of Rayleigh scattering. Sunlight holds every colour. "
                 "Air molecules scatter short wavelengths most. Blue light is scattered more than red. "
                 "At sunset the light crosses more air. Then red and orange remain.")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", ["ollama", "openai"])
@pytest.mark.parametrize("pieces", [1, 3000], ids=["one-line", "4KB-lines"])
def test_a_model_in_a_loop_does_not_flood_the_deck(backend, pieces, col):
    """100,000 cards streamed for a six-sentence text, no number of cards set: the cards kept
    stay within what the text can hold, the others are counted as such and said once."""
    from generator.job.depth import text_holds
    from generator.job.reports import WarningKind
    from generator.notes.accounting import Reason
    from generator.notes.add import NoteTarget, add_cards

    content = json.dumps({"cards": [{"front": f"Why is the sky blue? ({k})",
                                     "back": "Because of Rayleigh scattering.",
                                     "quote": "The sky is blue because of Rayleigh scattering."}
                                    for k in range(100_000)]})
    chunk = Chunk(id="sky", document="sky.md", text=SIX_SENTENCES)
    with Hostile() as h:
        h.route(OPENAI_CHAT if backend == "openai" else CHAT,
                send_body(one_line_body(content, backend, pieces)))
        b = backend_for(h.url, backend=backend, response_format="json_schema", read_timeout=10)
        try:
            with within(60):
                result = run_job([chunk], b, JobOptions(model="llama3.2", self_review=SelfReview.OFF))
        finally:
            b.close()
    holds = text_holds(SIX_SENTENCES)
    assert 10 <= holds <= 40
    assert len(result.cards) == holds
    over = result.account.left[Reason.BOUND]
    assert over > 5000  # all the cards that closed before the answer's cap, less those kept
    assert result.account.made == holds + over and set(result.account.left) == {Reason.BOUND}
    said = [w for w in result.warnings if w.kind is WarningKind.OVER_BOUND]
    assert len(said) == 1 and f"({holds} kept)" in said[0].message
    assert len(result.cut) == 1  # the answer itself ended at the character cap
    added = add_cards(col, result.cards, NoteTarget("Sky"))
    assert len(added.note_ids) == holds == col.note_count()
