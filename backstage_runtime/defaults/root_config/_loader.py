"""Config files: which ones to read, and resolving ``${...}``, ``$env``, ``$file``, ``$include``.

Mirrors Backstage's ``FileConfigSource`` and ``transform/{apply,include}.ts``: values are
transformed depth-first; a value that resolves to *undefined* disappears (from objects and from
arrays alike); the first directive error stops the load and names the file and the key path
(Backstage's ``error at .a.b, ...``), to which we add the line (``(app-config.yaml:12)``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.api.services._json import JsonObject, JsonValue

from ._js import is_object, js_trim
from ._source import ConfigSourceData
from ._substitution import EnvLookup, substitute
from ._yaml import LocDict, LocList, YamlError, parse_yaml

__all__ = ["default_config_paths", "load_file_source", "resolve_config_paths"]

_INCLUDE_KEYS: Final = ("$file", "$env", "$include")


class _Undefined:
    """JavaScript's ``undefined``: a value that removes its key (distinct from ``null``)."""

    __slots__ = ()


_UNDEFINED: Final = _Undefined()


class _DirectiveError(Exception):
    """A transform failed at ``path`` (Backstage's dotted form, ``.a.b[0]``)."""

    def __init__(self, message: str, path: str, location: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.location = location


class _FileMissingError(Exception):
    """Backstage's ``NotFoundError`` for an included file that does not exist."""


def _read_text(full_path: str) -> str:
    try:
        with open(full_path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise _FileMissingError(f'failed to include "{full_path}", file does not exist') from None


def _describe(error: BaseException) -> str:
    """How JavaScript's ``${error}`` renders an error inside a message: ``<Name>: <message>``."""
    if isinstance(error, _FileMissingError):
        return f"NotFoundError: {error}"
    if isinstance(error, OSError):
        return f"Error: {error.strerror or error}, open '{error.filename}'"
    if isinstance(error, YamlError):
        return f"YAMLParseError: {error}"
    if isinstance(error, json.JSONDecodeError | ValueError):
        return f"SyntaxError: {error}"
    return f"Error: {error}"


def _reject_constant(name: str) -> Any:
    # JSON.parse has no NaN or Infinity; Python's json module accepts them by default.
    raise ValueError(f"Unexpected token '{name}' in JSON")


def _parse_json(text: str) -> Any:
    return json.loads(text, parse_constant=_reject_constant)


def _join_key(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class _Transformer:
    """Resolves one file's raw data; collects key locations and secret values on the way."""

    def __init__(self, lookup: EnvLookup) -> None:
        self._lookup = lookup
        self.locations: dict[str, str] = {}
        self.secrets: list[str] = []

    def run(self, raw: Any, directory: str, file_name: str) -> JsonValue | _Undefined:
        result: JsonValue | _Undefined = self._transform(raw, "", "", directory, file_name, None)
        return result

    def _transform(
        self,
        value: Any,
        error_path: str,
        key: str,
        directory: str,
        file_name: str,
        here: str | None,
    ) -> Any:
        try:
            applied, result, directory, file_name = self._apply_transforms(
                value, directory, file_name
            )
        except _DirectiveError:
            raise
        except Exception as error:  # a transform failed: name the key, as Backstage does
            raise _DirectiveError(str(error), error_path, here) from error
        if applied:
            if result is _UNDEFINED:
                return _UNDEFINED
            value = result
        if isinstance(value, list):
            items: list[JsonValue] = []
            for index, item in enumerate(value):
                item_key = f"{key}[{len(items)}]"
                item_here = self._item_location(value, index, file_name)
                out = self._transform(
                    item, f"{error_path}[{index}]", item_key, directory, file_name, item_here
                )
                if out is not _UNDEFINED:
                    items.append(out)
                    if item_here is not None:
                        self.locations.setdefault(item_key, item_here)
            return items
        if isinstance(value, dict):
            obj: JsonObject = {}
            for child, item in value.items():
                child_key = _join_key(key, child)
                child_here = self._key_location(value, child, file_name)
                out = self._transform(
                    item, f"{error_path}.{child}", child_key, directory, file_name, child_here
                )
                if out is not _UNDEFINED:
                    obj[child] = out
                    if child_here is not None:
                        self.locations.setdefault(child_key, child_here)
            return obj
        return value

    @staticmethod
    def _key_location(container: dict[str, Any], key: str, file_name: str) -> str | None:
        if isinstance(container, LocDict) and key in container.key_lines:
            return f"{container.file}:{container.key_lines[key]}"
        return file_name

    @staticmethod
    def _item_location(container: list[Any], index: int, file_name: str) -> str | None:
        if isinstance(container, LocList) and index < len(container.item_lines):
            return f"{container.file}:{container.item_lines[index]}"
        return file_name

    def _apply_transforms(
        self, value: Any, directory: str, file_name: str
    ) -> tuple[bool, Any, str, str]:
        """Backstage's transform list: substitution first, then the include directives."""
        if isinstance(value, str):
            result = substitute(value, self._lookup)
            if result.value is None:
                return True, _UNDEFINED, directory, file_name
            if result.from_env:
                self.secrets.append(result.value)
            return True, result.value, directory, file_name
        if not isinstance(value, dict):
            return False, None, directory, file_name
        found = [key for key in value if key in _INCLUDE_KEYS]
        if not found:
            return False, None, directory, file_name
        include_key = found[0]
        if len(value) != 1:
            raise ValueError(f"include key {include_key} should not have adjacent keys")
        raw = value[include_key]
        if not isinstance(raw, str):
            raise ValueError(f"{include_key} include value is not a string")
        substituted = substitute(raw, self._lookup)
        if substituted.value is None:
            raise ValueError(f"{include_key} substitution value was undefined")
        target = substituted.value
        if include_key == "$file":
            return True, self._include_file(directory, target), directory, file_name
        if include_key == "$env":
            env_value = self._lookup(target)
            if env_value is None:
                return True, _UNDEFINED, directory, file_name
            self.secrets.append(env_value)
            return True, env_value, directory, file_name
        return self._include_data(directory, target)

    def _include_file(self, directory: str, target: str) -> str:
        full_path = os.path.normpath(os.path.join(directory, target))
        try:
            text = js_trim(_read_text(full_path), end_only=True)
        except Exception as error:
            raise ValueError(f"failed to read file {target}, {_describe(error)}") from error
        self.secrets.append(text)
        return text

    def _include_data(self, directory: str, target: str) -> tuple[bool, Any, str, str]:
        file_path, _, data_path = target.partition("#")
        extension = os.path.splitext(file_path)[1]
        if extension not in (".json", ".yaml", ".yml"):
            raise ValueError(f"no configuration parser available for included file {file_path}")
        full_path = os.path.normpath(os.path.join(directory, file_path))
        content = _read_text(full_path)
        new_directory = os.path.dirname(full_path)
        new_file_name = os.path.basename(full_path)
        try:
            if extension == ".json":
                value: Any = _parse_json(content)
            else:
                value = parse_yaml(content, new_file_name)
        except Exception as error:
            raise ValueError(
                f"failed to parse included file {file_path}, {_describe(error)}"
            ) from error
        parts = data_path.split(".") if data_path else []
        for index, part in enumerate(parts):
            if not is_object(value):
                partial = ".".join(parts[:index])
                raise ValueError(
                    f"value at '{partial}' in included file {file_path} is not an object"
                )
            value = value.get(part, _UNDEFINED)
        if isinstance(value, str):
            result = substitute(value, self._lookup)
            value = _UNDEFINED if result.value is None else result.value
            if result.from_env and result.value is not None:
                self.secrets.append(result.value)
        return True, value, new_directory, new_file_name


def load_file_source(path: str | os.PathLike[str], lookup: EnvLookup) -> ConfigSourceData | None:
    """Read and resolve one config file; None for an empty document.

    Raises :class:`ConfigError` naming the file when it is missing, is not valid YAML, is not an
    object at its root, or a directive in it fails (then also naming the key path and line).
    """
    full_path = os.path.abspath(os.fspath(path))
    file_name = os.path.basename(full_path)
    try:
        with open(full_path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise ConfigError(f'Config file "{full_path}" does not exist') from None
    except OSError as error:
        raise ConfigError(
            f'Failed to read config file at "{full_path}", {_describe(error)}'
        ) from error
    try:
        raw = parse_yaml(text, file_name)
    except YamlError as error:
        where = f" at line {error.line}, column {error.column}" if error.line else ""
        raise ConfigError(
            f'Invalid YAML in config file "{full_path}"{where}: {error.problem}'
        ) from error
    if raw is None:
        return None
    transformer = _Transformer(lookup)
    try:
        data = transformer.run(raw, os.path.dirname(full_path), file_name)
    except _DirectiveError as error:
        where = f" ({error.location})" if error.location else ""
        raise ConfigError(
            f'Failed to read config file at "{full_path}", error at {error.path}, '
            f"{error.message}{where}"
        ) from error
    if not is_object(data):
        raise ConfigError(
            f'Failed to read config file at "{full_path}", expected object at config root'
        )
    assert isinstance(data, dict)
    return ConfigSourceData(
        context=file_name,
        data=data,
        locations=dict(transformer.locations),
        secrets=tuple(transformer.secrets),
        path=full_path,
    )


def default_config_paths(cwd: Path, env: Mapping[str, str]) -> list[Path]:
    """The files Backstage reads when no ``--config`` is given, those that exist, in order.

    ``app-config.yaml``, ``app-config.<env>.yaml`` for each env in ``BACKSTAGE_ENV``
    (comma-separated), ``app-config.local.yaml``, then ``app-config.<env>.local.yaml``.
    """
    envs = [js_trim(part) for part in env.get("BACKSTAGE_ENV", "").split(",")]
    envs = [name for name in envs if name]
    names = [
        "app-config.yaml",
        *(f"app-config.{name}.yaml" for name in envs),
        "app-config.local.yaml",
        *(f"app-config.{name}.local.yaml" for name in envs),
    ]
    return [cwd / name for name in names if (cwd / name).is_file()]


def resolve_config_paths(
    config_paths: Sequence[str | os.PathLike[str]] | None, cwd: Path, env: Mapping[str, str]
) -> list[Path]:
    """The explicit paths made absolute against ``cwd``, or the defaults when none are given."""
    if not config_paths:
        return default_config_paths(cwd, env)
    return [cwd / Path(os.fspath(path)) for path in config_paths]
