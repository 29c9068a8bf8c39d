"""Type-check the add-on with mypy: ``python tools/typecheck.py`` (``make typecheck``).

The add-on's code imports itself relatively (``from ..generator import ...`` in ui/), so mypy
must see the repository as one package. This links the repository as
``.cache/typecheck/ollama_flashcards`` and checks ``ollama_flashcards`` (the hooks in
``__init__.py``), ``ollama_flashcards.generator`` and ``ollama_flashcards.ui`` against Anki's
own type information (``anki`` and ``aqt`` ship ``py.typed``). Options are in ``mypy.ini``.
Exit status: mypy's (0 = no errors)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "ollama_flashcards"
WORK = ROOT / ".cache" / "typecheck"


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    link = WORK / PACKAGE
    if not (link.is_symlink() and os.readlink(link) == str(ROOT)):
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(ROOT, target_is_directory=True)
    env = dict(os.environ, MYPYPATH=str(WORK))
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "mypy.ini"),
           "--cache-dir", str(WORK / "mypy_cache"),
           "-m", PACKAGE, "-p", PACKAGE + ".generator", "-p", PACKAGE + ".ui"]
    return subprocess.call(cmd, cwd=str(WORK), env=env)


if __name__ == "__main__":
    sys.exit(main())
