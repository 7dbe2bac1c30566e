"""Mocking outgoing HTTP for plugin tests: Backstage's ``registerMswTestHooks`` counterpart.

Backstage mocks ``fetch`` with msw; plugins here call other services through the backend's one
aiohttp session (``runtime_services.http_client``), so the mock is aioresponses, which patches
every ``aiohttp.ClientSession`` of the process while active. aioresponses comes with the
``test-utils`` extra and is imported only when a mock starts.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from ..api import core_services

if TYPE_CHECKING:
    from aioresponses import aioresponses

    from ._test_backend import TestBackend

__all__ = ["LOOPBACK_PASSTHROUGH", "MockHttp", "RecordedRequest", "create_mock_http"]

#: Requests to these URL prefixes reach the network: test backends listen on 127.0.0.1, and
#: ``TestBackend.url()`` gives such addresses, so tests can still call the backend they test.
LOOPBACK_PASSTHROUGH = ("http://127.0.0.1:", "https://127.0.0.1:", "http://[::1]:")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the mock intercepted (answered or not)."""

    method: str
    url: str
    headers: dict[str, str]
    #: The ``json=`` argument of the call, if any.
    json: Any
    #: The ``data=`` argument of the call, if any.
    data: Any


class MockHttp:
    """Answers outgoing aiohttp requests with canned responses; a request nothing answers fails
    with ``aiohttp.ClientConnectionError("Connection refused: <METHOD> <url>")`` (as msw's
    ``onUnhandledRequest: 'error'`` does). ``url`` is a string or a compiled regex; keyword
    arguments are aioresponses' (``status``, ``payload``, ``body``, ``headers``,
    ``exception``, ``callback``, ``repeat``)::

        mock_http.get(f"{catalog}/entities", payload=[{"kind": "Component"}])
        mock_http.post(f"{catalog}/refresh", status=503, repeat=True)
    """

    def __init__(self, mocker: aioresponses) -> None:
        self._mocker = mocker

    @property
    def aioresponses(self) -> aioresponses:
        """The underlying ``aioresponses`` object, for anything not wrapped here."""
        return self._mocker

    def add(self, url: Any, method: str = "GET", **kwargs: Any) -> None:
        """Answer ``method`` requests of ``url`` (once, unless ``repeat=True``)."""
        kwargs.setdefault("response_class", _response_class())
        self._mocker.add(url, method, **kwargs)

    def get(self, url: Any, **kwargs: Any) -> None:
        """Answer a GET of ``url``."""
        self.add(url, "GET", **kwargs)

    def post(self, url: Any, **kwargs: Any) -> None:
        """Answer a POST of ``url``."""
        self.add(url, "POST", **kwargs)

    def put(self, url: Any, **kwargs: Any) -> None:
        """Answer a PUT of ``url``."""
        self.add(url, "PUT", **kwargs)

    def patch(self, url: Any, **kwargs: Any) -> None:
        """Answer a PATCH of ``url``."""
        self.add(url, "PATCH", **kwargs)

    def delete(self, url: Any, **kwargs: Any) -> None:
        """Answer a DELETE of ``url``."""
        self.add(url, "DELETE", **kwargs)

    def head(self, url: Any, **kwargs: Any) -> None:
        """Answer a HEAD of ``url``."""
        self.add(url, "HEAD", **kwargs)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every intercepted request, grouped by method and URL in first-seen order."""
        recorded = []
        for (method, url), calls in self._mocker.requests.items():
            for call in calls:
                headers = call.kwargs.get("headers") or {}
                recorded.append(
                    RecordedRequest(
                        method=method,
                        url=str(url),
                        headers={str(k): str(v) for k, v in dict(headers).items()},
                        json=call.kwargs.get("json"),
                        data=call.kwargs.get("data"),
                    )
                )
        return recorded

    @staticmethod
    async def plugin_url(test: TestBackend, plugin_id: str, path: str = "") -> str:
        """Where the plugins of ``test`` reach ``plugin_id`` through discovery, plus ``path``:
        the URL to mock for a plugin that is not part of the test backend.
        """
        discovery = await test.get_service(core_services.discovery, plugin_id)
        return f"{await discovery.get_base_url(plugin_id)}{path}"


class _NoUpload:
    # What aiohttp >= 3.14 reads from a response's stream writer: the bytes sent so far.
    output_size = 0


@functools.cache
def _response_class() -> type[aiohttp.ClientResponse]:
    """A ``ClientResponse`` that aioresponses (0.7.9) can build on every aiohttp we support.

    aiohttp 3.14 made ``stream_writer`` a required argument that aioresponses does not pass;
    this supplies a stand-in (only its ``output_size`` is read) and is a plain subclass on
    older aiohttp.
    """
    needs_writer = "stream_writer" in inspect.signature(aiohttp.ClientResponse).parameters

    class MockResponse(aiohttp.ClientResponse):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            if needs_writer:
                kwargs.setdefault("stream_writer", _NoUpload())
            super().__init__(*args, **kwargs)

    return MockResponse


@contextmanager
def create_mock_http(*, passthrough: tuple[str, ...] = LOOPBACK_PASSTHROUGH) -> Iterator[MockHttp]:
    """Mock outgoing aiohttp requests inside the ``with`` block (the ``mock_http`` fixture does
    this around a test). URLs starting with one of ``passthrough`` reach the network.

    Raises :class:`ModuleNotFoundError` with the install command when aioresponses is absent.
    """
    try:
        from aioresponses import aioresponses
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            "HTTP mocking needs aioresponses: pip install 'backstage-runtime[test-utils]'",
            name=error.name,
        ) from error
    with aioresponses(passthrough=list(passthrough)) as mocker:
        yield MockHttp(mocker)
