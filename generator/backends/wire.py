"""The bytes of a server's answer, bounded in time and size.

- ``Limits``: the bounds of one request (overall deadline, bytes, characters, JSON size).
- ``Watchdog``: one shared thread that shuts down the socket of a request whose deadline passed
  or whose cancel event was set. A read blocked in ``recv`` never sees a flag, but it returns at
  once when its socket is shut down; the reader then finds out why from its ``Guard``.
- ``guarded_adapter``: a requests adapter whose connections tell the guard of the request being
  sent which socket is theirs, so even a server that drips its headers is cut off in time.
- ``raw_chunks`` / ``Decoder`` / ``LineSplitter``: the body as it comes off the wire (no
  decoding by requests or urllib3), decompressed here with a cap on the output, split into lines
  in linear time with a cap on a line's length.

Nothing here makes user-facing messages: failures are the small exceptions below, which
``http.py`` turns into typed errors."""
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterator, List, Optional, Set

MB = 1024 * 1024
READ_SIZE = 65536  # bytes asked of the socket per read


@dataclass(frozen=True)
class Limits:
    deadline: float = 900.0  # ceiling of one request, seconds from sending to the last byte
    deadline_floor: float = 60.0  # a deadline derived from the observed rate is never shorter
    answer_bytes: int = 32 * MB  # one streamed answer as received (decompressed, framing included)
    answer_chars: int = 1_000_000  # characters of text (content + thinking) in one answer
    json_bytes: int = 64 * MB  # one non-streamed JSON reply (/api/tags, /api/show, embeddings)
    error_bytes: int = 64 * 1024  # the part of an error body that is read
    pull_bytes: int = 256 * MB  # the progress lines of one pull, in all
    pull_line_bytes: int = 1 * MB  # one progress line of a pull
    redirects: int = 3  # same-host redirects a GET may follow

    @classmethod
    def from_settings(cls, settings: Any) -> "Limits":
        """The limits a ``Settings`` sets (request_deadline, max_answer_mb, max_answer_chars)."""
        return cls(deadline=float(settings.request_deadline),
                   answer_bytes=int(float(settings.max_answer_mb) * MB),
                   answer_chars=int(settings.max_answer_chars))


# --- failures (turned into typed errors by http.py) -----------------------------------------

class TooLarge(Exception):
    """More bytes than the cap allows (``what`` says which cap)."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(what)
        self.what = what
        self.limit = limit


class BadEncoding(Exception):
    """A Content-Encoding this reader does not decode, or compressed data that is damaged."""

    def __init__(self, encoding: str, damaged: bool = False) -> None:
        super().__init__(encoding)
        self.encoding = encoding
        self.damaged = damaged


class CutShort(Exception):
    """The body ended before the length the server announced."""


# --- the watchdog ------------------------------------------------------------------------------

class Stop(Enum):
    DEADLINE = "deadline"
    CANCELLED = "cancelled"


class Guard:
    """One request under watch: its deadline (monotonic seconds, or None), its cancel event, the
    connection it is using, and why it was stopped (None while it may go on)."""

    __slots__ = ("owner", "deadline", "seconds", "cancel", "conn", "stopped", "_killed")

    def __init__(self, owner: object, seconds: Optional[float], cancel: Optional[threading.Event],
                 deadline: Optional[float] = None) -> None:
        self.owner = owner
        self.seconds = seconds  # the whole allowance (for messages)
        if deadline is None and seconds is not None:
            deadline = time.monotonic() + seconds
        self.deadline = deadline
        self.cancel = cancel
        self.conn: Any = None
        self.stopped: Optional[Stop] = None
        self._killed: Any = None

    def check(self, now: float) -> Optional[Stop]:
        """Why the request must stop now (also recorded), or None."""
        if self.stopped is None:
            if self.cancel is not None and self.cancel.is_set():
                self.stopped = Stop.CANCELLED
            elif self.deadline is not None and now >= self.deadline:
                self.stopped = Stop.DEADLINE
        return self.stopped

    def kill(self) -> None:
        """Shut down the request's socket: a blocked read or write returns at once."""
        sock = getattr(self.conn, "sock", None)
        if sock is None or sock is self._killed:
            return
        self._killed = sock
        try:
            # The plain socket's shutdown, also for an SSL socket (whose own method would drop
            # its SSL object under a reader in another thread).
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, TypeError, ValueError):
            pass


class Watchdog:
    """One daemon thread for all requests: every ``TICK`` it stops the guards whose deadline
    passed or whose cancel event is set. Idle (no request for ``LINGER`` s) it sleeps until the
    next request."""

    TICK = 0.1
    LINGER = 5.0

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._guards: Set[Guard] = set()
        self._thread: Optional[threading.Thread] = None
        self._asleep = False

    def watch(self, guard: Guard) -> None:
        with self._cond:
            self._guards.add(guard)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="flashcards-watchdog",
                                                daemon=True)
                self._thread.start()
            elif self._asleep:
                self._cond.notify()

    def release(self, guard: Guard) -> None:
        with self._cond:
            self._guards.discard(guard)

    def stop(self, owner: object, cancel: Optional[threading.Event] = None) -> int:
        """Stop at once the requests of ``owner`` (those started with ``cancel``, or all of them
        when it is None); how many were stopped."""
        n = 0
        with self._cond:
            for guard in self._guards:
                if guard.owner is owner and (cancel is None or guard.cancel is cancel):
                    if guard.stopped is None:
                        guard.stopped = Stop.CANCELLED
                    guard.kill()
                    n += 1
        return n

    def _run(self) -> None:
        idle_since = time.monotonic()
        with self._cond:
            while True:
                now = time.monotonic()
                for guard in self._guards:
                    if guard.check(now) is not None:
                        guard.kill()  # again each tick: a socket may have been opened since
                if self._guards:
                    idle_since = now
                self._asleep = now - idle_since > self.LINGER
                self._cond.wait(None if self._asleep else self.TICK)


WATCHDOG = Watchdog()
_current = threading.local()  # the guard of the request this thread is sending


class sending:
    """``with sending(guard):`` around ``session.request`` lets the connection that sends it
    attach itself to the guard."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def __enter__(self) -> Guard:
        _current.guard = self.guard
        return self.guard

    def __exit__(self, *exc: Any) -> None:
        _current.guard = None


def _attach(conn: Any) -> None:
    guard = getattr(_current, "guard", None)
    if guard is not None:
        guard.conn = conn
        if guard.stopped is not None:
            guard.kill()


_ADAPTER_CLASS: Any = None


def guarded_adapter() -> Any:
    """A requests ``HTTPAdapter`` (no retries) whose connections attach to the current guard;
    a plain adapter if this urllib3 is not shaped as expected (the body is still guarded)."""
    global _ADAPTER_CLASS
    import requests.adapters

    if _ADAPTER_CLASS is None:
        try:
            _ADAPTER_CLASS = _make_adapter_class()
        except Exception:  # an unexpected urllib3: keep the plain adapter
            _ADAPTER_CLASS = requests.adapters.HTTPAdapter
    return _ADAPTER_CLASS(max_retries=0)


def _make_adapter_class() -> Any:
    import requests.adapters
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    plain: Any = HTTPConnectionPool.ConnectionCls

    class GuardedConnection(plain):
        def connect(self) -> None:
            _attach(self)  # the socket exists before a TLS handshake: a stop cuts that too
            super().connect()

        def request(self, *args: Any, **kwargs: Any) -> Any:
            _attach(self)  # also a connection reused from the pool
            return super().request(*args, **kwargs)

    class GuardedPool(HTTPConnectionPool):
        ConnectionCls = GuardedConnection

    pools = {"http": GuardedPool, "https": HTTPSConnectionPool}
    tls_cls: Any = HTTPSConnectionPool.ConnectionCls
    if tls_cls is not None and hasattr(tls_cls, "request") and tls_cls.__name__ != "DummyConnection":
        class GuardedTlsConnection(tls_cls):
            def connect(self) -> None:
                _attach(self)
                super().connect()

            def request(self, *args: Any, **kwargs: Any) -> Any:
                _attach(self)
                return super().request(*args, **kwargs)

        class GuardedTlsPool(HTTPSConnectionPool):
            ConnectionCls = GuardedTlsConnection

        pools["https"] = GuardedTlsPool

    class GuardedAdapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = dict(pools)

    return GuardedAdapter


# --- reading the body ----------------------------------------------------------------------------

def raw_chunks(resp: Any) -> Iterator[bytes]:
    """The body's bytes as they arrive, undecoded: straight from http.client (chunked framing
    handled there, with its line-length limits), each piece one socket read at most."""
    raw = resp.raw
    fp = getattr(raw, "_fp", None)
    read1 = getattr(fp, "read1", None)
    if read1 is None or not hasattr(fp, "chunked"):
        for data in raw.stream(READ_SIZE, decode_content=False):
            if data:
                yield data
        return
    while True:
        data = read1(READ_SIZE)
        if not data:
            left = getattr(fp, "length", None)
            if isinstance(left, int) and left > 0:
                raise CutShort()
            return
        yield data


class Decoder:
    """Undo a Content-Encoding of gzip or deflate, the output in pieces of at most ``STEP``
    bytes and ``cap`` bytes in all: a compression bomb stops at the cap, and no piece is larger
    than a few socket reads."""

    SUPPORTED = ("gzip", "x-gzip", "deflate")
    STEP = 256 * 1024

    def __init__(self, header: str, cap: int) -> None:
        layers = [e.strip().lower() for e in header.split(",") if e.strip()]
        layers = [e for e in layers if e != "identity"]
        if len(layers) != 1 or layers[0] not in self.SUPPORTED:
            raise BadEncoding(header.strip()[:40])
        self.encoding = layers[0]
        self.obj = self._new()
        self.started = False
        self.cap = cap
        self.out = 0

    def _new(self, raw_deflate: bool = False) -> Any:
        if self.encoding == "deflate":
            return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    @staticmethod
    def needed(header: Optional[str]) -> bool:
        return bool(header) and header.strip().lower() not in ("", "identity")  # type: ignore[union-attr]

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            d = self.obj
            try:
                piece = d.decompress(data, self.STEP)
            except zlib.error:
                if self.encoding == "deflate" and not self.started:
                    self.obj = self._new(raw_deflate=True)  # deflate sent without its zlib header
                    self.started = True
                    continue
                raise BadEncoding(self.encoding, damaged=True) from None
            self.started = True
            self.out += len(piece)
            if self.out > self.cap:
                within = piece[:len(piece) - (self.out - self.cap)]
                if within:
                    yield within  # what came before the cap is still read
                raise TooLarge("decompressed", self.cap)
            data = d.unconsumed_tail
            if d.eof:
                data = d.unused_data
                if data.strip(b"\0"):
                    self.obj = self._new()  # another gzip member follows
                else:
                    data = b""
            if piece:
                yield piece

    def finish(self) -> None:
        """At the end of the body: compressed data that stops in the middle is damaged."""
        if self.started and not self.obj.eof:
            raise BadEncoding(self.encoding, damaged=True)


class LineSplitter:
    """Lines of a byte stream in linear time (new bytes are searched once; a partial line is
    split once, when its newline comes), a line longer than ``max_line`` bytes refused. Lines
    come without their "\n" and may be blank.

    A line over the cap sets ``overlong`` rather than raising, so the whole lines that came
    with it are still returned; the caller stops there, and ``begun()`` shows the start of the
    overlong line (its first ``max_line`` bytes), from which a reader may salvage what it can."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self.buf = bytearray()  # a line begun, without its newline yet
        self.overlong = False

    def feed(self, data: bytes) -> List[Any]:
        if self.overlong:
            raise TooLarge("line", self.max_line)
        if not self.buf and data.endswith(b"\n") and len(data) <= self.max_line:
            # the usual case (whole lines, each shorter than the cap): no copy
            lines: List[Any] = data.split(b"\n")
            lines.pop()
            return lines
        if b"\n" not in data:
            self.buf += data
            self.overlong = len(self.buf) > self.max_line
            return []
        buf = self.buf
        buf += data
        lines = buf.split(b"\n")
        self.buf = lines.pop()
        self.overlong = len(self.buf) > self.max_line
        return lines

    def begun(self) -> memoryview:
        """The line begun and not ended (at most ``max_line`` bytes of it), not copied: release
        the view before feeding again."""
        return memoryview(self.buf)[:self.max_line]

    def rest(self) -> bytes:
        """What is left after the last newline (a last line without its end)."""
        rest = bytes(self.buf)
        self.buf = bytearray()
        return rest
