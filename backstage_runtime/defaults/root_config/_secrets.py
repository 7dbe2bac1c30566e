"""Which config values to redact from logs (see :meth:`RootConfig.secret_values`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from backstage_runtime.api.services._json import JsonValue

from ._js import js_number_to_string
from ._source import ConfigSourceData

__all__ = ["collect_secret_values", "looks_secret"]

_SECRET_FRAGMENTS: Final = ("password", "secret", "token", "privatekey", "apikey", "clientsecret")


def looks_secret(key: str) -> bool:
    """Whether a key segment names a secret (``clientSecret``, ``apiToken``, ``key``)."""
    lowered = key.lower()
    return lowered == "key" or any(fragment in lowered for fragment in _SECRET_FRAGMENTS)


def _leaves(value: JsonValue) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int | float):
        yield js_number_to_string(value)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        for item in value.values():
            yield from _leaves(item)


def _under_secret_keys(value: JsonValue) -> Iterable[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if looks_secret(key):
                yield from _leaves(item)
            else:
                yield from _under_secret_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _under_secret_keys(item)


def collect_secret_values(sources: Iterable[ConfigSourceData]) -> list[str]:
    """Every secret-looking value of every source, deduplicated, longest first."""
    found: dict[str, None] = {}
    for source in sources:
        found.update(dict.fromkeys(source.secrets))
        found.update(dict.fromkeys(_under_secret_keys(source.data)))
    values = [value for value in found if len(value) > 1]
    return sorted(values, key=len, reverse=True)
