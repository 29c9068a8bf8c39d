"""Build ``ollama_flashcards.ankiaddon``: the add-on's own files plus its pure-Python libraries.

    python tools/package.py [--out ollama_flashcards.ankiaddon] [--no-vendor] [--list]

The zip holds the add-on folder's contents with no top folder (what Anki's add-on manager
expects): ``__init__.py``, ``manifest.json``, ``config.json``, ``config.md``, ``generator/``,
``ui/``, ``user_files/README.txt`` if present, and ``vendor/`` with the libraries pinned in
``requirements-bundle.txt``. Those are installed with pip as pure-Python wheels for Python 3.9
(``--platform any --implementation py --abi none``), so one package runs on every Anki from
23.10 (Python 3.9) to the newest (3.13); ``generator/libs.py`` finds them in ``vendor/``.

Nothing else goes in: no tests, seeds, docs, tools, caches, ``__pycache__``, venvs or ``meta.json``.
The build is reproducible (sorted entries, fixed timestamps) and checks what it packs:

- every vendored file is pure Python (no compiled extension) and every wheel is ``py3-none-any``
  or ``py2.py3-none-any``;
- the add-on's own code parses as Python 3.9 and uses only relative imports of its own packages;
  ``generator/`` never imports aqt or Qt.
"""
import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "ollama_flashcards.ankiaddon"
BUNDLE_REQUIREMENTS = ROOT / "requirements-bundle.txt"

# What the add-on is: the one list that `make package` packs and the tests install
# (tests/anki_app.py links these into a test profile), so the two cannot drift.
TOP_FILES = ("__init__.py", "manifest.json", "config.json", "config.md", "flashcards.py")
REQUIRED = ("__init__.py", "manifest.json", "config.json")
PACKAGE_DIRS = ("generator", "ui")
EXTRA_FILES = ("user_files/README.txt", "LICENSE", "LICENSE.txt")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".hypothesis", ".git"}
SKIP_SUFFIXES = (".pyc", ".pyo", ".orig", ".rej", ".swp", ".tmp", "~", ".so", ".pyd", ".dylib", ".dll")
MIN_PYTHON = (3, 9)
# Our own top-level packages: inside the add-on they must be imported relatively, because
# AnkiWeb installs the add-on under a numeric folder name.
OWN_PACKAGES = {"generator", "ui"}
# Scripts run from the add-on's folder (``python flashcards.py``), never imported by Anki: there
# the folder is on sys.path and the engine is the top-level package ``generator``.
SCRIPTS = {"flashcards.py"}
QT_MODULES = {"aqt", "PyQt6", "PyQt5", "PySide6", "sip"}
FIXED_DATE = (2024, 1, 1, 0, 0, 0)
COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll", ".exe", ".a", ".lib")


class PackageError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[package] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the add-on's own files


def _skipped(rel: Path) -> bool:
    if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts):
        return True
    return rel.name.endswith(SKIP_SUFFIXES) or rel.name == "meta.json"


def own_files(root: Path = ROOT) -> List[Tuple[Path, str]]:
    """(source path, name in the zip) of the add-on's own files, sorted."""
    files: List[Tuple[Path, str]] = []
    for name in TOP_FILES + EXTRA_FILES:
        if (root / name).is_file():
            files.append((root / name, name))
    for missing in [n for n in REQUIRED if not (root / n).is_file()]:
        raise PackageError(f"{missing} is missing from {root}")
    for top in PACKAGE_DIRS:
        base = root / top
        if not base.is_dir():
            raise PackageError(f"{top}/ is missing from {root}")
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for fn in sorted(filenames):
                path = Path(dirpath) / fn
                rel = path.relative_to(root)
                if not _skipped(rel):
                    files.append((path, rel.as_posix()))
    return sorted(files, key=lambda f: f[1])


def addon_top_level(root: Path = ROOT) -> List[str]:
    """The top-level entries of the add-on folder that the package holds (``user_files/`` is
    the add-on's own data folder: an install makes its own)."""
    names = {rel.split("/")[0] for _path, rel in own_files(root)}
    return sorted(n for n in names if n != "user_files")


def check_manifest(path: Path) -> Dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise PackageError(f"manifest.json is not valid JSON: {e}") from None
    for key, kind in (("package", str), ("name", str), ("min_point_version", int),
                      ("human_version", str)):
        if not isinstance(data.get(key), kind):
            raise PackageError(f"manifest.json needs '{key}' ({kind.__name__})")
    return data


def check_json(path: Path) -> None:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise PackageError(f"{path.name} is not valid JSON: {e}") from None


def _module_problems(tree: ast.AST, rel: str) -> Iterable[str]:
    in_generator = rel.startswith("generator/")
    for node in ast.walk(tree):
        names: List[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in OWN_PACKAGES and rel not in SCRIPTS:
                yield f"{rel}:{node.lineno}: absolute import of '{name}' (use a relative import)"
            if in_generator and top in QT_MODULES:
                yield f"{rel}:{node.lineno}: generator/ must not import '{name}'"


def check_sources(files: List[Tuple[Path, str]]) -> None:
    """Our own code parses as Python 3.9 and imports itself relatively."""
    problems: List[str] = []
    for path, rel in files:
        if not rel.endswith(".py"):
            continue
        source = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(source, filename=rel, feature_version=MIN_PYTHON)
        except SyntaxError as e:
            problems.append(f"{rel}:{e.lineno}: not valid Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]}: {e.msg}")
            continue
        problems.extend(_module_problems(tree, rel))
    if problems:
        raise PackageError("the add-on's code would break inside Anki:\n  " + "\n  ".join(problems))


# ------------------------------------------------------------------ vendored libraries


def requirement_lines(path: Path = BUNDLE_REQUIREMENTS) -> List[str]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            if "==" not in line:
                raise PackageError(f"{path.name}: '{line}' is not pinned with ==")
            lines.append(line)
    return lines


def install_vendor(target: Path, python: str = sys.executable) -> None:
    """pip-install the bundle's pinned libraries as pure-Python wheels into ``target``."""
    reqs = requirement_lines()
    if not reqs:
        return
    cmd = [
        python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--no-deps", "--target", str(target),
        "--only-binary=:all:", "--python-version", "%d.%d" % MIN_PYTHON,
        "--implementation", "py", "--abi", "none", "--platform", "any",
        "-r", str(BUNDLE_REQUIREMENTS),
    ]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        out = "\n".join(l for l in proc.stdout.splitlines() if "is ignored: it is neither" not in l)
        raise PackageError(f"pip could not install the bundled libraries:\n{out[-3000:]}")
    # Console scripts are of no use inside Anki, and their shebangs name this machine's Python.
    shutil.rmtree(target / "bin", ignore_errors=True)
    for cache in list(target.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    check_vendor(target, reqs)


def check_vendor(target: Path, reqs: List[str]) -> None:
    compiled = [p for p in target.rglob("*") if p.is_file() and p.name.endswith(COMPILED_SUFFIXES)]
    if compiled:
        raise PackageError("compiled files in vendor/: " + ", ".join(str(p.relative_to(target)) for p in compiled))
    found = {}
    for wheel_file in target.glob("*.dist-info/WHEEL"):
        text = wheel_file.read_text(encoding="utf-8")
        tags = [l.split(":", 1)[1].strip() for l in text.splitlines() if l.startswith("Tag:")]
        if "Root-Is-Purelib: true" not in text or not all(t.endswith("-none-any") for t in tags):
            raise PackageError(f"{wheel_file.parent.name} is not a pure-Python wheel: {tags}")
        meta = (wheel_file.parent / "METADATA").read_text(encoding="utf-8")
        fields = dict(l.split(": ", 1) for l in meta.splitlines() if ": " in l and not l.startswith(" "))
        found[_norm(fields.get("Name", ""))] = fields.get("Version", "")
    for req in reqs:
        name, _, version = req.partition("==")
        name = _norm(name.split("[")[0])
        if found.get(name) != version.strip():
            raise PackageError(f"vendor/ has {name} {found.get(name)!r}, expected {version}")


def _norm(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


# ------------------------------------------------------------------ the zip


def _date() -> Tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        t = time.gmtime(max(int(epoch), 315532800))  # zip dates start in 1980
        return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)
    return FIXED_DATE


def write_zip(out: Path, entries: List[Tuple[Path, str]]) -> None:
    tmp = out.with_name(out.name + ".part")
    date = _date()
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path, name in sorted(entries, key=lambda e: e[1]):
            info = zipfile.ZipInfo(name, date_time=date)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # unix, so the mode above is honoured
            zf.writestr(info, path.read_bytes())
    os.replace(tmp, out)


def build(out: Path = DEFAULT_OUT, vendor: bool = True, python: str = sys.executable,
          root: Path = ROOT) -> Dict:
    t0 = time.monotonic()
    files = own_files(root)
    manifest = check_manifest(root / "manifest.json")
    check_json(root / "config.json")
    check_sources(files)
    entries = list(files)
    with tempfile.TemporaryDirectory(prefix="ankiaddon-") as tmp:
        vendor_dir = Path(tmp) / "vendor"
        if vendor:
            vendor_dir.mkdir()
            install_vendor(vendor_dir, python)
            for path in sorted(vendor_dir.rglob("*")):
                if path.is_file():
                    entries.append((path, "vendor/" + path.relative_to(vendor_dir).as_posix()))
        out.parent.mkdir(parents=True, exist_ok=True)
        write_zip(out, entries)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    info = {
        "path": str(out), "package": manifest["package"], "version": manifest["human_version"],
        "files": len(entries), "own_files": len(files), "vendored": vendor,
        "bytes": out.stat().st_size, "sha256": digest, "seconds": round(time.monotonic() - t0, 2),
    }
    log(f"{out.name}: {info['files']} files ({info['own_files']} own), {info['bytes'] // 1024} KiB, "
        f"sha256 {digest[:16]}…, {info['seconds']} s")
    return info


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--no-vendor", action="store_true", help="leave out vendor/ (quick checks only)")
    p.add_argument("--list", action="store_true", help="print the zip's entries after building")
    a = p.parse_args(argv)
    try:
        info = build(Path(a.out), vendor=not a.no_vendor)
    except PackageError as e:
        print(f"package: {e}", file=sys.stderr)
        return 1
    if a.list:
        with zipfile.ZipFile(info["path"]) as zf:
            for name in zf.namelist():
                print(name)
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
