"""The rules behind compression and ETags, checked against the cases of the Node packages' own
test suites (negotiator 0.6.4, compression 1.8.1, etag 1.8.1, fresh 0.5.2).
"""

from __future__ import annotations

import pytest

from backstage_runtime.defaults.root_http_router._accept_encoding import negotiate_encoding
from backstage_runtime.defaults.root_http_router._compressible import compressible
from backstage_runtime.defaults.root_http_router._compression import _with_vary
from backstage_runtime.defaults.root_http_router._etag import weak_etag
from backstage_runtime.defaults.root_http_router._fresh import fresh


@pytest.mark.parametrize(
    ("accept", "provided", "preferred", "expected"),
    [
        # negotiator test/encoding.js
        ("", ("identity",), (), "identity"),
        ("", ("gzip",), (), None),
        ("*", ("gzip", "identity"), (), "gzip"),
        ("*, gzip;q=0", ("gzip", "compress"), (), "compress"),
        ("*;q=0", ("identity",), (), None),
        ("*;q=0, identity;q=1", ("identity",), (), "identity"),
        ("identity;q=0", ("identity",), (), None),
        ("gzip", ("identity", "gzip"), (), "gzip"),
        ("gzip, compress;q=0", ("deflate", "compress"), (), None),
        ("gzip, deflate", ("deflate", "compress"), (), "deflate"),
        ("gzip, deflate", ("gzip", "deflate"), ("deflate",), "deflate"),
        ("gzip, deflate", ("deflate", "gzip"), ("gzip",), "gzip"),
        ("gzip;q=0.8, deflate", ("deflate", "gzip"), (), "deflate"),
        ("gzip;q=0.8, identity;q=0.5, *;q=0.3", ("compress", "identity"), (), "identity"),
        ("gzip;q=0.8, identity;q=0.5, *;q=0.3", ("deflate", "gzip"), ("deflate",), "gzip"),
        # compression test/compression.js, as we offer it (no br)
        ("deflate, gzip", ("gzip", "deflate", "identity"), ("gzip",), "gzip"),
        ("br, gzip", ("gzip", "deflate", "identity"), ("gzip",), "gzip"),
        ("gzip;q=0.001", ("gzip", "deflate", "identity"), ("gzip",), "gzip"),
        ("br", ("gzip", "deflate", "identity"), ("gzip",), "identity"),
        # parseFloat's leniency: "0.5x" is 0.5; a q without a number is NaN and drops out
        ("gzip;q=0.5x, deflate;q=0.4", ("gzip", "deflate", "identity"), ("gzip",), "gzip"),
        ("gzip;q=, deflate;q=0.4", ("gzip", "deflate", "identity"), ("gzip",), "deflate"),
    ],
)
def test_negotiation_matches_negotiator(
    accept: str, provided: tuple[str, ...], preferred: tuple[str, ...], expected: str | None
) -> None:
    assert negotiate_encoding(accept, provided, preferred) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json; charset=utf-8", True),
        ("text/plain", True),
        ("text/event-stream", True),
        ("application/vnd.backstage+json", True),
        ("Application/XML", True),
        ("application/octet-stream", True),  # mime-db 1.54.0 marks it compressible
        ("image/svg+xml", True),
        ("image/png", False),
        ("application/zip", False),
        ("application/x-bogus", False),
        ("", False),
    ],
)
def test_compressible_follows_mime_db(content_type: str, expected: bool) -> None:
    assert compressible(content_type) is expected


@pytest.mark.parametrize(
    ("preset", "own", "expected"),
    [
        ([], [], ["Accept-Encoding"]),
        (["Origin"], [], ["Origin, Accept-Encoding"]),
        (["Origin"], ["Accept"], ["Origin, Accept, Accept-Encoding"]),
        ([], ["Accept", "Cookie"], ["Accept, Cookie, Accept-Encoding"]),
        ([], ["accept-encoding"], ["accept-encoding"]),
        (["Origin"], ["*"], ["Origin", "*"]),
        ([], ["Origin, *"], ["Origin, *"]),
    ],
)
def test_vary_is_merged_as_jshttp_vary_does(
    preset: list[str], own: list[str], expected: list[str]
) -> None:
    preset_headers = [(b"x-frame-options", b"SAMEORIGIN"), *((b"vary", v.encode()) for v in preset)]
    own_headers = [(b"content-type", b"text/plain"), *((b"Vary", v.encode()) for v in own)]
    merged = _with_vary(preset_headers, own_headers, [v.encode() for v in own])
    assert [v.decode() for n, v in merged if n.lower() == b"vary"] == expected
    assert merged[0] == (b"x-frame-options", b"SAMEORIGIN")
    assert (b"content-type", b"text/plain") in merged


def test_weak_etags_are_byte_identical_to_jshttp_etag() -> None:
    # etag 1.8.1 test/test.js, with {weak: true} as Express's default "etag fn" passes it
    assert weak_etag(b"beep boop") == b'W/"9-fINXV39R1PCo05OqGqr7KIY9lCE"'
    assert weak_etag("论".encode()) == b'W/"3-QkSKq8sXBjHL2tFAZknA2n6LYzM"'
    assert weak_etag(bytes([1, 2, 3])) == b'W/"3-cDeAcZjCKn0rCAc3HXY3eahP388"'
    assert weak_etag(b"") == b'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"'


def _fresh(request: dict[str, str], etag: str | None = None, modified: str | None = None) -> bool:
    return fresh(
        if_none_match=request.get("if-none-match"),
        if_modified_since=request.get("if-modified-since"),
        cache_control=request.get("cache-control"),
        etag=etag,
        last_modified=modified,
    )


def test_freshness_follows_jshttp_fresh() -> None:
    # cases of fresh 0.5.2's test/fresh.js
    assert not _fresh({}, '"foo"')
    assert _fresh({"if-none-match": '"foo"'}, '"foo"')
    assert not _fresh({"if-none-match": '"foo"'}, '"bar"')
    assert _fresh({"if-none-match": ' "bar" , "foo"'}, '"foo"')
    assert not _fresh({"if-none-match": '"foo"'})
    assert _fresh({"if-none-match": 'W/"foo"'}, 'W/"foo"')
    assert _fresh({"if-none-match": 'W/"foo"'}, '"foo"')
    assert _fresh({"if-none-match": '"foo"'}, 'W/"foo"')
    assert _fresh({"if-none-match": "*"}, '"foo"')
    assert not _fresh({"if-none-match": '*, "bar"'}, '"foo"')
    assert not _fresh({"if-none-match": '"foo"', "cache-control": " no-cache"}, '"foo"')
    assert _fresh({"if-none-match": '"foo"', "cache-control": "max-age=0"}, '"foo"')
    since = "Sat, 01 Jan 2000 01:00:00 GMT"
    assert _fresh({"if-modified-since": since}, modified="Sat, 01 Jan 2000 00:00:00 GMT")
    assert not _fresh({"if-modified-since": since}, modified="Sat, 01 Jan 2000 02:00:00 GMT")
    assert not _fresh({"if-modified-since": since})
    assert not _fresh({"if-modified-since": "foo"}, modified="Sat, 01 Jan 2000 00:00:00 GMT")
    both = {"if-none-match": '"foo"', "if-modified-since": since}
    assert _fresh(both, '"foo"', "Sat, 01 Jan 2000 00:00:00 GMT")
    assert not _fresh(both, '"foo"', "Sat, 01 Jan 2000 02:00:00 GMT")
    assert not _fresh(both, '"bar"', "Sat, 01 Jan 2000 00:00:00 GMT")
