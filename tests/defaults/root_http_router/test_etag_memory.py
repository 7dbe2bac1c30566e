"""Remembered ETags are the ones computed afresh, and the memory stays small."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backstage_runtime.defaults.root_http_router import _etag
from backstage_runtime.defaults.root_http_router._etag import (
    MAX_REMEMBERED_BODY_BYTES,
    MAX_REMEMBERED_ETAGS,
    weak_etag,
)


def computed(body: bytes) -> bytes:
    """jshttp/etag's weak tag, computed without any memory."""
    digest = base64.b64encode(hashlib.sha1(body).digest())[:27]
    return b'W/"%x-%s"' % (len(body), digest)


@given(st.binary(max_size=2 * MAX_REMEMBERED_BODY_BYTES))
def test_a_tag_is_the_same_computed_or_remembered(body: bytes) -> None:
    assert weak_etag(body) == computed(body)
    assert weak_etag(bytes(body)) == computed(body)  # an equal body: from memory if small


def test_small_bodies_are_remembered_and_large_ones_not() -> None:
    _etag._remembered.clear()
    weak_etag(b'{"ok":true}')
    weak_etag(b"x" * (MAX_REMEMBERED_BODY_BYTES + 1))
    mutable: Any = bytearray(b"mutable")  # not bytes: not a key
    assert weak_etag(mutable) == computed(b"mutable")

    assert list(_etag._remembered) == [b'{"ok":true}']


def test_the_memory_is_bounded() -> None:
    _etag._remembered.clear()
    for index in range(MAX_REMEMBERED_ETAGS + 10):
        assert weak_etag(b"%d" % index) == computed(b"%d" % index)

    assert len(_etag._remembered) <= MAX_REMEMBERED_ETAGS
