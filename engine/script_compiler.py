"""Compiling process scripts, conditions, timer expressions and DMN cells for the sandbox.

Two passes. Our own check refuses what a definition must never use, with messages an author can act
on (imports, `_` names, `open()`, `eval()`, `str.format` …); `fengqiao check` reports them with file,
line and element id. Then RestrictedPython's compiler rewrites attribute access, subscripts,
iteration and augmented assignment into calls of guards, and our additions to its policy put a
`_tick_()` into every loop, comprehension, function and lambda (the time and iteration limit) and
route `+ * ** << %`, f-strings and long displays through guards that count what they build
(engine/script_guards.py). The result is cached per source text: this is on every engine step.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from types import CodeType

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations

from .script_guards import attribute_problem

_INTERNALS = "it reaches the interpreter's internals"
_NO_CONSOLE = "scripts run on the server, without a console"
FORBIDDEN_CALLS = {
    "open": "scripts have no file access",
    "eval": "no running code from text", "exec": "no running code from text", "compile": "no running code from text",
    "getattr": "write obj.name", "setattr": "assign obj.name = value", "delattr": _INTERNALS, "hasattr": _INTERNALS,
    "globals": _INTERNALS, "locals": _INTERNALS, "vars": _INTERNALS, "dir": _INTERNALS, "type": _INTERNALS,
    "object": _INTERNALS, "super": _INTERNALS, "classmethod": _INTERNALS, "staticmethod": _INTERNALS,
    "property": _INTERNALS, "memoryview": _INTERNALS, "id": _INTERNALS,
    "bytes": "binary data is not available", "bytearray": "binary data is not available",
    "input": _NO_CONSOLE, "breakpoint": _NO_CONSOLE, "help": _NO_CONSOLE, "exit": _NO_CONSOLE, "quit": _NO_CONSOLE,
    "print": "scripts have no output; assign the value to a variable",
    "format": "use an f-string",
}


class UnsafeSource(SyntaxError):
    """A script or expression uses something definitions may not use."""


@lru_cache(maxsize=4096)
def compile_source(source: str, mode: str) -> CodeType:
    """Sandboxed bytecode for `source`; mode "eval" (conditions, timers, DMN cells) or "exec" (scripts).

    Raises SyntaxError, or its subclass UnsafeSource, always with a line number.
    """
    try:
        tree = ast.parse(source, mode=mode)
    except ValueError as exc:  # null bytes
        raise UnsafeSource(str(exc), ("<script>", 1, 0, source)) from None
    for node in ast.walk(tree):
        problem = _forbidden(node)
        if problem:
            raise UnsafeSource(problem, ("<script>", getattr(node, "lineno", 1) or 1, 0, source))
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    # SpiffWorkflow finds the line of a run-time error by the traceback frame named "<string>".
    result = compiler(tree, filename="<string>", policy=SandboxPolicy)
    if result.errors:
        line, message = _restricted_error(result.errors[0])
        raise UnsafeSource(message, ("<script>", line, 0, source))
    return result.code


def check_source(source: str, mode: str) -> None:
    """Raise SyntaxError (with a line number) if `source` does not parse or is not allowed."""
    compile_source(source, mode)


def _forbidden(node: ast.AST) -> str | None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import is not allowed in process scripts"
    if isinstance(node, ast.Attribute):
        return attribute_problem(node.attr)
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            return f"name {node.id!r} is not allowed (names starting with '_' are reserved)"
        if node.id in ("print", "printed"):
            return f"{node.id} is not allowed in process scripts: {FORBIDDEN_CALLS['print']}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FORBIDDEN_CALLS:
        return f"{node.func.id}() is not allowed in process scripts: {FORBIDDEN_CALLS[node.func.id]}"
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return "global/nonlocal are not allowed in process scripts"
    if isinstance(node, ast.ClassDef):
        return "class definitions are not allowed in process scripts"
    return None


def _restricted_error(text: str) -> tuple[int, str]:
    """RestrictedPython reports 'Line 3: message'."""
    match = re.match(r"Line (\d+|None): (.*)", text, re.S)
    if not match:
        return 1, text
    return int(match.group(1)) if match.group(1).isdigit() else 1, match.group(2)


# -- the compiler policy ---------------------------------------------------------------------------

_BINOP_GUARDS = {
    ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_", ast.BitOr: "_or_",
}
# List, tuple, set and dict displays with more items, or unpacking others (`[*a]`, `{**d}`), count
# against the allocation limit.
LONG_DISPLAY = 16


def _call(name: str, args: list, like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(call, like)
    return call


def _tick(like: ast.AST) -> ast.Expr:
    statement = ast.Expr(_call("_tick_", [], like))
    copy_locations(statement, like)
    return statement


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus time, iteration and allocation guards.

    The names inserted here start with `_`, which scripts cannot write, and are inserted after
    RestrictedPython has checked the node, so they are not refused themselves.
    """

    def visit_BinOp(self, node):
        node = super().visit_BinOp(node)
        guard = _BINOP_GUARDS.get(type(node.op))
        return _call(guard, [node.left, node.right], node) if guard else node

    def visit_While(self, node):
        node = super().visit_While(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_For(self, node):
        node = super().visit_For(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_comprehension(self, node):
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _call("_tick_", [], node.target))  # comprehensions have no position
        return node

    def visit_FunctionDef(self, node):
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _tick(node))
        return node

    def visit_Lambda(self, node):
        node = super().visit_Lambda(node)
        body = ast.BoolOp(op=ast.And(), values=[_call("_tick_", [], node.body), node.body])
        copy_locations(body, node.body)
        node.body = body
        return node

    def visit_FormattedValue(self, node):
        node = super().visit_FormattedValue(node)
        spec = node.format_spec if node.format_spec is not None else ast.Constant("")
        node.value = _call("_format_", [node.value, ast.Constant(node.conversion), spec], node)
        node.conversion, node.format_spec = -1, None
        return node

    def visit_JoinedStr(self, node):
        return _call("_alloc_", [super().visit_JoinedStr(node)], node)

    def visit_List(self, node):
        return self._display(super().visit_List(node), node.elts)

    def visit_Tuple(self, node):
        return self._display(super().visit_Tuple(node), node.elts)

    def visit_Set(self, node):
        return self._display(super().visit_Set(node), node.elts)

    def visit_Dict(self, node):
        return self._display(super().visit_Dict(node), node.keys)

    @staticmethod
    def _display(node, items: list):
        if not isinstance(getattr(node, "ctx", ast.Load()), ast.Load):
            return node  # an assignment target: `a, b = …`
        unpacks = any(item is None or isinstance(item, ast.Starred) for item in items)
        if len(items) <= LONG_DISPLAY and not unpacks:
            return node
        return _call("_alloc_", [node], node)
