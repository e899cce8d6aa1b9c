"""The builtins process scripts see: a short list of harmless ones, some wrapped to check what they build.

`str`, `list`, `tuple`, `set`, `dict` and `int` stay types to `isinstance` (and `str.join` still
works) but calling them is checked; `range`, `sorted`, `sum` and `round` are functions with limits.
The table also holds the guards the restricted compiler writes calls to (engine/script_guards.py).
"""
from __future__ import annotations

import builtins

from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence

from .script_guards import (
    PIECE, POINTER, SEQUENCES, check_bits, guarded_add, guarded_alloc, guarded_format, guarded_getattr,
    guarded_getitem, guarded_inplacevar, guarded_lshift, guarded_mod, guarded_mul, guarded_or, guarded_pow,
    refuse_above_budget, size_of, text_size,
)
from .script_limits import current_run, tick


class _GuardedType(type):
    """A builtin type as scripts see it: calling it is checked; isinstance, issubclass and class
    attributes (`str.join`) behave as the real type's."""

    def __call__(cls, *args, **kwargs):
        return cls._guard(cls.__bases__[0], args, kwargs)

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls.__bases__[0])

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls.__bases__[0])


def _str_guard(real, args, kwargs):
    if args and not isinstance(args[0], (str, int, float, bool, type(None))):
        refuse_above_budget(text_size(args[0]))  # str() of a list writes every item out
    result = real(*args, **kwargs)
    if not (args and result is args[0]):
        current_run().charge(len(result))
    return result


def _copy_guard(real, args, kwargs):
    if args and hasattr(args[0], "__len__"):
        # list("文字") makes a string object of every character.
        current_run().charge(PIECE * len(args[0]) if isinstance(args[0], str) else size_of(args[0]))
    return real(*args, **kwargs)


def _int_guard(real, args, kwargs):
    value = real(*args, **kwargs)
    check_bits(value.bit_length())  # int("ff…", 16) is not bound by Python's 4300-digit limit
    return value


def _guarded_type(real: type, guard) -> type:
    return _GuardedType(real.__name__, (real,), {
        "_guard": staticmethod(guard), "__module__": "builtins", "__qualname__": real.__name__,
    })


GUARDED_TYPES = {
    "str": _guarded_type(str, _str_guard),
    "list": _guarded_type(list, _copy_guard),
    "tuple": _guarded_type(tuple, _copy_guard),
    "set": _guarded_type(set, _copy_guard),
    "dict": _guarded_type(dict, _copy_guard),
    "int": _guarded_type(int, _int_guard),
}


def guarded_range(*args):
    """range(), up to as many numbers as a script may loop: `sum(range(10**12))` would never return."""
    numbers = range(*args)
    limit = current_run().limits.max_iterations
    try:
        too_long = len(numbers) > limit
    except OverflowError:  # longer than sys.maxsize
        too_long = True
    if too_long:
        current_run().stop(f"range() of more than {limit} numbers is not allowed (stopped)")
    return numbers


def guarded_sorted(iterable, /, *, key=None, reverse=False):
    """sorted(), counting the list it builds."""
    if hasattr(iterable, "__len__"):
        current_run().charge(POINTER * len(iterable))
    return sorted(iterable, key=key, reverse=reverse)


def guarded_sum(iterable, /, start=0):
    """sum(); summing lists (`sum(lists, [])`) counts every copy of the total."""
    if not isinstance(start, SEQUENCES):
        return sum(iterable, start)
    total = start
    for item in iterable:
        total = guarded_add(total, item)
    return total


def guarded_round(number, ndigits=None):
    """round(); rounding a whole number to -n digits computes 10**n."""
    if ndigits is None:
        return round(number)
    if isinstance(number, int) and isinstance(ndigits, int) and ndigits < 0:
        check_bits(-ndigits * 10 // 3)
    return round(number, ndigits)


def _apply(function, *args, **kwargs):
    return function(*args, **kwargs)


SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "divmod", "enumerate", "filter", "float", "isinstance",
    "len", "map", "max", "min", "reversed", "zip", "True", "False", "None",
    "ValueError", "KeyError", "Exception",
)

SANDBOX_BUILTINS = {
    **{name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES},
    **GUARDED_TYPES,
    "range": guarded_range, "sorted": guarded_sorted, "sum": guarded_sum, "round": guarded_round,
    # The names RestrictedPython's compiler writes calls to.
    "_getattr_": guarded_getattr, "_getitem_": guarded_getitem, "_getiter_": iter, "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
    "_apply_": _apply, "_inplacevar_": guarded_inplacevar,
    # The names our additions to it write calls to (engine/script_compiler.py).
    "_tick_": tick, "_add_": guarded_add, "_mul_": guarded_mul, "_pow_": guarded_pow, "_lshift_": guarded_lshift,
    "_mod_": guarded_mod, "_or_": guarded_or, "_format_": guarded_format, "_alloc_": guarded_alloc,
}
