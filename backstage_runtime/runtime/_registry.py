"""The service registry: which factory serves each ref, and the instances built from them."""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from dataclasses import dataclass
from typing import Any

from ..api import ServiceFactory, ServiceRef, core_services
from ..api.errors import ServiceInstantiationError
from ._once import Once

__all__ = ["Finalizer", "ServiceInstantiationError", "ServiceRegistry"]

PLUGIN_METADATA_ID = core_services.plugin_metadata.id
ROOT_PLUGIN_ID = "root"


@dataclass(frozen=True)
class Finalizer:
    """The code after ``yield`` of a generator factory, to run at shutdown."""

    service_id: str
    plugin_id: str | None
    generator: AsyncGenerator[Any, None] | Generator[Any, None, None]


class _PluginMetadata:
    """The synthesised ``core.pluginMetadata`` instance of one plugin."""

    __slots__ = ("_plugin_id",)

    def __init__(self, plugin_id: str) -> None:
        self._plugin_id = plugin_id

    def get_id(self) -> str:
        return self._plugin_id


class ServiceRegistry:
    """Keeps the factories by service id and builds instances lazily, each at most once.

    Root-scoped instances are built once per backend, plugin-scoped ones once per plugin id, and a
    plugin factory's ``create_root_context`` once per backend. Outcomes are cached as
    :class:`Once` cells, failures included.
    """

    def __init__(self) -> None:
        self._factories: dict[str, list[ServiceFactory[Any]]] = {}
        self._default_loaders: dict[int, Once[ServiceFactory[Any]]] = {}
        self._requested: set[str] = set()
        self._root_instances: dict[int, Once[Any]] = {}
        self._root_contexts: dict[int, Once[Any]] = {}
        self._plugin_instances: dict[tuple[int, str], Once[Any]] = {}
        self._plugin_metadata: dict[str, _PluginMetadata] = {}
        self._finalizers: list[Finalizer] = []
        #: Called with (factory, plugin id) right before a factory runs; used for bookkeeping.
        self.on_instantiate: Callable[[ServiceFactory[Any], str | None], None] | None = None

    # -- factories ---------------------------------------------------------------------------

    def set_factories(self, service_id: str, factories: list[ServiceFactory[Any]]) -> None:
        """Install the factories for ``service_id`` (replacing any). Only before instantiation."""
        if service_id in self._requested:
            raise ServiceInstantiationError(
                f"Unable to set service factory with id {service_id}, service has already been "
                "instantiated"
            )
        self._factories[service_id] = list(factories)

    def provided_ids(self) -> list[str]:
        """Ids with at least one provided factory, in the order they were first provided."""
        return [sid for sid, factories in self._factories.items() if factories]

    def provided_factories(self, service_id: str) -> list[ServiceFactory[Any]]:
        """The factories provided for ``service_id`` (empty if none)."""
        return list(self._factories.get(service_id, ()))

    def is_requested(self, service_id: str) -> bool:
        """Whether anything asked for ``service_id`` yet."""
        return service_id in self._requested

    async def factories_for(self, ref: ServiceRef[Any]) -> list[ServiceFactory[Any]]:
        """The factories that serve ``ref``: provided ones, else the ref's default factory."""
        provided = self._factories.get(ref.id)
        if provided:
            return list(provided)
        if ref.default_factory is None:
            return []
        loader = ref.default_factory
        key = id(loader)
        cell = self._default_loaders.get(key)
        if cell is None:

            async def load() -> ServiceFactory[Any]:
                try:
                    result = loader(ref)
                    if inspect.isawaitable(result):
                        result = await result
                    if callable(result) and not isinstance(result, ServiceFactory):
                        result = result()
                except Exception as error:
                    raise ServiceInstantiationError(
                        f"Failed to instantiate service '{ref.id}' because the default factory "
                        "loader threw an error",
                        error,
                    ) from error
                if not isinstance(result, ServiceFactory):
                    raise ServiceInstantiationError(
                        f"The default factory of service '{ref.id}' returned {result!r}, "
                        "expected a ServiceFactory"
                    )
                return result

            cell = self._default_loaders[key] = Once(load)
        return [await cell.get()]

    def can_resolve(self, ref: ServiceRef[Any]) -> bool:
        """Whether ``ref`` has an implementation (or needs none: multitons, plugin metadata)."""
        return (
            ref.id == PLUGIN_METADATA_ID
            or ref.multiton
            or bool(self._factories.get(ref.id))
            or ref.default_factory is not None
        )

    # -- instances ---------------------------------------------------------------------------

    async def get(self, ref: ServiceRef[Any], plugin_id: str | None) -> Any:
        """The instance of ``ref`` for ``plugin_id`` (None asks at root level).

        Multitons give a list of every factory's instance, in factory order. Raises
        :class:`ServiceInstantiationError` when the ref has no implementation or building fails.
        """
        self._requested.add(ref.id)
        if ref.id == PLUGIN_METADATA_ID:
            owner = plugin_id or ROOT_PLUGIN_ID
            metadata = self._plugin_metadata.get(owner)
            if metadata is None:
                metadata = self._plugin_metadata[owner] = _PluginMetadata(owner)
            return metadata
        factories = await self.factories_for(ref)
        if ref.multiton:
            return [await self._instance(factory, plugin_id) for factory in factories]
        if not factories:
            raise ServiceInstantiationError(
                f"No implementation is available for service '{ref.id}' "
                f"(requested by '{plugin_id or ROOT_PLUGIN_ID}')"
            )
        return await self._instance(factories[0], plugin_id)

    def instantiated_for(self, service_id: str, plugin_id: str | None) -> bool:
        """Whether ``service_id`` was already built for ``plugin_id`` (None: at root)."""
        for factory in self._factories.get(service_id, ()):
            if factory.service.scope == "root":
                if id(factory) in self._root_instances:
                    return True
            elif plugin_id is not None and (id(factory), plugin_id) in self._plugin_instances:
                return True
        return False

    def take_finalizers(self) -> list[Finalizer]:
        """Every pending generator finalizer in creation order; the registry forgets them."""
        finalizers, self._finalizers = self._finalizers, []
        return finalizers

    async def _instance(self, factory: ServiceFactory[Any], plugin_id: str | None) -> Any:
        if factory.service.scope == "root":
            cell = self._root_instances.get(id(factory))
            if cell is None:
                cell = self._root_instances[id(factory)] = Once(lambda: self._build_root(factory))
            return await cell.get()
        owner = plugin_id or ROOT_PLUGIN_ID
        key = (id(factory), owner)
        cell = self._plugin_instances.get(key)
        if cell is None:
            cell = self._plugin_instances[key] = Once(lambda: self._build_plugin(factory, owner))
        return await cell.get()

    def _missing_deps(self, factory: ServiceFactory[Any]) -> list[str]:
        return [ref.id for ref in factory.deps.values() if not self.can_resolve(ref)]

    def _dep_scope(self, ref: ServiceRef[Any]) -> str:
        # The provided factory's ref decides: refs are keyed by id, so the dependent may hold a
        # different ref object for the same id.
        provided = self._factories.get(ref.id)
        return provided[0].service.scope if provided else ref.scope

    async def _build_root(self, factory: ServiceFactory[Any]) -> Any:
        service_id = factory.service.id
        missing = self._missing_deps(factory)
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            raise ServiceInstantiationError(
                f"Failed to instantiate service '{service_id}' for '{ROOT_PLUGIN_ID}' because "
                f"the following dependent services are missing: {names}"
            )
        for ref in factory.deps.values():
            if self._dep_scope(ref) == "plugin" or ref.id == PLUGIN_METADATA_ID:
                raise ServiceInstantiationError(
                    f"Failed to instantiate 'root' scoped service '{service_id}' because it "
                    f"depends on 'plugin' scoped service '{ref.id}'."
                )
        deps = await self._resolve_deps(factory.deps.items(), None)
        if self.on_instantiate is not None:
            self.on_instantiate(factory, None)
        # Root factory errors propagate as they are, as in Backstage.
        return await self._call(factory, (), deps, None)

    async def _build_plugin(self, factory: ServiceFactory[Any], plugin_id: str) -> Any:
        service_id = factory.service.id
        missing = self._missing_deps(factory)
        if missing:
            names = ", ".join(f"'{m}'" for m in missing)
            raise ServiceInstantiationError(
                f"Failed to instantiate service '{service_id}' for '{plugin_id}' because the "
                f"following dependent services are missing: {names}"
            )
        args: tuple[Any, ...] = ()
        if factory.create_root_context is not None:
            context = await self._root_context(factory)
            args = (context,)
        deps = await self._resolve_deps(factory.deps.items(), plugin_id)
        if self.on_instantiate is not None:
            self.on_instantiate(factory, plugin_id)
        try:
            return await self._call(factory, args, deps, plugin_id)
        except Exception as error:
            raise ServiceInstantiationError(
                f"Failed to instantiate service '{service_id}' for '{plugin_id}' because the "
                "factory function threw an error",
                error,
            ) from error

    async def _root_context(self, factory: ServiceFactory[Any]) -> Any:
        cell = self._root_contexts.get(id(factory))
        if cell is None:

            async def build() -> Any:
                create = factory.create_root_context
                assert create is not None
                root_deps = [
                    (name, ref)
                    for name, ref in factory.deps.items()
                    if self._dep_scope(ref) == "root" and ref.id != PLUGIN_METADATA_ID
                ]
                deps = await self._resolve_deps(root_deps, None)
                try:
                    result = create(**deps)
                    if inspect.isawaitable(result):
                        result = await result
                    return result
                except Exception as error:
                    raise ServiceInstantiationError(
                        f"Failed to instantiate service '{factory.service.id}' because "
                        "createRootContext threw an error",
                        error,
                    ) from error

            cell = self._root_contexts[id(factory)] = Once(build)
        return await cell.get()

    async def _resolve_deps(
        self, deps: Iterable[tuple[str, ServiceRef[Any]]], plugin_id: str | None
    ) -> dict[str, Any]:
        return {name: await self.get(ref, plugin_id) for name, ref in deps}

    async def _call(
        self,
        factory: ServiceFactory[Any],
        args: tuple[Any, ...],
        deps: dict[str, Any],
        plugin_id: str | None,
    ) -> Any:
        fn = factory.factory
        if inspect.isasyncgenfunction(fn):
            agen = fn(*args, **deps)
            value = await agen.__anext__()
            self._finalizers.append(Finalizer(factory.service.id, plugin_id, agen))
            return value
        if inspect.isgeneratorfunction(fn):
            gen = fn(*args, **deps)
            value = next(gen)
            self._finalizers.append(Finalizer(factory.service.id, plugin_id, gen))
            return value
        result = fn(*args, **deps)
        if inspect.isawaitable(result):
            result = await result
        return result
