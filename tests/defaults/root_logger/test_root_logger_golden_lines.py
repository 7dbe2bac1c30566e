"""The exact text of entries whose metadata needs care (golden lines, both formats).

How a child's bound fields and a call's metadata merge (winston's rules), fields that share a name
with the line's own keys, values JSON cannot hold, masking at any depth, exceptions and characters
that JSON escapes: each entry's whole text is pinned, so a faster path cannot drift from it.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest

from backstage_runtime.defaults.root_logger import BackstageLogger, LogFormat

STAMP = datetime(2024, 5, 6, 7, 8, 9, 12999, tzinfo=UTC)


class Weird:
    def __str__(self) -> str:
        return "weird"


# (bound fields of the child, message, meta, json text, pretty text)
CASES: dict[str, tuple[dict[Any, Any], str, Any, str, str]] = {
    "child message and level fields lose to the entry's": (
        {"plugin": "catalog", "message": "bound", "level": "debug", "a": 1},
        "hello",
        {"message": "extra", "level": "error", "b": [1, (2, 3)], "a": 2},
        '{"level":"warn","message":"hello extra","plugin":"catalog","a":2,"b":[1,[2,3]],'
        '"timestamp":"2024-05-06T07:08:09.012Z"}\n',
        "2024-05-06T07:08:09.012Z catalog warn hello extra a=2 b=[1,[2,3]]\n",
    ),
    "fields named timestamp and stack keep their place": (
        {"service": "svc"},
        "x",
        {"timestamp": "mine", "stack": "s", "z": None},
        '{"level":"warn","message":"x","service":"svc","timestamp":"2024-05-06T07:08:09.012Z",'
        '"stack":"s","z":null}\n',
        '2024-05-06T07:08:09.012Z svc warn x timestamp="mine" stack="s" z=null\n',
    ),
    "non-string keys and values JSON cannot hold": (
        {"service": "svc"},
        "x",
        {
            # True is the key 1 in a dict: the first spelling stays, the last value wins.
            **dict([(1, "one"), (True, "t")]),
            None: "n",
            2.5: "f",
            "set": frozenset(),
            "when": date(2024, 1, 2),
            "obj": Weird(),
            "nan": float("nan"),
            "big": 10**20,
            "neg": -0.0,
            "e": 1e16,
        },
        '{"level":"warn","message":"x","service":"svc","1":"t","None":"n","2.5":"f","set":[],'
        '"when":"2024-01-02","obj":"weird","nan":NaN,"big":100000000000000000000,"neg":-0.0,'
        '"e":1e+16,"timestamp":"2024-05-06T07:08:09.012Z"}\n',
        '2024-05-06T07:08:09.012Z svc warn x 1="t" None="n" 2.5="f" set=[] when="2024-01-02" '
        'obj="weird" nan=NaN big=100000000000000000000 neg=-0.0 e=1e+16\n',
    ),
    "authorization at any depth and in any case, credentials in text": (
        {"service": "svc", "headers": {"Authorization": "Bearer abc"}},
        "Basic dXNlcjpwYXNzd29yZA== sent",
        {"req": {"AUTHORIZATION": "t", "list": [{"authorization": "u"}]}, "note": "bearer xyz"},
        '{"level":"warn","message":"Basic *** sent","service":"svc",'
        '"headers":{"Authorization":"***"},'
        '"req":{"AUTHORIZATION":"***","list":[{"authorization":"***"}]},"note":"bearer ***",'
        '"timestamp":"2024-05-06T07:08:09.012Z"}\n',
        '2024-05-06T07:08:09.012Z svc warn Basic *** sent headers={"Authorization":"***"} '
        'req={"AUTHORIZATION":"***","list":[{"authorization":"***"}]} note="bearer ***"\n',
    ),
    "a meta message of None is not appended": (
        {},
        "msg",
        {"message": None},
        '{"level":"warn","message":"msg","timestamp":"2024-05-06T07:08:09.012Z"}\n',
        "2024-05-06T07:08:09.012Z - warn msg\n",
    ),
    "a meta that is no mapping becomes a meta field": (
        {"service": "svc"},
        "msg",
        42,
        '{"level":"warn","message":"msg","service":"svc","meta":42,'
        '"timestamp":"2024-05-06T07:08:09.012Z"}\n',
        "2024-05-06T07:08:09.012Z svc warn msg meta=42\n",
    ),
    "an exception": (
        {"service": "svc"},
        "failed",
        ValueError("bad value"),
        '{"level":"warn","message":"failed bad value","service":"svc","name":"ValueError",'
        '"stack":"ValueError: bad value","timestamp":"2024-05-06T07:08:09.012Z"}\n',
        '2024-05-06T07:08:09.012Z svc warn failed bad value name="ValueError"\n'
        "ValueError: bad value\n",
    ),
    "an exception and an empty message": (
        {"service": "svc"},
        "",
        KeyError("k"),
        '{"level":"warn","message":"\'k\'","service":"svc","name":"KeyError",'
        '"stack":"KeyError: \'k\'","timestamp":"2024-05-06T07:08:09.012Z"}\n',
        "2024-05-06T07:08:09.012Z svc warn 'k' name=\"KeyError\"\nKeyError: 'k'\n",
    ),
    "characters that JSON escapes or keeps": (
        {"service": "svc"},
        'grüße\n\t"q" \u2028 \x00',
        {"s": "\x1f\u00e9\U0001f600"},
        '{"level":"warn","message":"grüße\\n\\t\\"q\\" \u2028 \\u0000","service":"svc",'
        '"s":"\\u001fé\U0001f600","timestamp":"2024-05-06T07:08:09.012Z"}\n',
        '2024-05-06T07:08:09.012Z svc warn grüße\n\t"q" \u2028 \x00 s="\\u001fé\U0001f600"\n',
    ),
}


def written(log_format: LogFormat, bound: dict[Any, Any], message: str, meta: Any) -> str:
    stream = io.StringIO()
    root = BackstageLogger(stream=stream, format=log_format, meta={}, clock=lambda: STAMP)
    root.child(bound).warn(message, meta)
    return stream.getvalue()


@pytest.mark.parametrize("case", CASES)
def test_json_text_is_exactly_todays(case: str) -> None:
    bound, message, meta, expected, _ = CASES[case]

    assert written("json", bound, message, meta) == expected


@pytest.mark.parametrize("case", CASES)
def test_pretty_text_is_exactly_todays(case: str) -> None:
    bound, message, meta, _, expected = CASES[case]

    assert written("pretty", bound, message, meta) == expected
