"""Default ``runtime.httpClient``: one ``aiohttp.ClientSession`` per backend, built on first use.

Usage in a service or plugin::

    deps={"http": runtime_services.http_client}
    ...
    async with http.get(url) as response:
        data = await response.json()

Reusing one session keeps connections pooled across every caller; it is closed after the root
shutdown hooks, so plugins can still use it in their own shutdown hooks.
"""

from ._factory import DEFAULT_TIMEOUT_SECONDS, http_client_service_factory

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "http_client_service_factory",
]
