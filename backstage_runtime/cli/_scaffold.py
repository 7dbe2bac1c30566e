"""``backstage-runtime new plugin|module``: a new distribution from the templates in _templates/."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from .._version import __version__
from ..api.errors import InputError

__all__ = ["Scaffold", "module_scaffold", "plugin_scaffold", "write_scaffold"]

# Backstage's CLI rule for plugin and module ids, narrowed to what create_backend_plugin
# accepts (a leading letter), so that a generated distribution always starts.
_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_TEMPLATE_SUFFIX = ".tmpl"


def _check_id(kind: str, value: str) -> None:
    if not _ID.match(value):
        raise InputError(
            f"Invalid {kind} ID '{value}': {kind} IDs must be lowercase and contain only "
            "letters, digits, and dashes, starting with a letter (e.g. 'my-plugin')"
        )


def _runtime_requirement() -> str:
    # A local or unknown version ("0.0.0+unknown" from a bare source tree) is no lower bound.
    release = __version__.split("+", 1)[0]
    return release if release != "0.0.0" else "0"


@dataclass(frozen=True)
class Scaffold:
    """What to generate: the template folder and the values of its placeholders."""

    template: str
    directory_name: str
    values: dict[str, str]

    def render(self, text: str) -> str:
        """``text`` with every ``__name__`` placeholder replaced."""
        for name, value in self.values.items():
            text = text.replace(f"__{name}__", value)
        return text


def plugin_scaffold(plugin_id: str) -> Scaffold:
    """The distribution ``backstage-plugin-<id>-backend`` (Backstage's naming) in ``./<id>``."""
    _check_id("plugin", plugin_id)
    var = plugin_id.replace("-", "_")
    return Scaffold(
        template="plugin",
        directory_name=plugin_id,
        values={
            "plugin_id": plugin_id,
            "package": f"backstage_plugin_{var}_backend",
            "dist": f"backstage-plugin-{plugin_id}-backend",
            "var": var,
            "runtime_version": _runtime_requirement(),
        },
    )


def module_scaffold(plugin_id: str, module_id: str) -> Scaffold:
    """``backstage-plugin-<plugin>-backend-module-<module>`` in a folder of that tail's name."""
    _check_id("plugin", plugin_id)
    _check_id("module", module_id)
    plugin_var = plugin_id.replace("-", "_")
    module_var = module_id.replace("-", "_")
    return Scaffold(
        template="module",
        directory_name=f"{plugin_id}-backend-module-{module_id}",
        values={
            "plugin_id": plugin_id,
            "module_id": module_id,
            "package": f"backstage_plugin_{plugin_var}_backend_module_{module_var}",
            "dist": f"backstage-plugin-{plugin_id}-backend-module-{module_id}",
            "var": f"{plugin_var}_{module_var}",
            "runtime_version": _runtime_requirement(),
        },
    )


def _template_files(folder: Traversable, relative: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        path = f"{relative}/{entry.name}" if relative else entry.name
        if entry.is_dir():
            found.extend(_template_files(entry, path))
        else:
            found.append((path, entry))
    return found


def write_scaffold(scaffold: Scaffold, target: Path) -> list[Path]:
    """Write the distribution into ``target``; the files written, in order.

    Raises :class:`InputError` when ``target`` exists and is not an empty folder: nothing of
    the user's is ever overwritten.
    """
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InputError(
            f"Refusing to create the {scaffold.template} in '{target}': it exists and is not "
            "an empty directory (choose another with --dir)"
        )
    template = files(__package__ or "backstage_runtime.cli") / "_templates" / scaffold.template
    written: list[Path] = []
    for relative, source in _template_files(template):
        name = scaffold.render(relative)
        if name.endswith(_TEMPLATE_SUFFIX):
            name = name[: -len(_TEMPLATE_SUFFIX)]
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(scaffold.render(source.read_text(encoding="utf-8")), encoding="utf-8")
        written.append(path)
    return written
