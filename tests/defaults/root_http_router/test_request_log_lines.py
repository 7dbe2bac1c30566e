"""The exact text of a request log line, in the json and pretty formats (golden lines).

Through the real root logger and its ``rootHttpRouter`` child, as a backend builds them: a root
with base metadata, a registered secret that appears in the query string, a user agent with a
quote and a non-ASCII character, a referrer, trace ids when a span is current, and a bare request
(no headers, no body, HTTP/2). The clocks are fixed, so every byte of each line is pinned.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from backstage_runtime._iso_time import IsoClock
from backstage_runtime.defaults.root_http_router._request_log import log_request
from backstage_runtime.defaults.root_logger import BackstageLogger, LogFormat
from backstage_runtime.http_toolkit import RequestInfo

SECRET = "s3cr3t-t0ken"
# The request's date (log_request) and the entry's timestamp (the logger) are read apart.
DATE_CLOCK = IsoClock(lambda: 1_714_979_289_005_432_000)  # 2024-05-06T07:08:09.005432Z
STAMP = datetime(2024, 5, 6, 7, 8, 9, 12999, tzinfo=UTC)
SPAN = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0xB7AD6B7169203331,
    is_remote=False,
    trace_flags=TraceFlags(1),
)


def full_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/api/catalog/entities",
        "raw_path": b"/api/catalog/entities",
        "query_string": f"filter=kind%3Dcomponent&token={SECRET}".encode(),
        "http_version": "1.1",
        "headers": [
            (b"host", b"localhost:7007"),
            (b"user-agent", b'curl/8.5.0 "quoted" \xe9'),
            (b"referer", b"http://localhost:3000/catalog?x=1"),
        ],
        "client": ("10.0.0.7", 51234),
    }


def full_info() -> RequestInfo:
    return RequestInfo(
        request_id="req-42", started=0.0, plugin_id="catalog", status=200, content_length=1234
    )


def bare_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/nope",
        "query_string": b"",
        "http_version": "2",
        "headers": [],
    }


def lines_of(log_format: LogFormat, *, colors: bool = False) -> list[str]:
    """The three lines (full request, the same with a span current, bare request)."""
    stream = io.StringIO()
    root = BackstageLogger(
        stream=stream,
        format=log_format,
        meta={"service": "backstage", "env": "prod"},
        clock=lambda: STAMP,
        colors=colors,
    )
    root.add_redactions([SECRET])
    http = root.child({"service": "rootHttpRouter"})
    log_request(http, full_scope(), full_info(), 0.0123456, DATE_CLOCK)
    with trace.use_span(NonRecordingSpan(SPAN)):
        log_request(http, full_scope(), full_info(), 0.0123456, DATE_CLOCK)
    log_request(http, bare_scope(), RequestInfo(request_id="abc", started=0.0), 0.0, DATE_CLOCK)
    text = stream.getvalue()
    assert text.endswith("\n")
    return text.split("\n")[:-1]


JSON_FULL = (
    '{"level":"info","message":"[2024-05-06T07:08:09.005Z] \\"GET /api/catalog/entities?'
    'filter=kind%3Dcomponent&token=*** HTTP/1.1\\" 200 1234 \\"http://localhost:3000/catalog?x=1\\" '
    '\\"curl/8.5.0 \\"quoted\\" é\\"","service":"rootHttpRouter","env":"prod",'
    '"type":"incomingRequest","date":"2024-05-06T07:08:09.005Z","method":"GET",'
    '"url":"/api/catalog/entities?filter=kind%3Dcomponent&token=***","status":200,'
    '"httpVersion":"1.1","userAgent":"curl/8.5.0 \\"quoted\\" é","contentLength":1234,'
    '"referrer":"http://localhost:3000/catalog?x=1","durationMs":12.346,"requestId":"req-42",'
    '"plugin":"catalog","ip":"10.0.0.7"'
)
JSON_TRACE = (
    ',"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","trace_flags":"01"'
)
JSON_STAMP = ',"timestamp":"2024-05-06T07:08:09.012Z"}'
JSON_BARE = (
    '{"level":"info","message":"[2024-05-06T07:08:09.005Z] \\"POST /nope HTTP/2.0\\" 0 0 '
    '\\"-\\" \\"-\\"","service":"rootHttpRouter","env":"prod","type":"incomingRequest",'
    '"date":"2024-05-06T07:08:09.005Z","method":"POST","url":"/nope","status":0,'
    '"httpVersion":"2.0","durationMs":0.0,"requestId":"abc","timestamp":"2024-05-06T07:08:09.012Z"}'
)

PRETTY_FULL = (
    '2024-05-06T07:08:09.012Z catalog info [2024-05-06T07:08:09.005Z] "GET /api/catalog/entities?'
    'filter=kind%3Dcomponent&token=*** HTTP/1.1" 200 1234 "http://localhost:3000/catalog?x=1" '
    '"curl/8.5.0 "quoted" é" env="prod" type="incomingRequest" date="2024-05-06T07:08:09.005Z" '
    'method="GET" url="/api/catalog/entities?filter=kind%3Dcomponent&token=***" status=200 '
    'httpVersion="1.1" userAgent="curl/8.5.0 \\"quoted\\" é" contentLength=1234 '
    'referrer="http://localhost:3000/catalog?x=1" durationMs=12.346 requestId="req-42" '
    'ip="10.0.0.7"'
)
PRETTY_TRACE = (
    ' trace_id="0af7651916cd43dd8448eb211c80319c" span_id="b7ad6b7169203331" trace_flags="01"'
)
PRETTY_BARE = (
    '2024-05-06T07:08:09.012Z rootHttpRouter info [2024-05-06T07:08:09.005Z] "POST /nope '
    'HTTP/2.0" 0 0 "-" "-" env="prod" type="incomingRequest" date="2024-05-06T07:08:09.005Z" '
    'method="POST" url="/nope" status=0 httpVersion="2.0" durationMs=0.0 requestId="abc"'
)


# ANSI styles: dim timestamp, blue prefix, green level, cyan field names.
PRETTY_COLOURED_TRACE = (
    "\x1b[2m2024-05-06T07:08:09.012Z\x1b[22m \x1b[34mcatalog\x1b[39m \x1b[32minfo\x1b[39m "
    '[2024-05-06T07:08:09.005Z] "GET /api/catalog/entities?filter=kind%3Dcomponent&token=*** '
    'HTTP/1.1" 200 1234 "http://localhost:3000/catalog?x=1" "curl/8.5.0 "quoted" é" '
    '\x1b[36menv\x1b[39m="prod" \x1b[36mtype\x1b[39m="incomingRequest" '
    '\x1b[36mdate\x1b[39m="2024-05-06T07:08:09.005Z" \x1b[36mmethod\x1b[39m="GET" '
    '\x1b[36murl\x1b[39m="/api/catalog/entities?filter=kind%3Dcomponent&token=***" '
    '\x1b[36mstatus\x1b[39m=200 \x1b[36mhttpVersion\x1b[39m="1.1" '
    '\x1b[36muserAgent\x1b[39m="curl/8.5.0 \\"quoted\\" é" \x1b[36mcontentLength\x1b[39m=1234 '
    '\x1b[36mreferrer\x1b[39m="http://localhost:3000/catalog?x=1" '
    '\x1b[36mdurationMs\x1b[39m=12.346 \x1b[36mrequestId\x1b[39m="req-42" '
    '\x1b[36mip\x1b[39m="10.0.0.7" \x1b[36mtrace_id\x1b[39m="0af7651916cd43dd8448eb211c80319c" '
    '\x1b[36mspan_id\x1b[39m="b7ad6b7169203331" \x1b[36mtrace_flags\x1b[39m="01"'
)
PRETTY_COLOURED_BARE = (
    "\x1b[2m2024-05-06T07:08:09.012Z\x1b[22m \x1b[34mrootHttpRouter\x1b[39m "
    '\x1b[32minfo\x1b[39m [2024-05-06T07:08:09.005Z] "POST /nope HTTP/2.0" 0 0 "-" "-" '
    '\x1b[36menv\x1b[39m="prod" \x1b[36mtype\x1b[39m="incomingRequest" '
    '\x1b[36mdate\x1b[39m="2024-05-06T07:08:09.005Z" \x1b[36mmethod\x1b[39m="POST" '
    '\x1b[36murl\x1b[39m="/nope" \x1b[36mstatus\x1b[39m=0 \x1b[36mhttpVersion\x1b[39m="2.0" '
    '\x1b[36mdurationMs\x1b[39m=0.0 \x1b[36mrequestId\x1b[39m="abc"'
)


def test_json_request_lines_are_exactly_todays() -> None:
    assert lines_of("json") == [
        JSON_FULL + JSON_STAMP,
        JSON_FULL + JSON_TRACE + JSON_STAMP,
        JSON_BARE,
    ]


def test_pretty_request_lines_are_exactly_todays() -> None:
    assert lines_of("pretty") == [PRETTY_FULL, PRETTY_FULL + PRETTY_TRACE, PRETTY_BARE]


def test_coloured_pretty_request_lines_are_exactly_todays() -> None:
    coloured = lines_of("pretty", colors=True)

    assert coloured[1:] == [PRETTY_COLOURED_TRACE, PRETTY_COLOURED_BARE]
