"""Every way a model server fails (refused, unreachable, not a model server, timed out, model
missing, context exceeded, busy, a broken or cut stream) becomes a typed error
with a message that says what to do."""
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine_fixtures import backend_for
from fake_ollama import Reply
from generator.backends.base import ChatRequest
from generator.errors import (
    BackendError,
    Cancelled,
    ContextExceeded,
    ModelNotFound,
    NotAModelServer,
    ServerBusy,
    ServerFailed,
    ServerTimeout,
    ServerUnreachable,
    StreamBroken,
)
from generator.job.schema import answer_schema


def request(model="llama3.2"):
    return ChatRequest(model=model, system="S", user="Write up to 2 cards\nText:\n<<<\nThe sky is blue because of Rayleigh scattering.\n>>>",
                       schema=answer_schema("basic"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_connection_refused_says_how_to_start_ollama():
    b = backend_for(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServerUnreachable) as e:
        b.server_info()
    assert "ollama serve" in e.value.user_text()
    assert e.value.exit_code == 3


def test_html_page_is_not_a_model_server():
    class Html(BaseHTTPRequestHandler):
        def do_GET(self):
            data = b"<html><body>router login</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET

        def log_message(self, *a):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        b = backend_for(f"http://127.0.0.1:{httpd.server_address[1]}")
        with pytest.raises(NotAModelServer) as e:
            b.server_info()
        assert "11434" in e.value.hint
        with pytest.raises(NotAModelServer):
            b.chat(request())
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_connect_timeout_is_reported_as_unreachable():
    # A listening socket with a full backlog never accepts: the connect times out.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(0)
    fillers = []
    for _ in range(8):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(s.getsockname())
        fillers.append(c)
    b = backend_for(f"http://127.0.0.1:{s.getsockname()[1]}", connect_timeout=0.3, read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises((ServerUnreachable, ServerTimeout)) as e:
        b.server_info()
    assert time.monotonic() - started < 5
    assert e.value.hint
    for c in fillers:
        c.close()
    s.close()


def test_read_timeout(server):
    server.script(Reply(delay=1.5))
    b = backend_for(server.url, read_timeout=0.3)
    with pytest.raises(ServerTimeout) as e:
        b.chat(request())
    assert "timeout" in e.value.hint


def test_model_not_found_says_pull(server, backend):
    with pytest.raises(ModelNotFound) as e:
        backend.chat(request("mistral"))
    assert "ollama pull mistral" in e.value.user_text()
    with pytest.raises(ModelNotFound):
        backend.model_info("mistral")


def test_context_exceeded(server, backend):
    server.script(Reply.error(400, "the input length exceeds the context length"))
    with pytest.raises(ContextExceeded) as e:
        backend.chat(request())
    assert "num_ctx" in e.value.hint


def test_500_is_a_server_failure(server, backend):
    server.script(Reply.error(500, "llama runner process has terminated"))
    with pytest.raises(ServerFailed) as e:
        backend.chat(request())
    assert "llama runner" in e.value.message


def test_503_queue_full_is_retried_with_backoff(server, backend):
    server.script(Reply.error(503, "server busy"), Reply.error(503, "server busy"))
    result = backend.chat(request())
    assert '"cards"' in result.content
    assert len(server.chat_bodies()) == 3


def test_503_forever_gives_up_with_busy_error(server, backend):
    server.script(*[Reply.error(503, "server busy")] * 4)
    with pytest.raises(ServerBusy) as e:
        backend.chat(request())
    assert "parallel_requests" in e.value.hint


def test_error_line_in_the_middle_of_a_200_stream(server, backend):
    server.script(Reply(mode="stream_error", body="CUDA out of memory"))
    with pytest.raises(ServerFailed) as e:
        backend.chat(request())
    assert "out of memory" in e.value.message


def test_stream_cut_before_done(server, backend):
    server.script(Reply(mode="cut", pieces=6))
    with pytest.raises((StreamBroken, ServerFailed)):
        backend.chat(request())


def test_invalid_json_line(server, backend):
    server.script(Reply(mode="garbage"))
    with pytest.raises(BackendError):
        backend.chat(request())


def test_done_reason_length_is_passed_on(server, backend):
    server.script(Reply(content='{"cards": [{"front": "a', done_reason="length"))
    assert backend.chat(request()).done_reason == "length"


def test_cancel_between_stream_lines(server, backend):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        backend.chat(request(), cancel=cancel)


def test_request_shape(server, backend):
    backend.chat(ChatRequest(model="llama3.2", system="SYS", user="USER", schema=answer_schema("cloze"),
                             temperature=0.3, num_ctx=3072, num_predict=700, seed=7, keep_alive="3m", think=False))
    body = server.chat_bodies()[-1]
    assert body["messages"][0] == {"role": "system", "content": "SYS"}
    assert body["messages"][1] == {"role": "user", "content": "USER"}
    assert body["stream"] is True
    assert body["format"]["properties"]["cards"]["items"]["required"] == ["n", "text"]
    assert body["options"] == {"temperature": 0.3, "num_ctx": 3072, "num_predict": 700, "seed": 7}
    assert body["keep_alive"] == "3m" and body["think"] is False


def test_server_info_models_and_show(server, backend):
    info = backend.server_info()
    assert info.version == "0.33.1"
    assert "llama3.2" in info.models
    assert info.status_line().startswith("Ollama 0.33.1 at 127.0.0.1:")
    mi = backend.model_info("qwen3:4b")
    assert mi.context_length == 8192 and mi.thinks


def test_pull_reports_progress(server, backend):
    seen = []
    backend.pull("mistral", on_progress=lambda s, c, t: seen.append((s, c, t)))
    assert ("pulling abc123", 100, 100) in seen
    assert seen[-1][0] == "success"
    assert "mistral" in backend.list_models()


# --- the OpenAI-compatible backend ---------------------------------------------------------

def test_openai_backend_chat_and_models(server):
    b = backend_for(server.url, backend="openai", api_key="sk-secret-123")
    assert "llama3.2" in b.list_models()
    result = b.chat(request())
    assert '"cards"' in result.content and result.done_reason == "stop"
    body = server.chat_bodies()[-1]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["cards"]
    assert body["temperature"] == 0.2 and body["max_tokens"] == 1024
    assert server.requests[-1]["headers"]["Authorization"] == "Bearer sk-secret-123"


def test_openai_backend_falls_back_to_json_object_schema(server):
    server.script(Reply.error(500, "response_format json_schema unsupported"))
    b = backend_for(server.url, backend="openai")
    result = b.chat(request())
    assert '"cards"' in result.content
    bodies = server.chat_bodies()
    assert bodies[-1]["response_format"] == {"type": "json_object", "schema": answer_schema("basic")}
    b.chat(request())  # remembered: no second json_schema attempt
    assert server.chat_bodies()[-1]["response_format"]["type"] == "json_object"


def test_openai_backend_unknown_model(server):
    b = backend_for(server.url, backend="openai")
    with pytest.raises(ModelNotFound) as e:
        b.model_info("gpt-9")
    assert "Load 'gpt-9'" in e.value.hint


def test_openai_backend_truncation(server):
    server.script(Reply(content='{"cards": [', done_reason="length"))
    b = backend_for(server.url, backend="openai", response_format="json_schema")
    assert b.chat(request()).done_reason == "length"


@pytest.mark.parametrize("entry,expected", [
    ({"id": "m", "max_model_len": 32768}, 32768),  # vLLM
    ({"id": "m", "max_context_length": 8192}, 8192),  # LM Studio
    ({"id": "m", "meta": {"n_ctx_train": 8192, "n_ctx": 2048}}, 2048),  # llama.cpp
    ({"id": "m"}, 0),
])
def test_openai_context_length_where_the_server_states_it(entry, expected):
    from generator.backends.openai_compat import context_length

    assert context_length(entry) == expected


def test_openai_job_caps_num_ctx_to_the_servers_context(server):
    from generator.job.run import JobOptions, prepare_job

    server.context_length = 2048
    b = backend_for(server.url, backend="openai")
    assert prepare_job(b, JobOptions(model="llama3.2", num_ctx=4096)).num_ctx == 2048


def test_openai_timeout_is_not_taken_for_a_rejected_schema_form(server):
    server.script(Reply(delay=1.5))
    b = backend_for(server.url, backend="openai", read_timeout=0.3)
    with pytest.raises(ServerTimeout):
        b.chat(request())
    assert len(server.chat_bodies()) == 1  # not sent again in the other form
    assert b.response_format == "auto"
