"""A griffe extension: our docstrings are written for Sphinx, the site renders Markdown.

Two reStructuredText habits would show up literally: roles (``:class:`ServiceRef```) become
optional cross-references (a link when the name is documented on the site, plain code when not,
so a role naming the standard library never fails ``--strict``), and a paragraph ending in ``::``
before a literal block ends in ``:`` as Sphinx shows it.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

import griffe

_ROLE = re.compile(
    r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const|type):`(?P<target>[^`]+)`"
)
#: ``text::`` (or a lone ``::``) at the end of a paragraph, before an indented literal block.
_LITERAL_MARKER = re.compile(r"(?P<space>\s?)::(?P<end>\n\n[ \t]+\S)")


class SphinxRoles(griffe.Extension):
    """Rewrites every docstring of a loaded package once the whole package is known."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        """Rewrite the docstrings of ``pkg`` and everything in it (aliases share their target's)."""
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _rewrite(obj.docstring.value, obj)


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found.extend(_walk(member))  # type: ignore[arg-type]
    return found


def _rewrite(text: str, scope: griffe.Object) -> str:
    def role(match: re.Match[str]) -> str:
        target = match["target"]
        short = target.startswith("~")
        name = target.lstrip("~.")
        shown = name.rsplit(".", 1)[-1] if short else name
        return (
            f'<autoref identifier="{escape(_resolve(name, scope))}" optional>'
            f"<code>{escape(shown)}</code></autoref>"
        )

    def literal(match: re.Match[str]) -> str:
        return ("" if match["space"] else ":") + match["end"]

    return _LITERAL_MARKER.sub(literal, _ROLE.sub(role, text))


def _resolve(name: str, scope: griffe.Object) -> str:
    """The full path ``name`` stands for where the docstring is written, or ``name`` itself."""
    first, _, rest = name.partition(".")
    try:
        base = scope.resolve(first)
    except (griffe.NameResolutionError, AttributeError):
        return name
    # A name imported from a re-exporting package (``from ..runtime import Backend``) resolves to
    # that package's alias; the site knows the object by its canonical path.
    try:
        found = scope.modules_collection[base]
        base = found.final_target.path if found.is_alias else found.path
    except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
        pass
    return f"{base}.{rest}" if rest else base
