"""Stored values in Keyv's format, the one Backstage's cache writes.

Keyv (``@keyv/serialize``) stores ``{"value":<value>,"expires":<unix ms>}`` as compact JSON,
leaves ``expires`` out when the entry never expires, and escapes every string *value* that starts
with ``:`` by doubling the colon (object keys are not escaped), because ``:base64:`` marks a
Buffer. Writing the same text lets a Node Backstage backend and this one share a Redis.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ...api.services._json import JsonValue

__all__ = ["CacheEntry", "KeyvJsonSerializer", "decode_entry", "encode_entry"]

_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_ASCII = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False)
_BUFFER_MARK = ":base64:"


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A cached value and when it expires (Unix time in milliseconds; None: never)."""

    value: JsonValue
    expires: float | None = None

    def expired(self, now_ms: float) -> bool:
        """Whether the entry is past its expiry at ``now_ms`` (Keyv checks this on every read)."""
        return self.expires is not None and now_ms > self.expires


def encode_entry(entry: CacheEntry) -> str:
    """Keyv's text for ``entry``; :class:`TypeError` / :class:`ValueError` if it is not JSON."""
    value = _escape(entry.value)
    text = _COMPACT.encode(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate cannot be stored as UTF-8; JSON.stringify escapes it as \udxxx,
            # which is what the ASCII encoder does (it escapes the other non-ASCII too, equally
            # valid JSON).
            text = _ASCII.encode(value)
    if entry.expires is None:
        return f'{{"value":{text}}}'
    return f'{{"value":{text},"expires":{_number(entry.expires)}}}'


def decode_entry(text: str | bytes | None) -> CacheEntry | None:
    """The entry stored as ``text``; None when absent or not a Keyv envelope (read as a miss)."""
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or "value" not in data:
        return None
    expires = data.get("expires")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        expires = None
    return CacheEntry(_unescape(data["value"]), expires)


class KeyvJsonSerializer:
    """An aiocache serializer for :class:`CacheEntry` objects in Keyv's format.

    aiocache only needs ``encoding``, ``dumps`` and ``loads``; the service encodes values itself
    (so a bad value raises even while the store is down) and lets aiocache decode reads.
    """

    encoding = "utf-8"

    def dumps(self, entry: CacheEntry) -> str:
        """Encode ``entry``."""
        return encode_entry(entry)

    def loads(self, text: str | bytes | None) -> CacheEntry | None:
        """Decode a stored text (None for a missing or foreign value)."""
        return decode_entry(text)


def _number(value: float) -> str:
    # Date.now() + ttl is an integer in Node; write it without a trailing ".0".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"Invalid cache expiry {value!r}")
    return repr(value)


def _escape(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        return ":" + value if value.startswith(":") else value
    if isinstance(value, dict):
        return {key: _escape(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escape(item) for item in value]
    return value


def _unescape(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        # ":base64:..." is a Node Buffer; there is no JSON equivalent, so it stays a string.
        if value.startswith(":") and not value.startswith(_BUFFER_MARK):
            return value[1:]
        return value
    if isinstance(value, dict):
        return {key: _unescape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unescape(item) for item in value]
    return value
