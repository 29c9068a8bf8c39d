"""Fixtures for tests against a real inference server (llama.cpp's OpenAI-compatible server with
SmolLM2-135M-Instruct). Run them with `make test-llm`, which builds/caches the server first.

Outside `make test-llm` (OLLAMA_FLASHCARDS_LLM unset) every test here is skipped, so the main
suite stays fast; inside it a server that cannot start is a failure, never a skip.
"""
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import llm_server  # noqa: E402

ENABLED = os.environ.get("OLLAMA_FLASHCARDS_LLM") == "1"


def pytest_collection_modifyitems(config, items):
    if ENABLED:
        return
    skip = pytest.mark.skip(reason="needs the real model server: run `make test-llm`")
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


def server_paths():
    """Python of the server venv and the model; from the environment or the default places."""
    python = os.environ.get("OLLAMA_FLASHCARDS_LLM_PYTHON") or str(
        llm_server.venv_python(llm_server.DEFAULT_VENV))
    model = os.environ.get("OLLAMA_FLASHCARDS_LLM_MODEL") or str(llm_server.model_path())
    return python, model


def start_server(tmp_dir, **kw):
    python, model = server_paths()
    srv = llm_server.LlmServer(python, model, log_path=str(Path(tmp_dir) / "llama-server.log"), **kw)
    srv.start(timeout=180)
    return srv


@pytest.fixture(scope="session")
def llm_server_proc(tmp_path_factory):
    """One server for the whole session (loading the model takes about a second)."""
    srv = start_server(tmp_path_factory.mktemp("llm"))
    yield srv
    srv.stop()


@pytest.fixture
def llm_url(llm_server_proc):
    """Base URL of the shared server (the OpenAI API is under /v1)."""
    if not llm_server_proc.alive():
        pytest.fail("the shared llama server died:\n" + llm_server_proc.log_tail())
    return llm_server_proc.url


@pytest.fixture
def own_llm_server(tmp_path):
    """A server of the test's own, which the test may kill (``.kill()``)."""
    srv = start_server(tmp_path)
    yield srv
    srv.stop()


@pytest.fixture
def llm_config(llm_url):
    """Engine settings for the OpenAI-compatible backend on the real server."""
    return {
        "backend": "openai",
        "url": llm_url,
        "model": llm_server.MODEL_ALIAS,
        "api_key": "",
        "connect_timeout": 5,
        "read_timeout": 120,
        "temperature": 0.2,
        "seed": 7,
        "num_ctx": 2048,
        "num_predict": 512,
        "parallel_requests": 1,
    }
