"""Backstage's ``ConfigReader`` (``packages/config/src/reader.ts``) in Python.

The config is a chain of readers, one per source, highest priority first; each falls back to the
next. Reading through the chain rather than from one pre-merged object is what Backstage does,
and it shows in corner cases (a lower source with a string where a higher one has an object makes
``get_config`` fail), so errors here are the ones a Backstage user would see.

A ``null`` is an explicit *unset* (``@backstage/config`` 1.2 and later): wherever it is written
(``key: null``, ``key: ~``, an empty ``key:``) the key reads as missing, and it hides whatever a
lower-priority source has there, down to the keys below it.

Where we add to Backstage: type and conversion errors end with where the value was written, e.g.
``(app-config.yaml:12)`` or ``(env APP_CONFIG_backend_baseUrl)``; and conversion errors and the
readers of ``get_config_array`` name the source the value came from (Backstage names the
highest-priority source there, even when the value came from another).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final, TypeVar

from backstage_runtime.api.errors import ConfigError
from backstage_runtime.api.services._json import JsonObject, JsonValue
from backstage_runtime.api.services.config import Config

from ._js import (
    UNDEFINED,
    Undefined,
    deep_copy,
    is_object,
    js_number_to_string,
    js_to_number,
    js_trim,
    merge_values,
    type_of,
)
from ._source import ConfigSourceData

__all__ = ["DEFAULT_CONTEXT", "ConfigReader"]

#: The context of a reader built from bare data, as in Backstage.
DEFAULT_CONTEXT: Final = "mock-config"

# Backstage's CONFIG_KEY_PART_PATTERN (``@backstage/config`` constants, 1.47).
_KEY_PART: Final = re.compile(r"^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$", re.IGNORECASE)
_TRUE: Final = re.compile(r"^(?:y|yes|true|1|on)$", re.IGNORECASE)
_FALSE: Final = re.compile(r"^(?:n|no|false|0|off)$", re.IGNORECASE)

T = TypeVar("T")


class _Mismatch:
    """A failed validation: what was expected and, for an array element, which element."""

    __slots__ = ("expected", "key", "value")

    def __init__(self, expected: str, key: str | None = None, value: object = None) -> None:
        self.expected = expected
        self.key = key
        self.value = value


_Validator = Callable[[JsonValue], "_Mismatch | None"]


def _missing(key: str) -> ConfigError:
    return ConfigError(f"Missing required config value at '{key}'")


class ConfigReader:
    """A read-only config view over a chain of sources (Backstage's ``ConfigReader``).

    Build one with :meth:`from_sources` or directly from data: ``ConfigReader({"a": 1})``.
    """

    def __init__(
        self,
        data: JsonObject | None,
        context: str = DEFAULT_CONTEXT,
        fallback: ConfigReader | None = None,
        prefix: str = "",
        *,
        locations: Mapping[str, str] | None = None,
    ) -> None:
        self._data = data
        self._context = context
        self._fallback = fallback
        self._prefix = prefix
        self._locations: Mapping[str, str] = locations or {}

    @classmethod
    def from_sources(cls, sources: Iterable[ConfigSourceData]) -> ConfigReader:
        """Chain ``sources`` given lowest priority first; later sources override earlier ones."""
        reader: ConfigReader | None = None
        for source in sources:
            reader = cls(source.data, source.context, reader, locations=source.locations)
        return reader if reader is not None else cls(None)

    @property
    def context(self) -> str:
        """The name of the source this reader reads first (``app-config.yaml``, ``env``)."""
        return self._context

    # -- Backstage's Config API ---------------------------------------------------------------

    def has(self, key: str) -> bool:
        """Whether a value exists at ``key``; a ``null`` is no value and hides lower sources."""
        value = self._read_value(key)
        if value is None:
            return False
        if value is not _ABSENT:
            return True
        return self._fallback.has(key) if self._fallback is not None else False

    def keys(self) -> list[str]:
        """The keys of this object across all sources, highest-priority source's first.

        A key this source sets to ``null`` is left out, even where a lower source has a value.
        """
        seen: dict[str, None] = {}
        if self._data is not None:
            seen.update(dict.fromkeys(self._data))
        if self._fallback is not None:
            seen.update(dict.fromkeys(self._fallback.keys()))
        data = self._data
        return [key for key in seen if data is None or data.get(key, _ABSENT) is not None]

    def get(self, key: str | None = None) -> JsonValue:
        """The value at ``key`` (objects merged across sources); raises if missing."""
        value = self._optional(key)
        if isinstance(value, _Absent):
            raise _missing(self._full_key(key or ""))
        return value

    def get_optional(self, key: str | None = None) -> JsonValue | None:
        """The value at ``key`` with objects merged across sources, or None if missing.

        Keys set to ``null`` are left out of the objects returned (not out of arrays).
        """
        value = self._optional(key)
        return None if isinstance(value, _Absent) else value

    def get_config(self, key: str) -> ConfigReader:
        """A reader for the object at ``key``; raises if missing or not an object."""
        reader = self.get_optional_config(key)
        if reader is None:
            raise _missing(self._full_key(key))
        return reader

    def get_optional_config(self, key: str) -> ConfigReader | None:
        """A reader for the object at ``key``, or None if missing; raises if not an object."""
        value = self._read_value(key)
        fallback = self._fallback.get_optional_config(key) if self._fallback else None
        if isinstance(value, dict):
            return self._copy(value, key, fallback)
        if value is None:
            return None
        if value is not _ABSENT:
            raise self._type_error(self._full_key(key), value, "object")
        return fallback

    def get_config_array(self, key: str) -> list[Config]:
        """Readers for the objects in the array at ``key``; raises if missing."""
        readers = self.get_optional_config_array(key)
        if readers is None:
            raise _missing(self._full_key(key))
        return readers

    def get_optional_config_array(self, key: str) -> list[Config] | None:
        """Readers for the objects in the array at ``key``, or None if missing."""

        def validate(values: JsonValue) -> _Mismatch | None:
            if not isinstance(values, list):
                return _Mismatch("object-array")
            for index, item in enumerate(values):
                if not is_object(item):
                    return _Mismatch("object-array", f"{key}[{index}]", item)
            return None

        found = self._read_config_value(key, validate)
        if found is None:
            return None
        values, owner = found
        assert isinstance(values, list)
        readers: list[Config] = [
            owner._copy(item, f"{key}[{index}]", None)
            for index, item in enumerate(values)
            if isinstance(item, dict)
        ]
        return readers

    def get_number(self, key: str) -> float:
        """The number at ``key``; numeric strings are converted. Raises if missing."""
        value = self.get_optional_number(key)
        if value is None:
            raise _missing(self._full_key(key))
        return value

    def get_optional_number(self, key: str) -> float | None:
        """The number at ``key`` (numeric strings converted as ``Number()`` does), or None."""

        def validate(value: JsonValue) -> _Mismatch | None:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return _Mismatch("number")
            return None

        found = self._read_config_value(key, validate)
        if found is None:
            return None
        value, owner = found
        if not isinstance(value, str):
            assert isinstance(value, int | float)
            return value
        number = js_to_number(value)
        if number is None:
            raise owner._convert_error(key, "number")
        return number

    def get_boolean(self, key: str) -> bool:
        """The boolean at ``key``; ``yes``/``no``/``on``/``off``/``1``/``0`` accepted."""
        value = self.get_optional_boolean(key)
        if value is None:
            raise _missing(self._full_key(key))
        return value

    def get_optional_boolean(self, key: str) -> bool | None:
        """The boolean at ``key``, or None; strings and numbers converted as Backstage does."""

        def validate(value: JsonValue) -> _Mismatch | None:
            if not isinstance(value, bool | int | float | str):
                return _Mismatch("boolean")
            return None

        found = self._read_config_value(key, validate)
        if found is None:
            return None
        value, owner = found
        if isinstance(value, bool):
            return value
        assert isinstance(value, int | float | str)
        text = js_trim(value if isinstance(value, str) else js_number_to_string(value))
        if _TRUE.match(text):
            return True
        if _FALSE.match(text):
            return False
        raise owner._convert_error(key, "boolean")

    def get_string(self, key: str) -> str:
        """The non-empty string at ``key``; raises if missing."""
        value = self.get_optional_string(key)
        if value is None:
            raise _missing(self._full_key(key))
        return value

    def get_optional_string(self, key: str) -> str | None:
        """The non-empty string at ``key``, or None; the empty string is a type error."""

        def validate(value: JsonValue) -> _Mismatch | None:
            if isinstance(value, str) and value != "":
                return None
            return _Mismatch("string")

        found = self._read_config_value(key, validate)
        if found is None:
            return None
        value = found[0]
        assert isinstance(value, str)
        return value

    def get_string_array(self, key: str) -> list[str]:
        """The array of non-empty strings at ``key``; raises if missing."""
        value = self.get_optional_string_array(key)
        if value is None:
            raise _missing(self._full_key(key))
        return value

    def get_optional_string_array(self, key: str) -> list[str] | None:
        """The array of non-empty strings at ``key``, or None."""

        def validate(values: JsonValue) -> _Mismatch | None:
            if not isinstance(values, list):
                return _Mismatch("string-array")
            for index, item in enumerate(values):
                if not isinstance(item, str) or item == "":
                    return _Mismatch("string-array", f"{key}[{index}]", item)
            return None

        found = self._read_config_value(key, validate)
        if found is None:
            return None
        values = found[0]
        assert isinstance(values, list)
        return [str(item) for item in values]

    # -- internals ------------------------------------------------------------------------------

    def _optional(self, key: str | None) -> JsonValue | _Absent:
        # The fallback is read first, as in Backstage, so its type errors surface even when
        # this source holds a null there.
        value = self._read_value(key)
        fallback_value = self._fallback._optional(key) if self._fallback else _ABSENT
        if value is None:
            return _ABSENT
        if isinstance(value, _Absent):
            return fallback_value
        merged: JsonValue | _Absent = merge_values(deep_copy(value), fallback_value)
        return merged

    def _full_key(self, key: str) -> str:
        return f"{self._prefix}.{key}" if self._prefix else key

    def _where(self, full_key: str) -> str:
        location = self._locations.get(full_key)
        return f" ({location})" if location else ""

    def _type_error(self, full_key: str, value: object, expected: str) -> ConfigError:
        return ConfigError(
            f"Invalid type in config for key '{full_key}' in '{self._context}', "
            f"got {type_of(value)}, wanted {expected}{self._where(full_key)}"
        )

    def _convert_error(self, key: str, expected: str) -> ConfigError:
        full_key = self._full_key(key)
        return ConfigError(
            f"Unable to convert config value for key '{full_key}' in '{self._context}' "
            f"to a {expected}{self._where(full_key)}"
        )

    def _copy(self, data: JsonObject, key: str, fallback: ConfigReader | None) -> ConfigReader:
        return ConfigReader(
            data, self._context, fallback, self._full_key(key), locations=self._locations
        )

    def _read_config_value(
        self, key: str, validate: _Validator
    ) -> tuple[JsonValue, ConfigReader] | None:
        """The first value found at ``key`` down the chain, validated, with its reader."""
        value = self._read_value(key)
        if value is _ABSENT:
            if self._fallback is None:
                return None
            return self._fallback._read_config_value(key, validate)
        if value is None:
            return None
        assert not isinstance(value, _Absent)
        mismatch = validate(value)
        if mismatch is not None:
            bad_key = mismatch.key if mismatch.key is not None else key
            bad_value = value if mismatch.key is None else mismatch.value
            raise self._type_error(self._full_key(bad_key), bad_value, mismatch.expected)
        return value, self

    def _read_value(self, key: str | None) -> JsonValue | _Absent:
        parts = key.split(".") if key else []
        for part in parts:
            if not _KEY_PART.match(part):
                raise ConfigError(f"Invalid config key '{key}'")
        if self._data is None:
            return _ABSENT
        value: JsonValue | _Absent = self._data
        for index, part in enumerate(parts):
            if isinstance(value, dict):
                value = value.get(part, _ABSENT)
            # Below a null the value stays null (the null hides its whole subtree), below
            # undefined it stays undefined; below anything else it is a type error.
            elif value is not None and not isinstance(value, _Absent):
                bad_key = self._full_key(".".join(parts[:index]))
                raise self._type_error(bad_key, value, "object")
        return value


# JavaScript's ``undefined`` while reading: no value at all (unlike ``null``).
_Absent = Undefined
_ABSENT: Final = UNDEFINED


def _conforms(reader: ConfigReader) -> Config:
    # Lets mypy prove the reader satisfies the Config protocol.
    return reader
