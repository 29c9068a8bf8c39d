"""The real server itself, over plain HTTP: what the engine's OpenAI-compatible backend relies on.
If a llama-cpp-python upgrade changes one of these behaviours, this file says which."""
import json

import jsonschema
import pytest
import requests

SCHEMA = {
    "type": "object",
    "properties": {
        "cards": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "front": {"type": "string", "maxLength": 150},
                    "back": {"type": "string", "maxLength": 150},
                },
                "required": ["front", "back"],
            },
        }
    },
    "required": ["cards"],
}
MESSAGES = [
    {"role": "system", "content": 'You write flashcards as JSON: {"cards": [{"front": "question", "back": "answer"}]}.'},
    {"role": "user", "content": "Text: Photosynthesis converts light energy into chemical energy. "
                                "It takes place in the chloroplasts of plant cells."},
]


def chat(url, **body):
    payload = {"model": "smollm2", "messages": MESSAGES, "temperature": 0.2, "seed": 7}
    payload.update(body)
    return requests.post(url + "/v1/chat/completions", json=payload, timeout=120,
                         stream=bool(body.get("stream")))


def test_models_lists_the_alias(llm_url):
    r = requests.get(llm_url + "/v1/models", timeout=10)
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == ["smollm2"]


def test_json_object_with_schema_gives_schema_valid_json(llm_url):
    r = chat(llm_url, max_tokens=400, response_format={"type": "json_object", "schema": SCHEMA})
    assert r.status_code == 200, r.text
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    # The grammar lets raw control characters into strings: strict=False is needed.
    answer = json.loads(choice["message"]["content"], strict=False)
    jsonschema.validate(answer, SCHEMA)
    assert r.json()["usage"]["completion_tokens"] > 0


def test_openai_json_schema_form_is_rejected(llm_url):
    """llama-cpp-python knows only 'text' and 'json_object': the engine must fall back."""
    r = chat(llm_url, max_tokens=20, response_format={
        "type": "json_schema", "json_schema": {"name": "cards", "schema": SCHEMA}})
    assert r.status_code == 500
    assert "json_object" in r.json()["error"]["message"]


def test_max_tokens_truncates_with_finish_reason_length(llm_url):
    r = chat(llm_url, max_tokens=8, response_format={"type": "json_object", "schema": SCHEMA})
    assert r.status_code == 200
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "length"
    with pytest.raises(ValueError):
        json.loads(choice["message"]["content"], strict=False)


def sse_events(resp):
    assert resp.headers["content-type"].startswith("text/event-stream")
    lines = [line for line in resp.iter_lines(decode_unicode=True) if line]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[len("data: "):]) for line in lines[:-1]]


def test_streaming_sse_with_schema(llm_url):
    r = chat(llm_url, max_tokens=400, stream=True,
             response_format={"type": "json_object", "schema": SCHEMA})
    assert r.status_code == 200
    events = sse_events(r)
    text = "".join(e["choices"][0]["delta"].get("content") or "" for e in events)
    finishes = [e["choices"][0]["finish_reason"] for e in events if e["choices"][0]["finish_reason"]]
    assert finishes == ["stop"]
    jsonschema.validate(json.loads(text, strict=False), SCHEMA)


def test_streaming_truncation_says_length(llm_url):
    r = chat(llm_url, max_tokens=8, stream=True,
             response_format={"type": "json_object", "schema": SCHEMA})
    events = sse_events(r)
    assert [e["choices"][0]["finish_reason"] for e in events if e["choices"][0]["finish_reason"]] == ["length"]


def test_same_seed_same_answer(llm_url):
    fmt = {"type": "json_object", "schema": SCHEMA}
    a = chat(llm_url, max_tokens=120, temperature=0.8, response_format=fmt).json()
    b = chat(llm_url, max_tokens=120, temperature=0.8, response_format=fmt).json()
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]


def test_prompt_over_the_context_is_a_400(llm_url):
    r = chat(llm_url, max_tokens=5, messages=[{"role": "user", "content": "word " * 5000}])
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "context_length_exceeded"


def test_the_server_runs_the_portable_build(llm_server_proc):
    """llama.cpp prints the instruction sets it was built with: on x86-64 the portable set,
    never AVX-512 or AMX (whose ggml backend crashed the server on CPUs that have them)."""
    import platform
    import re

    log = llm_server_proc.log_tail(200_000)
    features = re.findall(r"\b([A-Z0-9_]+) = 1\b", log)
    assert features, "the server printed no system info:\n" + log[-2000:]
    assert not [f for f in features if f.startswith(("AVX512", "AMX", "AVX_VNNI"))], features
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert {"AVX", "AVX2", "FMA", "F16C"} <= set(features), features
