"""Origin patterns of ``backend.cors.origin``: minimatch globs (``nocase``, ``noglobstar``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["compile_origin_patterns"]


def _expand_braces(pattern: str) -> list[str]:
    # minimatch expands {a,b} (nested too) before matching; a brace without a comma is literal.
    depth, start = 0, -1
    for index, char in enumerate(pattern):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                body = pattern[start + 1 : index]
                options, level, last = [], 0, 0
                for offset, inner in enumerate(body):
                    if inner == "{":
                        level += 1
                    elif inner == "}":
                        level -= 1
                    elif inner == "," and level == 0:
                        options.append(body[last:offset])
                        last = offset + 1
                if not options:
                    continue
                options.append(body[last:])
                head, tail = pattern[:start], pattern[index + 1 :]
                return [
                    expanded
                    for option in options
                    for expanded in _expand_braces(head + option + tail)
                ]
    return [pattern]


def _segment_regex(segment: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            close = segment.find("]", index + 2)
            if close == -1:
                out.append(re.escape(char))
            else:
                body = segment[index + 1 : close]
                if body.startswith("!"):
                    body = "^" + body[1:]
                escaped_body = body.replace("\\", "\\\\")
                out.append(f"[{escaped_body}]")
                index = close
        elif char == "\\" and index + 1 < len(segment):
            index += 1
            out.append(re.escape(segment[index]))
        else:
            out.append(re.escape(char))
        index += 1
    regex = "".join(out)
    # Like minimatch without `dot`, a wildcard never matches a leading '.' of a segment.
    if segment[:1] in ("*", "?", "["):
        regex = r"(?!\.)" + regex
    return regex


def _pattern_regex(pattern: str) -> str:
    negated = False
    while pattern.startswith("!"):
        negated = not negated
        pattern = pattern[1:]
    body = "/".join(_segment_regex(segment) for segment in pattern.split("/"))
    return f"(?!{body}$).*" if negated else body


def compile_origin_patterns(patterns: Iterable[str]) -> re.Pattern[str]:
    """One case-insensitive regex that matches an origin when any of ``patterns`` does."""
    alternatives = [
        _pattern_regex(expanded) for pattern in patterns for expanded in _expand_braces(pattern)
    ]
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile("(?:" + "|".join(alternatives) + r")\Z", re.IGNORECASE)
