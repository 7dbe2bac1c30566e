"""Choosing a content coding from ``Accept-Encoding`` as ``negotiator`` 0.6.4 does for
``compression`` 1.8.1: ``negotiator.encoding(supported, preferred)``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cmp_to_key, lru_cache

__all__ = ["negotiate_encoding"]

_SIMPLE_ENCODING = re.compile(r"^\s*([^\s;]+)\s*(?:;(.*))?$")
_FLOAT_PREFIX = re.compile(r"^\s*[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


@dataclass(frozen=True, slots=True)
class _Accepted:
    encoding: str
    q: float
    i: int


@dataclass(frozen=True, slots=True)
class _Priority:
    encoding: str
    q: float
    s: int
    o: int
    i: int


def _parse_float(text: str | None) -> float:
    # JavaScript's parseFloat: the longest numeric prefix, NaN when there is none.
    if text is None:
        return math.nan
    match = _FLOAT_PREFIX.match(text)
    return float(match.group(0).replace("Infinity", "inf")) if match else math.nan


def _js_falsy(value: float) -> bool:
    return value == 0 or math.isnan(value)


def _parse_accept_encoding(header: str) -> list[_Accepted]:
    accepted: list[_Accepted] = []
    has_identity = False
    min_quality = 1.0
    parts = header.split(",")
    for index, part in enumerate(parts):
        match = _SIMPLE_ENCODING.match(part.strip())
        if match is None:
            continue
        q = 1.0
        if match.group(2):
            for param in match.group(2).split(";"):
                pair = param.strip().split("=")
                if pair[0] == "q":
                    q = _parse_float(pair[1] if len(pair) > 1 else None)
                    break
        entry = _Accepted(match.group(1), q, index)
        accepted.append(entry)
        has_identity = has_identity or _specify("identity", entry, 0) is not None
        # ``Math.min(minQuality, q || 1)``: q=0 and NaN count as 1 here.
        min_quality = min(min_quality, 1.0 if _js_falsy(q) else q)
    if not has_identity:
        # An unmentioned identity is acceptable, with the lowest quality given.
        accepted.append(_Accepted("identity", min_quality, len(parts)))
    return accepted


def _specify(encoding: str, spec: _Accepted, index: int) -> _Priority | None:
    if spec.encoding.lower() == encoding.lower():
        s = 1
    elif spec.encoding == "*":
        s = 0
    else:
        return None
    return _Priority(encoding, spec.q, s, spec.i, index)


def _first_nonzero(*differences: float) -> float:
    # JavaScript's ``a || b || c`` over numbers: the first that is neither 0 nor NaN.
    for difference in differences:
        if not _js_falsy(difference):
            return difference
    return differences[-1]


def _priority(encoding: str, accepted: list[_Accepted], index: int) -> _Priority:
    best = _Priority(encoding, 0.0, 0, -1, index)
    for spec in accepted:
        candidate = _specify(encoding, spec, index)
        if candidate is not None and (
            _first_nonzero(best.s - candidate.s, best.q - candidate.q, best.o - candidate.o) < 0
        ):
            best = candidate
    return best


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _compare(a: _Priority, b: _Priority, preferred: tuple[str, ...]) -> int:
    # negotiator's comparator when a preference list is given.
    if a.q != b.q:
        return _sign(b.q - a.q)
    a_rank = preferred.index(a.encoding) if a.encoding in preferred else -1
    b_rank = preferred.index(b.encoding) if b.encoding in preferred else -1
    if a_rank == -1 and b_rank == -1:
        return _sign(_first_nonzero(b.s - a.s, a.o - b.o, a.i - b.i))
    if a_rank != -1 and b_rank != -1:
        return a_rank - b_rank
    return 1 if a_rank == -1 else -1


@lru_cache(maxsize=128)  # clients send few distinct headers; this runs per compressible response
def negotiate_encoding(
    accept_encoding: str, supported: tuple[str, ...], preferred: tuple[str, ...]
) -> str | None:
    """The coding of ``supported`` to use for ``accept_encoding``, ``preferred`` breaking ties
    of equal quality; None when none is acceptable.
    """
    accepted = _parse_accept_encoding(accept_encoding)
    priorities = [_priority(encoding, accepted, i) for i, encoding in enumerate(supported)]
    # ``spec.q > 0``: NaN qualities are dropped too.
    candidates = [p for p in priorities if p.q > 0]
    if not candidates:
        return None
    candidates.sort(key=cmp_to_key(lambda a, b: _compare(a, b, preferred)))  # stable, as V8's
    return candidates[0].encoding
