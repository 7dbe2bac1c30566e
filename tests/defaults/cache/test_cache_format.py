"""Stored keys and values in Backstage's (Keyv's) exact format, for sharing a Redis with Node."""

from __future__ import annotations

import base64
import hashlib

import pytest

from backstage_runtime.defaults.cache import CacheEntry, normalize_key
from backstage_runtime.defaults.cache._codec import decode_entry, encode_entry


@pytest.mark.parametrize(
    ("key", "stored"),
    [
        # Buffer.from(key).toString('base64') in Node gives these.
        ("foo", "Zm9v"),
        ("", ""),
        ("a/b c", "YS9iIGM="),
        ("zażółć", "emHFvMOzxYLEhw=="),
        ("🎉", "8J+OiQ=="),
    ],
)
def test_keys_are_base64_of_utf8(key: str, stored: str) -> None:
    assert normalize_key(key) == stored


def test_keys_whose_base64_reaches_200_chars_are_sha256_hashed() -> None:
    assert len(normalize_key("x" * 147)) == 196  # 147 bytes -> 196 base64 chars: kept
    hashed = normalize_key("x" * 148)  # 148 bytes -> 200 chars: hashed
    assert hashed == base64.b64encode(hashlib.sha256(b"x" * 148).digest()).decode()
    assert len(hashed) == 44
    # The hash is of the original key, not of its base64 form.
    assert (
        hashed != base64.b64encode(hashlib.sha256(base64.b64encode(b"x" * 148)).digest()).decode()
    )


def test_lone_surrogates_are_encoded_as_node_does() -> None:
    # Node's Buffer.from turns a lone surrogate into U+FFFD (EF BF BD).
    assert normalize_key("a\ud800b") == base64.b64encode(b"a\xef\xbf\xbdb").decode()
    # A surrogate pair is one character for Node.
    assert normalize_key("\ud83c\udf89") == normalize_key("🎉")


def test_non_string_keys_raise() -> None:
    with pytest.raises(TypeError, match="strings"):
        normalize_key(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        (CacheEntry("hello"), '{"value":"hello"}'),
        (CacheEntry("hello", 1700000000000), '{"value":"hello","expires":1700000000000}'),
        (CacheEntry(None), '{"value":null}'),
        (CacheEntry({"a": [1, 2.5, True]}), '{"value":{"a":[1,2.5,true]}}'),
        # Keyv escapes string values starting with ':' (not object keys).
        (CacheEntry({":k": ":v", "l": [":x", "y:"]}), '{"value":{":k":"::v","l":["::x","y:"]}}'),
        (CacheEntry(":base64:AA=="), '{"value":"::base64:AA=="}'),
        (CacheEntry("zażółć"), '{"value":"zażółć"}'),
    ],
)
def test_values_are_written_as_keyv_writes_them(entry: CacheEntry, text: str) -> None:
    assert encode_entry(entry) == text
    assert decode_entry(text) == entry


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        # Keyv 4 wrote "expires": null for entries without a TTL.
        ('{"value":"v","expires":null}', CacheEntry("v")),
        ('{"expires":null,"value":{"n":1}}', CacheEntry({"n": 1})),
        # A Node Buffer has no JSON form: it stays its marker string.
        ('{"value":":base64:aGk="}', CacheEntry(":base64:aGk=")),
    ],
)
def test_values_written_by_node_are_read(text: str, entry: CacheEntry) -> None:
    assert decode_entry(text) == entry


@pytest.mark.parametrize("text", ["not json", "[1,2]", '{"other":1}', '"just a string"', None])
def test_foreign_or_missing_values_read_as_misses(text: str | None) -> None:
    assert decode_entry(text) is None


def test_lone_surrogates_in_values_are_escaped_as_json_stringify_does() -> None:
    text = encode_entry(CacheEntry("a\ud800"))
    assert text == '{"value":"a\\ud800"}'
    text.encode("utf-8")  # storable


def test_expiry_check() -> None:
    assert CacheEntry(1, 1000).expired(1001)
    assert not CacheEntry(1, 1000).expired(1000)
    assert not CacheEntry(1).expired(10**15)
