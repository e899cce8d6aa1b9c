"""What process scripts can reach, and the guards around every operation that could escape or blow up.

The restricted compiler (engine/script_compiler.py) turns `a.b` into `_getattr_(a, "b")`, `a * b`
into `_mul_(a, b)`, `f"{x:>9}"` into `_format_(x, -1, ">9")` and so on; this module supplies those
names. A guard estimates the size of what an operation would build and charges it to the current
`ScriptRun` before building it, so `"x" * 10**10` stops with an error instead of eating the
server's memory; whole numbers are held under a size at which arithmetic is still fast. The
builtins scripts see are in engine/script_builtins.py.
"""
from __future__ import annotations

import operator
import re

from RestrictedPython.transformer import INSPECT_ATTRIBUTES

from .script_limits import ScriptError, current_run, expanded_size

SEQUENCES = (str, bytes, list, tuple)
POINTER = 8  # bytes a list or tuple spends per item

_INTERNALS = "it reaches the interpreter's internals"
_FORMAT = "its fields can reach attributes ('{0.__class__}'); use an f-string"
REFUSED_ATTRIBUTES = {
    "format": _FORMAT,
    "format_map": _FORMAT,
    "mro": _INTERNALS,
    "to_bytes": "it allocates as many bytes as it is asked for",
    "from_bytes": "it makes numbers of any size; use int()",
    **{name: _INTERNALS for name in INSPECT_ATTRIBUTES},
}


def attribute_problem(name: str) -> str | None:
    """Why scripts may not use the attribute `name`, or None. Shared with the compile-time check."""
    if name.startswith("_"):
        return f"attribute {name!r} is not allowed (names starting with '_' are reserved)"
    reason = REFUSED_ATTRIBUTES.get(name)
    return f"attribute {name!r} is not allowed: {reason}" if reason else None


# -- sizes ---------------------------------------------------------------------------------------

def size_of(value) -> int:
    """Estimated bytes of a string, list, tuple, dict or set."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, dict):
        return 2 * POINTER * len(value)
    return POINTER * len(value)


def check_bits(bits: int) -> None:
    """Stop before computing a whole number of about `bits` bits if that is over the limit."""
    run = current_run()
    if bits > run.limits.max_int_bits:
        run.stop(f"script would compute a number of more than {run.limits.max_int_bits} bits (stopped)")


def text_size(value) -> int:
    """An estimate of len(str(value)), counting shared items at every place they are written."""
    if isinstance(value, str):
        return len(value)
    return expanded_size(value, _scalar_text_size, _container_text_size, cycle=5, run=current_run())


def _scalar_text_size(item) -> int:
    if isinstance(item, (str, bytes)):
        return len(item) + 3  # quotes, b
    if isinstance(item, bool) or item is None:
        return 5
    if isinstance(item, int):
        return item.bit_length() * 3 // 10 + 2
    if isinstance(item, float):
        return 24
    return 80  # "<function <lambda> at 0x7f…>" and the like


def _container_text_size(container) -> int:
    return 2 + (4 if isinstance(container, dict) else 2) * len(container)


# -- operators -----------------------------------------------------------------------------------
# Each check charges what the operation would build, before it is built.

def _check_add(a, b) -> None:
    if isinstance(a, SEQUENCES) and isinstance(b, SEQUENCES):
        current_run().charge(size_of(a) + size_of(b))


def _check_mul(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int):
        check_bits(a.bit_length() + b.bit_length())
    elif isinstance(b, int) and isinstance(a, SEQUENCES):
        current_run().charge(size_of(a) * max(b, 0))
    elif isinstance(a, int) and isinstance(b, SEQUENCES):
        current_run().charge(size_of(b) * max(a, 0))


def _check_pow(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a not in (0, 1, -1):
        check_bits(abs(a).bit_length() * b)  # a < 2**n, so a**b < 2**(n*b)


def _check_lshift(a, b) -> None:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a:
        check_bits(a.bit_length() + b)


_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.)", re.S)


def _check_mod(template, args) -> None:
    if not isinstance(template, (str, bytes)):
        return  # a number
    text = template if isinstance(template, str) else template.decode("latin-1")
    size = len(text)
    for field in _PERCENT_FIELD.finditer(text):
        width, precision = field.group(1), field.group(2)
        if width == "*" or precision == "*":
            raise ScriptError("'*' widths in % formatting are not allowed in process scripts")
        size += int(width or 0) + int(precision or 0)
    for value in args if isinstance(args, tuple) else (args,):
        size += text_size(value)
    current_run().charge(size)


def guarded_add(a, b):
    """`a + b`: joining strings or lists builds a new one."""
    _check_add(a, b)
    return a + b


def guarded_mul(a, b):
    """`a * b`: repeating a string or list, or multiplying large numbers."""
    _check_mul(a, b)
    return a * b


def guarded_pow(a, b):
    """`a ** b`: a power of a whole number can be astronomically large."""
    _check_pow(a, b)
    return a ** b


def guarded_lshift(a, b):
    """`a << b`: shifting a whole number left makes it larger."""
    _check_lshift(a, b)
    return a << b


def guarded_mod(a, b):
    """`a % b`: %-formatting a string can pad it to any width."""
    _check_mod(a, b)
    return a % b


_INPLACE = {
    "+=": (operator.iadd, _check_add), "*=": (operator.imul, _check_mul), "**=": (operator.ipow, _check_pow),
    "<<=": (operator.ilshift, _check_lshift), "%=": (operator.imod, _check_mod),
    "-=": (operator.isub, None), "/=": (operator.itruediv, None), "//=": (operator.ifloordiv, None),
    ">>=": (operator.irshift, None), "&=": (operator.iand, None), "|=": (operator.ior, None),
    "^=": (operator.ixor, None), "@=": (operator.imatmul, None),
}


def guarded_inplacevar(op: str, target, value):
    """`x += y` and friends (the compiler writes `x = _inplacevar_("+=", x, y)`)."""
    inplace, check = _INPLACE[op]
    if check is not None:
        check(target, value)
    return inplace(target, value)


_CONVERSIONS = {115: str, 114: repr, 97: ascii}  # !s, !r, !a


def guarded_format(value, conversion: int, spec: str):
    """One `{value!conversion:spec}` field of an f-string."""
    if conversion in _CONVERSIONS:
        # ascii() may write a character as "\U0001f600": ten times its length.
        refuse_above_budget(text_size(value) * (10 if conversion == 97 else 1))
        value = _CONVERSIONS[conversion](value)
    width = sum(int(digits) for digits in re.findall(r"\d+", spec)) if spec else 0
    refuse_above_budget(text_size(value) + width)
    return format(value, spec)


def refuse_above_budget(size: int) -> None:
    """Stop if `size` does not fit the budget left, without counting it: the f-string that holds
    this field counts its whole length once it is built (guarded_alloc)."""
    run = current_run()
    if run.allocated + size > run.limits.max_allocation:
        run.charge(size)


def guarded_alloc(value):
    """A value built without an operator the guards see (an f-string, a long list display): count it."""
    current_run().charge(size_of(value))
    return value


# -- attributes and subscripts ----------------------------------------------------------------------
# Methods that can build a value much larger than their inputs are estimated from their arguments and
# charged before they run. Each estimate returns the size and the positional arguments to call the
# method with (join reads an iterator once, so it passes on the list it made of it). Every other
# method of a string, and the copying methods of lists, dicts and sets, are charged what they return.

PIECE = 64  # bytes a piece of a split string costs: its pointer and its own small string object


def _join_size(sep, items):
    if not hasattr(items, "__len__"):
        items = list(items)  # an iterator the script made: bounded by its loop ticks
    if isinstance(items, (str, bytes)):
        total = len(items)
    else:
        total = sum(len(item) for item in items if isinstance(item, (str, bytes)))
    return total + len(sep) * max(len(items) - 1, 0), (sep, items)


def _extend_size(target, items):
    return (POINTER * len(items) if hasattr(items, "__len__") else 0), (target, items)


def _replace_size(text, old, new, count=-1, /):
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0), (text, old, new, count)


def _padding_size(text, width, *rest):  # positional only, like the methods
    return max(len(text), width if isinstance(width, int) else 0), (text, width, *rest)


def _tabs_size(text, tabsize=8):
    tab = "\t" if isinstance(text, str) else b"\t"
    return len(text) + text.count(tab) * max(tabsize if isinstance(tabsize, int) else 8, 0), (text, tabsize)


def _translate_size(text, table, *delete, **keywords):
    longest = 1
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1)
    return len(text) * max(longest, 1), (text, table, *delete, *keywords.values())


_SPACES = " \t\n\r\x0b\x0c\xa0\u3000"
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _split_size(text, sep=None, maxsplit=-1):
    if sep is not None:
        cuts = text.count(sep) if sep else 0  # an empty separator raises ValueError in split itself
    elif isinstance(text, str):
        cuts = sum(text.count(space) for space in _SPACES)
    else:
        cuts = sum(text.count(space.encode()) for space in _SPACES[:6])
    if isinstance(maxsplit, int) and maxsplit >= 0:
        cuts = min(cuts, maxsplit)
    return PIECE * (cuts + 1) + len(text), (text, sep, maxsplit)


def _splitlines_size(text, keepends=False):
    breaks = _LINE_BREAKS if isinstance(text, str) else "\n\r"
    cuts = sum(text.count(br if isinstance(text, str) else br.encode()) for br in breaks)
    return PIECE * (cuts + 1) + len(text), (text, keepends)


_GROWING = {
    "join": _join_size, "replace": _replace_size, "center": _padding_size, "ljust": _padding_size,
    "rjust": _padding_size, "zfill": _padding_size, "expandtabs": _tabs_size, "translate": _translate_size,
    "split": _split_size, "rsplit": _split_size, "splitlines": _splitlines_size,
}
_COPYING = {
    list: {"copy"}, dict: {"copy", "fromkeys"},
    set: {"copy", "union", "intersection", "difference", "symmetric_difference"},
}
_TRACKED = (str, bytes, list, dict, set)
_BUILT = (str, bytes, list, tuple, dict, set)


def _guarded_method(obj, name: str, method):
    """The method the script gets for `obj.name`: checked if it builds something, else as it is.

    The wrapper is a closure, not a functools.partial: a partial's `args` would hand the script the
    unwrapped method.
    """
    bound = not isinstance(obj, type)  # "a".join(…), or str.join("a", …)
    kind = type(obj) if bound else obj
    base = next((t for t in _TRACKED if issubclass(kind, t)), None)
    if base is None or not callable(method):
        return method
    text = base in (str, bytes)
    if text:
        estimate = _GROWING.get(name)
    else:
        estimate = _extend_size if base is list and name == "extend" else None
        if estimate is None and name not in _COPYING.get(base, ()):
            return method
    unbound = getattr(base, name)

    def checked(*args, **kwargs):
        if estimate is None:
            result = method(*args, **kwargs)
            if isinstance(result, _BUILT) and result is not obj:
                current_run().charge(size_of(result))
            return result
        if bound:
            args = (obj, *args)
        size, args = estimate(*args, **kwargs)  # keyword arguments come back as positional ones
        current_run().charge(size)
        return unbound(*args)
    return checked


def guarded_getattr(obj, name):
    """`obj.name` in a script."""
    problem = attribute_problem(name) if isinstance(name, str) else "attribute names must be text"
    if problem:
        raise ScriptError(problem)
    value = getattr(obj, name)
    if isinstance(obj, _TRACKED) or isinstance(obj, type):
        return _guarded_method(obj, name, value)
    return value


def guarded_getitem(obj, key):
    """`obj[key]`: a slice copies, so it is counted."""
    value = obj[key]
    if type(key) is slice and isinstance(value, SEQUENCES):
        current_run().charge(size_of(value))
    return value


def guarded_or(a, b):
    """`a | b`: merging dicts or sets builds a new one."""
    result = a | b
    if isinstance(result, (dict, set)):
        current_run().charge(size_of(result))
    return result
