"""What the CLI needs around a job: Ctrl-C that keeps what is done, and output that is safe for
a terminal and for a program reading it.

- ``Interrupts``: the first Ctrl-C sets the job's cancel event (the job ends within a moment
  with the chunks that finished, and the CLI adds or prints their cards); the second one raises
  ``KeyboardInterrupt`` (the CLI aborts at once, exit 130).
- ``json_text``: cards as JSON, UTF-8, with every character a terminal could act on (C1
  controls, line and paragraph separators, bidi controls) written as a ``\\uXXXX`` escape, and
  no lone surrogate (``Card.to_json`` removes them), so the output is valid UTF-8 and JSON."""
import json
import re
import signal
import sys
import threading
from typing import Any, Callable, Optional

__all__ = ["Interrupts", "json_text", "write_stdout", "silence", "say_safely"]

# Left raw by json.dumps(ensure_ascii=False), but a terminal may act on them.
_RISKY = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class Interrupts:
    """Ctrl-C while a job runs: first ``cancel.set()`` (and ``say`` a line), then abort."""

    def __init__(self, cancel: threading.Event, say: Callable[[str], None]) -> None:
        self.cancel = cancel
        self.say = say
        self.previous: Any = None
        self.active = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.cancel.is_set():
            raise KeyboardInterrupt
        self.cancel.set()
        self.say("Stopping: the cards of the chunks that finished are kept (Ctrl-C again to abort).")

    def __enter__(self) -> "Interrupts":
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
            self.active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self.previous)
            self.active = False


def json_text(value: Any, indent: Optional[int] = 2) -> str:
    """``value`` as JSON text (indented, or one line with ``indent=None``), safe to print (see
    the module doc)."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return _RISKY.sub(lambda m: "\\u%04x" % ord(m.group(0)), text)


def write_stdout(text: str, stream: Optional[Any] = None) -> None:
    """``text`` and a newline to stdout as UTF-8, whatever the locale says. A failed write (a
    full disk under a redirected stdout) raises ``OSError`` after stdout is pointed at the null
    device, so the bytes left in its buffer do not fail again, with a traceback, at exit."""
    out = stream or sys.stdout
    data = (text + "\n").encode("utf-8", "replace")
    buffer = getattr(out, "buffer", None)
    try:
        out.flush()
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            out.write(data.decode("utf-8"))
            out.flush()
    except OSError:
        silence(out)
        raise


def silence(stream: Any) -> None:
    """Point ``stream``'s file descriptor at the null device (what is still buffered goes there)."""
    import os

    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError, AttributeError):
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def say_safely(text: str, stream: Optional[Any] = None) -> None:
    """A line on stderr that never raises: when stderr cannot be written either (the same full
    disk), there is no one left to tell, and the exit code says it."""
    out = stream or sys.stderr
    try:
        print(text, file=out, flush=True)
    except OSError:
        silence(out)


def err(text: str) -> None:
    """A line on stderr; parts from outside must already have gone through ``shown``. Never
    raises: a stderr on a full disk cannot be told anything."""
    from ..outside import shown

    say_safely(shown(text, 4000, keep_newlines=True))
