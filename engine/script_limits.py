"""How much one evaluation of a process script may use: time, loop iterations, memory.

A script runs inside the server's own thread, so nothing outside it can interrupt it (no signals in
threads, no global tracing). Instead the compiler (engine/script_compiler.py) puts a call to `tick`
at the top of every loop body, comprehension, function and lambda, and routes every operation that
can build a large value through a guard (engine/script_guards.py) that `charge`s the size before
the value is built. Both count against one `ScriptRun` per evaluation, which the guards find in a
thread-local: each server thread runs at most one script at a time.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from time import monotonic
from typing import Any, Callable, Iterator, NoReturn


@dataclass(frozen=True)
class ScriptLimits:
    """Limits of one evaluation (one script, condition, timer expression or DMN cell).

    time_limit: seconds of wall-clock time, checked at every loop iteration and function call.
    max_iterations: loop iterations plus calls of functions and lambdas the script defines.
    max_allocation: estimated bytes of the strings and lists the script builds with `*`, `+`, `%`,
    f-strings, `str()`, `list()`, `join`, `replace` …, added up over the run (garbage included:
    scripts are small and need far less).
    max_int_bits: the largest whole number a script may compute (100,000 bits is about 30,000
    digits); multiplying two such numbers still takes a millisecond, larger ones take seconds.
    max_data_values: values (scalars and containers) the case data may hold after a script, so it
    can still be stored; shared references in a nested list count every time they are reached.
    """

    time_limit: float = 1.0
    max_iterations: int = 100_000
    max_allocation: int = 10_000_000
    max_int_bits: int = 100_000
    max_data_values: int = 1_000_000


DEFAULT_LIMITS = ScriptLimits()


class ScriptError(Exception):
    """A process script was refused or stopped while running; the message says why."""


class ScriptLimitExceeded(ScriptError):
    """A process script ran too long, looped too often or would have allocated too much."""


class ScriptRun:
    """The budget of one evaluation. Once a limit is hit it stays hit: catching the error in the
    script does not let it go on, and the environment raises it again when the script returns."""

    __slots__ = ("limits", "deadline", "ticks", "allocated", "stopped")

    def __init__(self, limits: ScriptLimits):
        self.limits = limits
        self.deadline = monotonic() + limits.time_limit
        self.ticks = 0
        self.allocated = 0
        self.stopped: ScriptLimitExceeded | None = None

    def tick(self) -> bool:
        """One more loop iteration or call. True, so it can sit in a comprehension's `if`."""
        self.ticks += 1
        if self.ticks > self.limits.max_iterations:
            self.stop(f"script ran more than {self.limits.max_iterations} loop iterations (stopped)")
        self.check_time()
        return True

    def check_time(self) -> None:
        """Stop if the run is over its time, or was stopped before."""
        if self.stopped is not None:
            raise self.stopped
        if monotonic() > self.deadline:
            self.stop(f"script ran longer than {self.limits.time_limit:g} s (stopped)")

    def charge(self, size: int) -> None:
        """Count `size` estimated bytes before they are allocated; stop if over the limit."""
        if self.stopped is not None:
            raise self.stopped
        self.allocated += size
        if self.allocated > self.limits.max_allocation:
            self.stop(f"script would allocate more than {_megabytes(self.limits.max_allocation)} (stopped)")

    def stop(self, message: str) -> NoReturn:
        """Stop the run for good with `message`."""
        self.stopped = ScriptLimitExceeded(message)
        raise self.stopped


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


_local = threading.local()


def current_run() -> ScriptRun:
    """The run of the script executing in this thread."""
    run = getattr(_local, "run", None)
    if run is None:
        # Only reachable if script code outlives its evaluation (a lambda kept somewhere).
        raise ScriptError("process script code ran outside its evaluation")
    return run


@contextmanager
def script_run(limits: ScriptLimits) -> Iterator[ScriptRun]:
    """Make a fresh run current for this thread while a script executes (nesting restores the outer)."""
    run = ScriptRun(limits)
    outer = getattr(_local, "run", None)
    _local.run = run
    try:
        yield run
    except Exception:
        if run.stopped is not None:
            raise run.stopped from None  # whatever the script raised after it was stopped
        raise
    finally:
        _local.run = outer
    if run.stopped is not None:
        raise run.stopped


def tick() -> bool:
    """The `_tick_` the compiler inserts into every loop, comprehension, function and lambda."""
    return current_run().tick()


CONTAINERS = (dict, list, tuple, set, frozenset)
_CONTAINER_TYPES = frozenset(CONTAINERS)  # scripts only ever make these exact types


def expanded_size(value, leaf: Callable[[Any], int] | None, overhead: Callable[[Any], int] | None,
                  cycle: int | None, run: ScriptRun | None = None, keys: bool = True) -> int | None:
    """The size of `value` written out in full, as JSON or str() would write it.

    A list may hold the same list twice, thirty levels deep: tiny in memory, 2**30 items written
    out. Sizes are added up per distinct container, so this takes time linear in the memory the value
    uses, not in its written size. `leaf` sizes a scalar, `overhead` a container without its items
    (None: 1 each, which counts values); dict keys are sized as items unless `keys` is False; a
    container inside itself counts as `cycle`, or the result is None if `cycle` is None.
    """
    if type(value) not in _CONTAINER_TYPES:
        return leaf(value) if leaf else 1
    sizes: dict[int, int | None] = {}  # id of a container -> its size; None while its items are sized
    stack: list[tuple] = [(value, None, None)]
    steps = 0
    while stack:
        item, own, inner = stack.pop()
        steps += 1
        if run is not None and steps % 4096 == 0:
            run.check_time()
        if inner is not None:  # all items sized: add them up
            total = own
            for child in inner:
                size = sizes[id(child)]
                if size is None:  # still being sized: it contains itself
                    if cycle is None:
                        return None
                    size = cycle
                total += size
            sizes[id(item)] = total
            continue
        if id(item) in sizes:
            continue
        sizes[id(item)] = None
        own = overhead(item) if overhead else 1
        if type(item) is dict:
            children = [*item, *item.values()] if keys else item.values()
            if not keys:
                own += len(item)
        else:
            children = item
        inner = []
        for child in children:
            if type(child) in _CONTAINER_TYPES:
                inner.append(child)
            else:
                own += leaf(child) if leaf else 1
        stack.append((item, own, inner))
        stack.extend((child, None, None) for child in inner if id(child) not in sizes)
    return sizes[id(value)]


def check_data_size(value, limits: ScriptLimits) -> None:
    """Refuse data a script leaves behind that could not be stored: too many values written out, or
    a list that contains itself."""
    count = expanded_size(value, None, None, cycle=None, keys=False)  # JSON keys are text
    if count is None:
        raise ScriptLimitExceeded("script left a value that contains itself in the case data (stopped)")
    if count > limits.max_data_values:
        raise ScriptLimitExceeded(
            f"script left more than {limits.max_data_values} values in the case data (stopped)")
