"""The CLI runs with the user's settings: --config takes the add-on's config.json or Anki's
meta.json of the add-on; flags override them; --num-ctx auto|N."""
import json

import pytest

from fake_ollama import FakeOllama
from cli_run import cli, collection_notes

TEXT = "Mitochondria produce most of the cell's ATP through cellular respiration.\n"


@pytest.mark.timeout(120)
def test_meta_json_from_anki_sets_model_context_deck_and_tags(tmp_path):
    with FakeOllama(models=("qwen3:4b", "llama3.2:latest"), thinking_models=()) as srv:
        meta = {"name": "Ollama Flashcards", "mod": 1700000000, "disabled": False,
                "config": {"url": srv.url, "model": "qwen3:4b", "num_ctx": 6144, "deck": "Biology",
                           "tags": ["from-anki"], "temperature": 0.5}}
        path = tmp_path / "meta.json"
        path.write_text(json.dumps(meta), encoding="utf-8")
        col = str(tmp_path / "collection.anki2")
        r = cli("-", "--collection", col, "--config", str(path), stdin=TEXT)
        assert r.returncode == 0, r.stderr
        body = srv.chat_bodies()[0]
        assert body["model"] == "qwen3:4b"
        assert body["options"]["num_ctx"] == 6144 and body["options"]["temperature"] == 0.5
    notes, c = collection_notes(col)
    try:
        assert notes and all("from-anki" in n.tags for n in notes)
        assert all(c.decks.name(c.get_card(n.card_ids()[0]).did) == "Biology" for n in notes)
    finally:
        c.close()


@pytest.mark.timeout(120)
def test_config_json_shape_and_flags_override_it(tmp_path):
    with FakeOllama(loaded_context=2048) as srv:
        path = tmp_path / "config.json"
        path.write_text(json.dumps({"url": srv.url, "model": "qwen3:4b", "num_ctx": 8192}), "utf-8")
        r = cli("-", "--dry-run", "--json", "--config", str(path), "--model", "llama3.2",
                "--num-ctx", "auto", stdin=TEXT)
        assert r.returncode == 0, r.stderr
        body = srv.chat_bodies()[0]
        assert body["model"] == "llama3.2" and "num_ctx" not in body["options"]
        assert any(req["path"] == "/api/ps" for req in srv.requests)


@pytest.mark.timeout(60)
def test_num_ctx_flag_takes_a_number(server):
    r = cli("-", "--dry-run", "--url", server.url, "--model", "llama3.2", "--num-ctx", "3072",
            stdin=TEXT)
    assert r.returncode == 0, r.stderr
    assert server.chat_bodies()[0]["options"]["num_ctx"] == 3072


@pytest.mark.parametrize("value", ["lots", "12"])
@pytest.mark.timeout(60)
def test_bad_num_ctx_is_a_usage_error(value):
    r = cli("-", "--dry-run", "--num-ctx", value, stdin=TEXT)
    assert r.returncode == 2 and "num_ctx must be" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("content,says", [("{not json", "not valid JSON"), ("[1, 2]", "no settings object"),
                                          (None, "cannot be read")])
@pytest.mark.timeout(60)
def test_a_bad_settings_file_is_explained(tmp_path, content, says):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    r = cli("-", "--dry-run", "--config", str(path), stdin=TEXT)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr
    m = cli("models", "--config", str(path))
    assert m.returncode == 2 and says in m.stderr and "Traceback" not in m.stderr


@pytest.mark.timeout(60)
def test_models_command_reads_the_url_from_the_settings_file(tmp_path):
    with FakeOllama(version="0.20.0") as srv:
        path = tmp_path / "meta.json"
        path.write_text(json.dumps({"config": {"url": srv.url}}), encoding="utf-8")
        r = cli("models", "--config", str(path))
        assert r.returncode == 0, r.stderr
        assert "llama3.2:latest" in r.stdout.split()
        assert "this Ollama may ignore the card format; update it" in r.stderr


@pytest.mark.timeout(120)
@pytest.mark.parametrize("version, model, backend, warned", [
    ("0.30.0", "qwen3:4b", "ollama", True),  # an old Ollama, a thinking model: said, once
    ("v0.31.1-rc2", "qwen3:4b", "ollama", True),
    ("0.31.2", "qwen3:4b", "ollama", False),  # the version that enforces the format
    ("0.30.0", "llama3.2", "ollama", False),  # not a thinking model: the format holds
    ("0.0.0", "qwen3:4b", "ollama", False),  # a development build: its age is unknown
    ("0.30.0", "qwen3:4b", "openai", False),  # not Ollama's own API
])
def test_generating_with_a_thinking_model_on_an_old_ollama_says_so_once(version, model, backend, warned):
    with FakeOllama(version=version, models=("qwen3:4b", "llama3.2:latest")) as srv:
        r = cli("-", "--dry-run", "--url", srv.url, "--backend", backend, "--model", model, stdin=TEXT)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("this Ollama may ignore the card format; update it") == (1 if warned else 0), r.stderr
    if warned:
        assert f"Ollama {version}:" in r.stderr and "qwen3:4b is a thinking model" in r.stderr
