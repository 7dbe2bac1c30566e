"""The bearer token and header reading that ``core.httpAuth`` and ``core.identity`` share."""

from __future__ import annotations

from typing import Any

import pytest

from backstage_runtime.http_toolkit import bearer_token, header_value, scope_of


def _scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "headers": list(headers)}


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        (b"Bearer abc.def.ghi", "abc.def.ghi"),
        (b"bearer abc", "abc"),
        (b"BEARER   abc", "abc"),
        (b"Basic dXNlcjpwYXNz", None),
        (b"Bearer", None),
        (b"Bearer a b", None),
    ],
)
def test_bearer_token_reads_only_a_bearer_authorization(
    authorization: bytes, expected: str | None
) -> None:
    assert bearer_token(_scope((b"authorization", authorization))) == expected


def test_no_authorization_header_means_no_token() -> None:
    assert bearer_token(_scope((b"cookie", b"a=b"))) is None


def test_header_names_match_case_insensitively_and_the_first_wins() -> None:
    scope = _scope((b"X-Thing", b"one"), (b"x-thing", b"two"))

    assert header_value(scope, b"x-thing") == "one"
    assert header_value(scope, b"missing") is None


def test_scope_of_takes_a_scope_or_anything_with_one() -> None:
    scope = _scope()

    class Request:
        def __init__(self) -> None:
            self.scope = scope

    assert scope_of(scope) is scope
    assert scope_of(Request()) is scope
    with pytest.raises(TypeError, match="Expected a Quart request or an ASGI scope, got int"):
        scope_of(3)
