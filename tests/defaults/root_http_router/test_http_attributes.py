"""The attributes of a request's duration measurement: built once per combination, and never
more than a bounded number of them kept."""

from __future__ import annotations

from backstage_runtime.defaults.root_http_router import _http_attributes
from backstage_runtime.defaults.root_http_router._http_attributes import DurationAttributes
from backstage_runtime.http_toolkit import RequestInfo


def info(status: int | None, route: str | None = "/api/web/items/<id>") -> RequestInfo:
    return RequestInfo(request_id="r", started=0.0, plugin_id="web", route=route, status=status)


def test_the_same_combination_gets_the_same_mapping_and_another_its_own() -> None:
    attributes = DurationAttributes()
    first = attributes.of("GET", "http", "1.1", info(200))
    assert attributes.of("GET", "http", "1.1", info(200)) is first
    assert dict(first) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "http.response.status_code": 200,
        "http.route": "/api/web/items/<id>",
        "backstage.plugin.id": "web",
    }
    assert dict(attributes.of("GET", "http", "1.1", info(502, route=None))) == {
        "http.request.method": "GET",
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "http.response.status_code": 502,
        "error.type": "502",
        "backstage.plugin.id": "web",
    }
    assert dict(attributes.of("POST", "https", "2", None)) == {
        "http.request.method": "POST",
        "url.scheme": "https",
        "network.protocol.version": "2",
    }
    assert attributes.of("GET", "http", "1.1", info(None))["error.type"] == "incomplete"


def test_past_the_bound_attributes_are_built_per_request() -> None:
    attributes = DurationAttributes()
    bound = _http_attributes.MOST_CACHED
    for status in range(bound):
        attributes.of("GET", "http", "1.1", info(status))
    late = attributes.of("GET", "http", "1.1", info(bound))
    again = attributes.of("GET", "http", "1.1", info(bound))
    assert late == again
    assert late is not again
    assert attributes.of("GET", "http", "1.1", info(0)) is attributes.of(
        "GET", "http", "1.1", info(0)
    )
