"""Today's Ollama (and OpenAI-compatible servers) as the fake server plays it: num_ctx "auto"
from /api/ps after a preload, think levels chosen from what /api/show reports, old versions named
in the status line, the new "prompt longer than the context" error, and names without a tag."""
import pytest

from engine_fixtures import backend_for
from fake_ollama import FakeOllama, Reply
from generator.backends.server_facts import (OLD_SERVER_WARNING, find_model, model_key,
                                             parse_version, same_model, think_setting)
from generator.job.chunk import Chunk
from generator.config import Settings
from generator.job.context_size import AUTO_FALLBACK_CTX, MAX_CHUNK_TOKENS, parse_num_ctx
from generator.errors import ContextExceeded, FlashcardError, ModelNotFound
from generator.job.run import JobOptions, chunk_budget, prepare_job, run_job

# The exact text current Ollama answers (llm/llama_server.go, since ollama PR #16712).
NEW_CONTEXT_ERROR = ("the prompt is longer than the context length currently available to the "
                     "model; shorten the prompt, adjust the context length in settings, or use a "
                     "model with a longer context length")


def chunk(i=0, text=None):
    return Chunk(id=f"c{i}", document="doc.txt", index=i,
                 text=text or f"Fact number {i} is that item {i} weighs {i} grams exactly.")


def auto_options(**kw):
    return JobOptions.from_config(Settings(), **kw)


# --- num_ctx "auto" ----------------------------------------------------------------------------

def test_auto_is_the_default_and_numbers_still_parse():
    assert Settings().num_ctx == "auto"
    assert parse_num_ctx("auto") == (AUTO_FALLBACK_CTX, True)
    assert parse_num_ctx(8192) == (8192, False)
    assert parse_num_ctx("16384") == (16384, False)
    for bad in ("lots", -5, 100, True, [4096]):
        with pytest.raises(FlashcardError):
            parse_num_ctx(bad)


@pytest.mark.timeout(30)
def test_auto_preloads_the_model_reads_its_context_and_never_sends_num_ctx():
    with FakeOllama(loaded_context=32768, context_length=131072) as srv:
        b = backend_for(srv.url)
        options = prepare_job(b, auto_options(model="llama3.2"))
        # the empty /api/generate loaded the model, then /api/ps was asked
        paths = [r["path"] for r in srv.requests]
        assert paths.index("/api/generate") < paths.index("/api/ps")
        preload = next(r["body"] for r in srv.requests if r["path"] == "/api/generate")
        assert preload == {"model": "llama3.2", "keep_alive": "10m", "stream": False}
        assert options.num_ctx == 32768 and options.num_ctx_auto
        # chunks stay small whatever the context
        assert chunk_budget(options) <= MAX_CHUNK_TOKENS
        from dataclasses import replace

        from generator.config import Depth
        assert chunk_budget(replace(options, depth=Depth.KEY_IDEAS)) == MAX_CHUNK_TOKENS
        run_job([chunk(i) for i in range(3)], b, options)
        assert all("num_ctx" not in body["options"] for body in srv.chat_bodies())
        assert srv.loads == [("llama3.2:latest", 32768)]  # loaded once, never reloaded


@pytest.mark.timeout(30)
def test_auto_on_a_small_context_sizes_chunks_to_it():
    with FakeOllama(loaded_context=2048) as srv:
        options = prepare_job(backend_for(srv.url), auto_options(model="llama3.2"))
        assert options.num_ctx == 2048
        assert chunk_budget(options) < 2048 - 512


@pytest.mark.timeout(30)
def test_a_number_in_the_config_wins_and_is_sent():
    with FakeOllama(loaded_context=32768) as srv:
        cfg = Settings().replace(num_ctx=6144)
        b = backend_for(srv.url)
        options = prepare_job(b, JobOptions.from_config(cfg, model="llama3.2"))
        assert options.num_ctx == 6144 and not options.num_ctx_auto
        assert not any(r["path"] in ("/api/generate", "/api/ps") for r in srv.requests)
        run_job([chunk()], b, options)
        assert srv.chat_bodies()[0]["options"]["num_ctx"] == 6144


@pytest.mark.timeout(30)
def test_auto_on_a_server_that_does_not_say_sends_the_safe_default():
    with FakeOllama(ps_context=False) as srv:
        b = backend_for(srv.url)
        options = prepare_job(b, auto_options(model="llama3.2"))
        assert options.num_ctx == AUTO_FALLBACK_CTX and not options.num_ctx_auto
        run_job([chunk()], b, options)
        assert srv.chat_bodies()[0]["options"]["num_ctx"] == AUTO_FALLBACK_CTX


@pytest.mark.timeout(30)
@pytest.mark.parametrize("missing", [("/api/generate",), ("/api/generate", "/api/ps")],
                         ids=["no-preload", "no-preload-no-ps"])
def test_auto_on_a_server_without_the_preload_plans_with_the_fallback(missing):
    """A plain 404 ("404 page not found") on /api/generate is a server that lacks the call, not
    a missing model: /api/tags and /api/show list it, and the job runs with the safe default."""
    with FakeOllama(missing_paths=missing, loaded_context=32768) as srv:
        b = backend_for(srv.url)
        options = prepare_job(b, auto_options(model="llama3.2"))
        assert options.num_ctx == AUTO_FALLBACK_CTX and not options.num_ctx_auto
        result = run_job([chunk()], b, options)
        assert result.cards and not result.failures
        assert srv.chat_bodies()[0]["options"]["num_ctx"] == AUTO_FALLBACK_CTX


@pytest.mark.timeout(30)
@pytest.mark.parametrize("body, content_type, missing", [
    (b"404 page not found\n", "text/plain", False),
    (b'{"error": "404 page not found"}', "application/json", False),
    (b'{"error": "not found"}', "application/json", False),
    (b"<html><body><h1>404 Not Found</h1></body></html>", "text/html", False),
    (b"", "text/plain", False),
    (b'{"error": "route /api/generate not found"}', "application/json", False),
    (b'{"error": "llama3.2-vision is loading"}', "application/json", False),
    (b'{"error": "model \'llama3.2\' not found"}', "application/json", True),
    (b'{"error": "model \'llama3.2:latest\' not found, try pulling it first"}', "application/json", True),
    (b'{"error": {"message": "The model `llama3.2` does not exist."}}', "application/json", True),
    (b'{"error": "model not found"}', "application/json", True),
], ids=["go-plain", "go-json", "bare-not-found", "html", "empty", "route", "other-model",
        "ollama", "ollama-old", "openai", "model-not-found"])
def test_only_a_404_that_names_a_missing_model_means_model_missing(body, content_type, missing):
    from hostile_server import Hostile, status_body

    with Hostile() as h:
        h.route("POST /api/generate", status_body(404, body, content_type))
        h.route("POST /api/chat", status_body(404, body, content_type))
        b = backend_for(h.url)
        if missing:
            with pytest.raises(ModelNotFound):
                prepare_job(b, auto_options(model="llama3.2"))
        else:
            assert prepare_job(b, auto_options(model="llama3.2")).num_ctx == AUTO_FALLBACK_CTX
        # the same 404 on the chat itself: a missing model only when it says so
        from generator.backends.base import ChatRequest
        from generator.errors import NotAModelServer
        with pytest.raises(ModelNotFound if missing else NotAModelServer):
            b.chat(ChatRequest(model="llama3.2", system="s", user="u", schema={}))
        b.close()


@pytest.mark.timeout(30)
def test_auto_is_capped_by_the_models_own_context():
    with FakeOllama(loaded_context=4096, context_length=2048) as srv:
        options = prepare_job(backend_for(srv.url), auto_options(model="llama3.2"))
        assert options.num_ctx == 2048


@pytest.mark.timeout(30)
def test_auto_with_an_openai_server_takes_the_context_it_states():
    with FakeOllama(context_length=3072) as srv:
        b = backend_for(srv.url, backend="openai")
        options = prepare_job(b, auto_options(model="llama3.2"))
        assert options.num_ctx == 3072
        assert not any(r["path"] in ("/api/generate", "/api/ps") for r in srv.requests)


# --- thinking ----------------------------------------------------------------------------------

def test_think_setting_follows_capabilities_family_and_parser():
    assert think_setting(["completion"]) is None
    assert think_setting(["completion", "thinking"], "qwen3") is False
    assert think_setting(["completion", "thinking"], "gptoss") == "low"
    assert think_setting(["completion", "thinking"], "llama", ["gpt-oss"]) == "low"
    assert think_setting(["completion", "thinking"], "whatever", parser="harmony") == "low"
    assert think_setting(["completion"], "gptoss") is None  # no thinking, nothing sent


@pytest.mark.timeout(30)
def test_a_model_that_always_thinks_gets_the_lowest_level():
    models = ("gpt-oss:20b", "my-reasoner:latest", "qwen3:4b", "llama3.2")
    with FakeOllama(models=models, thinking_models=models[:3],
                    families={"gpt-oss:20b": "gptoss", "qwen3:4b": "qwen3"},
                    parsers={"my-reasoner:latest": "harmony"}) as srv:
        b = backend_for(srv.url)
        for model, expected in (("gpt-oss:20b", "low"), ("my-reasoner", "low"), ("qwen3:4b", False)):
            options = prepare_job(b, JobOptions(model=model))
            assert options.think == expected
            run_job([chunk()], b, options)
            assert srv.chat_bodies()[-1]["think"] == expected
        run_job([chunk()], b, prepare_job(b, JobOptions(model="llama3.2")))
        assert "think" not in srv.chat_bodies()[-1]


@pytest.mark.timeout(30)
def test_an_answer_left_in_thinking_is_still_used():
    with FakeOllama(models=("gpt-oss:20b",), thinking_models=("gpt-oss:20b",),
                    families={"gpt-oss:20b": "gptoss"}) as srv:
        srv.script(Reply(content="", thinking='{"cards": [{"front": "How much does item 0 weigh?", '
                                              '"back": "0 grams", "quote": "item 0 weighs 0 grams"}]}'))
        b = backend_for(srv.url)
        result = run_job([chunk()], b, prepare_job(b, JobOptions(model="gpt-oss:20b")))
        assert [c.front for c in result.cards] == ["How much does item 0 weigh?"]


# --- old servers -------------------------------------------------------------------------------

def test_versions_parse():
    assert parse_version("0.31.2") == (0, 31, 2)
    assert parse_version("v0.12.3-rc1") == (0, 12, 3)
    assert parse_version("0.0.0") is None  # a development build: age unknown
    assert parse_version("garbage") is None


@pytest.mark.parametrize("version,warned", [("0.12.3", True), ("0.31.1", True), ("0.31.2", False),
                                            ("0.33.0", False), ("1.0.0", False), ("0.0.0", False)])
@pytest.mark.timeout(30)
def test_the_status_line_says_once_when_this_ollama_may_ignore_the_card_format(version, warned):
    with FakeOllama(version=version) as srv:
        line = backend_for(srv.url).server_info().status_line()
        assert line.startswith(f"Ollama {version} at 127.0.0.1")
        assert line.count(OLD_SERVER_WARNING) == (1 if warned else 0)


@pytest.mark.timeout(30)
def test_openai_servers_get_no_version_warning():
    with FakeOllama(version="0.1.0") as srv:
        assert OLD_SERVER_WARNING not in backend_for(srv.url, backend="openai").server_info().status_line()


@pytest.mark.timeout(30)
def test_an_old_server_that_ignored_the_schema_still_gives_cards():
    """What such a server sends: prose and a fenced JSON block instead of schema JSON."""
    with FakeOllama(version="0.30.0", models=("qwen3:4b",)) as srv:
        srv.script(Reply(content='Sure! Here are the cards:\n```json\n{"cards": [{"front": '
                                 '"How much does item 0 weigh?", "back": "0 grams", '
                                 '"quote": "item 0 weighs 0 grams"}]}\n```'))
        b = backend_for(srv.url)
        result = run_job([chunk()], b, prepare_job(b, JobOptions(model="qwen3:4b")))
        assert [c.back for c in result.cards] == ["0 grams"]


# --- the new context error -----------------------------------------------------------------------

@pytest.mark.timeout(30)
def test_the_new_context_error_is_a_context_error():
    with FakeOllama() as srv:
        srv.script(Reply.error(400, NEW_CONTEXT_ERROR))
        from generator.backends.base import ChatRequest

        with pytest.raises(ContextExceeded):
            backend_for(srv.url).chat(ChatRequest("llama3.2", "s", "u", {}))


@pytest.mark.timeout(30)
def test_the_new_context_error_halves_the_chunk():
    def answerer(body):
        if len(body["messages"][1]["content"]) > 700:
            return Reply.error(400, NEW_CONTEXT_ERROR)
        return Reply()

    text = "\n\n".join(f"Paragraph {i} says that element {i} melts at {i * 10} degrees." for i in range(20))
    with FakeOllama(answerer=answerer) as srv:
        result = run_job([chunk(text=text)], backend_for(srv.url), JobOptions(model="llama3.2"))
        assert not result.failures and result.cards
        asked = [b["messages"][1]["content"] for b in srv.chat_bodies()]
        short = [a for a in asked if len(a) <= 700]
        assert all(any(f"Paragraph {i} says" in a for a in short) for i in range(20))


# --- names without a tag -------------------------------------------------------------------------

def test_a_missing_tag_means_latest():
    assert model_key("llama3.2") == model_key("llama3.2:latest") == "llama3.2:latest"
    assert same_model("Llama3.2", "llama3.2:latest")
    assert not same_model("llama3.2", "llama3.2:1b")
    assert not same_model("", "")
    assert model_key("hf.co/org/model") == "hf.co/org/model:latest"
    assert model_key("localhost:5000/model") == "localhost:5000/model:latest"
    assert find_model("llama3.2", ["qwen3:4b", "llama3.2:latest"]) == "llama3.2:latest"
    assert find_model("llama3.2:1b", ["llama3.2:latest"]) is None


@pytest.mark.timeout(30)
def test_openai_backend_on_ollamas_v1_finds_llama32_as_latest():
    with FakeOllama(models=("llama3.2:latest", "qwen3:4b")) as srv:
        b = backend_for(srv.url, backend="openai")
        options = prepare_job(b, JobOptions(model="llama3.2"))
        assert options.model == "llama3.2:latest"
        result = run_job([chunk()], b, options)
        assert result.cards and srv.chat_bodies()[-1]["model"] == "llama3.2:latest"
        with pytest.raises(ModelNotFound):
            prepare_job(b, JobOptions(model="llama3.2:1b"))


@pytest.mark.timeout(30)
def test_ollama_backend_finds_llama32_in_api_ps_as_latest():
    """/api/ps names the loaded model "llama3.2:latest"; the configured name is "llama3.2"."""
    with FakeOllama(loaded_context=16384, context_length=131072) as srv:
        options = prepare_job(backend_for(srv.url), auto_options(model="llama3.2"))
        assert [m for m, _ in srv.loads] == ["llama3.2:latest"]
        assert options.num_ctx == 16384 and options.num_ctx_auto
