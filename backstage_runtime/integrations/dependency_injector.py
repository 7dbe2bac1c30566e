"""Interop with ``dependency-injector`` containers, in both directions.

dependency-injector has no plugin scope, no cycle detection and no ordered async start, so it is
a bridge to an application's existing container, not the backend's core:

- :func:`expose_services` gives an application's container the services of a running backend;
- :func:`service_factory_from_provider` lets a backend use an object the application's container
  already provides.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, TypeVar

from dependency_injector import containers, providers

from ..api import ServiceFactory, ServiceRef, create_service_factory
from ..runtime import Backend

__all__ = ["expose_services", "service_factory_from_provider"]

T = TypeVar("T")


async def expose_services(
    backend: Backend, refs: Mapping[str, ServiceRef[Any]], *, plugin_id: str | None = None
) -> containers.DynamicContainer:
    """A container with one ``providers.Object`` per entry of ``refs``, holding the started
    backend's instance (plugin-scoped refs for ``plugin_id``).

    Wire it into your container, e.g. ``Container(backstage=providers.Container(...))`` or read
    ``container.logger()`` directly. Raises if the backend is not running.
    """
    container = containers.DynamicContainer()
    for name, ref in refs.items():
        setattr(container, name, providers.Object(await backend.get_service(ref, plugin_id)))
    return container


def service_factory_from_provider(ref: ServiceRef[T], provider: Any) -> ServiceFactory[T]:
    """A factory for ``ref`` whose instance is ``provider()`` (awaited if the provider is async).

    The provider is called once per backend for a root-scoped ref and once per plugin for a
    plugin-scoped one, so pick the provider type (``Singleton``, ``Factory``) to match.
    """
    if not isinstance(provider, providers.Provider):
        raise TypeError(
            f"service_factory_from_provider for '{ref.id}' needs a dependency_injector provider, "
            f"got {provider!r}"
        )

    async def factory() -> Any:
        value = provider()
        if inspect.isawaitable(value):
            value = await value
        return value

    return create_service_factory(service=ref, factory=factory)
