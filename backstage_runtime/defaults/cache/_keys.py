"""Cache keys as Backstage stores them, so a Python and a Node plugin sharing a store agree."""

from __future__ import annotations

import base64
import hashlib

__all__ = ["MAX_ENCODED_KEY_LENGTH", "normalize_key"]

#: Backstage hashes a key whose base64 form is this long or longer (memcached's key limit is 250
#: bytes, and the namespace is prepended).
MAX_ENCODED_KEY_LENGTH = 200


def normalize_key(key: str) -> str:
    """The stored form of ``key``: base64 of its UTF-8 bytes, or base64 of their SHA-256 when
    that form reaches :data:`MAX_ENCODED_KEY_LENGTH` characters (``CacheClient.ts``).

    Raises :class:`TypeError` when ``key`` is not a string.
    """
    if not isinstance(key, str):
        raise TypeError(f"Cache keys must be strings, got {type(key).__name__}")
    data = _utf8(key)
    encoded = base64.b64encode(data).decode("ascii")
    if len(encoded) < MAX_ENCODED_KEY_LENGTH:
        return encoded
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Node's Buffer.from(string) joins surrogate pairs and turns lone surrogates into U+FFFD;
        # a round trip through UTF-16 does the same, so both sides hash the same bytes.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")
