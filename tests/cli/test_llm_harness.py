"""`make test-llm`'s own machinery, without building anything: how the llama-cpp-python wheel is
built (portable flags, a cache key that changes with them), and what a run says when the shared
model server crashes (tests/llm/conftest.py), with a stand-in server that dies like the real one
did on a CPU with AMX: SIGSEGV on the first chat request."""
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import llm_server

ROOT = Path(__file__).resolve().parents[2]

XEON_AMX = ("fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 bmi1 bmi2 fma f16c avx512f avx512dq "
            "avx512cd avx512bw avx512vl avx512_vnni avx512_bf16 avx_vnni amx_bf16 amx_tile amx_int8")
EPYC_AVX2 = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2 bmi1 bmi2 fma f16c sha_ni"
OLD_X86 = "fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt"


def flags_of(args: str) -> dict:
    out = {}
    for a in args.split():
        name, _, value = a[2:].partition("=")
        out[name] = value
    return out


@pytest.mark.parametrize("cpu", [XEON_AMX, EPYC_AVX2, ""])
def test_x86_build_is_portable_and_never_uses_avx512_or_amx(cpu):
    f = flags_of(llm_server.cmake_args("x86_64", cpu))
    assert f["GGML_NATIVE"] == "OFF"
    for name in ("AVX", "AVX2", "FMA", "F16C"):
        assert f[f"GGML_{name}"] == "ON", name
    off = [n for n in f if n.startswith(("GGML_AVX512", "GGML_AMX", "GGML_AVX_VNNI"))]
    assert len(off) == 8 and all(f[n] == "OFF" for n in off)


def test_the_flags_are_the_same_on_every_avx2_cpu_so_the_cache_is_shared():
    xeon, epyc = llm_server.cmake_args("x86_64", XEON_AMX), llm_server.cmake_args("x86_64", EPYC_AVX2)
    assert xeon == epyc
    assert llm_server.wheel_key("x86_64", xeon) == llm_server.wheel_key("x86_64", epyc)


def test_a_cpu_without_avx2_gets_a_build_it_can_run_under_another_key():
    old = flags_of(llm_server.cmake_args("x86_64", OLD_X86))
    assert old["GGML_SSE42"] == "ON"
    assert all(v == "OFF" for n, v in old.items() if n.startswith(("GGML_AVX", "GGML_FMA",
                                                                   "GGML_F16C", "GGML_AMX")))
    assert (llm_server.wheel_key("x86_64", llm_server.cmake_args("x86_64", OLD_X86))
            != llm_server.wheel_key("x86_64", llm_server.cmake_args("x86_64", EPYC_AVX2)))


def test_arm64_takes_the_compilers_default_architecture():
    args = llm_server.cmake_args("aarch64", "fp asimd aes pmull sha1 sha2 crc32 atomics sve")
    f = flags_of(args)
    assert f["GGML_NATIVE"] == "OFF"
    assert not [n for n in f if n.startswith(("GGML_AVX", "GGML_AMX", "GGML_FMA"))]
    assert "march" not in args and "mcpu" not in args


def test_the_key_changes_with_the_flags_so_a_native_wheel_is_never_reused():
    portable = llm_server.cmake_args("x86_64", EPYC_AVX2)
    native = portable.replace("-DGGML_NATIVE=OFF", "-DGGML_NATIVE=ON")
    assert llm_server.wheel_key("x86_64", portable) != llm_server.wheel_key("x86_64", native)
    assert llm_server.wheel_key("x86_64", portable) != llm_server.wheel_key("aarch64", portable)


@pytest.mark.parametrize("code, said", [(-11, "signal 11 (SIGSEGV)"), (-9, "signal 9 (SIGKILL)"),
                                        (3, "exited with code 3"), (None, "still running")])
def test_how_a_server_ended_is_said_in_words(code, said):
    assert said in llm_server.describe_exit(code)


# A stand-in for `python -m llama_cpp.server`: lists the model, and crashes with SIGSEGV on the
# first chat request (or at once with --crash-at-start), as the AMX build did.
FAKE_SERVER = textwrap.dedent('''\
    import http.server, json, os, resource, signal, sys
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    args = sys.argv
    port = int(args[args.index("--port") + 1])
    alias = args[args.index("--model_alias") + 1]
    print("system_info: AVX512 = 1 | AMX_INT8 = 1 |", flush=True)
    if os.environ.get("FAKE_CRASH_AT_START"):
        print("load_tensors: AMX model buffer size = 50.00 MiB", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            body = json.dumps({"data": [{"id": alias}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            print("ggml_backend_amx_mul_mat: the tile path dies here", flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)

    http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
''')


def run_llm_tests(tmp_path, *, crash_at_start=False, target="tests/llm/test_server_smoke.py"):
    script = tmp_path / "fake_llama_server.py"
    script.write_text(FAKE_SERVER)
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {script} \"$@\"\n")
    python.chmod(0o755)
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    env = dict(os.environ, OLLAMA_FLASHCARDS_LLM="1", OLLAMA_FLASHCARDS_LLM_PYTHON=str(python),
               OLLAMA_FLASHCARDS_LLM_MODEL=str(model))
    env.pop("FAKE_CRASH_AT_START", None)
    if crash_at_start:
        env["FAKE_CRASH_AT_START"] = "1"
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "-p", "no:randomly", target],
                       cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=120)
    return p, p.stdout + p.stderr, time.monotonic() - t0


@pytest.mark.timeout(150)
def test_a_server_that_crashes_mid_run_is_one_failure_that_says_so_and_stops_the_run(tmp_path):
    p, out, took = run_llm_tests(tmp_path)
    assert p.returncode == 1, out
    # The first test only lists the models and passes; the second asks for a chat and kills it.
    assert re.search(r"^1 failed, 1 passed in [0-9.]+s$", out, re.M), out
    assert "the shared llama server was killed by signal 11 (SIGSEGV)" in out, out
    assert "ggml_backend_amx_mul_mat: the tile path dies here" in out, out
    assert "the tests after this one were not run" in out
    assert out.count("FAILED ") == 1, out
    assert "Interrupted" in out and "SIGSEGV" in out.split("Interrupted", 1)[1], out
    assert took < 60


@pytest.mark.timeout(150)
def test_a_server_that_crashes_while_starting_stops_the_run_at_once(tmp_path):
    p, out, _ = run_llm_tests(tmp_path, crash_at_start=True)
    assert p.returncode == 1, out
    assert "the llama server was killed by signal 11 (SIGSEGV) while starting" in out, out
    assert "AMX model buffer size" in out, out
    assert out.count("SIGSEGV) while starting") == 1, out
    assert "passed" not in out and "failed" not in out and "error" not in out.lower(), out
