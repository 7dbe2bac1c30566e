"""Starts and stops a backend: the sequence of Backstage's ``BackendInitializer`` on anyio."""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import anyio
from anyio.abc import TaskGroup

from ..api import (
    Config,
    ExtensionPoint,
    InstalledModule,
    InstalledPlugin,
    LoggerService,
    ServiceFactory,
    ServiceRef,
    core_services,
    create_service_factory,
    runtime_services,
)
from ..api._features import Registration
from ..api.errors import BackendStartupError, BackendValidationError, stringify_error
from ..api.services.lifecycle import (
    DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS,
    SHUTDOWN_HOOK_TIMEOUT_KEY,
    read_shutdown_hook_timeout,
)
from ._assembly import AddedFeature, Assembly
from ._boot_failure import BootFailurePolicy
from ._extension_points import ExtensionPointGate, guard_extension_point
from ._feature_graph import FeatureGraph, build_feature_graph
from ._registry import Finalizer, ServiceRegistry
from ._validation import ValidationReport, module_graph, validate

__all__ = ["BackendInitializer", "PluginStartup", "StartupResult"]

#: Bound on each generator factory's cleanup (``backend.lifecycle.shutdownHookTimeout`` overrides).
DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS


@runtime_checkable
class _PluginLifecycleDriver(Protocol):
    async def startup(self) -> None: ...
    async def shutdown(self) -> None: ...


@runtime_checkable
class _RootLifecycleDriver(Protocol):
    async def startup(self) -> None: ...
    async def before_shutdown(self) -> None: ...
    async def shutdown(self) -> None: ...


@dataclass
class PluginStartup:
    """How one plugin's start went; ``failure`` is None on success."""

    plugin_id: str
    failure: str | None = None
    allowed: bool = False
    module_failures: dict[str, tuple[str, bool]] = field(default_factory=dict)

    @property
    def started(self) -> bool:
        """Whether the plugin's init completed."""
        return self.failure is None


@dataclass
class StartupResult:
    """The outcome of a start: every plugin, and the modules skipped for lack of their plugin."""

    plugins: dict[str, PluginStartup] = field(default_factory=dict)
    skipped_modules: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """``success`` when every failure was permitted, else ``failure``."""
        for plugin in self.plugins.values():
            if plugin.failure is not None and not plugin.allowed:
                return "failure"
            if any(not allowed for _msg, allowed in plugin.module_failures.values()):
                return "failure"
        return "success"


class _NullLogger:
    """Used when the backend has no root logger factory (minimal test setups)."""

    def error(self, message: str, meta: Any = None) -> None: ...
    def warn(self, message: str, meta: Any = None) -> None: ...
    def info(self, message: str, meta: Any = None) -> None: ...
    def debug(self, message: str, meta: Any = None) -> None: ...

    def child(self, meta: Any) -> _NullLogger:
        return self


class _BackgroundTasks:
    """The ``runtime.backgroundTasks`` service over the backend's task group."""

    def __init__(self, group: TaskGroup, logger: Callable[[], LoggerService]) -> None:
        self._group = group
        self._logger = logger

    def start_soon(self, fn: Callable[..., Awaitable[Any]], *args: Any, name: str) -> None:
        async def guarded() -> None:
            try:
                await fn(*args)
            except anyio.get_cancelled_exc_class():
                raise
            except Exception as error:
                self._logger().error(f"Background task '{name}' failed", error)

        self._group.start_soon(guarded, name=name)


class BackendInitializer:
    """One start and one stop of a set of features."""

    def __init__(
        self, defaults: Iterable[ServiceFactory[Any]], features: Iterable[AddedFeature]
    ) -> None:
        self._defaults = list(defaults)
        self._features = list(features)
        self._registry: ServiceRegistry | None = None
        self._logger: LoggerService = _NullLogger()
        self._started_plugins: list[str] = []
        self._stop_called = False
        self._failures: list[tuple[str, BaseException]] = []
        self.result = StartupResult()

    @property
    def registry(self) -> ServiceRegistry:
        """The service registry; only after :meth:`start` began."""
        if self._registry is None:
            raise RuntimeError("the backend has not been started")
        return self._registry

    async def start(self, group: TaskGroup) -> StartupResult:
        """Assemble, validate and start everything; background tasks run in ``group``.

        Raises :class:`BackendValidationError` listing every problem before anything is built,
        and :class:`BackendStartupError` when a plugin or module fails and the boot-failure policy
        says abort; everything already started is stopped before either error propagates.
        """
        assembly, loaders = Assembly.create(self._defaults, self._features)
        registry = self._registry = assembly.registry
        bg_id = runtime_services.background_tasks.id
        if not registry.provided_factories(bg_id):
            registry.set_factories(bg_id, [self._background_tasks_factory(group)])
        for loader in loaders:
            await assembly.run_loader(loader)
        assembly.collect_registrations()
        meta_id = core_services.root_instance_metadata.id
        if registry.provided_factories(meta_id):
            assembly.problems.append(
                f"The {meta_id} service is provided by the backend and cannot be overridden"
            )
        else:
            registry.set_factories(meta_id, [_instance_metadata_factory(assembly)])
        report = await validate(assembly)
        problems = [*assembly.problems, *report.problems]
        if problems:
            raise BackendValidationError(problems)
        self.result.skipped_modules = report.orphan_modules
        self.result.warnings = report.warnings

        try:
            await self._start_root_services(registry)
            self._logger = await self._resolve_logger(registry)
            for warning in report.warnings:
                self._logger.warn(warning)
            policy = BootFailurePolicy.from_config(await self._optional_config(registry))
            await self._start_plugins(assembly, report, policy)
            failures = self._failures
            if failures:
                raise BackendStartupError([line for line, _ in failures], [e for _, e in failures])
            root_lifecycle = await self._root_lifecycle(registry)
            if root_lifecycle is not None:
                await root_lifecycle.startup()
            self._logger.info("Plugin initialization complete")
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.stop()
            raise
        return self.result

    async def inspect(self, group: TaskGroup) -> FeatureGraph:
        """Assemble without starting (loaders run, registrations are collected) and return the
        dependency graph; root services a loader needs are built and cleaned up again.
        """
        assembly, loaders = Assembly.create(self._defaults, self._features)
        registry = self._registry = assembly.registry
        bg_id = runtime_services.background_tasks.id
        if not registry.provided_factories(bg_id):
            registry.set_factories(bg_id, [self._background_tasks_factory(group)])
        try:
            for loader in loaders:
                await assembly.run_loader(loader)
            assembly.collect_registrations()
            if assembly.problems:
                raise BackendValidationError(list(assembly.problems))
            return await build_feature_graph(assembly)
        finally:
            for finalizer in reversed(registry.take_finalizers()):
                await self._finalize(finalizer, DEFAULT_SHUTDOWN_TIMEOUT_SECONDS)

    async def stop(self) -> None:
        """Stop in reverse: root before-shutdown hooks, every plugin's shutdown hooks
        (concurrently), root shutdown hooks, then generator-factory cleanups (plugin ones first).
        Idempotent; failures are logged and never stop the remaining steps.
        """
        if self._stop_called or self._registry is None:
            return
        self._stop_called = True
        registry = self._registry
        timeout = await self._shutdown_timeout(registry)
        root_lifecycle = await self._root_lifecycle(registry, only_if_built=True)
        if root_lifecycle is not None:
            await self._guarded("root before-shutdown hooks", root_lifecycle.before_shutdown)

        async with anyio.create_task_group() as group:
            for plugin_id in self._started_plugins:
                if registry.instantiated_for(core_services.lifecycle.id, plugin_id):
                    lifecycle = await registry.get(core_services.lifecycle, plugin_id)
                    if isinstance(lifecycle, _PluginLifecycleDriver):
                        group.start_soon(
                            self._guarded, f"shutdown of plugin '{plugin_id}'", lifecycle.shutdown
                        )
        if root_lifecycle is not None:
            await self._guarded("root shutdown hooks", root_lifecycle.shutdown)
        finalizers = registry.take_finalizers()
        plugin_scoped = [f for f in finalizers if f.plugin_id is not None]
        root_scoped = [f for f in finalizers if f.plugin_id is None]
        for finalizer in [*reversed(plugin_scoped), *reversed(root_scoped)]:
            await self._finalize(finalizer, timeout)

    # -- start steps ---------------------------------------------------------------------------

    def _background_tasks_factory(self, group: TaskGroup) -> ServiceFactory[Any]:
        def factory() -> _BackgroundTasks:
            return _BackgroundTasks(group, lambda: self._logger)

        return create_service_factory(service=runtime_services.background_tasks, factory=factory)

    async def _start_root_services(self, registry: ServiceRegistry) -> None:
        # Sequential and in registry order, as Backstage does: the root config and logger come
        # first in the default list, so later root services can log their own failures.
        for sid in registry.provided_ids():
            factories = registry.provided_factories(sid)
            first = factories[0]
            if first.service.scope == "root" and first.eager:
                await registry.get(first.service, None)

    async def _resolve_logger(self, registry: ServiceRegistry) -> LoggerService:
        if not registry.can_resolve(core_services.root_logger):
            return _NullLogger()
        root: LoggerService = await registry.get(core_services.root_logger, None)
        return root.child({"type": "initialization"})

    async def _optional_config(self, registry: ServiceRegistry) -> Config | None:
        if not registry.can_resolve(core_services.root_config):
            return None
        config: Config = await registry.get(core_services.root_config, None)
        return config

    async def _shutdown_timeout(self, registry: ServiceRegistry) -> float:
        try:
            config = await self._optional_config(registry)
            if config is not None:
                return read_shutdown_hook_timeout(config)
        except Exception as error:
            self._logger.error(f"Invalid {SHUTDOWN_HOOK_TIMEOUT_KEY}", error)
        return DEFAULT_SHUTDOWN_TIMEOUT_SECONDS

    async def _start_plugins(
        self, assembly: Assembly, report: ValidationReport, policy: BootFailurePolicy
    ) -> None:
        plugin_ids = list(assembly.plugins)
        if plugin_ids:
            names = ", ".join(f"'{p}'" for p in plugin_ids)
            self._logger.info(f"Plugin initialization started: {names}")
        for plugin_id in plugin_ids:
            self.result.plugins[plugin_id] = PluginStartup(plugin_id)
        # Computed once: every plugin builds the same 'always' services.
        registry = assembly.registry
        eager = [
            first.service
            for first in (registry.provided_factories(sid)[0] for sid in registry.provided_ids())
            if first.service.scope == "plugin" and first.eager
        ]
        async with anyio.create_task_group() as group:
            for plugin_id in plugin_ids:
                group.start_soon(self._start_plugin, assembly, report, policy, eager, plugin_id)

    async def _start_plugin(
        self,
        assembly: Assembly,
        report: ValidationReport,
        policy: BootFailurePolicy,
        eager: list[ServiceRef[Any]],
        plugin_id: str,
    ) -> None:
        registry = assembly.registry
        status = self.result.plugins[plugin_id]
        gate = ExtensionPointGate(plugin_id)
        self._started_plugins.append(plugin_id)
        try:
            for ref in eager:
                await registry.get(ref, plugin_id)
            modules = [r for (p, _m), (_f, r) in assembly.modules.items() if p == plugin_id]
            by_id = {r.module_id or "": r for r in modules}

            async def start_module(module_id: str) -> None:
                registration = by_id[module_id]
                try:
                    await self._run_init(registry, registration, report, gate)
                except Exception as error:
                    allowed = policy.allows_module_failure(plugin_id, module_id)
                    line = (
                        f"Module '{module_id}' for plugin '{plugin_id}' startup failed; caused by "
                        f"{stringify_error(error)}"
                    )
                    status.module_failures[module_id] = (line, allowed)
                    if not allowed:
                        self._failures.append((line, error))
                    self._log_failure(line, error, allowed)

            await module_graph(modules, report.extension_points).walk_parallel(start_module)
            gate.closed = True
            _plugin, registration = assembly.plugins[plugin_id]
            await self._run_init(registry, registration, report, gate)
            if registry.can_resolve(core_services.lifecycle):
                lifecycle = await registry.get(core_services.lifecycle, plugin_id)
                if not isinstance(lifecycle, _PluginLifecycleDriver):
                    raise TypeError("Unexpected plugin lifecycle service implementation")
                await lifecycle.startup()
            self._logger.info(f"Plugin '{plugin_id}' started")
        except Exception as error:
            gate.closed = True
            allowed = policy.allows_plugin_failure(plugin_id)
            line = f"Plugin '{plugin_id}' startup failed; caused by {stringify_error(error)}"
            status.failure = line
            status.allowed = allowed
            if not allowed:
                self._failures.append((line, error))
            self._log_failure(line, error, allowed)

    def _log_failure(self, line: str, error: BaseException, allowed: bool) -> None:
        if allowed:
            self._logger.error(
                f"{line}; boot failure is permitted, so startup will continue", error
            )
        else:
            self._logger.error(line, error)

    async def _run_init(
        self,
        registry: ServiceRegistry,
        registration: Registration,
        report: ValidationReport,
        gate: ExtensionPointGate,
    ) -> None:
        kwargs: dict[str, Any] = {}
        for name, dep in registration.init.deps.items():
            if isinstance(dep, ExtensionPoint):
                _owner, _by, impl = report.extension_points[dep.id]
                kwargs[name] = guard_extension_point(impl, dep.id, registration.description, gate)
            else:
                kwargs[name] = await registry.get(dep, registration.plugin_id)
        result = registration.init.func(**kwargs)
        if inspect.isawaitable(result):
            await result

    async def _root_lifecycle(
        self, registry: ServiceRegistry, *, only_if_built: bool = False
    ) -> _RootLifecycleDriver | None:
        ref = core_services.root_lifecycle
        if not registry.can_resolve(ref):
            return None
        if only_if_built and not registry.instantiated_for(ref.id, None):
            return None
        lifecycle = await registry.get(ref, None)
        if not isinstance(lifecycle, _RootLifecycleDriver):
            raise TypeError("Unexpected root lifecycle service implementation")
        return lifecycle

    # -- stop steps ----------------------------------------------------------------------------

    async def _guarded(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception as error:
            self._logger.error(f"Failed to run {what}", error)

    async def _finalize(self, finalizer: Finalizer, timeout: float) -> None:
        where = f"service '{finalizer.service_id}'" + (
            f" of plugin '{finalizer.plugin_id}'" if finalizer.plugin_id else ""
        )
        try:
            with anyio.fail_after(timeout if math.isfinite(timeout) else None):
                generator = finalizer.generator
                if isinstance(generator, AsyncGenerator):
                    try:
                        await generator.__anext__()
                    except StopAsyncIteration:
                        return
                    await generator.aclose()
                else:
                    try:
                        next(generator)
                    except StopIteration:
                        return
                    generator.close()
                self._logger.warn(f"The factory of {where} yielded more than once")
        except TimeoutError:
            self._logger.error(f"Cleanup of {where} timed out after {timeout:g}s")
        except Exception as error:
            self._logger.error(f"Cleanup of {where} failed", error)


def _instance_metadata_factory(assembly: Assembly) -> ServiceFactory[Any]:
    installed = tuple(
        InstalledPlugin(
            plugin_id=plugin_id,
            modules=tuple(
                InstalledModule(module_id=m) for (p, m) in assembly.modules if p == plugin_id
            ),
        )
        for plugin_id in assembly.plugins
    )

    class _InstanceMetadata:
        async def get_installed_plugins(self) -> tuple[InstalledPlugin, ...]:
            return installed

    return create_service_factory(
        service=core_services.root_instance_metadata, factory=_InstanceMetadata
    )
