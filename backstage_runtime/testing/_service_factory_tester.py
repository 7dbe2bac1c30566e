"""``ServiceFactoryTester``: build a service factory's instances without a backend.

Backstage's ``ServiceFactoryTester.from(factory, { dependencies })`` in Python::

    async with ServiceFactoryTester.create(my_cache_factory) as tester:
        cache = await tester.get_subject("catalog")

The subject's dependencies come from the test backend's defaults (mock auth, in-memory
database and cache, recording logger, ...) unless ``dependencies`` replace them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

import anyio

from ..api import (
    MultitonServiceRef,
    PluginLifecycleDriver,
    RootLifecycleDriver,
    ServiceFactory,
    ServiceRef,
    core_services,
)
from ..api.services.lifecycle import DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS, RootLifecycleService

# The runtime's own registry and resolver, as Backstage's tester reaches into backend-app-api's
# ServiceRegistry: the same instantiation rules (scopes, root contexts, cleanups) as a backend.
from ..runtime._registry import ServiceRegistry
from ..runtime._resolver import ServiceResolver
from ..runtime._runtime_factories import background_tasks_factory
from ._mock_core import mock_root_instance_metadata
from ._mock_logger import MockRootLogger
from ._test_backend import test_default_service_factories

__all__ = ["ServiceFactoryTester"]

T = TypeVar("T")
S = TypeVar("S")

#: The plugin id instances are built for when none is given, as in Backstage.
DEFAULT_PLUGIN_ID = "test"


class ServiceFactoryTester(Generic[T]):
    """Builds the instances of one service factory (the subject) and its dependencies.

    Make one with :meth:`create` and use it as an ``async with`` block: on exit the lifecycle
    hooks run as at a backend's stop (root before-shutdown hooks, each plugin's shutdown hooks,
    root shutdown hooks), then the generator factories' cleanups, newest first. Instances are
    built lazily, once per plugin id for plugin-scoped services and once for root-scoped ones.
    No plugin starts, so startup hooks never run (as in Backstage's tester).
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        subject: ServiceFactory[T],
        factories: list[ServiceFactory[Any]],
        logger: MockRootLogger,
    ) -> None:
        """Use :meth:`create`."""
        self._subject = subject
        self._factories = factories
        #: What the default root logger recorded, cleanup failures included.
        self.logger = logger
        self._resolver: ServiceResolver | None = None
        self._stack = AsyncExitStack()
        self._plugin_ids: list[str] = []
        self._closed = False

    @classmethod
    def create(
        cls,
        subject: ServiceFactory[T],
        *,
        dependencies: Iterable[ServiceFactory[Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> ServiceFactoryTester[T]:
        """A tester of ``subject``.

        Its dependencies are the test backend's default factories (with ``config`` as the
        whole configuration) and ``core.rootInstanceMetadata`` listing no plugins; each of
        ``dependencies`` replaces the default of its service (a multiton's is added to it), and
        ``subject`` replaces both. Raises :class:`TypeError` for anything that is no factory.
        """
        extra = list(dependencies)
        for item in [subject, *extra]:
            if not isinstance(item, ServiceFactory):
                raise TypeError(
                    f"ServiceFactoryTester takes service factories, got {item!r}"
                    + (" as the subject" if item is subject else " in dependencies")
                )
        logger = MockRootLogger()
        defaults = [
            *test_default_service_factories(config, logger),
            mock_root_instance_metadata.factory(),
        ]
        return cls(subject, _merge(defaults, [*extra, subject]), logger)

    async def __aenter__(self) -> ServiceFactoryTester[T]:
        if self._resolver is not None or self._closed:
            raise RuntimeError("a ServiceFactoryTester can be entered only once")
        group = await self._stack.enter_async_context(anyio.create_task_group())
        # Cancelled at close, after the cleanups: only background tasks run in it.
        self._stack.callback(group.cancel_scope.cancel)
        registry = ServiceRegistry()
        by_id: dict[str, list[ServiceFactory[Any]]] = {}
        for factory in self._factories:
            by_id.setdefault(factory.service.id, []).append(factory)
        background = background_tasks_factory(group, lambda: self.logger)
        by_id.setdefault(background.service.id, [background])
        for service_id, factories in by_id.items():
            registry.set_factories(service_id, factories)
        registry.freeze()
        self._resolver = ServiceResolver(registry)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Run the shutdown hooks and cleanups, then stop background tasks; idempotent."""
        if self._closed or self._resolver is None:
            self._closed = True
            return
        self._closed = True
        resolver = self._resolver
        try:
            # Shielded: a test cancelled mid-way still releases what its services hold.
            with anyio.CancelScope(shield=True):
                await self._run_shutdown_hooks(resolver)
                await resolver.aclose(DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS, self.logger)
        finally:
            # Outside the shield: the task group's scope must be the innermost when it exits.
            await self._stack.aclose()

    async def get_subject(self, plugin_id: str = DEFAULT_PLUGIN_ID) -> T:
        """The subject's instance for ``plugin_id`` (ignored for a root-scoped subject).

        For a multiton subject, the instance of this factory alone (Backstage gives the list
        of every factory's instance; :meth:`get_service` with its ref still does).
        """
        resolver = self._open()
        self._track(plugin_id)
        ref = self._subject.service
        if not ref.multiton:
            return await resolver.get(ref, plugin_id)
        instances: list[T] = await resolver.get(ref, plugin_id)  # type: ignore[arg-type]
        factories = await resolver.registry.factories_for(ref)
        return instances[factories.index(self._subject)]

    @overload
    async def get_service(
        self, ref: MultitonServiceRef[S], plugin_id: str = DEFAULT_PLUGIN_ID
    ) -> list[S]: ...

    @overload
    async def get_service(self, ref: ServiceRef[S], plugin_id: str = DEFAULT_PLUGIN_ID) -> S: ...

    async def get_service(self, ref: ServiceRef[Any], plugin_id: str = DEFAULT_PLUGIN_ID) -> Any:
        """The instance of any service the tester knows (the subject's dependencies, say) for
        ``plugin_id``; the same instances the subject received.

        Raises :class:`~backstage_runtime.api.errors.ServiceInstantiationError` naming the
        service when nothing provides it.
        """
        resolver = self._open()
        self._track(plugin_id)
        return await resolver.get(ref, plugin_id)

    def _open(self) -> ServiceResolver:
        if self._closed:
            raise RuntimeError("this ServiceFactoryTester is closed")
        if self._resolver is None:
            raise RuntimeError(
                "use the tester as `async with ServiceFactoryTester.create(...) as tester:`, "
                "so that its services are cleaned up"
            )
        return self._resolver

    def _track(self, plugin_id: str) -> None:
        if not isinstance(plugin_id, str) or not plugin_id:
            raise ValueError(f"plugin_id must be a non-empty string, got {plugin_id!r}")
        if plugin_id not in self._plugin_ids:
            self._plugin_ids.append(plugin_id)

    async def _run_shutdown_hooks(self, resolver: ServiceResolver) -> None:
        # Only lifecycles something asked for: building one now would have no hooks to run.
        root: RootLifecycleService | None = None
        if resolver.instantiated_for(core_services.root_lifecycle.id, None):
            root = await resolver.get(core_services.root_lifecycle, None)
        if isinstance(root, RootLifecycleDriver):
            await self._guarded("root before-shutdown hooks", root.before_shutdown)
        for plugin_id in self._plugin_ids:
            if resolver.instantiated_for(core_services.lifecycle.id, plugin_id):
                lifecycle = await resolver.get(core_services.lifecycle, plugin_id)
                if isinstance(lifecycle, PluginLifecycleDriver):
                    await self._guarded(f"shutdown of plugin '{plugin_id}'", lifecycle.shutdown)
        if isinstance(root, RootLifecycleDriver):
            await self._guarded("root shutdown hooks", root.shutdown)

    async def _guarded(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception as error:
            self.logger.error(f"Failed to run {what}", error)


def _merge(
    defaults: list[ServiceFactory[Any]], explicit: list[ServiceFactory[Any]]
) -> list[ServiceFactory[Any]]:
    """``defaults`` with each service of ``explicit`` replaced (a multiton's extended)."""
    by_id: dict[str, list[ServiceFactory[Any]]] = {}
    for factory in defaults:
        by_id.setdefault(factory.service.id, []).append(factory)
    for factory in explicit:
        sid = factory.service.id
        by_id[sid] = [*by_id.get(sid, []), factory] if factory.service.multiton else [factory]
    return [factory for factories in by_id.values() for factory in factories]
