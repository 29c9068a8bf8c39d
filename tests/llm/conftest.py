"""Fixtures for tests against a real inference server (llama.cpp's OpenAI-compatible server with
SmolLM2-135M-Instruct). Run them with `make test-llm`, which builds/caches the server first.

Outside `make test-llm` (OLLAMA_FLASHCARDS_LLM unset) every test here is skipped, so the main
suite stays fast; inside it a server that cannot start is a failure, never a skip.

A shared server that dies is said once: the test during which it died fails with how it ended
(the signal: a crash is SIGSEGV) and the end of its log, and the run stops there, instead of
every later test failing on a refused connection. One that cannot start stops the run at once.
"""
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, List, Tuple

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


# Servers the tests share (what to call them, the server): checked after each test.
WATCHED: List[Tuple[str, Any]] = []
# What stopped the run, once a shared server has died.
STOPPED_BY: List[str] = []


def _ended(srv) -> bool:
    return srv.proc is not None and srv.proc.poll() is not None


def death_notice(what: str, srv) -> str:
    return (f"{what} {llm_server.describe_exit(srv.proc.poll())}; the run stops here, the tests "
            f"after this one were not run. End of its log ({srv.log_path}):\n{srv.log_tail()}")


def watch(what: str, srv) -> None:
    WATCHED.append((what, srv))


def unwatch(srv) -> None:
    WATCHED[:] = [(w, s) for w, s in WATCHED if s is not srv]


def stop_the_run(message: str) -> None:
    pytest.exit(message, returncode=pytest.ExitCode.TESTS_FAILED)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """The test during which a shared server died fails with the server's end, once."""
    outcome = yield
    report = outcome.get_result()
    if item.session.shouldstop or not WATCHED:
        return
    if report.failed and not any(_ended(srv) for _, srv in WATCHED):
        # The client sees the connection drop a moment before the dying process is reaped.
        for _, srv in WATCHED:
            with contextlib.suppress(subprocess.TimeoutExpired):
                srv.proc.wait(timeout=1.0)
    dead = [(what, srv) for what, srv in WATCHED if _ended(srv)]
    if not dead:
        return
    notice = "\n\n".join(death_notice(what, srv) for what, srv in dead)
    # The test's own traceback (a refused or dropped connection) only hides the cause: its
    # last line is enough.
    crash = getattr(report.longrepr, "reprcrash", None)
    detail = crash.message if crash is not None else str(report.longrepr or "")
    report.outcome = "failed"
    report.longrepr = notice + ("\n\nWhat the test saw: " + detail if detail else "")
    STOPPED_BY.append("; ".join(
        f"{what} {llm_server.describe_exit(srv.proc.poll())}" for what, srv in dead))
    item.session.shouldstop = STOPPED_BY[-1]


def pytest_sessionfinish(session, exitstatus):
    """A run stopped by a dead server failed (exit 1), not interrupted by the user (exit 2)."""
    if exitstatus == pytest.ExitCode.INTERRUPTED and STOPPED_BY:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def llm_server_proc(tmp_path_factory):
    """One server for the whole session (loading the model takes about a second)."""
    try:
        srv = start_server(tmp_path_factory.mktemp("llm"))
    except llm_server.ServerError as e:
        stop_the_run(str(e))
    watch("the shared llama server", srv)
    yield srv
    unwatch(srv)
    srv.stop()


@pytest.fixture
def llm_url(llm_server_proc):
    """Base URL of the shared server (the OpenAI API is under /v1)."""
    if _ended(llm_server_proc):
        stop_the_run(death_notice("the shared llama server", llm_server_proc))
    return llm_server_proc.url


@pytest.fixture
def own_llm_server(tmp_path):
    """A server of the test's own, which the test may kill (``.kill()``)."""
    srv = start_server(tmp_path)
    yield srv
    srv.stop()


@pytest.fixture
def wide_llm_server(tmp_path):
    """A server of the test's own with a 4,096-token context (pieces of the add-on's default size)."""
    srv = start_server(tmp_path, n_ctx=4096)
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
