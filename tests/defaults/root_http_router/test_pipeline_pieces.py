"""Each piece of the root pipeline on its own, called with a scope (no socket, no backend)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from _support.asgi import Recorder, http_scope, nothing, ok_app

from backstage_runtime.api.errors import NotAllowedError
from backstage_runtime.defaults.root_http_router._compression import CompressionMiddleware
from backstage_runtime.defaults.root_http_router._cors import CorsPolicy
from backstage_runtime.defaults.root_http_router._cors_middleware import CorsMiddleware
from backstage_runtime.defaults.root_http_router._dispatch import RouteDispatch
from backstage_runtime.defaults.root_http_router._error_rendering import ErrorRendering
from backstage_runtime.defaults.root_http_router._etag import ETagMiddleware
from backstage_runtime.defaults.root_http_router._in_flight import (
    InFlightMiddleware,
    InFlightRequests,
)
from backstage_runtime.defaults.root_http_router._pipeline import default_pipeline
from backstage_runtime.defaults.root_http_router._request_tracking import RequestTracking
from backstage_runtime.defaults.root_http_router._routes import RouteTable
from backstage_runtime.defaults.root_http_router._security_headers import (
    SecurityHeadersMiddleware,
)
from backstage_runtime.http_toolkit import ErrorResponder, Piece, build_pipeline, get_request_info
from backstage_runtime.testing import MockRootLogger

pytestmark = pytest.mark.anyio


def errors() -> ErrorResponder:
    return ErrorResponder(MockRootLogger(), include_stack=False)


async def call(app: Any, scope: dict[str, Any]) -> Recorder:
    send = Recorder()
    await app(scope, nothing, send)
    return send


def cors_policy(**changes: Any) -> CorsPolicy:
    fields: dict[str, Any] = {
        "origin": re.compile(r"https://ok\.example"),
        "methods": "GET",
        "allowed_headers": None,
        "exposed_headers": None,
        "credentials": False,
        "max_age": None,
        "preflight_continue": False,
        "options_success_status": 204,
        **changes,
    }
    return CorsPolicy(**fields)


async def test_request_tracking_records_status_and_length_in_the_request_info() -> None:
    scope = http_scope("/x", headers=[(b"x-request-id", b"abc")])
    await call(RequestTracking(ok_app), scope)
    info = get_request_info(scope)

    assert info is not None
    assert (info.request_id, info.status, info.content_length) == ("abc", 200, 2)


async def test_an_error_before_the_response_is_rendered_and_after_it_is_raised() -> None:
    async def fails_early(scope: Any, receive: Any, send: Any) -> None:
        raise NotAllowedError("nope")

    async def fails_late(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise NotAllowedError("too late")

    early = await call(RequestTracking(ErrorRendering(fails_early, errors())), http_scope("/x"))
    with pytest.raises(NotAllowedError):
        await call(RequestTracking(ErrorRendering(fails_late, errors())), http_scope("/x"))
    with pytest.raises(NotAllowedError):
        await call(ErrorRendering(fails_late, errors()), http_scope("/x"))  # no RequestInfo

    assert early.status == 403
    assert json.loads(early.body)["request"] == {"method": "GET", "url": "/x"}


async def test_an_error_replaces_a_start_the_etag_piece_held() -> None:
    async def fails_after_start(scope: Any, receive: Any, send: Any) -> None:
        start = [(b"content-length", b"5"), (b"etag", b'"stale"')]
        await send({"type": "http.response.start", "status": 200, "headers": start})
        raise NotAllowedError("nope")

    app = RequestTracking(ETagMiddleware(ErrorRendering(fails_after_start, errors())))
    reply = await call(app, http_scope("/x"))

    assert reply.status == 403
    etags = [value for name, value in reply.headers if name == b"etag"]
    assert len(etags) == 1
    assert etags[0].startswith(b'W/"')


async def test_security_headers_come_first_and_compression_merges_their_vary() -> None:
    async def varying(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json"), (b"vary", b"Cookie")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    preset = [(b"x-frame-options", b"SAMEORIGIN"), (b"vary", b"Origin")]
    app = CompressionMiddleware(SecurityHeadersMiddleware(varying, preset))
    reply = await call(app, http_scope("/x"))

    assert reply.headers == [
        (b"x-frame-options", b"SAMEORIGIN"),
        (b"content-type", b"application/json"),
        (b"vary", b"Origin, Cookie, Accept-Encoding"),
    ]


async def test_cors_answers_a_preflight_without_calling_the_app() -> None:
    scope = http_scope(
        "/x",
        method="OPTIONS",
        headers=[(b"origin", b"https://ok.example"), (b"access-control-request-headers", b"a")],
    )
    reply = await call(CorsMiddleware(ok_app, cors_policy()), scope)
    actual = await call(
        CorsMiddleware(ok_app, cors_policy()),
        http_scope("/x", headers=[(b"origin", b"https://ok.example")]),
    )

    assert "calls" not in scope
    assert reply.status == 204
    assert (b"access-control-allow-headers", b"a") in reply.headers
    assert actual.headers[:2] == [
        (b"access-control-allow-origin", b"https://ok.example"),
        (b"vary", b"Origin"),
    ]


async def test_in_flight_counts_a_request_while_it_runs() -> None:
    requests = InFlightRequests()
    seen: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(requests.count)
        await ok_app(scope, receive, send)

    await call(InFlightMiddleware(app, requests, errors()), http_scope("/x"))

    assert (seen, requests.count) == ([1], 0)


async def test_route_dispatch_mounts_and_answers_unmatched_paths_with_404() -> None:
    async def mounted(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["root_path"].encode()})

    routes = RouteTable(index_path=None)
    routes.add("/api/cat", mounted)
    dispatch = RouteDispatch(routes)
    found = await call(dispatch, http_scope("/API/Cat/x"))
    missing = await call(dispatch, http_scope("/api/dog"))

    assert found.body == b"/API/Cat"
    assert missing.status == 404
    assert json.loads(missing.body)["error"]["message"] == "No route for GET /api/dog"


def test_the_default_pipeline_is_ordered_and_leaves_out_what_is_not_configured() -> None:
    common: dict[str, Any] = {
        "in_flight": InFlightRequests(),
        "errors": errors(),
        "health": None,  # only listed here, never asked
        "health_headers": {},
        "security_headers": [],
    }
    full = default_pipeline(**common, cors=cors_policy(), request_logger=MockRootLogger())
    bare = default_pipeline(**common, cors=None, request_logger=None)

    assert [p.name for p in full] == [
        "request_tracking",
        "request_log",
        "in_flight",
        "compression",
        "security_headers",
        "cors",
        "etag",
        "errors",
        "health",
    ]
    assert "cors" not in [p.name for p in bare]
    assert "request_log" not in [p.name for p in bare]


def test_build_pipeline_refuses_two_pieces_of_one_name() -> None:
    piece = Piece("etag", ETagMiddleware)
    with pytest.raises(ValueError, match="Duplicate middleware names in the pipeline: etag"):
        build_pipeline([piece, piece], ok_app)
