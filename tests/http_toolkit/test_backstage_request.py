"""The mounted apps' request class answers ``content_length`` as werkzeug does."""

from __future__ import annotations

from typing import Any

import pytest
from quart import Request
from werkzeug.datastructures import Headers

from backstage_runtime.http_toolkit._quart_request import BackstageRequest


async def _no_push(path: str, headers: Headers) -> None:  # pragma: no cover
    return None


def made(cls: type[Request], raw: list[tuple[bytes, bytes]]) -> Request:
    """A request of ``cls`` whose Headers are made from ``raw`` as Quart's connection makes them."""
    headers = Headers()
    for name, value in raw:
        headers.add(name.decode("latin1").title(), value.decode("latin1"))
    scope: Any = {"type": "http", "headers": raw, "server": None}
    return cls("POST", "http", "/", b"", headers, "", "1.1", scope, send_push_promise=_no_push)


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [(b"content-length", b"12")],
        [(b"content-length", b"0")],
        [(b"content-length", b"abc")],
        [(b"content-length", b"-3")],
        [(b"content-length", b" 7 ")],
        [(b"content-length", b"5"), (b"content-length", b"9")],
        [(b"transfer-encoding", b"chunked")],
        [(b"transfer-encoding", b"gzip, chunked"), (b"content-length", b"4")],
        [(b"transfer-encoding", b"gzip"), (b"content-length", b"4")],
        [(b"host", b"x"), (b"content-length", b"3")],
    ],
)
def test_content_length_is_werkzeugs(raw: list[tuple[bytes, bytes]]) -> None:
    assert made(BackstageRequest, raw).content_length == made(Request, raw).content_length
