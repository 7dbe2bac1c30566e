"""Glob patterns as ``minimatch`` (which Backstage's readers use) understands them.

``*`` and ``?`` stay inside one path segment, ``**`` spans segments, ``[...]`` is a character
class and ``{a,b}`` an alternation. As in minimatch's default mode, wildcards do not match a
leading ``.`` (``**/*.yaml`` skips ``.github/x.yaml``; write ``.github/*.yaml`` for that).
"""

from __future__ import annotations

import re

__all__ = ["compile_glob", "is_glob", "static_prefix"]

_GLOB_CHARS = re.compile(r"[*?]|\[[^\]]*\]|\{[^}]*,[^}]*\}")
_NOT_DOT = r"(?!\.)"
_SEGMENT = r"(?!\.)[^/]+"


def is_glob(path: str) -> bool:
    """Whether ``path`` holds glob syntax (else readers treat it as one literal file)."""
    return bool(_GLOB_CHARS.search(path))


def static_prefix(pattern: str) -> str:
    """The leading segments without glob syntax: ``catalog/foo/*.yaml`` → ``catalog/foo``."""
    static: list[str] = []
    for segment in pattern.strip("/").split("/"):
        if is_glob(segment):
            break
        static.append(segment)
    return "/".join(static)


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex that ``fullmatch``-es the relative paths matched by ``pattern``.

    Leading slashes are ignored, as Backstage's GitHub reader strips them.
    """
    alternatives = _expand_braces(pattern.lstrip("/"))
    return re.compile("|".join(f"(?:{_translate(p)})" for p in alternatives), re.DOTALL)


def _translate(pattern: str) -> str:
    segments = pattern.split("/")
    regex = ""
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            if not last:
                regex += rf"(?:{_SEGMENT}/)*"
            elif index == 0:
                regex += rf"(?:{_SEGMENT}(?:/{_SEGMENT})*)?"
            else:
                # ``a/**`` matches ``a`` and everything below it.
                regex = regex.removesuffix("/") + rf"(?:/{_SEGMENT})*"
        else:
            regex += _translate_segment(segment) + ("" if last else "/")
    return regex


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    if segment[:1] in ("*", "?", "["):
        out.append(_NOT_DOT)
    i = 0
    while i < len(segment):
        char = segment[i]
        if char == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = segment.find("]", i + 2 if segment[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = segment[i + 1 : end]
                negate = body[:1] in ("!", "^")
                body = body[1:] if negate else body
                body = body.replace("\\", "\\\\")
                out.append(f"[{'^/' if negate else ''}{body}]")
                i = end
        elif char == "\\" and i + 1 < len(segment):
            i += 1
            out.append(re.escape(segment[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _expand_braces(pattern: str) -> list[str]:
    """``a/{b,c}/*.yaml`` → ``["a/b/*.yaml", "a/c/*.yaml"]`` (nested braces supported)."""
    depth = 0
    start = -1
    for index, char in enumerate(pattern):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                options = _split_top_level(pattern[start + 1 : index])
                if len(options) > 1:
                    head, tail = pattern[:start], pattern[index + 1 :]
                    return [
                        expanded
                        for option in options
                        for expanded in _expand_braces(head + option + tail)
                    ]
    return [pattern]


def _split_top_level(body: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for char in body:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        current += char
    parts.append(current)
    return parts
