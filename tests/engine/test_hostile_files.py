"""Hostile files and input text, attacked by mechanism, each through the engine API and the CLI
(`python flashcards.py FILE --dry-run --json` against the fake server). Every test has a wall-clock
bound: a hang fails it instead of hanging the suite.

Mechanisms: only regular files are opened (FIFO, socket, device, a link to one, a file swapped
for a FIFO after the check); reading has a time bound (a library that loops: the page is skipped,
the file given up, the bulk job goes on); sizes are bounded (a huge or bombed PDF content stream,
a 1 GB sparse file, stdin without end); names of files are neutralised in messages."""
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from contextlib import contextmanager

import pytest

import hostile_pdf
from engine_fixtures import backend_for
from fake_ollama import FakeOllama
from generator.bulk.job import BulkSpec, RunSetup, run_headless
from generator.bulk.status import DONE, FAILED
from generator.errors import (EmptySource, PartlyRead, SourceTimeout, SourceTooLarge,
                              UnreadableSource, describe)
from generator.job.run import JobOptions
from generator.notes.add import NoteTarget
from generator.sources import limits
from generator.sources.read import iter_blocks_path, read_path, read_stream_bytes, read_text
from generator.sources.limits import MB, ReadLimits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "seeds")
ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m"  # set the terminal title, clear it, turn it red


@contextmanager
def within(seconds):
    """Fails when the block takes longer than ``seconds`` (it did end: no hang, but too slow)."""
    start = time.monotonic()
    yield
    took = time.monotonic() - start
    assert took < seconds, "took %.1f s, bound %s s" % (took, seconds)


@pytest.fixture
def bounds():
    """Set the reading limits for one test (the configured ones are restored after)."""
    before = limits.current()

    def set_limits(**changes):
        limits.set_current(ReadLimits(**changes))

    yield set_limits
    limits.set_current(before)


def cli(*args, stdin=None, timeout=60):
    return subprocess.run([sys.executable, "flashcards.py", *args], cwd=ROOT, stdin=stdin,
                          capture_output=True, text=True, timeout=timeout)


def cli_dry(path, url, *more, stdin=None, timeout=60):
    return cli(path, "--dry-run", "--json", "--url", url, "--model", "llama3.2", *more,
               stdin=stdin, timeout=timeout)


def settings_file(tmp_path, **values):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(values), encoding="utf-8")
    return str(path)


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return str(path)


def reader_threads():
    return [t for t in threading.enumerate() if t.name == "flashcards-read" and t.is_alive()]


# --- only regular files are opened -------------------------------------------------------------

@pytest.fixture
def specials(tmp_path):
    """A FIFO, a link to it, a UNIX socket and two devices, each named like a document."""
    fifo = str(tmp_path / "lecture.txt")
    os.mkfifo(fifo)
    link = str(tmp_path / "link-to-pipe.md")
    os.symlink(fifo, link)
    sock_path = str(tmp_path / "socket.txt")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(sock_path)
    sock.listen(1)
    yield {"named pipe (FIFO)": fifo, "link to a FIFO": link, "socket": sock_path,
           "device /dev/zero": "/dev/zero", "device /dev/urandom": "/dev/urandom"}
    sock.close()


@pytest.mark.timeout(30)
def test_special_files_are_refused_by_every_reader(specials):
    for what, path in specials.items():
        name = os.path.basename(path)
        kind = "named pipe" if "FIFO" in what else "socket" if "socket" in what else "device"
        with within(5):
            for read in (read_path, lambda p: list(iter_blocks_path(p))):
                with pytest.raises(UnreadableSource) as e:
                    read(path)
                assert name in e.value.message and kind in e.value.message, (what, e.value.message)
                assert "regular file" in e.value.hint


@pytest.mark.timeout(30)
def test_a_file_swapped_for_a_fifo_after_the_check_does_not_block(tmp_path, monkeypatch):
    """The race: os.stat saw a regular file, then a FIFO took its place. The non-blocking open
    and the check on the open handle refuse it."""
    fifo = str(tmp_path / "swapped.txt")
    os.mkfifo(fifo)
    real_stat = os.stat
    regular = real_stat(write(tmp_path, "regular.txt", "Plain text."))

    def stale_stat(path, *args, **kwargs):
        return regular if os.fspath(path) == fifo else real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stale_stat)
    with within(5):
        with pytest.raises(UnreadableSource) as e:
            read_path(fifo)
        assert "named pipe" in e.value.message
        with pytest.raises(UnreadableSource):
            list(iter_blocks_path(fifo))


@pytest.mark.timeout(60)
def test_special_files_through_the_cli(specials, tmp_path, server):
    png_pipe = str(tmp_path / "image.png")  # the figure reader opens images itself
    os.mkfifo(png_pipe)
    config_pipe = str(tmp_path / "settings.json")
    os.mkfifo(config_pipe)
    for path in list(specials.values()) + [png_pipe]:
        with within(20):
            r = cli_dry(path, server.url)
        assert r.returncode == 2, (path, r.stderr)
        assert os.path.basename(path) in r.stderr and "not a regular file" in r.stderr
        assert "Traceback" not in r.stderr and r.stdout.strip() in ("", "[]")
    for option in ("--config", "--topics"):  # the other files the CLI reads
        with within(20):
            r = cli_dry(os.path.join(SEEDS, "cell-biology.txt"), server.url, option, config_pipe)
        assert r.returncode == 2 and "named pipe" in r.stderr and "Traceback" not in r.stderr, option
    assert not server.chat_bodies()  # nothing was sent to the model


@pytest.mark.timeout(120)
def test_a_bulk_job_goes_on_past_special_files(specials, tmp_path, col):
    good = write(tmp_path, "good.md", "# Cells\n\nThe mitochondrion makes ATP for the cell.\n")
    files = [specials["named pipe (FIFO)"], specials["device /dev/zero"], specials["socket"], good]
    spec = BulkSpec(files, JobOptions(model="llama3.2", num_ctx=1024, num_predict=256),
                    NoteTarget(deck="Bulk", tags=["bulk"]))
    with FakeOllama() as srv, within(60):
        result = run_headless(col, backend_for(srv.url), str(tmp_path / "journal"), spec,
                              setup=RunSetup(sync=False))
    assert [f.state for f in result.files] == [FAILED, FAILED, FAILED, DONE]
    assert all("not a regular file" in f.error for f in result.files[:3])
    assert col.note_count() >= 1


# --- reading has a time bound ------------------------------------------------------------------

@pytest.mark.timeout(60)
@pytest.mark.parametrize("xref_stream", [False, True], ids=["xref-table", "xref-stream"])
def test_a_cross_reference_that_points_to_itself(tmp_path, server, xref_stream):
    """pypdf 6.1.1 looped forever on a /Prev that points back at its own section; the pinned
    pypdf stops, and the pin is the one tested here."""
    import pypdf

    pinned = [line.split("==")[1].strip() for line in open(os.path.join(ROOT, "requirements-bundle.txt"))
              if line.startswith("pypdf==")]
    assert pypdf.__version__ == pinned[0]
    data = hostile_pdf.build([hostile_pdf.text_page("The loop is broken."),
                              hostile_pdf.text_page("Second page is read too.")],
                             prev_self=True, xref_stream=xref_stream)
    path = write(tmp_path, "loop.pdf", data)
    with within(10):
        doc = read_path(path)
        assert [b.text for b in doc.blocks] == ["The loop is broken.", "Second page is read too."]
        assert [b.text for b in iter_blocks_path(path)] == [b.text for b in doc.blocks]
    with within(30):
        r = cli_dry(path, server.url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)


def _runaway(*args, **kwargs):
    """A library call that never returns (pure Python, like pypdf's /Prev loop)."""
    n = 0
    while True:
        n += 1


@pytest.mark.timeout(60)
def test_a_runaway_pdf_library_is_given_up_on(tmp_path, monkeypatch, bounds):
    import pypdf

    path = write(tmp_path, "loops.pdf", hostile_pdf.build([hostile_pdf.text_page("Never read.")]))
    monkeypatch.setattr(pypdf.PdfReader, "__init__", _runaway)
    # 1. opening loops: the page-time bound ends it, with a message saying so
    bounds(page_seconds=1, seconds=30)
    with within(10):
        with pytest.raises(UnreadableSource) as e:
            read_path(path)
    assert "loops.pdf" in e.value.message and "within 1 s" in e.value.message
    # 2. the file-time bound alone: the caller stops waiting, and the reader thread is stopped
    bounds(page_seconds=1000, seconds=1.5)
    for read in (read_path, lambda p: list(iter_blocks_path(p))):
        with within(8):
            with pytest.raises(SourceTimeout) as e:
                read(path)
        assert "loops.pdf" in e.value.message and "1.5 s" in e.value.message
        assert "source_read_seconds" in e.value.hint
    deadline = time.monotonic() + 5
    while reader_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not reader_threads(), "the runaway reader thread was not stopped"


@pytest.mark.timeout(60)
def test_a_page_that_takes_too_long_is_skipped_and_named(tmp_path, monkeypatch, bounds):
    import pypdf

    data = hostile_pdf.build([hostile_pdf.text_page("Page one is fine."),
                              hostile_pdf.text_page("Page two loops."),
                              hostile_pdf.text_page("Page three is fine.")])
    path = write(tmp_path, "slow.pdf", data)
    real = pypdf.PageObject.extract_text

    def extract(page, *args, **kwargs):
        text = real(page, *args, **kwargs)
        if "loops" in text:
            _runaway()
        return text

    monkeypatch.setattr(pypdf.PageObject, "extract_text", extract)
    bounds(page_seconds=1, seconds=30)
    with within(10):
        doc = read_path(path)
    assert [b.text for b in doc.blocks] == ["Page one is fine.", "Page three is fine."]
    assert doc.warnings == ["Page 2 was skipped: reading it took longer than 1 s."]
    with within(10):  # the bulk job's reader: the other pages, then the message
        got = []
        with pytest.raises(PartlyRead) as e:
            for block in iter_blocks_path(path):
                got.append(block.text)
    assert got == ["Page one is fine.", "Page three is fine."]
    assert "slow.pdf" in e.value.message and "Page 2" in e.value.message
    assert "pdf_page_seconds" in e.value.hint


@pytest.mark.timeout(120)
def test_a_bulk_job_goes_on_after_a_file_that_never_ends(tmp_path, monkeypatch, bounds, col):
    from generator.sources import text

    real = text.LineParser.feed_lines

    def feed(self, lines, out):
        if any("LOOP-FOREVER" in line for line in lines):
            _runaway()
        return real(self, lines, out)

    monkeypatch.setattr(text.LineParser, "feed_lines", feed)
    bounds(seconds=2)
    stuck = write(tmp_path, "stuck.md", "# Stuck\n\nLOOP-FOREVER is in this file.\n")
    good = write(tmp_path, "good.md", "# Cells\n\nThe mitochondrion makes ATP for the cell.\n")
    spec = BulkSpec([stuck, good], JobOptions(model="llama3.2", num_ctx=1024, num_predict=256),
                    NoteTarget(deck="Bulk", tags=["bulk"]))
    with FakeOllama() as srv, within(45):
        result = run_headless(col, backend_for(srv.url), str(tmp_path / "journal"), spec,
                              setup=RunSetup(sync=False))
    assert [f.state for f in result.files] == [FAILED, DONE]
    assert "stuck.md" in result.files[0].error and "given up" in result.files[0].error
    assert col.note_count() >= 1


@pytest.mark.timeout(60)
def test_stdin_that_never_ends_or_never_sends(tmp_path, server):
    cfg = settings_file(tmp_path, source_read_seconds=2, source_max_mb=5)
    # a pipe that stays open and silent: given up after the time bound
    silent = subprocess.Popen(["sleep", "60"], stdout=subprocess.PIPE)
    try:
        with within(20):
            r = cli_dry("-", server.url, "--config", cfg, stdin=silent.stdout)
        assert r.returncode == 2 and "stdin" in r.stderr and "given up" in r.stderr, r.stderr
    finally:
        silent.kill()
        silent.wait()
    # an endless stream (/dev/zero): refused at the size limit, not read to a MemoryError
    with open("/dev/zero", "rb") as zero, within(20):
        r = cli_dry("-", server.url, "--config", cfg, stdin=zero)
    assert r.returncode == 2 and "more than 5.0 MB" in r.stderr and "Traceback" not in r.stderr
    assert not server.chat_bodies()


@pytest.mark.timeout(30)
def test_stdin_is_read_piece_by_piece_up_to_the_limit():
    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            b[:] = b"x" * len(b)
            return len(b)

    tracemalloc.start()
    try:
        with within(10):
            with pytest.raises(SourceTooLarge) as e:
                read_stream_bytes(io.BufferedReader(Endless()), "stdin", max_bytes=8 * MB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "stdin" in e.value.message and "source_max_mb" in e.value.hint
    assert peak < 3 * 8 * MB
    assert read_stream_bytes(io.BytesIO(b"Some notes."), "stdin") == b"Some notes."
    with pytest.raises(EmptySource):
        read_stream_bytes(io.BytesIO(b""), "stdin")


# --- PDF content is bounded per page and per document -------------------------------------------

@pytest.mark.timeout(120)
def test_huge_and_bombed_content_streams_are_skipped_by_page(tmp_path, server):
    pages = [
        hostile_pdf.text_page("Page one is read."),
        hostile_pdf.raw_page(40 * MB),  # raw: 40 MB in the file
        hostile_pdf.bomb_page(300 * MB),  # Flate: ~300 KB in the file, 300 MB inflated
        [hostile_pdf.raw_page(6 * MB) for _ in range(3)],  # three streams, 18 MB together
        hostile_pdf.text_page("Page five is read."),
    ]
    path = write(tmp_path, "heavy.pdf", hostile_pdf.build(pages))
    tracemalloc.start()
    try:
        with within(30):
            doc = read_path(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [b.text for b in doc.blocks] == ["Page one is read.", "Page five is read."]
    assert [w.split(":")[0] for w in doc.warnings] == [
        "Page 2 was skipped", "Page 3 was skipped", "Page 4 was skipped"]
    assert "40 MB, more than the 16 MB read per page" in doc.warnings[0]
    assert peak < 400 * MB, "peak %.0f MB" % (peak / MB)  # the file is 58 MB; a reader holding whole pages would need gigabytes
    with within(60):
        r = cli_dry(path, server.url)
    assert r.returncode == 0, r.stderr
    assert "Page 2 was skipped" in r.stderr and json.loads(r.stdout)


@pytest.mark.timeout(60)
def test_pdf_limits_follow_the_settings(tmp_path, bounds):
    from generator.config import Settings

    pages = [hostile_pdf.text_page("Page one."), hostile_pdf.raw_page(3 * MB),
             hostile_pdf.raw_page(3 * MB), hostile_pdf.text_page("Page four.")]
    path = write(tmp_path, "mid.pdf", hostile_pdf.build(pages))
    limits.configure(Settings.from_dict({"pdf_page_mb": 2}))
    assert limits.current().page_bytes == 2 * MB
    doc = read_path(path)
    assert [b.text for b in doc.blocks] == ["Page one.", "Page four."] and len(doc.warnings) == 2
    small = [hostile_pdf.text_page("Page one."), hostile_pdf.raw_page(300 * 1024),
             hostile_pdf.raw_page(300 * 1024), hostile_pdf.text_page("Page four.")]
    path = write(tmp_path, "small.pdf", hostile_pdf.build(small))
    bounds(page_bytes=1 * MB, document_bytes=500 * 1024)  # the document's bound: the rest unread
    with within(20):
        doc = read_path(path)
    assert doc.blocks[0].text == "Page one." and "Page four." not in doc.text()
    assert doc.warnings == ["Pages 3-4 were not read: the document's content passed 0.5 MB."]
    bounds(page_bytes=100 * 1024)  # every page over its bound: no text at all is an error
    only_big = write(tmp_path, "only-big.pdf", hostile_pdf.build([hostile_pdf.raw_page(300 * 1024)]))
    with pytest.raises(SourceTooLarge) as e:
        read_path(only_big)
    assert "only-big.pdf" in e.value.message and "Page 1 was skipped" in e.value.message


def test_limits_from_settings_are_validated():
    from generator.config import Settings

    problems = []
    s = Settings.from_dict({"source_max_mb": -5, "source_read_seconds": "soon",
                            "pdf_page_seconds": 5, "pdf_page_mb": 0}, problems)
    got = ReadLimits.from_config(s)
    assert got.max_bytes == 200 * MB and got.seconds == 300 and got.page_bytes == 16 * MB
    assert got.page_seconds == 5
    assert len(problems) == 3 and all("Setting '" in p for p in problems)


# --- sizes ---------------------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_sparse_gigabyte_is_refused_before_it_is_read(tmp_path, server, bounds):
    for name in ("huge.txt", "huge.pdf", "huge.md", "huge.html"):
        path = str(tmp_path / name)
        with open(path, "wb") as f:  # sparse: costs no disk
            f.truncate(1024 * MB)
        with within(5):
            with pytest.raises(SourceTooLarge) as e:
                read_path(path)
            with pytest.raises(SourceTooLarge):
                list(iter_blocks_path(path))
        assert name in e.value.message and "200 MB" in e.value.message
    with within(30):
        r = cli_dry(str(tmp_path / "huge.txt"), server.url)
    assert r.returncode == 2 and "huge.txt" in r.stderr and "200 MB" in r.stderr
    bounds(max_bytes=2048 * MB)  # allowed by size, it is still only zeros: not text, said fast
    with within(10):
        with pytest.raises(Exception) as e:
            read_path(str(tmp_path / "huge.txt"))
    assert "huge.txt" in describe(e.value) and "Traceback" not in describe(e.value)


# --- a document without visible letters or digits is empty ---------------------------------------

INVISIBLE = ("\u200b\u200c\u200d\u2060\ufeff"  # zero-width space, non-joiner, joiner, word joiner, BOM
             "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # bidi controls
             "\u0301\u0308\u0327\u20dd\u034f")  # combining marks (acute, diaeresis, cedilla, circle, CGJ)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shape", ["plain", "lines", "markdown", "html", "bulleted"])
def test_only_invisible_characters_is_empty(tmp_path, server, shape):
    body = {
        "plain": INVISIBLE * 50,
        "lines": "\n".join(INVISIBLE[i:] + INVISIBLE[:i] for i in range(len(INVISIBLE))) * 20,
        "markdown": "# " + INVISIBLE + "\n\n" + INVISIBLE * 10 + "\n\n- " + INVISIBLE + "\n",
        "html": "<html><body><h1>%s</h1><p>%s</p></body></html>" % (INVISIBLE, INVISIBLE * 10),
        "bulleted": "\n".join("\u2022 " + INVISIBLE + " \u2192 \u2605" for _ in range(30)),
    }[shape]
    ext = {"markdown": ".md", "html": ".html"}.get(shape, ".txt")
    path = write(tmp_path, "blank" + ext, body)
    for read in (read_path, lambda p: list(iter_blocks_path(p))):
        with pytest.raises(EmptySource) as e:
            read(path)
        assert "blank" + ext in e.value.message and "no letters or digits" in e.value.message
    with pytest.raises(EmptySource):
        read_text(body)
    r = cli_dry(path, server.url)
    assert r.returncode == 2 and "no letters or digits" in r.stderr
    assert not server.chat_bodies()


def test_invisible_characters_around_real_text_are_no_problem(tmp_path):
    path = write(tmp_path, "mixed.txt", INVISIBLE + "\n\nOsmosis moves water.\n\n" + INVISIBLE)
    assert "Osmosis moves water." in read_path(path).text()
    assert read_text("\u200b\u0661\u0662").blocks  # Arabic-Indic digits are digits
    assert read_text("\u200bπ").blocks  # one Greek letter is a letter


# --- names of files never bring escape codes to a terminal ---------------------------------------

@pytest.mark.timeout(60)
def test_escape_codes_in_file_names_are_neutralised(tmp_path, server):
    fifo = str(tmp_path / ("pipe" + ESCAPES + ".txt"))
    os.mkfifo(fifo)
    empty = write(tmp_path, "empty" + ESCAPES + ".md", "")
    text = write(tmp_path, "notes" + ESCAPES + ".txt", "Osmosis moves water across a membrane.")
    missing = str(tmp_path / ("missing" + ESCAPES + ".pdf"))
    for path in (fifo, empty, missing):
        with pytest.raises(UnreadableSource if path != empty else EmptySource) as e:
            read_path(path)
        assert "\x1b" not in describe(e.value) and "\x07" not in describe(e.value)
        r = cli_dry(path, server.url)
        assert r.returncode == 2 and "\x1b" not in r.stderr and "\x07" not in r.stderr
        assert os.path.basename(path).split("\x1b")[0] in r.stderr  # still named
    doc = read_path(text)
    assert "\x1b" not in doc.name and doc.name.startswith("notes")
    r = cli_dry(text, server.url)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x1b" not in r.stderr

