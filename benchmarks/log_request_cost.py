"""What one request log line costs: ``log_request`` alone, through the root logger to a stream.

The request is a typical one (a plugin route with a query string, a user agent, a referrer, a
client address, a content length). The logger is the one a backend builds: a root logger with
``service: backstage``, its ``rootHttpRouter`` child, lines handed to the background writer thread
and written to /dev/null. Scenarios:

- ``json`` / ``pretty``: the two formats, no secrets registered;
- ``json-secrets`` / ``pretty-secrets``: with 20 config secrets registered (none in the line);
- ``json-tracing``: json with a recording OpenTelemetry span current (the ``trace_id``,
  ``span_id`` and ``trace_flags`` fields), when the SDK is installed.

``floor``, measured in the same run, is the least a line with these fields could cost: one JSON
encoding of the finished record (by a ready encoder) and one write to the same stream, in the
calling thread. For each
scenario it prints, per line, the Python function calls (cProfile) and the wall-clock time (best
of 5 rounds; meaningful only relative to ``floor`` on a loaded machine), and with ``--callgrind``
the instructions (valgrind's callgrind, N lines minus 0 lines over N, the writer thread
included), which the machine's load does not change. Run:

    python benchmarks/log_request_cost.py [--lines 2000] [--callgrind] [--scenarios json,pretty]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

from backstage_runtime.defaults.root_http_router._request_log import log_request
from backstage_runtime.defaults.root_logger import BackstageLogger
from backstage_runtime.http_toolkit import RequestInfo

SCENARIOS = ("floor", "json", "pretty", "json-secrets", "pretty-secrets", "json-tracing")
SECRETS = [f"config-secret-value-{index:02d}" for index in range(20)]


def _scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/api/catalog/entities",
        "raw_path": b"/api/catalog/entities",
        "query_string": b"filter=kind=component&limit=20",
        "headers": [
            (b"host", b"localhost:7007"),
            (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"),
            (b"accept", b"application/json"),
            (b"referer", b"http://localhost:3000/catalog"),
            (b"accept-encoding", b"gzip, deflate, br"),
        ],
        "http_version": "1.1",
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 7007),
    }


def _info() -> RequestInfo:
    return RequestInfo(
        request_id="0b5c2b0e-8f5e-4c39-9a43-0e1f5d6c7a8b",
        started=time.perf_counter(),
        plugin_id="catalog",
        status=200,
        content_length=1234,
    )


@contextlib.contextmanager
def _current_span() -> Iterator[None]:
    """A recording span made current (tracing on), from a provider of its own."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("log_request_cost")
    with tracer.start_as_current_span("GET"):
        yield
    assert trace is not None


def _floor(stream: TextIO) -> Callable[[], None]:
    scope, info = _scope(), _info()
    record = {
        "level": "info",
        "message": '[2024-05-06T07:08:09.123Z] "GET /api/catalog/entities?filter=kind=component'
        '&limit=20 HTTP/1.1" 200 1234 "http://localhost:3000/catalog" "Mozilla/5.0"',
        "service": "rootHttpRouter",
        "type": "incomingRequest",
        "date": "2024-05-06T07:08:09.123Z",
        "method": scope["method"],
        "url": "/api/catalog/entities?filter=kind=component&limit=20",
        "status": info.status,
        "httpVersion": "1.1",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
        "contentLength": info.content_length,
        "referrer": "http://localhost:3000/catalog",
        "durationMs": 1.234,
        "requestId": info.request_id,
        "plugin": info.plugin_id,
        "ip": "127.0.0.1",
        "timestamp": "2024-05-06T07:08:09.124Z",
    }

    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    def one() -> None:
        stream.write(encoder.encode(record) + "\n")

    return one


def _request_log_clock() -> tuple[Any, ...]:
    """The clock RequestLogMiddleware keeps for log_request, or none in a tree from before it
    (run with ``PYTHONPATH=<that tree>`` to measure it in the same conditions).
    """
    try:
        from backstage_runtime._iso_time import IsoClock
    except ImportError:
        return ()
    return (IsoClock(),)


def _prepare(scenario: str, stream: TextIO) -> tuple[Callable[[], None], Callable[[], None]]:
    """The call that logs one line in ``scenario``, and the one that writes out what is queued."""
    if scenario == "floor":
        return _floor(stream), stream.flush
    log_format = "json" if scenario.startswith("json") else "pretty"
    root = BackstageLogger(
        stream=stream,
        format=log_format,
        meta={"service": "backstage"},
        colors=False,
        background=True,
    )
    if scenario.endswith("-secrets"):
        root.add_redactions(SECRETS)
    logger = root.child({"service": "rootHttpRouter"})
    scope, info = _scope(), _info()
    clock = _request_log_clock()

    def one() -> None:
        log_request(logger, scope, info, 0.001234, *clock)

    return one, root.flush


class _Scenario:
    """One scenario, prepared and warmed up: the writer thread started, caches filled."""

    def __init__(self, name: str, stream: TextIO) -> None:
        self.name = name
        self._one, self._flush = _prepare(name, stream)
        self._tracing = name.endswith("-tracing")
        self.log(20)

    def log(self, lines: int) -> None:
        """Log ``lines`` lines and write them out."""
        one = self._one
        with _current_span() if self._tracing else contextlib.nullcontext():
            for _ in range(lines):
                one()
            self._flush()

    def profile(self, lines: int) -> dict[str, float]:
        """Function calls (cProfile) and best wall-clock nanoseconds of 5 rounds, per line."""
        profiler = cProfile.Profile()
        profiler.enable()
        self.log(lines)
        profiler.disable()
        calls = pstats.Stats(profiler).total_calls  # type: ignore[attr-defined]
        best = float("inf")
        for _ in range(5):
            began = time.perf_counter_ns()
            self.log(lines)
            best = min(best, time.perf_counter_ns() - began)
        return {"calls": calls / max(lines, 1), "ns": best / max(lines, 1)}


def _instructions(scenarios: list[str], lines: int) -> dict[str, int]:
    """Instructions per line of each scenario: callgrind totals of a run that logs N lines of
    it and of one that logs none (both prepare every scenario), the difference over N.
    """
    totals: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name in ["", *scenarios]:
            command = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={Path(folder) / ('cg.' + (name or 'none'))}",
                sys.executable,
                __file__,
                "--scenarios",
                ",".join(scenarios),
                "--lines",
                str(lines),
                "--measure",
                name,
            ]
            env = {**os.environ, "PYTHONHASHSEED": "0"}
            done = subprocess.run(
                command, capture_output=True, text=True, env=env, check=True, timeout=3600
            )
            found = re.search(r"Collected : (\d+)", done.stderr)
            assert found, done.stderr[-2000:]
            totals[name] = int(found.group(1))
    return {name: (totals[name] - totals[""]) // lines for name in scenarios}


def _available(scenario: str) -> bool:
    if not scenario.endswith("-tracing"):
        return True
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    # A run under callgrind: prepare every scenario, log lines in this one ("" for none).
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    names = [name for name in args.scenarios.split(",") if _available(name)]
    unknown = set(names) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}, expected some of {SCENARIOS}")
    with open(os.devnull, "w", encoding="utf-8") as stream:
        scenarios = {name: _Scenario(name, stream) for name in names}
        if args.measure is not None:
            if args.measure:
                scenarios[args.measure].log(args.lines)
            return  # the instruction count is what matters
        results = {name: scenario.profile(args.lines) for name, scenario in scenarios.items()}
    instructions = _instructions(names, args.lines) if args.callgrind else {}
    floor = results.get("floor")
    floor_instructions = instructions.get("floor")
    print(f"log_request, {args.lines} lines per round, per line:")
    header = f"{'scenario':<16}{'calls':>8}{'ns':>10}{'x floor':>9}"
    if instructions:
        header += f"{'instructions':>14}{'x floor':>9}"
    print(header)
    for name, result in results.items():
        row = f"{name:<16}{result['calls']:>8.1f}{result['ns']:>10,.0f}"
        row += f"{result['ns'] / floor['ns']:>9.2f}" if floor else f"{'':>9}"
        if instructions:
            count = instructions[name]
            row += f"{count:>14,}"
            row += f"{count / floor_instructions:>9.2f}" if floor_instructions else f"{'':>9}"
        print(row)


if __name__ == "__main__":
    main()
