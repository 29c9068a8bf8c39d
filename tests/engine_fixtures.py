"""Fixtures for engine tests: the fake Ollama server, a backend on it, a fresh collection; a
listener for a job's reports; a Markdown file of numbered facts (``write_md``)."""
import os
import shutil
import tempfile

import pytest

from fake_ollama import FakeOllama


@pytest.fixture
def server():
    with FakeOllama() as s:
        yield s


def backend_for(url: str, **extra):
    from generator.backends import make_backend

    cfg = {"url": url, "connect_timeout": 2, "read_timeout": 5, "busy_backoff": 0.01}
    cfg.update(extra)
    return make_backend(cfg)


@pytest.fixture
def backend(server):
    b = backend_for(server.url)
    yield b
    b.close()


@pytest.fixture
def col():
    from anki.collection import Collection
    from anki.lang import set_lang

    set_lang("en")
    folder = tempfile.mkdtemp(prefix="of-col-")
    c = Collection(os.path.join(folder, "collection.anki2"))
    yield c
    c.close()
    shutil.rmtree(folder, ignore_errors=True)


def listener(**handlers):
    """A job's listener (``generator.job.run.JobListener``) made of plain functions, for tests:
    ``listener(on_chunk=lambda chunk, cards: ...)``; what is not given does nothing."""
    from generator.job.run import JobListener

    heard = JobListener()
    for name, handler in handlers.items():
        if not callable(getattr(JobListener, name, None)):
            raise TypeError(f"a job reports no {name!r}")
        setattr(heard, name, handler)
    return heard


def write_md(path, sections=4, facts=40, tag="A"):
    with open(path, "w", encoding="utf-8") as f:
        for s in range(sections):
            f.write("# Topic %s%d\n\n" % (tag, s))
            f.write(" ".join("Fact %s-%d-%d says that item %d weighs %d grams exactly." % (tag, s, k, k, k)
                             for k in range(facts)) + "\n\n")
    return str(path)
