"""The built package in fresh Anki processes, for tests/package/: the package tool
(tools/package.py), a small PDF with a text layer, the bundled libraries made importable only from
the installed add-on (as in a stock Anki), Anki started headless in a folder of its own, and the
RESULT line by which such a process hands back what it saw."""
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict

HERE = Path(__file__).resolve().parent  # tests/
ROOT = HERE.parent

ADDON = "ollama_flashcards"
BUNDLED = ("pypdf", "ftfy", "wcwidth")
RESULT = "RESULT:"


def load_tool():
    spec = importlib.util.spec_from_file_location("of_package_tool", str(ROOT / "tools" / "package.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pdf_with_text(lines):
    """A minimal one-page PDF with a real text layer (Helvetica), built by hand."""
    ops = ["BT", "/F1 14 Tf", "72 720 Td", "18 TL"]
    for line in lines:
        ops.append("(%s) Tj T*" % line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)"))
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)

PDF_LINES = [
    "Photosynthesis converts light energy into chemical energy in plants.",
    "It takes place in the chloroplasts, which contain the pigment chlorophyll.",
    "The light reactions split water and release oxygen as a by-product.",
    "The Calvin cycle fixes carbon dioxide into sugars using ATP and NADPH.",
]


def block_outside_copies(base: Path) -> None:
    """Make the bundled libraries importable only from inside ``base`` (the add-on's vendor/),
    as in a stock Anki, even though the test venv has them installed too."""
    import importlib.abc
    import importlib.machinery

    class OnlyFromAddon(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if path is not None or name not in BUNDLED:
                return None
            inside = [p for p in sys.path if p and os.path.abspath(p).startswith(str(base))]
            spec = importlib.machinery.PathFinder.find_spec(name, inside)
            if spec is None:
                raise ModuleNotFoundError("No module named %r (stock Anki does not ship it)" % name,
                                          name=name)
            return spec

    for name in BUNDLED:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, OnlyFromAddon())


def start_anki(base: Path):
    """Anki headless with its base folder ``base``: (the harness module, the app, seconds taken)."""
    sys.path[:0] = [str(HERE), str(ROOT / "tools")]
    import anki_app as harness

    harness.prepare_environment("offscreen")
    t0 = time.monotonic()
    app = harness.start_anki(base)
    return harness, app, time.monotonic() - t0


def serve_step(argv, steps: Dict[str, Callable[..., Dict[str, Any]]]) -> None:
    """The child side of a step: ``argv`` is the step's name, the test's folder and the step's
    own arguments; what the step saw is printed on the RESULT line, and the process ends at once
    (Qt/WebEngine teardown at interpreter exit is slow and noisy)."""
    name, base = argv[0], Path(argv[1]).resolve()
    if name not in steps:
        raise SystemExit("unknown step %r" % name)
    out = steps[name](base, *argv[2:])
    print(RESULT + json.dumps(out), flush=True)
    sys.stdout.flush()
    os._exit(0)


def run_step(script: str, *args: Any, timeout: float = 180) -> Dict[str, Any]:
    """The parent side: runs ``script`` (a test module that calls ``serve_step`` when run as a
    program) with the step's arguments, and returns what its RESULT line says."""
    import pytest

    env = dict(os.environ)
    env.pop("PYTEST_CURRENT_TEST", None)
    proc = subprocess.run([sys.executable, str(Path(script).resolve())] + [str(a) for a in args],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                          universal_newlines=True, env=env, cwd=str(ROOT))
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT)]
    if not lines:
        pytest.fail("step %s gave no result (exit %s)\nstdout:\n%s\nstderr:\n%s" % (
            args[0], proc.returncode, proc.stdout[-3000:], proc.stderr[-5000:]))
    return json.loads(lines[-1][len(RESULT):])
