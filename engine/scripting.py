"""The sandbox BPMN scripts, conditions, timer expressions and DMN cells run in.

SpiffWorkflow evaluates them with plain eval/exec and all builtins (ENGINE_NOTES: "Scripts are not
sandboxed"). Here every source is compiled by the restricted compiler (engine/script_compiler.py)
and runs with a short list of builtins (engine/script_builtins.py) and guards
(engine/script_guards.py) under a time, iteration and allocation limit (engine/script_limits.py).
A definition that imports, walks `__subclasses__`, opens files, loops forever or builds a huge value
is refused by `fengqiao check` or stopped with an error; the engine turns that error into a
ProcessError naming the element, and the case is rolled back.
"""
from __future__ import annotations

from typing import Any, Callable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from .script_compiler import UnsafeSource, check_source, compile_source
from .script_builtins import SANDBOX_BUILTINS
from .script_limits import DEFAULT_LIMITS, ScriptError, ScriptLimitExceeded, ScriptLimits, check_data_size, script_run

__all__ = [
    "CaseScriptEnvironment", "ScriptError", "ScriptLimitExceeded", "ScriptLimits", "UnsafeSource",
    "check_source", "script_engine",
]

_CONTAINERS = (dict, list, tuple, set, frozenset)


class CaseScriptEnvironment(TaskDataEnvironment):
    """Task-data environment running sandboxed code, with the deadline helpers as globals."""

    def __init__(self, helpers: dict[str, Callable[..., Any]], limits: ScriptLimits = DEFAULT_LIMITS):
        super().__init__(dict(helpers))
        self.limits = limits

    def evaluate(self, expression, context, external_context=None):
        code = compile_source(expression.strip(), "eval")
        # Task data comes last but one, as in SpiffWorkflow; nothing may replace the builtins.
        scope = {**self.globals, **(external_context or {}), **context, "__builtins__": SANDBOX_BUILTINS}
        with script_run(self.limits):
            result = eval(code, scope)
            if isinstance(result, _CONTAINERS):  # a DMN output or a cardinality ends up in the data
                check_data_size(result, self.limits)
        return result

    def execute(self, script, context, external_context=None):
        code = compile_source(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        context.update(self.globals)
        context.update(external_context or {})
        context["__builtins__"] = SANDBOX_BUILTINS
        with script_run(self.limits):
            try:
                exec(code, context)
            finally:
                self._remove_globals_and_functions_from_context(context, external_context)
            check_data_size(context, self.limits)
        return True


def script_engine(helpers: dict[str, Callable[..., Any]], limits: ScriptLimits = DEFAULT_LIMITS) -> PythonScriptEngine:
    """A SpiffWorkflow script engine running in the sandbox with these globals and limits."""
    return PythonScriptEngine(environment=CaseScriptEnvironment(helpers, limits))
