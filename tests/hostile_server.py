"""A model server that misbehaves on purpose, at the byte level: a raw socket server on 127.0.0.1
(one thread per connection) whose routes are small functions writing whatever bytes they like.

    with Hostile() as h:                                  # h.url, h.requests, h.closed
        h.route("POST /api/chat", stream_forever(b'{"done":false}\\n'))
        ...

The routes a job needs before its first chat (/api/version, /api/tags, /api/show, /v1/models)
answer normally unless replaced. Every behaviour ends when the client goes away or the server
stops, and ``h.closed`` records when the server saw each connection closed by the client, so a
test can check that the client let go (and how fast)."""
import gzip
import json
import select
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

MODELS = ("llama3.2", "llama3.2:latest")


@dataclass
class Request:
    method: str
    path: str
    headers: Dict[str, str]
    body: bytes
    started: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


Behaviour = Callable[["Conn", Request], None]


class Gone(Exception):
    """The client closed the connection (or the server is stopping)."""


class Conn:
    """One accepted connection, with helpers that raise ``Gone`` once the client has left."""

    def __init__(self, sock: socket.socket, server: "Hostile") -> None:
        self.sock = sock
        self.server = server

    def send(self, data: bytes) -> None:
        if self.server.stopping.is_set():
            raise Gone()
        try:
            self.sock.sendall(data)
        except OSError:
            raise Gone() from None

    def head(self, status: int = 200, headers: Sequence[Tuple[str, str]] = (),
             reason: str = "OK") -> None:
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def chunk(self, data: bytes) -> None:
        if data:
            self.send(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunks(self) -> None:
        self.send(b"0\r\n\r\n")

    def wait(self, seconds: float) -> None:
        """Sleep; raise Gone as soon as the client closes the connection or the server stops."""
        ends = time.monotonic() + seconds
        while True:
            if self.server.stopping.is_set() or self.client_gone():
                raise Gone()
            left = ends - time.monotonic()
            if left <= 0:
                return
            select.select([self.sock], [], [], min(left, 0.05))

    def client_gone(self) -> bool:
        """The client closed its side (it sends nothing more after its request)."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            return bool(readable) and not self.sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return True

    def wait_for_close(self, limit: float = 120.0) -> None:
        """Block until the client closes the connection (what a hung server looks like)."""
        try:
            self.sock.settimeout(0.2)
        except OSError:
            return
        ends = time.monotonic() + limit
        while time.monotonic() < ends and not self.server.stopping.is_set():
            try:
                if not self.sock.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return


class Hostile:
    def __init__(self, models: Sequence[str] = MODELS, context_length: int = 8192) -> None:
        self.models = list(models)
        self.context_length = context_length
        self.routes: Dict[str, Behaviour] = {}
        self.requests: List[Request] = []
        self.closed: List[Tuple[str, float]] = []  # (path, seconds from request to client close)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._conns: List[socket.socket] = []
        self._thread: Optional[threading.Thread] = None

    # -- control ----------------------------------------------------------------------------------

    def route(self, key: str, behaviour: Behaviour) -> "Hostile":
        """``key`` is "METHOD /path"; replaces the route's behaviour."""
        self.routes[key] = behaviour
        return self

    def start(self) -> "Hostile":
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        try:
            self.listener.close()
        except OSError:
            pass
        with self.lock:
            for s in self._conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def __enter__(self) -> "Hostile":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def chats(self) -> List[Request]:
        return [r for r in self.requests if r.path in ("/api/chat", "/v1/chat/completions")]

    # -- serving ----------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self._conns.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        conn = Conn(sock, self)
        try:
            while not self.stopping.is_set():
                req = self._read_request(sock)
                if req is None:
                    return
                with self.lock:
                    self.requests.append(req)
                behaviour = self.routes.get(f"{req.method} {req.path}") or self._default(req)
                try:
                    behaviour(conn, req)
                except Gone:
                    pass
                # Every behaviour closes the connection when done (no keep-alive): wait for the
                # client to close its side, and record when it did.
                try:
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                conn.wait_for_close(limit=30)
                with self.lock:
                    self.closed.append((req.path, time.monotonic() - req.started))
                return
        finally:
            sock.close()

    @staticmethod
    def _read_request(sock: socket.socket) -> Optional[Request]:
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                part = sock.recv(65536)
            except OSError:
                return None
            if not part:
                return None
            data += part
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = (lines[0].split(" ") + ["", ""])[:3]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length") or 0)
        while len(body) < n:
            part = sock.recv(65536)
            if not part:
                break
            body += part
        return Request(method, path, headers, body)

    def _default(self, req: Request) -> Behaviour:
        if req.path == "/api/version":
            return reply_json({"version": "0.12.3"})
        if req.path == "/api/tags":
            return reply_json({"models": [{"name": m, "model": m} for m in self.models]})
        if req.path == "/v1/models":
            return reply_json({"object": "list", "data": [{"id": m, "max_model_len": self.context_length}
                                                          for m in self.models]})
        if req.path == "/api/show":
            return reply_json({"model_info": {"llama.context_length": self.context_length},
                               "capabilities": ["completion"]})
        if req.path == "/api/generate":  # the preload of num_ctx "auto"
            return reply_json({"model": "llama3.2", "response": "", "done": True})
        if req.path == "/api/ps":
            return reply_json({"models": [{"name": m, "model": m, "context_length": self.context_length}
                                          for m in self.models]})
        if req.path in ("/api/chat", "/v1/chat/completions"):
            return good_chat()
        return reply_json({"error": "404 page not found"}, status=404)


# --- behaviours: each returns a function (conn, request) -> None ---------------------------------

def reply_bytes(data: bytes, status: int = 200, content_type: str = "application/json",
                headers: Sequence[Tuple[str, str]] = ()) -> Behaviour:
    def run(conn: Conn, req: Request) -> None:
        conn.head(status, [("Content-Type", content_type), ("Content-Length", str(len(data))),
                           ("Connection", "close"), *headers])
        conn.send(data)
    return run


def reply_json(obj: Any, status: int = 200) -> Behaviour:
    return reply_bytes(json.dumps(obj).encode(), status)


def card_answer(front: str = "What is Rayleigh scattering?",
                back: str = "The scattering of light by particles much smaller than its wavelength.",
                quote: str = "") -> str:
    return json.dumps({"cards": [{"front": front, "back": back, "quote": quote}]})


def ollama_lines(content: str, pieces: int = 4) -> List[bytes]:
    size = max(1, -(-len(content) // pieces))
    lines = [json.dumps({"model": "llama3.2", "message": {"role": "assistant", "content": content[i:i + size]},
                         "done": False}).encode() + b"\n" for i in range(0, len(content), size)]
    lines.append(json.dumps({"model": "llama3.2", "message": {"role": "assistant", "content": ""},
                             "done": True, "done_reason": "stop", "eval_count": 50,
                             "prompt_eval_count": 100}).encode() + b"\n")
    return lines


def openai_lines(content: str, pieces: int = 4) -> List[bytes]:
    size = max(1, -(-len(content) // pieces))
    lines = [b"data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": content[i:i + size]},
                                                  "finish_reason": None}]}).encode() + b"\n\n"
             for i in range(0, len(content), size)]
    lines.append(b"data: " + json.dumps({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                                         "usage": {"prompt_tokens": 100, "completion_tokens": 50}}).encode()
                 + b"\n\n")
    lines.append(b"data: [DONE]\n\n")
    return lines


def good_chat(content: Optional[str] = None) -> Behaviour:
    """A well-formed streamed answer (either protocol, by path)."""
    def run(conn: Conn, req: Request) -> None:
        text = content if content is not None else card_answer()
        lines = openai_lines(text) if req.path.startswith("/v1") else ollama_lines(text)
        conn.head(200, [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")])
        for line in lines:
            conn.chunk(line)
        conn.end_chunks()
    return run


def stream_forever(line: bytes, interval: float = 0.0, chunked: bool = True) -> Behaviour:
    """Headers, then ``line`` again and again until the client leaves."""
    def run(conn: Conn, req: Request) -> None:
        headers = [("Content-Type", "application/x-ndjson")]
        headers.append(("Transfer-Encoding", "chunked") if chunked else ("Connection", "close"))
        conn.head(200, headers)
        block = line * max(1, 16384 // max(1, len(line))) if not interval else line
        while True:
            conn.chunk(block) if chunked else conn.send(block)
            if interval:
                conn.wait(interval)
    return run


def drip(data: bytes = b" ", every: float = 1.0, before: Sequence[bytes] = ()) -> Behaviour:
    """Headers, the lines ``before``, then one byte of ``data`` (cycled) every ``every`` seconds."""
    def run(conn: Conn, req: Request) -> None:
        conn.head(200, [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")])
        for line in before:
            conn.chunk(line)
        i = 0
        while True:
            conn.chunk(data[i % len(data):i % len(data) + 1])
            i += 1
            conn.wait(every)
    return run


def drip_headers(every: float = 1.0) -> Behaviour:
    """The status line, then one byte of a header every ``every`` seconds, never ending them."""
    def run(conn: Conn, req: Request) -> None:
        conn.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        while True:
            conn.send(b"a")
            conn.wait(every)
    return run


def hang(after_headers: bool = False) -> Behaviour:
    """Say nothing (or only the headers) and keep the connection open until the client leaves."""
    def run(conn: Conn, req: Request) -> None:
        if after_headers:
            conn.head(200, [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")])
        conn.wait_for_close()
    return run


def redirect(location: str, status: int = 307) -> Behaviour:
    def run(conn: Conn, req: Request) -> None:
        conn.head(status, [("Location", location), ("Content-Length", "0"), ("Connection", "close")],
                  reason="Redirect")
    return run


def gzip_bomb(megabytes: int = 64, streamed: bool = True, unit: bytes = b" ",
              encoding: str = "gzip") -> Behaviour:
    """A small compressed body that inflates to ``megabytes`` MB of ``unit`` (sent as one body,
    or as a chunked stream)."""
    data = _bomb(megabytes, unit, encoding)

    def run(conn: Conn, req: Request) -> None:
        if streamed:
            conn.head(200, [("Content-Type", "application/x-ndjson"), ("Content-Encoding", encoding),
                            ("Transfer-Encoding", "chunked")])
            for i in range(0, len(data), 8192):
                conn.chunk(data[i:i + 8192])
            conn.end_chunks()
        else:
            conn.head(200, [("Content-Type", "application/json"), ("Content-Encoding", encoding),
                            ("Content-Length", str(len(data))), ("Connection", "close")])
            conn.send(data)
    return run


_BOMBS: Dict[Tuple[int, bytes, str], bytes] = {}


def _bomb(megabytes: int, unit: bytes, encoding: str) -> bytes:
    key = (megabytes, unit, encoding)
    if key not in _BOMBS:
        block = unit * (1024 * 1024 // len(unit))
        c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        out = [c.compress(block) for _ in range(megabytes)]
        out.append(c.flush())
        _BOMBS[key] = b"".join(out)
    return _BOMBS[key]


def giant_line(megabytes: int = 64) -> Behaviour:
    """Headers, then one line of ``megabytes`` MB with no newline (and no end)."""
    def run(conn: Conn, req: Request) -> None:
        conn.head(200, [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")])
        conn.chunk(b'{"message": {"content": "')
        block = b"x" * 65536
        for _ in range(megabytes * 16):
            conn.chunk(block)
        conn.wait_for_close()
    return run


def cut_after_headers(chunked: bool = True, length: int = 1000) -> Behaviour:
    """Headers announcing a body, a little of it, then the connection is closed."""
    def run(conn: Conn, req: Request) -> None:
        headers = [("Content-Type", "application/x-ndjson")]
        headers.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(length)))
        conn.head(200, headers)
        first = ollama_lines(card_answer())[0]
        conn.chunk(first) if chunked else conn.send(first)
    return run


def bad_chunks(kind: str = "size") -> Behaviour:
    """A chunked body with broken framing: a chunk size that is not hex ("size"), a chunk-size
    line with no end ("long"), or a chunk shorter than announced followed by the close ("short")."""
    def run(conn: Conn, req: Request) -> None:
        conn.head(200, [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")])
        conn.chunk(ollama_lines(card_answer())[0])
        if kind == "size":
            conn.send(b"zz\r\nhello\r\n")
        elif kind == "long":
            conn.send(b"1" * 200000)
        else:
            conn.send(b"ffff\r\n{\"message\"")
    return run


def nested(depth: int = 100000, streamed: bool = True) -> Behaviour:
    """JSON nested ``depth`` deep (as one line of a stream, or as a whole reply)."""
    data = b'{"a":' * depth + b"1" + b"}" * depth
    if not streamed:
        return reply_bytes(data)

    def run(conn: Conn, req: Request) -> None:
        conn.head(200, [("Content-Type", "application/x-ndjson"), ("Transfer-Encoding", "chunked")])
        conn.chunk(data + b"\n")
        conn.end_chunks()
    return run


def status_body(status: int, body: bytes, content_type: str = "text/plain") -> Behaviour:
    return reply_bytes(body, status=status, content_type=content_type)


def by_body(choices: Dict[str, Behaviour], default: Optional[Behaviour] = None) -> Behaviour:
    """The behaviour whose key occurs in the request's body (e.g. a marker in one chunk's text)."""
    def run(conn: Conn, req: Request) -> None:
        text = req.text()
        for key, behaviour in choices.items():
            if key in text:
                return behaviour(conn, req)
        return (default or good_chat())(conn, req)
    return run


def gzip_json(obj: Any) -> Behaviour:
    """A correct JSON reply, gzip-compressed (what a proxy may do)."""
    data = gzip.compress(json.dumps(obj).encode())
    return reply_bytes(data, headers=[("Content-Encoding", "gzip")])
