"""Plain entries (string keys, scalar values: a request log line) skip the general path's copies
and masking, and are written exactly as the general path would write them.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backstage_runtime.defaults.root_logger import BackstageLogger, LevelOverride, LogFormat
from backstage_runtime.defaults.root_logger import _logger as logger_module
from backstage_runtime.defaults.root_logger._redaction import mask_sensitive_fields

STAMP = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
# Names with a meaning to a format (the pretty prefix, keys the JSON line writes itself, trace
# fields, one as long as "authorization") and some that need escaping, besides arbitrary text.
KEYS = st.one_of(
    st.sampled_from(
        [
            "plugin",
            "service",
            "timestamp",
            "stack",
            "trace_id",
            "type",
            "contentLength",
            "authorizatio",
            "é",
            'q"uote',
            "two words",
        ]
    ),
    st.text(max_size=6),
).filter(lambda key: key not in ("message", "level"))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.text(max_size=12),
)
FIELDS = st.dictionaries(KEYS, SCALARS, max_size=6)


def written(
    log_format: LogFormat, bound: dict[str, Any], message: str, meta: Any, *, colors: bool = False
) -> str:
    stream = io.StringIO()
    root = BackstageLogger(
        stream=stream, format=log_format, meta={}, colors=colors, clock=lambda: STAMP
    )
    root.child(bound).info(message, meta)
    return stream.getvalue()


@given(
    bound=FIELDS,
    meta=FIELDS,
    message=st.text(max_size=20),
    log_format=st.sampled_from(["json", "pretty"]),
    colors=st.booleans(),
)
def test_a_plain_entry_is_written_as_the_general_path_writes_it(
    bound: dict[str, Any], meta: dict[str, Any], message: str, log_format: LogFormat, colors: bool
) -> None:
    plain = written(log_format, bound, message, dict(meta), colors=colors)
    # A mapping that is not a dict takes the general path (merge, mask, format).
    general = written(log_format, bound, message, MappingProxyType(meta), colors=colors)

    assert plain == general


def _refuse(*args: Any) -> Any:
    raise AssertionError("the general path was taken")


@pytest.fixture
def general_path_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logger_module, "merge_meta", _refuse)
    monkeypatch.setattr(logger_module, "mask_sensitive_fields", _refuse)


@pytest.mark.usefixtures("general_path_refused")
@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_request_fields_and_calls_without_meta_take_the_plain_path(log_format: LogFormat) -> None:
    fields = {"type": "incomingRequest", "status": 200, "durationMs": 1.5, "userAgent": None}

    lines = [
        written(log_format, {"service": "rootHttpRouter"}, "GET /", fields),
        written(log_format, {"plugin": "catalog"}, "hello", None),
    ]

    assert all(line.endswith("\n") for line in lines)


@pytest.mark.parametrize(
    ("bound", "meta"),
    [
        ({}, {"authorization": "x"}),
        ({"Authorization": "x"}, {}),
        ({}, {"nested": {"a": 1}}),
        ({}, {"message": "more"}),
        ({"level": "debug"}, {}),
        ({}, {1: "one"}),
        ({}, MappingProxyType({"a": 1})),
        ({}, ValueError("bad")),
    ],
)
def test_entries_that_need_merging_or_masking_take_the_general_path(
    monkeypatch: pytest.MonkeyPatch, bound: dict[Any, Any], meta: Any
) -> None:
    calls: list[object] = []
    def counted(fields: Any) -> Any:
        calls.append(fields)
        return mask_sensitive_fields(fields)

    monkeypatch.setattr(logger_module, "mask_sensitive_fields", counted)

    written("json", bound, "hello", meta)

    assert len(calls) == 1


def test_overrides_see_a_plain_entrys_fields_level_and_message() -> None:
    stream = io.StringIO()
    logger = BackstageLogger(
        stream=stream,
        format="json",
        level="warn",
        overrides=[
            LevelOverride(matchers={"type": "incomingRequest", "message": "/^GET/"}, level="info")
        ],
    )

    logger.info("GET /a", {"type": "incomingRequest"})
    logger.info("POST /b", {"type": "incomingRequest"})
    logger.info("GET /c", {"type": "other"})

    assert [json.loads(line)["message"] for line in stream.getvalue().splitlines()] == ["GET /a"]


@pytest.mark.parametrize("log_format", ["json", "pretty"])
def test_an_int_past_the_digit_limit_costs_only_its_own_field(log_format: LogFormat) -> None:
    # Python refuses to turn an int of more than 4,300 digits into text; the line keeps its
    # other fields and marks that one, on the plain and on the general path alike.
    huge = 10**5000
    meta = {"size": huge, "status": 200}

    plain = written(log_format, {"plugin": "catalog"}, "hello", dict(meta))
    general = written(log_format, {"plugin": "catalog"}, "hello", MappingProxyType(meta))

    assert plain == general
    assert "[field value not castable to string]" in plain
    for kept in ("200", "hello", "catalog"):
        assert kept in plain
    if log_format == "json":
        assert json.loads(plain)["size"] == "[field value not castable to string]"
