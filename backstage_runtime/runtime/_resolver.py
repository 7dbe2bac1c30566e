"""Builds service instances from the registry's factories into the backend's containers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar, cast

from ..api import LoggerService, ServiceRef
from ..api.errors import ServiceInstantiationError
from ._container import ServiceContainer
from ._registry import ServiceRegistry
from ._types import PLUGIN_METADATA_ID, ROOT_PLUGIN_ID, ErasedFactory, ErasedRef

__all__ = ["ServiceResolver"]

T = TypeVar("T")


class ServiceResolver:
    """The instances of one backend: a root container and one container per plugin.

    Root-scoped services are built once per backend, plugin-scoped ones once per plugin, and a
    plugin factory's ``create_root_context`` once per backend; everything lazily, on the first
    request. Error messages name the service and the plugin that needed it.
    """

    def __init__(self, registry: ServiceRegistry) -> None:
        self.registry = registry
        self._root = ServiceContainer(None)
        self._plugins: dict[str, ServiceContainer] = {}

    async def get(self, ref: ServiceRef[T], plugin_id: str | None) -> T:
        """The instance of ``ref`` for ``plugin_id`` (None asks at root level).

        Multitons give a list of every factory's instance, in factory order. Raises
        :class:`ServiceInstantiationError` when the ref has no implementation or building fails.
        """
        # The registry is keyed by id, so nothing ties an instance to ``T`` but the ref's author.
        return cast(T, await self._get(ref, plugin_id))

    def instantiated_for(self, service_id: str, plugin_id: str | None) -> bool:
        """Whether ``service_id`` was already requested for ``plugin_id`` (None: at root)."""
        plugin = self._plugins.get(plugin_id) if plugin_id is not None else None
        for factory in self.registry.provided_factories(service_id):
            container = self._root if factory.service.scope == "root" else plugin
            if container is not None and container.holds(factory):
                return True
        return False

    async def aclose(self, timeout: float, logger: LoggerService) -> None:
        """Clean up every container: plugins first (latest created first), then the root."""
        for container in reversed(list(self._plugins.values())):
            await container.aclose(timeout, logger)
        await self._root.aclose(timeout, logger)

    def _container(self, plugin_id: str | None) -> ServiceContainer:
        if plugin_id is None:
            return self._root
        container = self._plugins.get(plugin_id)
        if container is None:
            container = self._plugins[plugin_id] = ServiceContainer(plugin_id)
        return container

    async def _get(self, ref: ErasedRef, plugin_id: str | None) -> object:
        if ref.id == PLUGIN_METADATA_ID:
            return self._container(plugin_id).metadata
        factories = await self.registry.factories_for(ref)
        if ref.multiton:
            return [await self._instance(factory, plugin_id) for factory in factories]
        if not factories:
            raise ServiceInstantiationError(
                f"No implementation is available for service '{ref.id}' "
                f"(requested by '{plugin_id or ROOT_PLUGIN_ID}')"
            )
        return await self._instance(factories[0], plugin_id)

    async def _instance(self, factory: ErasedFactory, plugin_id: str | None) -> object:
        if factory.service.scope == "root":
            return await self._root.instance(factory, lambda: self._build_root(factory))
        container = self._container(plugin_id)
        return await container.instance(factory, lambda: self._build_plugin(factory, container))

    async def _build_root(self, factory: ErasedFactory) -> object:
        problem = self.registry.missing_dependencies_problem(factory, ROOT_PLUGIN_ID)
        if problem is not None:
            raise ServiceInstantiationError(problem)
        scope_problems = self.registry.root_scope_problems(factory)
        if scope_problems:
            raise ServiceInstantiationError(scope_problems[0])
        deps = await self._resolve(factory.deps.items(), None, factory.deferred)
        # Root factory errors propagate as they are, as in Backstage.
        return await self._call(factory, (), deps, self._root)

    async def _build_plugin(self, factory: ErasedFactory, container: ServiceContainer) -> object:
        owner = container.plugin_id or ROOT_PLUGIN_ID
        problem = self.registry.missing_dependencies_problem(factory, owner)
        if problem is not None:
            raise ServiceInstantiationError(problem)
        args: tuple[object, ...] = ()
        if factory.create_root_context is not None:
            args = (await self._root.root_context(factory, lambda: self._build_context(factory)),)
        deps = await self._resolve(factory.deps.items(), container.plugin_id, factory.deferred)
        try:
            return await self._call(factory, args, deps, container)
        except Exception as error:
            raise ServiceInstantiationError(
                f"Failed to instantiate service '{factory.service.id}' for '{owner}' because the "
                "factory function threw an error",
                error,
            ) from error

    async def _build_context(self, factory: ErasedFactory) -> object:
        create = factory.create_root_context
        assert create is not None  # only called for factories that have one
        deps = await self._resolve(self.registry.root_context_deps(factory), None, factory.deferred)
        try:
            result: object = create(**deps)
            if inspect.isawaitable(result):
                result = await result
            return result
        except Exception as error:
            raise ServiceInstantiationError(
                f"Failed to instantiate service '{factory.service.id}' because createRootContext "
                "threw an error",
                error,
            ) from error

    async def _resolve(
        self,
        deps: Iterable[tuple[str, ErasedRef]],
        plugin_id: str | None,
        deferred: frozenset[str],
    ) -> dict[str, object]:
        return {
            name: self._deferred(ref, plugin_id)
            if name in deferred
            else await self._get(ref, plugin_id)
            for name, ref in deps
        }

    def _deferred(self, ref: ErasedRef, plugin_id: str | None) -> Callable[[], Awaitable[object]]:
        """A :data:`~backstage_runtime.api.Deferred`: ``ref`` for ``plugin_id``, built on the
        first call and shared like any instance.
        """

        async def get() -> object:
            return await self._get(ref, plugin_id)

        return get

    async def _call(
        self,
        factory: ErasedFactory,
        args: tuple[object, ...],
        deps: dict[str, object],
        container: ServiceContainer,
    ) -> object:
        fn = factory.factory
        if inspect.isasyncgenfunction(fn):
            agen = fn(*args, **deps)
            value: object = await agen.__anext__()
            container.push_cleanup(factory.service.id, agen)
            return value
        if inspect.isgeneratorfunction(fn):
            gen = fn(*args, **deps)
            value = next(gen)
            container.push_cleanup(factory.service.id, gen)
            return value
        result: object = fn(*args, **deps)
        if inspect.isawaitable(result):
            result = await result
        return result
