"""One plugin's use of the events backend: forward publishes, long-poll each subscription.

Mirrors Backstage's ``PluginEventsService`` in ``DefaultEventsService.ts``: the same requests,
backoff (1 s doubling up to 60 s) and log messages. Once the events backend answers 404 in
``auto`` mode, this plugin stops using it and stays local.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import aiohttp
import anyio
import anyio.lowlevel

from ...api import LoggerService
from ...api.services.events import EventHandler, EventParams
from ._bus_client import EVENTS_NOTIFY_TIMEOUT_HEADER, EventBusClient, response_error
from ._in_flight import InFlight
from ._mode import EventBusMode

__all__ = ["POLL_BACKOFF_FACTOR", "POLL_BACKOFF_MAX", "POLL_BACKOFF_START", "RemoteBus"]

#: Seconds before the first retry of a failed poll; doubled at each failure up to the maximum.
POLL_BACKOFF_START: Final = 1.0
POLL_BACKOFF_MAX: Final = 60.0
POLL_BACKOFF_FACTOR: Final = 2.0

# The events backend may answer a 202 at its own timeout: wait that long plus one second.
_NOTIFY_GRACE: Final = 1.0

# What a request to an absent or dead events backend raises (besides an error status).
_UNREACHABLE: Final = (aiohttp.ClientConnectionError, OSError, TimeoutError)

Sleep = Callable[[float], Awaitable[Any]]


class _Malformed(ValueError):
    """The events backend answered 200 with something other than ``{events: [...]}``."""


#: How long a poll answer that began arriving may take to finish (it is read past a cancel).
BODY_READ_TIMEOUT_SECONDS = 10.0

def _read_events(subscription_id: str, data: Any) -> list[EventParams]:
    if data is None:
        return []  # Backstage reads a null body as no events
    events = data.get("events", []) if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise _Malformed(
            f'Malformed events response for subscription "{subscription_id}": expected an '
            f"object with an 'events' array, got {type(data).__name__}"
        )
    parsed: list[EventParams] = []
    for index, event in enumerate(events):
        if not isinstance(event, dict) or not isinstance(event.get("topic"), str):
            raise _Malformed(
                f'Malformed events response for subscription "{subscription_id}": event '
                f"{index} has no string 'topic'"
            )
        parsed.append(EventParams(topic=event["topic"], event_payload=event.get("payload")))
    return parsed


def _notify_timeout(response: aiohttp.ClientResponse) -> float | None:
    raw = response.headers.get(EVENTS_NOTIFY_TIMEOUT_HEADER)
    try:
        milliseconds = int(raw) if raw is not None else None
    except ValueError:
        milliseconds = None
    if milliseconds is None or milliseconds < 0:
        return None
    return milliseconds / 1000 + _NOTIFY_GRACE


class RemoteBus:
    """The events backend as seen by one plugin (``client`` is None once it is known absent)."""

    def __init__(
        self,
        *,
        client: EventBusClient,
        mode: EventBusMode,
        logger: LoggerService,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        self.client: EventBusClient | None = client
        self._mode = mode
        self._logger = logger
        self._sleep = sleep
        # The deliveries of events read from the bus, shielded from the poll's cancellation;
        # :meth:`abandon_deliveries` cancels them when the shutdown cannot wait any longer.
        self._deliveries: set[anyio.CancelScope] = set()

    async def _token(self, client: EventBusClient) -> str:
        return await client.token()

    async def publish(self, event: EventParams, notified_subscribers: Sequence[str]) -> None:
        """Forward ``event`` (already delivered locally to ``notified_subscribers``)."""
        client = self.client
        if client is None:
            return
        token = await self._token(client)
        if not token:
            return
        try:
            status, error = await client.post_event(
                token,
                topic=event.topic,
                payload=event.event_payload,
                notified_subscribers=notified_subscribers,
            )
        except _UNREACHABLE as unreachable:
            if self._mode == "always":
                raise
            # Where we differ: Backstage's publish fails here. The local subscribers already
            # have the event, and an unreachable bus in `auto` must not break the publisher.
            self._logger.warn(
                "Event publish request failed, events backend unreachable; the event reached "
                "only the subscribers in this process",
                unreachable,
            )
            return
        if error is not None:
            if status == 404 and self._mode != "always":
                self._logger.warn(
                    "Event publish request failed with status 404, events backend not found. "
                    "Future events will not be persisted."
                )
                self.client = None
                return
            raise error

    async def poll(
        self,
        subscription_id: str,
        topics: Sequence[str],
        on_event: EventHandler,
        in_flight: InFlight,
    ) -> None:
        """Keep ``subscription_id`` subscribed and deliver its events to ``on_event`` until the
        events backend turns out absent (``auto``) or the caller cancels."""
        has_subscription = False
        backoff = POLL_BACKOFF_START
        while True:
            client = self.client
            if client is None:
                return
            try:
                token = await self._token(client)
                if not token:
                    return
                if has_subscription:
                    has_subscription = await self._read(
                        client, token, subscription_id, on_event, in_flight
                    )
                if not has_subscription:
                    status, error = await client.put_subscription(token, subscription_id, topics)
                    # As Backstage: set before the status is checked, so that after a failed
                    # PUT the next round reads (and a 404 there recreates the subscription).
                    has_subscription = True
                    if error is not None:
                        if status == 404 and self._mode != "always":
                            self._logger.warn(
                                "Event subscribe request failed with status 404, events backend "
                                "not found. Will only receive events that were sent locally on "
                                "this process."
                            )
                            self.client = None
                            return
                        raise error
                backoff = POLL_BACKOFF_START
                # A checkpoint: a bus answering at once every time must not starve the loop.
                await anyio.lowlevel.checkpoint()
            except Exception as error:
                self._logger.warn(
                    f'Poll failed for subscription "{subscription_id}", retrying in '
                    f"{backoff * 1000:.0f}ms",
                    error,
                )
                await self._sleep(backoff)
                backoff = min(backoff * POLL_BACKOFF_FACTOR, POLL_BACKOFF_MAX)

    async def _read(
        self,
        client: EventBusClient,
        token: str,
        subscription_id: str,
        on_event: EventHandler,
        in_flight: InFlight,
    ) -> bool:
        """One long poll; whether the subscription still exists."""
        async with client.get_subscription_events(token, subscription_id) as response:
            if response.status == 202:
                # Nothing yet: the answer ends when there is news or at the backend's timeout;
                # either way read again. Its (empty) body ending is the signal.
                with anyio.move_on_after(_notify_timeout(response)):
                    await response.read()
                return True
            if response.status == 200:
                # The bus marked these events read when it answered: once its answer has begun,
                # finish reading it even when the poll is being cancelled (the plugin's
                # shutdown), or they would be lost for this subscription. Bounded, so a bus
                # that stalls mid-body cannot hold the stop.
                with anyio.CancelScope(shield=True), anyio.fail_after(BODY_READ_TIMEOUT_SECONDS):
                    data = await response.json(content_type=None)
                events = _read_events(subscription_id, data)
                await self._deliver(subscription_id, events, on_event, in_flight)
                return True
            if response.status == 404:
                self._logger.info(
                    "Polling event subscription resulted in a 404, recreating subscription"
                )
                return False
            raise await response_error(response)

    async def _deliver(
        self,
        subscription_id: str,
        events: list[EventParams],
        on_event: EventHandler,
        in_flight: InFlight,
    ) -> None:
        # Events read from the bus are gone from it: a shutdown waits for their delivery
        # (the plugin's shutdown waits on in_flight) instead of cancelling it.
        in_flight.enter()
        scope = anyio.CancelScope(shield=True)
        self._deliveries.add(scope)
        try:
            with scope:
                for event in events:
                    try:
                        result = on_event(event)
                        if inspect.isawaitable(result):
                            await result
                    except Exception as error:
                        self._logger.warn(
                            f'Subscriber "{subscription_id}" failed to process event for topic '
                            f'"{event.topic}"',
                            error,
                        )
        finally:
            self._deliveries.discard(scope)
            in_flight.exit()

    def abandon_deliveries(self) -> None:
        """Cancel the deliveries still running (the plugin's shutdown hook timed out)."""
        for scope in list(self._deliveries):
            scope.cancel()
