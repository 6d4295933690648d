"""The codes the application can record, read from its source with ``ast`` (not from the
label tables): audit actions, their object types, the keys of their before/after, the reasons
the code writes itself, revision kinds, and mail kinds. A new ``record(...)``, a new
``EntryChange(...)`` kind or a new ``queue_mail(kind=...)`` shows up here by itself, so a
screen test over these codes fails until the new code has words.

A value that cannot be resolved to string constants raises ``Unresolved``: extend the
resolver rather than skip it.
"""
from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "registry"


class Unresolved(AssertionError):
    pass


@dataclass(eq=False)
class Module:
    rel: str
    tree: ast.Module

    @cached_property
    def parents(self) -> dict[ast.AST, ast.AST]:
        return {child: parent for parent in ast.walk(self.tree)
                for child in ast.iter_child_nodes(parent)}

    @cached_property
    def calls(self) -> dict[str, list[ast.Call]]:
        """The calls in this module by the name of the function called."""
        out: dict[str, list[ast.Call]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and (name := _call_name(node)) is not None:
                out.setdefault(name, []).append(node)
        return out

    @cached_property
    def names_used(self) -> set[str]:
        """Names this module imports from anywhere, and attributes it reads."""
        names = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
        return names

    @cached_property
    def imports_from(self) -> set[tuple[str, str]]:
        return {(node.module or "", a.name) for node in ast.walk(self.tree)
                if isinstance(node, ast.ImportFrom) for a in node.names}

    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef):
                return node
        return None

    def functions(self, name: str) -> list[ast.FunctionDef]:
        return [n for n in ast.walk(self.tree) if isinstance(n, ast.FunctionDef)
                and n.name == name]

    def module_assignment(self, name: str) -> ast.expr | None:
        for node in self.tree.body:
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in node.targets):
                return node.value
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                    and node.target.id == name and node.value is not None):
                return node.value
        return None


@cache
def modules() -> tuple[Module, ...]:
    return tuple(Module(path.relative_to(PACKAGE.parent).as_posix(),
                        ast.parse(path.read_text(encoding="utf-8")))
                 for path in sorted(PACKAGE.rglob("*.py")))


def _call_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def calls(name: str, *, imported_from: str | None = None) -> Iterator[tuple[Module, ast.Call]]:
    """Every call of a function called ``name`` (as ``name(...)`` or ``x.name(...)``); with
    ``imported_from``, only plain calls in modules that import ``name`` from that module."""
    for module in modules():
        if imported_from is not None and (imported_from, name) not in module.imports_from:
            continue
        for node in module.calls.get(name, ()):
            if imported_from is not None and not isinstance(node.func, ast.Name):
                continue
            yield module, node


def argument(call: ast.Call, position: int | None, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    if position is not None and len(call.args) > position:
        arg = call.args[position]
        return None if isinstance(arg, ast.Starred) else arg
    return None


def _parameter(function: ast.FunctionDef, name: str) -> tuple[int | None, ast.expr | None] | None:
    """(position or None for keyword-only, default) of a parameter of ``function``."""
    args = function.args
    positional = args.posonlyargs + args.args
    for i, arg in enumerate(positional):
        if arg.arg == name:
            defaults_start = len(positional) - len(args.defaults)
            default = args.defaults[i - defaults_start] if i >= defaults_start else None
            return i, default
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if arg.arg == name:
            return None, default
    return None


def strings(node: ast.expr | None, module: Module) -> set[str]:
    """The string values an expression can have."""
    if node is None:
        return set()
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return strings(node.body, module) | strings(node.orelse, module)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return {a + b for a in strings(node.left, module) for b in strings(node.right, module)}
    if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "split"
            and isinstance(node.slice, ast.Constant)):
        # "initiative.publish".split(".", 1)[1]
        sep = ast.literal_eval(node.value.args[0])
        maxsplit = ast.literal_eval(node.value.args[1]) if len(node.value.args) > 1 else -1
        return {s.split(sep, maxsplit)[node.slice.value]
                for s in strings(node.value.func.value, module)}
    if isinstance(node, ast.Name):
        return _name_strings(node, module)
    raise Unresolved(f"{module.rel}:{node.lineno}: cannot resolve {ast.unparse(node)!r}")


def _name_strings(node: ast.Name, module: Module) -> set[str]:
    function = module.enclosing_function(node)
    if function is not None:
        assigned = _assignments(function, node.id, module)
        if assigned is not None:
            return assigned
        parameter = _parameter(function, node.id)
        if parameter is not None:
            position, default = parameter
            values = strings(default, module) if default is not None else set()
            for caller_module, call in calls(function.name):
                if caller_module.rel != module.rel and not _imports(caller_module,
                                                                   function.name):
                    continue
                offset = 1 if _is_method(function, module) else 0
                value = argument(call, None if position is None else position - offset,
                                 node.id)
                if value is not None and not isinstance(value, ast.Attribute):
                    # (an attribute passes on a value made elsewhere, e.g. EntryChange.kind)
                    values |= strings(value, caller_module)
            return values
    value = module.module_assignment(node.id)
    if value is not None:
        return strings(value, module)
    raise Unresolved(f"{module.rel}:{node.lineno}: cannot resolve name {node.id!r}")


def _imports(module: Module, name: str) -> bool:
    return name in module.names_used


def _is_method(function: ast.FunctionDef, module: Module) -> bool:
    return isinstance(module.parents.get(function), ast.ClassDef)


def _assignments(function: ast.FunctionDef, name: str, module: Module) -> set[str] | None:
    """Values assigned to a local variable (``reason = "..."``, ``reason += "..."``)."""
    base: set[str] = set()
    suffixes: list[set[str]] = []
    found = False
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name
                                                for t in node.targets):
            base |= strings(node.value, module)
            found = True
        elif (isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name)
              and node.target.id == name and isinstance(node.op, ast.Add)):
            suffixes.append(strings(node.value, module))
    if not found:
        return None
    values = set(base)
    for suffix in suffixes:
        values |= {v + s for v in values for s in suffix}
    return values


# --- the audit log ------------------------------------------------------------------------------

@dataclass
class AuditCall:
    where: str
    actions: set[str]
    target_types: set[str]
    reasons: set[str]
    actors: set[str]
    keys: set[str] = field(default_factory=set)


def _optional_strings(node: ast.expr | None, module: Module) -> set[str]:
    """Constant strings only; a staff member's own text (a variable) is not a code."""
    try:
        return strings(node, module)
    except Unresolved:
        return set()


def _dict_keys(node: ast.expr | None, module: Module) -> set[str]:
    """The keys of a before/after value: dict literals (nested ones too), dict
    comprehensions over a constant tuple, and what a local helper function returns."""
    if node is None:
        return set()
    if isinstance(node, ast.Dict):
        keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
        for value in node.values:
            for inner in ast.walk(value):
                if isinstance(inner, ast.Dict):
                    keys |= _dict_keys(inner, module)
        return keys
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # {...} | {...}
        return _dict_keys(node.left, module) | _dict_keys(node.right, module)
    if isinstance(node, ast.DictComp) and isinstance(node.generators[0].iter, ast.Name):
        return _tuple_strings(node.generators[0].iter, module)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        for function in module.functions(node.func.id):
            keys: set[str] = set()
            for ret in ast.walk(function):
                if isinstance(ret, ast.Return):
                    keys |= _dict_keys(ret.value, module)
            return keys
    if isinstance(node, ast.Name):
        function = module.enclosing_function(node)
        if function is not None:
            keys = set()
            for inner in ast.walk(function):
                if isinstance(inner, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == node.id for t in inner.targets):
                    keys |= _dict_keys(inner.value, module)
                elif (isinstance(inner, ast.AnnAssign) and isinstance(inner.target, ast.Name)
                      and inner.target.id == node.id):
                    keys |= _dict_keys(inner.value, module)
                elif isinstance(inner, ast.Assign):  # name["key"] = ...
                    for target in inner.targets:
                        if (isinstance(target, ast.Subscript)
                                and isinstance(target.value, ast.Name)
                                and target.value.id == node.id
                                and isinstance(target.slice, ast.Constant)):
                            keys.add(target.slice.value)
            return keys
    return set()  # e.g. a revision diff (keys as in the history, tested there)


def _tuple_strings(node: ast.Name, module: Module) -> set[str]:
    value = module.module_assignment(node.id)
    if isinstance(value, ast.Tuple | ast.List):
        return {e.value for e in value.elts if isinstance(e, ast.Constant)}
    return set()


@cache
def audit_calls() -> tuple[AuditCall, ...]:
    out = []
    for module, call in calls("record", imported_from="registry.audit.services"):
        out.append(AuditCall(
            where=f"{module.rel}:{call.lineno}",
            actions=strings(argument(call, 0, "action"), module),
            target_types=_optional_strings(argument(call, None, "target_type"), module),
            reasons=_optional_strings(argument(call, None, "reason"), module),
            actors=_optional_strings(argument(call, None, "actor"), module),
            keys=_dict_keys(argument(call, None, "before"), module)
            | _dict_keys(argument(call, None, "after"), module),
        ))
    return tuple(out)


def audit_actions() -> set[str]:
    return {a for c in audit_calls() for a in c.actions}


# --- revisions ----------------------------------------------------------------------------------

@cache
def revision_kinds() -> frozenset[str]:
    """Kinds of history entries: ``EntryChange(initiative, kind, ...)``,
    ``record_change(initiative, actor_type, kind, ...)``, ``Revision(kind=...)``."""
    kinds: set[str] = set()
    for name, position in (("EntryChange", 1), ("record_change", 2), ("Revision", None)):
        for module, call in calls(name):
            value = argument(call, position, "kind")
            if isinstance(value, ast.Attribute):  # passes on an EntryChange's own kind
                continue
            if value is not None:
                kinds |= strings(value, module)
    return frozenset(kinds)


# --- mail ---------------------------------------------------------------------------------------

@cache
def mail_kinds() -> frozenset[str]:
    kinds: set[str] = set()
    for module, call in calls("queue_mail"):
        kinds |= strings(argument(call, None, "kind"), module)
    return frozenset(kinds)
