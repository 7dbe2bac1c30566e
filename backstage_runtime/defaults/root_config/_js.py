"""The few JavaScript value semantics Backstage's config code relies on, in Python.

Backstage's loader and reader lean on ``String.prototype.trim``, ``Number(string)``,
``String(number)`` and ``typeof``; Python's nearest equivalents differ at the edges (``str.strip``
also strips ``\\x1c``-``\\x1f``, ``float()`` accepts ``"inf"`` and ``"1_000"``, ``str(1.0)`` is
``"1.0"``), so config values would convert differently here than in Backstage without these.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

__all__ = [
    "UNDEFINED",
    "Undefined",
    "deep_copy",
    "is_object",
    "js_number_to_string",
    "js_to_number",
    "js_trim",
    "merge_values",
    "type_of",
]

# ECMAScript WhiteSpace and LineTerminator code points, the set ``trim`` removes.
_JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_RADIX = re.compile(r"^0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)$")


def js_trim(text: str, *, end_only: bool = False) -> str:
    """``text.trim()`` (or ``trimEnd()``) with JavaScript's notion of whitespace."""
    return text.rstrip(_JS_WHITESPACE) if end_only else text.strip(_JS_WHITESPACE)


def js_number_to_string(value: float) -> str:
    """``String(value)`` for a number: integral floats print without ``.0``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def js_to_number(text: str) -> float | None:
    """``Number(text)``, or None where JavaScript gives NaN or an infinity.

    Returns an ``int`` for integer literals so ``"7007"`` reads as ``7007``, not ``7007.0``.
    """
    stripped = js_trim(text)
    if stripped == "":
        return 0
    if _RADIX.match(stripped):
        return int(stripped, 0)
    if not _DECIMAL.match(stripped):
        return None
    if re.fullmatch(r"[+-]?[0-9]+", stripped):
        return int(stripped, 10)
    number = float(stripped)
    return number if math.isfinite(number) else None


def is_object(value: object) -> bool:
    """A JSON object (``typeof value === 'object'``, not null, not an array)."""
    return isinstance(value, dict)


def type_of(value: object) -> str:
    """The type name Backstage's reader puts in its errors (``typeOf`` in ``reader.ts``)."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "nan" if isinstance(value, float) and math.isnan(value) else "number"
    if isinstance(value, str):
        return "empty-string" if value == "" else "string"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def deep_copy(value: Any) -> Any:
    """A fresh copy of a JSON value, as plain ``dict``/``list`` (callers may mutate it)."""
    if isinstance(value, dict):
        return {key: deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [deep_copy(item) for item in value]
    return value


class Undefined:
    """JavaScript's ``undefined``: no value at all, unlike ``null`` (``None``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


#: The one :class:`Undefined` value.
UNDEFINED: Final = Undefined()


def merge_values(higher: Any, lower: Any = UNDEFINED) -> Any:
    """Lay ``higher`` over ``lower`` as ``ConfigReader.getOptional`` does (``merge`` in reader.ts).

    Objects merge key by key, ``higher``'s keys first; an array or a scalar in ``higher`` wins
    whole; a ``null`` anywhere in ``higher`` or ``lower`` removes its key (a ``null`` at the top
    gives :data:`UNDEFINED`). Nulls inside arrays are kept, as in Backstage. The result shares
    arrays and scalars with the inputs; callers pass copies.

    Done by hand rather than with ``OmegaConf.merge`` because OmegaConf parses every ``${...}``
    string as an interpolation (``"${}"``, a legal literal after Backstage's ``$${}`` escape,
    raises ``GrammarParseError``) and refuses to lay a list over a mapping (``Cannot merge
    incompatible container types``), both of which Backstage accepts.
    """
    if higher is None:
        return UNDEFINED
    if higher is UNDEFINED:
        return UNDEFINED if lower is UNDEFINED else merge_values(lower)
    if not isinstance(higher, dict):
        return higher
    below: dict[str, Any] = lower if isinstance(lower, dict) else {}
    merged: dict[str, Any] = {}
    for key in dict.fromkeys([*higher, *below]):
        value = merge_values(higher.get(key, UNDEFINED), below.get(key, UNDEFINED))
        if value is not UNDEFINED:
            merged[key] = value
    return merged
