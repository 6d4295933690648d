"""The code keeps one way through it: no import cycles, imports at the top of modules, no
silent fallbacks around the project's own modules (issue 15). Read from the source with
``ast``, independently of how the app happens to be imported."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "registry"
# Where importing inside a function is the point: the app factory registers every domain.
FACTORY = {"registry/__init__.py"}
MAX_FUNCTION_LEVEL_IMPORTS = 10


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).as_posix()
        out[rel] = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    return out


def _module_name(rel: str) -> str:
    name = rel.removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def _project_imports(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == "registry" or node.module.startswith("registry."):
            # "from registry.x import y" may name a module y as well as a name in x
            return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("registry")]
    return []


def _function_level_imports() -> list[str]:
    found = []
    for rel, tree in _modules().items():
        if rel in FACTORY or rel.endswith("/cli.py"):
            continue
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if _project_imports(node):
                    found.append(f"{rel}:{node.lineno}")
    return sorted(set(found))


def test_few_function_level_project_imports():
    found = _function_level_imports()
    assert len(found) <= MAX_FUNCTION_LEVEL_IMPORTS, "\n".join(found)


def test_no_import_cycles_between_modules():
    modules = _modules()
    names = {_module_name(rel) for rel in modules}
    graph: dict[str, set[str]] = {}
    for rel, tree in modules.items():
        edges = set()
        for node in tree.body:  # module level only: what runs when the module is imported
            for target in _project_imports(node):
                if target in names:
                    edges.add(target)
        graph[_module_name(rel)] = edges - {_module_name(rel)}
    # Tarjan's strongly connected components: a component of more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    # A package's __init__ importing its own submodules is how packages work, not a cycle.
    real = [c for c in cycles if not all(m.startswith(min(c, key=len)) for m in c)]
    assert real == []


def test_no_silent_fallbacks_around_project_modules():
    """No ``try: import registry...`` with ``except ImportError`` and no ``hasattr`` probes of
    project modules: renaming a function must fail loudly, not switch a feature off."""
    offenders = []
    for rel, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Try):
                guarded = any(_project_imports(n) for stmt in node.body for n in ast.walk(stmt))
                catches = any(
                    isinstance(h.type, ast.Name) and h.type.id in ("ImportError",
                                                                    "ModuleNotFoundError")
                    for h in node.handlers)
                if guarded and catches:
                    offenders.append(f"{rel}:{node.lineno}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("hasattr", "getattr") and node.args
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id in ("history", "services", "connect", "manage",
                                            "moderation")):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []


def test_templates_do_not_probe_for_endpoints():
    templates = Path(__file__).resolve().parent.parent / "templates"
    probing = [p.name for p in templates.rglob("*.html") if "has_endpoint" in p.read_text()]
    assert probing == []
