"""The CLI never loses a card and never prints a traceback: Ctrl-C, a full disk, answers cut at
the token limit, bad characters, bad numbers, hostile names and texts. A real process each
time, the fake server on 127.0.0.1, real collection files; every wait has a wall-clock bound."""
import contextlib
import errno
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from fake_ollama import FakeOllama, Reply

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = ("--num-ctx", "1024", "--num-predict", "256")


def cli(*args, stdin=None, timeout=120, preexec_fn=None):
    return subprocess.run([sys.executable, "flashcards.py", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=timeout, preexec_fn=preexec_fn)


def document(path, sections=10):
    """A Markdown file the CLI cuts into one chunk per section (with SMALL)."""
    parts = []
    for i in range(sections):
        parts.append("## Section %d\n\n" % (i + 1))
        parts.append(" ".join("Fact %d.%d: the chloroplast number %d turns light into sugar energy."
                              % (i + 1, j, j) for j in range(12)) + "\n\n")
    path.write_text("".join(parts), encoding="utf-8")
    return str(path)


def notes_in(path):
    from anki.collection import Collection

    col = Collection(path)
    try:
        return [col.get_note(n) for n in col.find_notes("")]
    finally:
        col.close()


class Slow:
    """An answerer: the first ``fast`` chat requests at once, the others after ``delay`` s."""

    def __init__(self, fast, delay):
        self.fast, self.delay, self.count = fast, delay, 0
        self.lock = threading.Lock()

    def __call__(self, body):
        with self.lock:
            self.count += 1
            n = self.count
        return Reply(delay=0 if n <= self.fast else self.delay)


class Running:
    """The CLI as a background process whose stderr is read line by line."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([sys.executable, "flashcards.py", *args], cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err_lines = []
        self.out = []
        self.readers = [
            threading.Thread(target=lambda: self.err_lines.extend(iter(self.proc.stderr.readline, "")),
                             daemon=True),
            threading.Thread(target=lambda: self.out.append(self.proc.stdout.read()), daemon=True)]
        for reader in self.readers:
            reader.start()

    def read_all(self, timeout=30):
        """After the exit: wait (bounded) until the readers have everything the CLI wrote."""
        end = time.monotonic() + timeout
        for reader in self.readers:
            reader.join(max(0.0, end - time.monotonic()))

    def wait_for(self, text, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(text in line for line in self.err_lines):
                return
            if self.proc.poll() is not None:
                self.read_all()
                if any(text in line for line in self.err_lines):
                    return
                break
            time.sleep(0.02)
        raise AssertionError("no %r within %s s: %s" % (text, timeout, "".join(self.err_lines)[-2000:]))

    def finish(self, timeout):
        """Wait at most ``timeout`` s for the exit; returns (code, seconds, stdout, stderr)."""
        start = time.monotonic()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError("the CLI did not end within %s s" % timeout)
        seconds = time.monotonic() - start
        self.read_all()
        return code, seconds, "".join(self.out), "".join(self.err_lines)


# --- Ctrl-C ------------------------------------------------------------------------------------

@pytest.mark.timeout(90)
@pytest.mark.parametrize("parallel", ["1", "2"])
def test_ctrl_c_adds_the_cards_of_the_finished_chunks(tmp_path, parallel):
    """Two chunks are answered at once, the rest only after 15 s: Ctrl-C while they wait adds the
    finished chunks' cards, says how many chunks were left, exits 1, and does so promptly (the
    requests in flight are not waited for)."""
    import re

    with FakeOllama(answerer=Slow(2, 15.0)) as server:
        path = str(tmp_path / "collection.anki2")
        run = Running(document(tmp_path / "doc.md"), "--collection", path, "--url", server.url,
                      "--model", "llama3.2", "--parallel", parallel, *SMALL)
        run.wait_for("chunk 2/10 ·", 30)
        run.proc.send_signal(signal.SIGINT)
        code, seconds, _out, err = run.finish(15)
    assert code == 1, err
    found = re.search(r"Cancelled: (\d+) of 10 chunk\(s\) finished .*; (\d+) chunk\(s\) were not done", err)
    assert found and int(found.group(1)) == 2 and int(found.group(2)) == 8, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    notes = notes_in(path)
    sections = {n["Back"].split(".")[0] for n in notes}
    assert notes and sections <= {"Fact 1", "Fact 2"}, sections
    assert re.search(r"cards? made: %d added" % len(notes), err), err
    assert seconds < 10  # not the in-flight requests' 15 s, nor the 300 s read timeout


@pytest.mark.timeout(90)
def test_ctrl_c_with_dry_run_json_prints_the_finished_cards(tmp_path):
    with FakeOllama(answerer=Slow(3, 15.0)) as server:
        run = Running(document(tmp_path / "doc.md"), "--dry-run", "--json", "--url", server.url,
                      "--model", "llama3.2", *SMALL)
        run.wait_for("chunk 3/10 ·", 30)
        run.proc.send_signal(signal.SIGINT)
        code, _seconds, out, err = run.finish(15)
    assert code == 1 and "Cancelled: 3 of 10" in err, err
    cards = json.loads(out)
    assert cards and {c["source"]["heading_path"][0] for c in cards} == {"Section 1", "Section 2", "Section 3"}


@pytest.mark.timeout(90)
def test_a_second_ctrl_c_aborts_at_once(tmp_path):
    """The first Ctrl-C asks to stop; the second does not wait for the request in flight (30 s)."""
    with FakeOllama(answerer=Slow(1, 30.0)) as server:
        path = str(tmp_path / "collection.anki2")
        run = Running(document(tmp_path / "doc.md"), "--collection", path, "--url", server.url,
                      "--model", "llama3.2", *SMALL)
        run.wait_for("chunk 1/10 ·", 30)
        run.proc.send_signal(signal.SIGINT)
        run.wait_for("Ctrl-C again to abort", 10)
        run.proc.send_signal(signal.SIGINT)
        code, seconds, _out, err = run.finish(15)
    # The first Ctrl-C may already have ended the job (then the second finds it adding or gone).
    assert code in (1, 130), err
    assert seconds < 10 and "Traceback" not in err


# --- answers cut at the token limit --------------------------------------------------------------

CUT = '{"cards": [{"front": "What is chlorophyll?", "back": "A green pigment.", "quote": "chloroplast"}, ' \
      '{"front": "What does a chloroplast make?", "back": "Sugar from light.", "quote": "sugar"}, {"front": "Wh'


@pytest.mark.timeout(90)
@pytest.mark.parametrize("second", ["cut again", "not json", "server error"])
def test_an_answer_cut_even_after_the_retry_keeps_its_cards_and_says_so(tmp_path, second):
    retry = {"cut again": Reply(content=CUT, done_reason="length"), "not json": Reply(content="Sorry, no."),
             "server error": Reply.error(500, "out of memory")}[second]
    with FakeOllama() as server:
        server.script(Reply(content=CUT, done_reason="length"), retry)
        path = str(tmp_path / "collection.anki2")
        r = cli("-", "--collection", path, "--url", server.url, "--model", "llama3.2",
                "--num-predict", "300", "--max-cards", "3",
                stdin="Chlorophyll is green. A chloroplast makes sugar from light.\n")
    assert r.returncode == 1, r.stderr
    assert "broke off" in r.stderr and "the 2 cards written before the break were kept" in r.stderr
    if second == "cut again":
        assert "num_predict" in r.stderr and "fewer cards" in r.stderr
    assert len(notes_in(path)) == 2


def test_an_answer_cut_before_its_first_card_is_asked_again_without_a_warning(server, tmp_path):
    server.script(Reply(content='{"cards": [{"front": "Wh', done_reason="length"))
    r = cli("-", "--dry-run", "--json", "--url", server.url, "--model", "llama3.2",
            stdin="Chlorophyll is green. A chloroplast makes sugar from light.\n")
    assert r.returncode == 0 and "warning" not in r.stderr, r.stderr


# --- characters no note can store, through the CLI -------------------------------------------------

SURROGATE = '{"cards": [{"front": "Bad \\ud800 front?", "back": "Answer one", "quote": "x"}, ' \
            '{"front": "Good front?", "back": "Bad \\udfff back \\u0000", "quote": "x\\ud800"}, ' \
            '{"front": "Clean?", "back": "Yes.", "quote": "x"}]}'


@pytest.mark.timeout(60)
def test_a_lone_surrogate_costs_no_card_in_the_cli(server, tmp_path):
    # One scripted answer per run: the rewrite pass (which would take the next one) is off.
    server.script(Reply(content=SURROGATE), Reply(content=SURROGATE))
    dry = cli("-", "--dry-run", "--json", "--url", server.url, "--model", "llama3.2", "--max-cards", "3",
              "--self-review", "off", stdin="Some text to learn from, long enough.\n")
    assert dry.returncode == 0 and "Traceback" not in dry.stderr, dry.stderr
    assert [c["front"] for c in json.loads(dry.stdout)] == ["Bad  front?", "Good front?", "Clean?"]
    path = str(tmp_path / "collection.anki2")
    r = cli("-", "--collection", path, "--url", server.url, "--model", "llama3.2", "--max-cards", "3",
            "--self-review", "off", stdin="Some text to learn from, long enough.\n")
    assert r.returncode == 0, r.stderr
    assert len(notes_in(path)) == 3


# --- a full disk -------------------------------------------------------------------------------------

BIG_CARDS = Reply.cards([{"front": "Question %d about leaves?" % i, "back": ("Long answer %d " % i) * 400,
                          "quote": "leaves"} for i in range(40)])


def _check_write_failure(r, path, full):
    assert r.returncode == 4, r.stderr
    assert "Traceback" not in r.stderr and "undo op" not in r.stderr
    if full:
        assert "The disk is full" in r.stderr
    assert "printed on stdout as JSON" in r.stderr
    cards = json.loads(r.stdout)  # the cards are not lost
    assert len(cards) == 40


@pytest.mark.timeout(120)
def test_disk_full_while_adding_on_a_real_tmpfs(server, tmp_path):
    """A real ENOSPC: the collection on a 2 MB tmpfs with 96 KB left (needs root to mount;
    the RLIMIT_FSIZE test below covers the same path without it)."""
    mount = tempfile.mkdtemp(prefix="of-tmpfs-")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mount],
                             capture_output=True).returncode == 0
    if not mounted:
        os.rmdir(mount)
        pytest.skip("cannot mount a tmpfs here (not root); test_collection_write_fails_* covers it")
    try:
        path = os.path.join(mount, "collection.anki2")
        from anki.collection import Collection

        Collection(path).close()
        with open(os.path.join(mount, "filler"), "wb") as f:  # leave about 96 KB
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
        with contextlib.suppress(OSError):
            os.truncate(os.path.join(mount, "filler"), os.path.getsize(os.path.join(mount, "filler")) - 98304)
        server.script(BIG_CARDS)
        r = cli("-", "--collection", path, "--url", server.url, "--model", "llama3.2", "--max-cards", "40",
                stdin="Leaves turn light into sugar.\n")
        _check_write_failure(r, path, full=True)
        os.unlink(os.path.join(mount, "filler"))
        from anki.collection import Collection

        col = Collection(path)
        try:  # intact, and nothing half-added
            assert col.note_count() == 0
            assert "ok" in str(col.fix_integrity()[0]).lower() or col.note_count() == 0
        finally:
            col.close()
    finally:
        subprocess.run(["umount", mount], capture_output=True)
        shutil.rmtree(mount, ignore_errors=True)


def _limit_file_size(limit):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.timeout(120)
def test_collection_write_fails_past_the_file_size_limit(server, tmp_path):
    """Without root: RLIMIT_FSIZE in the CLI's process makes the collection's writes fail with
    EFBIG (SIGXFSZ ignored); SQLite reports a disk I/O error. The same path as a full disk."""
    path = str(tmp_path / "collection.anki2")
    from anki.collection import Collection

    Collection(path).close()
    server.script(BIG_CARDS)
    r = cli("-", "--collection", path, "--url", server.url, "--model", "llama3.2", "--max-cards", "40",
            stdin="Leaves turn light into sugar.\n", preexec_fn=_limit_file_size(os.path.getsize(path) + 65536))
    _check_write_failure(r, path, full=False)
    assert "could not be written" in r.stderr
    assert notes_in(path) == []


def full_output_file(path, limit):
    """A file already at the size limit: every write to it fails with EFBIG."""
    with open(path, "wb") as f:
        f.write(b"x" * limit)
    return open(path, "ab")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stderr_full", [False, True], ids=["stdout-full", "stdout-and-stderr-full"])
def test_collection_and_stdout_both_unwritable_says_so_and_exits_4(server, tmp_path, stderr_full):
    """The disk that holds the collection also holds the redirected stdout (and stderr): the
    fallback that prints the cards fails too. Said once, no traceback, exit 4, nothing added."""
    path = str(tmp_path / "collection.anki2")
    from anki.collection import Collection

    Collection(path).close()
    limit = os.path.getsize(path) + 65536
    server.script(BIG_CARDS)
    out = full_output_file(tmp_path / "out.json", limit)
    err_path = tmp_path / "err.txt"
    errors = full_output_file(err_path, limit) if stderr_full else open(err_path, "wb")
    with out, errors:
        r = subprocess.run([sys.executable, "flashcards.py", "-", "--collection", path, "--url", server.url,
                            "--model", "llama3.2", "--max-cards", "40"], cwd=ROOT,
                           input=b"Leaves turn light into sugar.\n", stdout=out, stderr=errors,
                           timeout=120, preexec_fn=_limit_file_size(limit))
    assert r.returncode == 4
    assert notes_in(path) == []
    said = err_path.read_bytes()[limit if stderr_full else 0:].decode("utf-8", "replace")
    if stderr_full:
        assert said == ""  # nothing can be told; the exit code tells it
        return
    assert "Traceback" not in said and "Exception ignored" not in said, said
    assert "The collection could not be written" in said and "Nothing was added" in said
    assert "The 40 card(s) could not be printed on stdout either (File too large): they are lost" in said
    assert "are printed on stdout as JSON" not in said
    assert said.count("could not be printed") == 1


@pytest.mark.timeout(120)
def test_a_json_print_that_fails_after_the_notes_were_added_says_what_was_kept(server, tmp_path):
    path = str(tmp_path / "collection.anki2")
    from anki.collection import Collection

    Collection(path).close()
    server.script(Reply.cards([{"front": "What do leaves make?", "back": "Sugar", "quote": "leaves"}]))
    limit = os.path.getsize(path) + 4 * 65536  # room for the collection, none for stdout
    with full_output_file(tmp_path / "out.json", limit) as out:
        r = subprocess.run([sys.executable, "flashcards.py", "-", "--collection", path, "--url", server.url,
                            "--model", "llama3.2", "--json"], cwd=ROOT, input=b"Leaves turn light into sugar.\n",
                           stdout=out, stderr=subprocess.PIPE, timeout=120, preexec_fn=_limit_file_size(limit))
    said = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 4 and "Traceback" not in said and "Exception ignored" not in said, said
    assert "1 note(s) were added, but the 1 card(s) could not be printed on stdout (File too large)" in said
    assert len(notes_in(path)) == 1


def test_write_failures_are_recognised_in_every_form():
    from generator.errors import CollectionWriteFailed, DiskFull
    from generator.writefail import write_failure

    class DBError(Exception):
        pass

    full = [OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EDQUOT, "Disk quota exceeded"),
            DBError('DbError { info: "SqliteFailure(Error { code: DiskFull, extended_code: 13 }, '
                    'Some(\\"database or disk is full\\"))" }'),
            __import__("sqlite3").OperationalError("database or disk is full")]
    for e in full:
        assert isinstance(write_failure(e), DiskFull), e
        assert "disk is full" in write_failure(e).message
    other = [OSError(errno.EFBIG, "File too large"), OSError(errno.EIO, "I/O"),
             DBError("SqliteFailure(Error { code: SystemIoFailure }, Some(\"disk I/O error\"))")]
    for e in other:
        found = write_failure(e)
        assert isinstance(found, CollectionWriteFailed) and not isinstance(found, DiskFull), e
    try:  # the real error hides behind the one raised while undoing
        try:
            raise full[2]
        except DBError:
            raise RuntimeError("target undo op not found")
    except RuntimeError as e:
        assert isinstance(write_failure(e), DiskFull)
    assert write_failure(ValueError("no such deck")) is None


# --- numeric options -------------------------------------------------------------------------------

@pytest.mark.parametrize("option, value", [
    ("--timeout", "-1"), ("--timeout", "0"), ("--timeout", "nan"), ("--timeout", "inf"),
    ("--timeout", "abc"), ("--timeout", "99999"), ("--parallel", "0"), ("--parallel", "-3"),
    ("--parallel", "1.5"), ("--parallel", "1000"), ("--max-cards", "-1"), ("--max-cards", "10001"),
    ("--num-ctx", "99999999999"), ("--num-ctx", "many"), ("--num-predict", "0"), ("--seed", "-5"), ("--temperature", "-0.1"),
    ("--temperature", "3"), ("--temperature", "nan"),
])
def test_a_number_out_of_range_is_a_usage_error(option, value):
    r = cli("-", "--dry-run", option, value, stdin="text", timeout=60)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert "argument %s" % option in r.stderr and repr(value) in r.stderr
    if option != "--num-ctx":  # (context_size says its own range)
        assert " to " in r.stderr


def test_numbers_at_the_edges_of_the_ranges_are_accepted(server):
    r = cli("-", "--dry-run", "--json", "--url", server.url, "--model", "llama3.2", "--timeout", "1",
            "--parallel", "64", "--max-cards", "0", "--num-ctx", "512", "--num-predict", "1",
            "--seed", "0", "--temperature", "2", stdin="Leaves turn light into sugar in the cells.\n")
    assert r.returncode in (0, 1) and "argument" not in r.stderr, r.stderr
    body = server.chat_bodies()[0]
    assert body["options"]["temperature"] == 2 and body["options"]["num_predict"] >= 1


# --- terminal safety ----------------------------------------------------------------------------------

ESC = "\x1b]0;pwned\x07\x1b[31m"


@pytest.mark.timeout(60)
def test_outside_text_reaches_the_terminal_neutralised(tmp_path):
    name = tmp_path / ("evil%s\u202e.md" % ESC)
    name.write_text("## Head%s ing\n\nLeaves turn light into sugar in the cells of plants.\n" % ESC,
                    encoding="utf-8")
    with FakeOllama() as server:
        server.script(Reply.error(500, "boom " + ESC + "x" * 100000),
                      Reply.error(500, "boom again " + ESC))
        r = cli(str(name), "--dry-run", "--url", server.url, "--model", "llama3.2")
    assert r.returncode == 1, r.stderr
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr and "\u202e" not in r.stderr
    assert "boom" in r.stderr and len(r.stderr) < 5000


@pytest.mark.timeout(60)
def test_json_output_stays_json_and_safe(server):
    payload = {"cards": [{"front": "Bidi \u202e and C1 \x9b[2J here?", "back": "Line\u2028sep \x1b[31m red",
                          "quote": "x"}]}
    server.script(Reply(content=json.dumps(payload)))
    r = subprocess.run([sys.executable, "flashcards.py", "-", "--dry-run", "--json", "--url", server.url,
                        "--model", "llama3.2"], cwd=ROOT, input=b"Some text for a card here.\n",
                       capture_output=True, timeout=60, env=dict(os.environ, PYTHONIOENCODING="ascii"))
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode("utf-8")  # UTF-8 even when the locale says ASCII
    assert not any(ch in out for ch in "\x1b\x9b\u202e\u2028")
    card = json.loads(out)[0]
    assert "\u202e" in card["front"] and card["back"].startswith("Line")
