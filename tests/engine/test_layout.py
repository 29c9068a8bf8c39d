"""The shape of generator/, measured from its source (no import of it): few modules at the top,
packages that import only downward, no function too long or with too many parameters to read,
no class with too many methods, and an engine that never names the add-on's ui/ nor imports Qt
(its callers hand it what it needs: the dialogs, and for the command line ``flashcards.py``
beside generator/)."""
import ast
import io
import re
import tokenize
from pathlib import Path
from typing import Dict, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "generator"
COMPOSITION_ROOT = ROOT / "flashcards.py"  # the command line's, outside the engine

MAX_TOP_MODULES = 12
MAX_FUNCTION_LINES = 80  # more only with a docstring that says why ("Long on purpose: ...")
MAX_PARAMETERS = 8  # self and cls not counted
MAX_METHODS = 40
LONG_REASON = re.compile(r"long on purpose", re.I)


def engine_files() -> List[Path]:
    return sorted(p for p in ENGINE.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def trees() -> Dict[str, Tuple[Path, ast.Module]]:
    return {module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"))) for p in engine_files()}


def functions(tree: ast.Module) -> List[ast.AST]:
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def parameters(fn: ast.AST) -> List[str]:
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return [n for n in names if n not in ("self", "cls")]


def long_functions() -> List[str]:
    """Functions over the line limit whose docstring does not say why."""
    found = []
    for name, (_path, tree) in trees().items():
        for fn in functions(tree):
            lines = fn.end_lineno - fn.lineno + 1
            doc = ast.get_docstring(fn) or ""
            if lines > MAX_FUNCTION_LINES and not LONG_REASON.search(doc):
                found.append(f"{name}.{fn.name} ({lines} lines)")
    return found


def package_of(module: str) -> str:
    """The unit of layering: the subpackage (``generator.job.run`` -> ``job``), or the module
    for those at the top (``generator.config`` -> ``config``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def package_imports() -> Dict[str, Dict[str, Set[str]]]:
    """package -> the packages it imports -> the modules that do (every relative import,
    also those inside functions: a circle through a late import is a circle too)."""
    mods = trees()
    graph: Dict[str, Dict[str, Set[str]]] = {}
    for name, (path, tree) in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            mod = ".".join(base + ([node.module] if node.module else []))
            for target in [mod] + [mod + "." + a.name for a in node.names]:
                src, dst = package_of(name), package_of(target)
                if target in mods and src and dst and src != dst:
                    graph.setdefault(src, {}).setdefault(dst, set()).add(name)
    return graph


def circles(graph: Dict[str, Dict[str, Set[str]]]) -> List[List[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    found: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def names_ui(source: str) -> List[str]:
    """Where a module's code, strings or comments name ``ui`` (an import, a path, a module
    name): each token is looked at, so ``build``, ``guide`` or ``fluid`` do not count."""
    word = re.compile(r"(?<![A-Za-z0-9_-])ui(?![A-Za-z0-9_-])")
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.NAME, tokenize.STRING, tokenize.COMMENT) and word.search(tok.string):
            found.append(f"line {tok.start[0]}: {tok.string.strip()[:60]}")
    return found


def test_at_most_twelve_modules_directly_in_generator():
    top = [p.name for p in ENGINE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")]
    assert len(top) <= MAX_TOP_MODULES, sorted(top)


def test_packages_import_only_downward():
    graph = package_imports()
    assert graph["cli"], "the import graph is read (the CLI imports the packages below it)"
    assert circles(graph) == [], {
        a: {b: sorted(graph[a][b]) for b in group if b in graph.get(a, {})}
        for group in circles(graph) for a in group}


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b": {"m"}}, "b": {"c": {"m"}}, "c": {"a": {"m"}}, "d": {"a": {"m"}}}) == [
        ["a", "b", "c"]]
    assert circles({"a": {"b": {"m"}}}) == []


def test_no_function_over_eighty_lines_without_a_reason_in_its_docstring():
    assert long_functions() == []


def test_no_function_with_more_than_eight_parameters():
    crowded = [f"{name}.{fn.name} ({len(parameters(fn))})"
               for name, (_p, tree) in trees().items() for fn in functions(tree)
               if len(parameters(fn)) > MAX_PARAMETERS]
    assert crowded == []


def test_no_class_with_more_than_forty_methods():
    big = [f"{name}.{cls.name} ({n})" for name, (_p, tree) in trees().items()
           for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)
           for n in [sum(isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef)) for x in cls.body)]
           if n > MAX_METHODS]
    assert big == []


def test_the_engine_never_names_ui():
    named = {module_name(p): names_ui(p.read_text(encoding="utf-8")) for p in engine_files()}
    assert {m: where for m, where in named.items() if where} == {}
    assert names_ui(COMPOSITION_ROOT.read_text(encoding="utf-8")), "the command line's root names ui/"
    # the check sees each form: an import, a path, a module name in a string, a comment
    for text in ("from ..ui import x\n", "p = os.path.join(d, 'ui', 'f.py')\n",
                 "m = 'addon.ui.pdf_render'\n", "x = 1  # see ui/pdf_render.py\n"):
        assert names_ui(text), text
    assert not names_ui("build = guide = fluid = 'gui'\n")
