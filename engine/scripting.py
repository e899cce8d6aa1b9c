"""The environment BPMN scripts, conditions, timer expressions and DMN cells run in.

SpiffWorkflow evaluates them with plain eval/exec and all builtins (ENGINE_NOTES: "Scripts are not
sandboxed"). We give them a small set of harmless builtins and refuse, before running, any expression
that imports or touches a name or attribute starting with an underscore — the way out of every known
escape (`().__class__.__base__.__subclasses__()`). `check_source` is shared with the lint so a
definition that would be refused at run time is already refused by `fengqiao check`.
"""
from __future__ import annotations

import ast
import builtins
from functools import lru_cache
from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int", "isinstance",
    "len", "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str", "sum",
    "tuple", "zip", "True", "False", "None", "ValueError", "KeyError", "Exception",
)
SAFE_BUILTINS = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}


class UnsafeSource(SyntaxError):
    """A script or expression uses something definitions may not use."""


@lru_cache(maxsize=4096)
def check_source(source: str, mode: str) -> None:
    """Raise SyntaxError (with a line number) if `source` does not parse or is not allowed.

    mode is "eval" for conditions, timer expressions and DMN cells, "exec" for scripts.
    """
    tree = ast.parse(source, mode=mode)
    for node in ast.walk(tree):
        problem = _forbidden(node)
        if problem:
            raise UnsafeSource(problem, ("<script>", getattr(node, "lineno", 1) or 1, 0, source))


def _forbidden(node: ast.AST) -> str | None:
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return "import is not allowed in process scripts"
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        return f"attribute {node.attr!r} is not allowed (names starting with '_' are reserved)"
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        return f"name {node.id!r} is not allowed (names starting with '_' are reserved)"
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return "global/nonlocal are not allowed in process scripts"
    return None


class CaseScriptEnvironment(TaskDataEnvironment):
    """Task-data environment with restricted builtins and the deadline helpers as globals."""

    def __init__(self, helpers: dict[str, Callable[..., Any]]):
        super().__init__({"__builtins__": SAFE_BUILTINS, **helpers})

    def evaluate(self, expression, context, external_context=None):
        check_source(expression.strip(), "eval")
        return super().evaluate(expression, context, external_context)

    def execute(self, script, context, external_context=None):
        check_source(script, "exec")
        return super().execute(script, context, external_context)


def script_engine(helpers: dict[str, Callable[..., Any]]) -> PythonScriptEngine:
    """A SpiffWorkflow script engine running in the restricted environment."""
    return PythonScriptEngine(environment=CaseScriptEnvironment(helpers))
