"""The shape of ui/ (no Qt needed): no import circles, no class with more than three bases, no
instance state created outside ``__init__``, and the Generate dialog's modules import no heavy
engine module at their top (the engine is imported on a worker when the model list loads)."""
import ast
from pathlib import Path
from typing import Dict, Set

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("generator", "ui")
# "notes.add" is the old generator/notes.py (writing notes, moved there by the regroup into
# subpackages); notes.accounting beside it is plain data that light modules (job.reports,
# bulk.status) import.
HEAVY = ("job.run", "notes.add", "sources.read", "job.chunking", "job.answers", "bulk.job", "backends")
GENERATE_PARTS = ("generate", "generate_runner", "card_options", "model_picker", "source_panel",
                  "review", "message_bar", "progress_row", "job_dialog", "common", "field_mapping")


def modules() -> Dict[str, ast.Module]:
    out = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _import_time(body):
    """The statements run when the module is imported: its top level, and the bodies of its
    top-level ``try`` and ``if`` blocks (but not ``if TYPE_CHECKING``)."""
    for node in body:
        if isinstance(node, ast.Try):
            yield from _import_time(node.body + node.orelse + node.finalbody
                                    + [s for h in node.handlers for s in h.body])
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.dump(node.test):
                yield from _import_time(node.body + node.orelse)
        else:
            yield node


def top_level_imports(name: str, tree: ast.Module) -> Set[str]:
    """Modules imported at import time (not inside functions or ``if TYPE_CHECKING``)."""
    package = name if (ROOT / name.replace(".", "/") / "__init__.py").exists() else name.rsplit(".", 1)[0]
    found = set()
    for node in _import_time(tree.body):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            mod = ".".join(base + ([node.module] if node.module else []))
            if node.module:
                found.add(mod)
            for alias in node.names:
                found.add(mod + "." + alias.name)
    return found


def loaded_at_import(start: str, trees: Dict[str, ast.Module]) -> Dict[str, str]:
    """Every module of the add-on that importing ``start`` loads (its top-level imports, theirs,
    and the packages above each), with the module that first pulled it in."""
    def packages(module):
        parts = module.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts)) if ".".join(parts[:i]) in trees]

    seen = {start: ""}
    todo = [start]
    while todo:
        name = todo.pop()
        for module in sorted({m for m in top_level_imports(name, trees[name]) if m in trees} | set(packages(name))):
            if module not in seen:
                seen[module] = name
                todo.append(module)
    return seen


def test_no_import_circles():
    trees = modules()
    graph = {name: {m for m in top_level_imports(name, tree) if m in trees and m != name}
             for name, tree in trees.items()}
    # also the imports inside functions: a circle through a late import is a circle too
    for name, tree in trees.items():
        package = name if (ROOT / name.replace(".", "/")).is_dir() else name.rsplit(".", 1)[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(base + [node.module])
                for target in [mod] + [mod + "." + a.name for a in node.names]:
                    if target in trees and target != name:
                        graph[name].add(target)
            elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
                for a in node.names:
                    target = package + "." + a.name
                    if target in trees and target != name:
                        graph[name].add(target)
    seen: Dict[str, int] = {}
    stack = []

    def visit(n):
        seen[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if seen.get(m) == 1:
                raise AssertionError("import circle: " + " -> ".join(stack[stack.index(m):] + [m]))
            if m not in seen:
                visit(m)
        stack.pop()
        seen[n] = 2

    for n in sorted(graph):
        if n not in seen:
            visit(n)


def _self_attributes(fn):
    """The attributes of ``self`` a function assigns (``self.x = ``, ``self.x += ``, tuples)."""
    out = set()
    for node in ast.walk(fn):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for t in targets:
            for el in (t.elts if isinstance(t, ast.Tuple) else [t]):
                if isinstance(el, ast.Attribute) and isinstance(el.value, ast.Name) and el.value.id == "self":
                    out.add(el.attr)
    return out


def test_classes_have_at_most_three_bases_and_state_only_from_init():
    """State is made in ``__init__`` (the class's own, or a base's in ui/ that it builds on)."""
    classes = [(name, cls) for name, tree in modules().items()
               for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)]
    made = {}  # class name -> attributes its __init__ (or its class body) makes, in ui/
    for name, cls in classes:
        if name.startswith("ui."):
            init = [f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"]
            made[cls.name] = (set().union(*map(_self_attributes, init))
                              | {t.id for n in cls.body if isinstance(n, ast.Assign) for t in n.targets
                                 if isinstance(t, ast.Name)})
    for name, cls in classes:
        assert len(cls.bases) <= 3, "%s.%s" % (name, cls.name)
        if not name.startswith("ui."):
            continue
        known = set(made[cls.name])
        bases = [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in cls.bases]
        while bases:
            base = bases.pop()
            known |= made.get(base, set())
            parent = next((c for n, c in classes if c.name == base and n.startswith("ui.")), None)
            if parent is not None:
                bases += [b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in parent.bases]
        stray = {a: f.name for f in cls.body if isinstance(f, ast.FunctionDef) and f.name != "__init__"
                 for a in _self_attributes(f) if a not in known}
        assert not stray, "%s.%s sets state outside __init__: %s" % (name, cls.name, stray)


def test_the_generate_dialog_imports_no_heavy_engine_module_at_import_time():
    trees = modules()
    for part in GENERATE_PARTS:
        imports = top_level_imports("ui." + part, trees["ui." + part])
        heavy = {m for m in imports if m.startswith("generator.")
                 and any((m + ".").startswith("generator." + h + ".") for h in HEAVY)}
        assert not heavy, "ui/%s.py imports %s at its top" % (part, sorted(heavy))


def test_the_job_dialogs_load_no_heavy_engine_module_at_import_time_through_any_module():
    """The whole import graph, not only the modules named above: what importing the Generate
    (or the Bulk) dialog's module loads, through every ui/ and generator/ module on the way."""
    trees = modules()
    for start in ("ui.generate", "ui.bulk"):
        loaded = loaded_at_import(start, trees)
        if start == "ui.generate":  # the walk reaches the modules named above
            assert {"ui." + part for part in GENERATE_PARTS} <= set(loaded)
        heavy = {}
        for module in loaded:
            if module.startswith("generator.") and any((module + ".").startswith("generator." + h + ".")
                                                       for h in HEAVY):
                chain = [module]
                while loaded[chain[-1]]:
                    chain.append(loaded[chain[-1]])
                heavy[module] = " <- ".join(chain)
        assert not heavy, "%s loads at import: %s" % (start, "; ".join(sorted(heavy.values())))


PLAIN = ("review_rows",)  # ui/ modules that hold state and rules only: tested without Qt
QT = ("aqt", "anki", "PyQt6", "PyQt5")


def test_the_plain_ui_modules_import_no_qt_and_no_anki():
    trees = modules()
    for part in PLAIN:
        for node in ast.walk(trees["ui." + part]):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = ["." * node.level + (node.module or "")]
            else:
                continue
            for name in names:
                top = name.lstrip(".").split(".")[0]
                if name.startswith(".") and not name.startswith(".."):  # a sibling in ui/
                    assert top in PLAIN, "ui/%s.py imports ui/%s.py" % (part, top)
                else:
                    assert top not in QT, "ui/%s.py imports %s" % (part, name)


MAX_METHODS = 40
MAX_FUNCTION_LINES = 80
MAX_PARAMETERS = 8  # self and cls not counted
DIALOG_INIT_LINES = 40  # a dialog's __init__ makes its parts and calls its named setup steps


def _ui_functions():
    for name, tree in modules().items():
        if name.startswith("ui."):
            for fn in ast.walk(tree):
                if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield name, fn


def _parameters(fn):
    a = fn.args
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return [n for n in names if n not in ("self", "cls")]


def test_no_class_in_ui_with_more_than_forty_methods():
    sizes = {"%s.%s" % (name, cls.name): sum(isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef))
                                             for x in cls.body)
             for name, tree in modules().items() if name.startswith("ui.")
             for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef)}
    assert sizes["ui.generate.GenerateDialog"] and sizes["ui.bulk.BulkDialog"]  # measured
    assert {c: n for c, n in sizes.items() if n > MAX_METHODS} == {}


def test_no_function_in_ui_over_eighty_lines_or_with_more_than_eight_parameters():
    long = {"%s.%s" % (name, fn.name): fn.end_lineno - fn.lineno + 1 for name, fn in _ui_functions()
            if fn.end_lineno - fn.lineno + 1 > MAX_FUNCTION_LINES}
    crowded = {"%s.%s" % (name, fn.name): len(_parameters(fn)) for name, fn in _ui_functions()
               if len(_parameters(fn)) > MAX_PARAMETERS}
    assert long == {} and crowded == {}


def test_the_dialogs_init_is_a_few_setup_steps():
    inits = {name: fn.end_lineno - fn.lineno + 1 for name, fn in _ui_functions()
             if fn.name == "__init__" and name in ("ui.generate", "ui.bulk", "ui.settings")}
    assert set(inits) == {"ui.generate", "ui.bulk", "ui.settings"}
    assert {n: lines for n, lines in inits.items() if lines > DIALOG_INIT_LINES} == {}
