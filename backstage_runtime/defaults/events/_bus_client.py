"""HTTP client of the events backend's bus API (``/bus/v1/...`` of the ``events`` plugin)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final
from urllib.parse import quote

import aiohttp

from ...api import DiscoveryService
from ...api.errors import ResponseError
from ...api.services.auth import AuthService

__all__ = ["EVENTS_NOTIFY_TIMEOUT_HEADER", "EventBusClient", "response_error"]

#: The header of a 202 poll answer: how long (ms) the events backend holds the response open.
EVENTS_NOTIFY_TIMEOUT_HEADER: Final = "backstage-events-notify-timeout"

#: The plugin that serves the bus.
EVENTS_PLUGIN_ID: Final = "events"

# RFC 6570 reserved characters, kept as they are: the OpenAPI parameter is ``allowReserved``.
_RESERVED: Final = ":/?#[]@!$&'()*+,;="

# A long poll stays open as long as the events backend wants (it says how long in a header):
# the shared session's total timeout must not cut it, but a dead host must still fail fast.
_LONG_POLL_TIMEOUT: Final = aiohttp.ClientTimeout(total=None, sock_connect=10, connect=30)


async def response_error(response: aiohttp.ClientResponse) -> ResponseError:
    """A :class:`ResponseError` for an answer that is not 2xx (as Backstage's
    ``ResponseError.fromResponse``), keeping the body for the log."""
    try:
        body: object = await response.text()
    except (aiohttp.ClientError, UnicodeDecodeError, TimeoutError):
        body = None
    return ResponseError(
        f"Request failed with {response.status} {response.reason or ''}".strip(),
        status_code=response.status,
        body=body,
    )


class EventBusClient:
    """Calls the events backend found through discovery, with a plugin token for ``events``
    issued by the calling plugin's own auth service, over the backend's shared session."""

    def __init__(
        self, *, session: aiohttp.ClientSession, discovery: DiscoveryService, auth: AuthService
    ) -> None:
        self._session = session
        self._discovery = discovery
        self._auth = auth

    async def token(self) -> str:
        """A plugin request token for the events plugin (empty when none is to be sent)."""
        token = await self._auth.get_plugin_request_token(
            on_behalf_of=await self._auth.get_own_service_credentials(),
            target_plugin_id=EVENTS_PLUGIN_ID,
        )
        return token.token

    async def _url(self, path: str) -> str:
        # Asked at every call, as Backstage's generated client does: discovery may change.
        return f"{await self._discovery.get_base_url(EVENTS_PLUGIN_ID)}{path}"

    @staticmethod
    def _headers(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def post_event(
        self, token: str, *, topic: str, payload: Any, notified_subscribers: Sequence[str]
    ) -> tuple[int, ResponseError | None]:
        """``POST /bus/v1/events``; the status and, when it is not 2xx, the error."""
        body = {
            "event": {"payload": payload, "topic": topic},
            "notifiedSubscribers": list(notified_subscribers),
        }
        url = await self._url("/bus/v1/events")
        async with self._session.post(url, json=body, headers=self._headers(token)) as reply:
            if 200 <= reply.status < 300:
                return reply.status, None
            return reply.status, await response_error(reply)

    async def put_subscription(
        self, token: str, subscription_id: str, topics: Sequence[str]
    ) -> tuple[int, ResponseError | None]:
        """``PUT /bus/v1/subscriptions/<id>`` with ``{topics}``; the status and the error."""
        url = await self._url(f"/bus/v1/subscriptions/{quote(subscription_id, safe=_RESERVED)}")
        async with self._session.put(
            url, json={"topics": list(topics)}, headers=self._headers(token)
        ) as reply:
            if 200 <= reply.status < 300:
                return reply.status, None
            return reply.status, await response_error(reply)

    @asynccontextmanager
    async def get_subscription_events(
        self, token: str, subscription_id: str
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """``GET /bus/v1/subscriptions/<id>/events``: the response, its body still unread.

        Leaving the block before the body ended (a cancelled long poll) closes the connection,
        so that no request stays open at the events backend.
        """
        url = await self._url(
            f"/bus/v1/subscriptions/{quote(subscription_id, safe=_RESERVED)}/events"
        )
        response = await self._session.get(
            url, headers=self._headers(token), timeout=_LONG_POLL_TIMEOUT
        )
        try:
            yield response
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()
