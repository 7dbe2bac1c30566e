"""``${NAME}`` substitution in string values (Backstage's ``transform/substitution.ts``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ._js import js_trim

__all__ = ["EnvLookup", "Substitution", "env_lookup", "substitute"]

#: Reads one environment variable; None when it is not set.
EnvLookup = Callable[[str], "str | None"]

# ``$${...}`` (an escape) or ``${...}`` (a token); neither may contain braces, as in Backstage.
_TOKEN = re.compile(r"(\$?\$\{[^{}]*\})")
_FALLBACK_SEPARATOR = ":-"


def env_lookup(env: Mapping[str, str]) -> EnvLookup:
    """Backstage's default substitution function: the variable's value, whitespace-trimmed."""

    def lookup(name: str) -> str | None:
        value = env.get(name)
        return None if value is None else js_trim(value)

    return lookup


@dataclass(frozen=True)
class Substitution:
    """The result of substituting one string.

    ``value`` is None when a token named an unset variable (the whole value is then undefined and
    its key disappears). ``from_env`` says whether an environment value made it into ``value``.
    """

    value: str | None
    from_env: bool


def substitute(text: str, lookup: EnvLookup) -> Substitution:
    """Replace ``${NAME}`` / ``${NAME:-fallback}`` tokens and unescape ``$${...}``.

    As ``transform/substitution.ts``: ``${NAME}`` gives the variable's value, even an empty one,
    and the whole value is undefined when the variable is unset. ``${NAME:-fallback}`` gives the
    value when it is non-empty, else the (trimmed) fallback when that is non-empty, else the
    whole value is undefined. ``$${X}`` becomes the literal ``${X}``.
    """
    parts = _TOKEN.split(text)
    out: list[str] = []
    from_env = False
    undefined = False
    for index, part in enumerate(parts):
        if index % 2 == 0:
            out.append(part)
            continue
        if part.startswith("$$"):
            out.append(part[1:])
            continue
        inner = part[2:-1]
        separator = inner.find(_FALLBACK_SEPARATOR)
        if separator > -1:
            value = lookup(js_trim(inner[:separator]))
            fallback = js_trim(inner[separator + len(_FALLBACK_SEPARATOR) :])
            if value:
                from_env = True
                out.append(value)
            elif fallback:
                out.append(fallback)
            else:
                # ``envValue || fallback || undefined``: nothing to put there, so the whole
                # value is undefined and its key disappears, as with an unset ``${NAME}``.
                undefined = True
            continue
        value = lookup(js_trim(inner))
        if value is None:
            undefined = True
            continue
        from_env = from_env or value != ""
        out.append(value)
    if undefined:
        return Substitution(None, False)
    return Substitution("".join(out), from_env)
