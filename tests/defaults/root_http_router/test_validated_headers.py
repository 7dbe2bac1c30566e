"""A response's headers checked from memory come out as Hypercorn's own check makes them, and
only the servers speaking Node's HTTP/1.1 use the remembering stream.
"""

from __future__ import annotations

from typing import Any

import hypercorn.protocol.h11
import pytest
from hypercorn.config import Config
from hypercorn.protocol.http_stream import HTTPStream
from hypercorn.utils import build_and_validate_headers
from hypothesis import given
from hypothesis import strategies as st

from backstage_runtime.defaults.root_http_router import _validated_headers
from backstage_runtime.defaults.root_http_router._strict_http1 import StrictFramingConfig
from backstage_runtime.defaults.root_http_router._validated_headers import (
    MAX_KNOWN_HEADER_LISTS,
    NodeHTTPStream,
    http_stream,
    install,
    validated_headers,
)

USUAL = [
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-type", b"application/json; charset=utf-8"),
    (b"content-length", b"17"),
]

_bytes = st.binary(max_size=8) | st.sampled_from([b" a ", b":path", b"x\t"])


@given(st.lists(st.tuples(_bytes, _bytes), max_size=6))
def test_a_list_validates_as_hypercorn_validates_it(lines: list[tuple[bytes, bytes]]) -> None:
    try:
        expected: Any = build_and_validate_headers(lines)
    except (ValueError, IndexError) as error:
        expected = type(error), str(error)
    for _ in range(2):  # the second time from memory, where there is one
        try:
            got: Any = validated_headers(list(lines))
        except (ValueError, IndexError) as error:
            got = type(error), str(error)
        assert got == expected


def test_the_remembered_list_is_a_new_list_each_time() -> None:
    first = validated_headers(USUAL)
    first.append((b"x", b"y"))
    assert validated_headers(USUAL) == USUAL


def test_a_pseudo_header_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ValueError, match="Pseudo headers"):
            validated_headers([(b":status", b"200")])


def test_lines_of_other_types_go_through_hypercorn_and_are_not_remembered() -> None:
    _validated_headers._known.clear()
    mutable: Any = [(bytearray(b"x-a"), b" 1 "), [b"x-b", b"2"]]
    assert validated_headers(mutable) == [(b"x-a", b"1"), (b"x-b", b"2")]
    viewed: Any = iter([(memoryview(b"x-c"), b"3")])
    assert validated_headers(viewed) == [(b"x-c", b"3")]
    with pytest.raises(TypeError):
        validated_headers([("x-str", "text")])  # type: ignore[list-item]
    assert _validated_headers._known == {}


def test_the_memory_is_bounded() -> None:
    _validated_headers._known.clear()
    for index in range(MAX_KNOWN_HEADER_LISTS + 5):
        validated_headers([(b"etag", b"%d" % index)])
    assert len(_validated_headers._known) <= MAX_KNOWN_HEADER_LISTS


class _StrictConfig(StrictFramingConfig, Config):
    pass


def _stream(config: Config) -> HTTPStream:
    async def send(event: Any) -> None:
        pass

    return http_stream(None, config, None, None, False, None, None, send, 1)  # type: ignore[arg-type]


def test_only_strict_servers_get_the_remembering_stream() -> None:
    assert type(_stream(_StrictConfig())) is NodeHTTPStream
    assert type(_stream(Config())) is HTTPStream


def test_install_puts_the_factory_where_hypercorn_looks() -> None:
    install()
    install()
    assert getattr(hypercorn.protocol.h11, "HTTPStream") is http_stream  # noqa: B009
