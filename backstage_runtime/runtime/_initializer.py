"""Starts and stops a backend: the sequence of Backstage's ``BackendInitializer`` on anyio."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup

from ..api import (
    Config,
    ExtensionPoint,
    LoggerService,
    PluginLifecycleDriver,
    RootLifecycleDriver,
    core_services,
    runtime_services,
)
from ..api._features import Registration
from ..api.errors import (
    BackendStartupError,
    BackendValidationError,
    ForwardedError,
    stringify_error,
)
from ..api.services.lifecycle import (
    DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS,
    SHUTDOWN_HOOK_TIMEOUT_KEY,
    read_shutdown_hook_timeout,
)
from ._assembly import AddedFeature, Assembly
from ._boot_failure import BootFailurePolicy
from ._extension_points import ExtensionPointGate, guard_extension_point
from ._lifecycle_drivers import LifecycleDriverError, as_plugin_driver, as_root_driver
from ._resolver import ServiceResolver
from ._runtime_factories import NullLogger, background_tasks_factory, instance_metadata_factory
from ._startup_result import PluginStartup, StartupResult
from ._startup_timeout import read_startup_timeout, startup_timeout_error
from ._types import ErasedFactory, ErasedRef
from ._validation import ValidationReport, module_graph, validate

if TYPE_CHECKING:
    from ._feature_graph import FeatureGraph

__all__ = ["BackendInitializer", "PluginStartup", "StartupResult"]

#: Bound on each generator factory's cleanup (``backend.lifecycle.shutdownHookTimeout`` overrides).
DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = DEFAULT_SHUTDOWN_HOOK_TIMEOUT_SECONDS


class BackendInitializer:
    """One start and one stop of a set of features."""

    def __init__(self, defaults: Iterable[ErasedFactory], features: Iterable[AddedFeature]) -> None:
        self._defaults = list(defaults)
        self._features = list(features)
        self._services: ServiceResolver | None = None
        self._logger: LoggerService = NullLogger()
        self._started_plugins: list[str] = []
        # Plugins whose start began and has not ended: for the abort line's "waiting for N
        # others", and left as is when the start is cancelled, to say which ones were stuck.
        self._starting: set[str] = set()
        self._stop_called = False
        self._failures: list[tuple[str, BaseException]] = []
        self.result = StartupResult()

    @property
    def services(self) -> ServiceResolver:
        """The backend's service instances; only after :meth:`start` began."""
        if self._services is None:
            raise RuntimeError("the backend has not been started")
        return self._services

    async def start(self, group: TaskGroup) -> StartupResult:
        """Assemble, validate and start everything; background tasks run in ``group``.

        Raises :class:`BackendValidationError` listing every problem before anything is built,
        and :class:`BackendStartupError` when a plugin or module fails and the boot-failure policy
        says abort; everything already started is stopped before either error propagates.
        """
        try:
            assembly = await self._assemble(group)
        except BaseException:
            # A loader's dependency may fail after other root services were built.
            with anyio.CancelScope(shield=True):
                await self.stop()
            raise
        registry = assembly.registry
        _provide_instance_metadata(assembly)
        registry.freeze()
        report = await validate(assembly)
        problems = [*assembly.problems, *report.problems]
        if problems:
            raise BackendValidationError(problems)
        self.result.skipped_modules = report.orphan_modules
        self.result.warnings = report.warnings

        services = assembly.services
        try:
            await self._start_root_services(services)
            self._logger = await self._resolve_logger(services)
            for warning in report.warnings:
                self._logger.warn(warning)
            config = await self._optional_config(services)
            for warning in _startup_warnings(config):
                self._logger.warn(warning)
            policy = BootFailurePolicy.from_config(config)
            timeout = read_startup_timeout(config)
            with anyio.move_on_after(timeout) as bound:
                await self._start_plugins(assembly, report, policy)
            if bound.cancelled_caught:
                raise self._timed_out(timeout)
            failures = self._failures
            if failures:
                raise BackendStartupError([line for line, _ in failures], [e for _, e in failures])
            root_lifecycle = await self._root_lifecycle(services)
            if root_lifecycle is not None:
                await root_lifecycle.startup()
            self._logger.info("Plugin initialization complete")
        except BaseException as error:
            if isinstance(error, anyio.get_cancelled_exc_class()) and self._starting:
                self._logger.warn(
                    "Backend startup cancelled while plugins were still starting: "
                    + ", ".join(f"'{p}'" for p in sorted(self._starting)),
                    {"plugins": sorted(self._starting)},
                )
            with anyio.CancelScope(shield=True):
                await self.stop()
            raise
        return self.result

    async def inspect(self, group: TaskGroup) -> FeatureGraph:
        """Assemble without starting (loaders run, registrations are collected) and return the
        dependency graph; root services a loader needs are built and cleaned up again.
        """
        from ._feature_graph import build_feature_graph

        try:
            assembly = await self._assemble(group)
            _provide_instance_metadata(assembly)
            assembly.registry.freeze()
            if assembly.problems:
                raise BackendValidationError(list(assembly.problems))
            return await build_feature_graph(assembly)
        finally:
            if self._services is not None:
                await self._services.aclose(DEFAULT_SHUTDOWN_TIMEOUT_SECONDS, self._logger)

    async def stop(self) -> None:
        """Stop in reverse: root before-shutdown hooks, every plugin's shutdown hooks
        (concurrently), root shutdown hooks, then generator-factory cleanups (plugin ones first).
        Idempotent; failures are logged and never stop the remaining steps.
        """
        if self._stop_called or self._services is None:
            return
        self._stop_called = True
        services = self._services
        timeout = await self._shutdown_timeout(services)
        try:
            root_lifecycle = await self._root_lifecycle(services, only_if_built=True)
        except LifecycleDriverError as error:
            self._logger.error("Skipping the root lifecycle hooks", error)
            root_lifecycle = None
        if root_lifecycle is not None:
            await self._guarded("root before-shutdown hooks", root_lifecycle.before_shutdown)

        async with anyio.create_task_group() as group:
            for plugin_id in self._started_plugins:
                if services.instantiated_for(core_services.lifecycle.id, plugin_id):
                    lifecycle = await services.get(core_services.lifecycle, plugin_id)
                    # A lifecycle that is no driver already failed its plugin's start, loudly.
                    if isinstance(lifecycle, PluginLifecycleDriver):
                        group.start_soon(
                            self._guarded, f"shutdown of plugin '{plugin_id}'", lifecycle.shutdown
                        )
        if root_lifecycle is not None:
            await self._guarded("root shutdown hooks", root_lifecycle.shutdown)
        await services.aclose(timeout, self._logger)

    # -- start steps ---------------------------------------------------------------------------

    async def _assemble(self, group: TaskGroup) -> Assembly:
        """Install the factories, run the feature loaders and collect the registrations."""
        assembly, loaders = Assembly.create(self._defaults, self._features)
        self._services = assembly.services
        registry = assembly.registry
        bg_id = runtime_services.background_tasks.id
        if not registry.provided_factories(bg_id):
            registry.set_factories(bg_id, [background_tasks_factory(group, lambda: self._logger)])
        for loader in loaders:
            await assembly.run_loader(loader)
        assembly.collect_registrations()
        return assembly

    async def _start_root_services(self, services: ServiceResolver) -> None:
        # Sequential and in registry order, as Backstage does: the root config and logger come
        # first in the default list, so later root services can log their own failures.
        for ref in services.registry.eager_services("root"):
            await services.get(ref, None)

    async def _resolve_logger(self, services: ServiceResolver) -> LoggerService:
        if not services.registry.can_resolve(core_services.root_logger):
            return NullLogger()
        root = await services.get(core_services.root_logger, None)
        return root.child({"type": "initialization"})

    async def _optional_config(self, services: ServiceResolver) -> Config | None:
        if not services.registry.can_resolve(core_services.root_config):
            return None
        return await services.get(core_services.root_config, None)

    async def _shutdown_timeout(self, services: ServiceResolver) -> float:
        # Only a config that was built: stopping must not build it, nor blame the timeout key
        # for a config that failed to load (start already raised that error).
        if not services.instantiated_for(core_services.root_config.id, None):
            return DEFAULT_SHUTDOWN_TIMEOUT_SECONDS
        try:
            config = await self._optional_config(services)
        except Exception:
            return DEFAULT_SHUTDOWN_TIMEOUT_SECONDS
        try:
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
        self._starting.update(plugin_ids)
        # Computed once: every plugin builds the same 'always' services.
        eager = assembly.registry.eager_services("plugin")
        async with anyio.create_task_group() as group:
            for plugin_id in plugin_ids:
                group.start_soon(self._start_tracked, assembly, report, policy, eager, plugin_id)

    async def _start_tracked(
        self,
        assembly: Assembly,
        report: ValidationReport,
        policy: BootFailurePolicy,
        eager: list[ErasedRef],
        plugin_id: str,
    ) -> None:
        self._starting.add(plugin_id)
        await self._start_plugin(assembly, report, policy, eager, plugin_id)
        # Not in a finally: a cancelled start leaves the plugin listed as still starting.
        self._starting.discard(plugin_id)

    def _timed_out(self, timeout: float | None) -> BackendStartupError:
        assert timeout is not None
        stuck = sorted(self._starting)
        error = startup_timeout_error(stuck, timeout)
        for plugin_id, line in zip(stuck, error.failures, strict=False):
            status = self.result.plugins[plugin_id]
            status.failure = line
            self._logger.error(line)
        return error

    async def _start_plugin(
        self,
        assembly: Assembly,
        report: ValidationReport,
        policy: BootFailurePolicy,
        eager: list[ErasedRef],
        plugin_id: str,
    ) -> None:
        services = assembly.services
        status = self.result.plugins[plugin_id]
        gate = ExtensionPointGate(plugin_id)
        self._started_plugins.append(plugin_id)
        try:
            for ref in eager:
                await services.get(ref, plugin_id)
            modules = [r for (p, _m), (_f, r) in assembly.modules.items() if p == plugin_id]
            by_id = {r.module_id or "": r for r in modules}

            async def start_module(module_id: str) -> None:
                registration = by_id[module_id]
                try:
                    await self._run_init(services, registration, report, gate)
                except Exception as error:
                    self._module_failed(policy, plugin_id, module_id, error)

            await module_graph(modules, report.extension_points).walk_parallel(start_module)
            gate.closed = True
            if not status.started:
                # As Backstage's initializer does: a module failure that is not permitted is
                # the end of its plugin's start, so the plugin never runs on half its modules.
                return
            _plugin, registration = assembly.plugins[plugin_id]
            await self._run_init(services, registration, report, gate)
            ref = core_services.lifecycle
            if services.registry.can_resolve(ref):
                lifecycle = await services.get(ref, plugin_id)
                await as_plugin_driver(lifecycle, ref.id, plugin_id).startup()
            self._logger.info(f"Plugin '{plugin_id}' started")
        except Exception as error:
            gate.closed = True
            allowed = policy.allows_plugin_failure(plugin_id)
            line = f"Plugin '{plugin_id}' startup failed; caused by {stringify_error(error)}"
            status.failure = line
            status.allowed = allowed
            if not allowed:
                self._failures.append((line, error))
            self._log_failure(
                f"Plugin '{plugin_id}' threw an error during startup",
                "this plugin",
                ForwardedError(f"Plugin '{plugin_id}' startup failed", error),
                allowed,
                plugin_id,
            )

    def _module_failed(
        self, policy: BootFailurePolicy, plugin_id: str, module_id: str, error: Exception
    ) -> None:
        status = self.result.plugins[plugin_id]
        allowed = policy.allows_module_failure(plugin_id, module_id)
        context = f"Module '{module_id}' for plugin '{plugin_id}' startup failed"
        line = f"{context}; caused by {stringify_error(error)}"
        status.module_failures[module_id] = (line, allowed)
        if not allowed:
            self._failures.append((line, error))
        self._log_failure(
            f"Module '{module_id}' for plugin '{plugin_id}' threw an error during startup",
            "this plugin module",
            ForwardedError(context, error),
            allowed,
            plugin_id,
        )

    def _log_failure(
        self, what: str, subject: str, error: ForwardedError, allowed: bool, plugin_id: str
    ) -> None:
        # The message never repeats the error: the logger appends the error's own text (context
        # and cause) to it, as winston does for Backstage's ``logger.error(message, error)``.
        if allowed:
            self._logger.error(
                f"{what}, but boot failure is permitted for {subject} so startup will continue.",
                error,
            )
            return
        others = len(self._starting - {plugin_id})
        waiting = (
            f", waiting for {others} other plugins to finish before shutting down the process"
            if others
            else ""
        )
        self._logger.error(f"{what}{waiting}.", error)

    async def _run_init(
        self,
        services: ServiceResolver,
        registration: Registration,
        report: ValidationReport,
        gate: ExtensionPointGate,
    ) -> None:
        kwargs: dict[str, object] = {}
        for name, dep in registration.init.deps.items():
            if isinstance(dep, ExtensionPoint):
                _owner, _by, impl = report.extension_points[dep.id]
                kwargs[name] = guard_extension_point(impl, dep.id, registration.description, gate)
            else:
                kwargs[name] = await services.get(dep, registration.plugin_id)
        result = registration.init.func(**kwargs)
        if inspect.isawaitable(result):
            await result

    async def _root_lifecycle(
        self, services: ServiceResolver, *, only_if_built: bool = False
    ) -> RootLifecycleDriver | None:
        ref = core_services.root_lifecycle
        if not services.registry.can_resolve(ref):
            return None
        if only_if_built and not services.instantiated_for(ref.id, None):
            return None
        lifecycle = await services.get(ref, None)
        return as_root_driver(lifecycle, ref.id)

    # -- stop steps ----------------------------------------------------------------------------

    async def _guarded(self, what: str, step: Callable[[], Awaitable[None]]) -> None:
        try:
            await step()
        except Exception as error:
            self._logger.error(f"Failed to run {what}", error)


def _startup_warnings(config: Config | None) -> list[str]:
    """The root config's own start warnings (unimplemented keys), if it has any to give.

    Duck-typed so the runtime needs no import of an implementation: the default root config
    has ``startup_warnings()``; a mock or custom one may not.
    """
    # getattr on a Protocol-typed value: whatever it finds is an unknown object until called.
    warnings: object = getattr(config, "startup_warnings", None)
    return [str(line) for line in warnings()] if callable(warnings) else []


def _provide_instance_metadata(assembly: Assembly) -> None:
    """Install the synthesised ``core.rootInstanceMetadata`` (a user's factory is a problem)."""
    meta_id = core_services.root_instance_metadata.id
    if assembly.registry.provided_factories(meta_id):
        assembly.problems.append(
            f"The {meta_id} service is provided by the backend and cannot be overridden"
        )
    else:
        assembly.registry.set_factories(meta_id, [instance_metadata_factory(assembly)])
