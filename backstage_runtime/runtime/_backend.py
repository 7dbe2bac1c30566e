"""The :class:`Backend`: add features, start, stop; usable inside any asyncio application."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, overload

import anyio
from anyio.abc import TaskGroup

from ..api import (
    BackendFeatureLoader,
    BackendModule,
    BackendPlugin,
    MultitonServiceRef,
    ServiceFactory,
    ServiceRef,
)
from ..api.errors import BackstageError
from ._asgi_app import BackendAsgiApp
from ._assembly import AddedFeature
from ._initializer import BackendInitializer, StartupResult
from ._types import ErasedFactory

if TYPE_CHECKING:
    from ._feature_graph import FeatureGraph

__all__ = ["Backend", "BackendStateError", "create_specialized_backend"]

T = TypeVar("T")

_FEATURE_TYPES = (ServiceFactory, BackendPlugin, BackendModule, BackendFeatureLoader)


class BackendStateError(BackstageError):
    """The backend was used out of order (added to after start, started twice, ...)."""

    name = "BackendStateError"


class Backend:
    """A set of features that starts and stops as one backend.

    Use it as ``async with backend:`` (start on enter, stop on exit), or call :meth:`start` and
    :meth:`stop` yourself (asyncio only). Each backend keeps all of its state on the instance, so
    several backends can run in one process.
    """

    def __init__(self, default_factories: Iterable[ErasedFactory] = ()) -> None:
        self._defaults = list(default_factories)
        self._features: list[AddedFeature] = []
        self._initializer: BackendInitializer | None = None
        self._state = "new"  # new -> starting -> started -> stopped
        self._group_cm: TaskGroup | None = None
        self._holder: asyncio.Task[None] | None = None
        self._release: anyio.Event | None = None
        self._asgi_app: BackendAsgiApp | None = None

    def add(self, feature: object, *, label: str | None = None) -> None:
        """Add a feature: a service factory, plugin, module, feature loader, or an iterable of
        them. Invalid objects are reported, with ``label``, when the backend starts.

        Raises :class:`BackendStateError` once the backend has started.
        """
        if self._state != "new":
            raise BackendStateError("feature can not be added after the backend has started")
        index = len(self._features)
        if not isinstance(feature, _FEATURE_TYPES) and isinstance(feature, list | tuple):
            for offset, item in enumerate(feature):
                self._features.append(
                    AddedFeature(item, f"{label or f'features[{index}]'}[{offset}]")
                )
            return
        self._features.append(AddedFeature(feature, label or f"features[{index}]"))

    @property
    def started(self) -> bool:
        """Whether :meth:`start` completed and :meth:`stop` has not been called."""
        return self._state == "started"

    @property
    def starting(self) -> bool:
        """Whether :meth:`start` is in progress."""
        return self._state == "starting"

    @property
    def asgi_app(self) -> BackendAsgiApp:
        """The backend as an ASGI application, for serving it from another ASGI server.

        Create the backend with ``serve_http=False`` so it opens no socket of its own. If the
        server sends ASGI lifespan events, startup starts the backend and shutdown stops it
        (unless the backend was started some other way); requests before the start get 503.
        """
        if self._asgi_app is None:
            self._asgi_app = BackendAsgiApp(self)
        return self._asgi_app

    @property
    def startup_result(self) -> StartupResult:
        """What happened to each plugin and module during start (permitted failures included)."""
        if self._initializer is None:
            raise BackendStateError("the backend has not been started")
        return self._initializer.result

    @overload
    async def get_service(
        self, ref: MultitonServiceRef[T], plugin_id: str | None = None
    ) -> list[T]: ...

    @overload
    async def get_service(self, ref: ServiceRef[T], plugin_id: str | None = None) -> T: ...

    async def get_service(self, ref: ServiceRef[Any], plugin_id: str | None = None) -> Any:
        """The instance of ``ref`` (for ``plugin_id`` when plugin-scoped) of a started backend.

        A multiton ref gives the list of every factory's instance. Meant for embedding and
        tests: plugins receive their services through ``deps``.
        """
        if self._initializer is None or self._state not in ("starting", "started"):
            raise BackendStateError("services are only available while the backend runs")
        if ref.scope == "plugin" and plugin_id is None:
            raise BackendStateError(f"'{ref.id}' is plugin-scoped: pass plugin_id")
        return await self._initializer.services.get(ref, plugin_id)

    async def inspect_graph(self) -> FeatureGraph:
        """The service dependency graph of this backend's features, without starting it.

        Feature loaders run (and the root services they depend on are built, then cleaned up),
        so entry-point discovery is included. Raises :class:`BackendValidationError` when a
        loader or ``register`` callback fails, and a loader dependency's own error (a
        ``ConfigError``, say) when that service fails to build.
        """
        self._check_startable()
        initializer = BackendInitializer(self._defaults, self._features)
        group_cm = anyio.create_task_group()
        group = await group_cm.__aenter__()
        try:
            return await initializer.inspect(group)
        finally:
            # Exited as if nothing failed inside: the error is inspect's own and must reach the
            # caller unwrapped (a task group would turn it into an ExceptionGroup).
            group.cancel_scope.cancel()
            await group_cm.__aexit__(None, None, None)

    async def start(self) -> StartupResult:
        """Start the backend in the current asyncio event loop and return once it has started.

        The backend's background tasks run in a task of their own until :meth:`stop`. Under trio
        use ``async with backend:`` instead. Raises the validation or startup error of the start.
        """
        self._check_startable()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise BackendStateError(
                "Backend.start() needs asyncio; use 'async with backend:'"
            ) from None
        ready = anyio.Event()
        self._release = anyio.Event()
        box: list[TaskGroup] = []

        async def hold() -> None:
            async with anyio.create_task_group() as group:
                box.append(group)
                ready.set()
                assert self._release is not None
                await self._release.wait()
                group.cancel_scope.cancel()

        # The one task not owned by a task group: it *is* the task group's owner, kept on the
        # instance and awaited by stop(), so nothing it runs outlives the backend.
        self._holder = loop.create_task(hold(), name="backstage-backend")
        await ready.wait()
        try:
            return await self._start_in(box[0])
        except BaseException:
            await self._release_holder()
            raise

    async def stop(self) -> None:
        """Stop the backend: shutdown hooks, service cleanup, then background tasks. Idempotent."""
        if self._state in ("new", "stopped"):
            self._state = "stopped"
            return
        self._state = "stopped"
        if self._initializer is not None:
            with anyio.CancelScope(shield=True):
                await self._initializer.stop()
        await self._release_holder()

    async def __aenter__(self) -> Backend:
        self._check_startable()
        group_cm = anyio.create_task_group()
        group = await group_cm.__aenter__()
        self._group_cm = group_cm
        try:
            await self._start_in(group)
        except BaseException:
            # Leave the group as if nothing failed inside it: background tasks are guarded, so the
            # only error is the start's own, which must reach the caller unwrapped (a task group
            # would turn it into an ExceptionGroup).
            group.cancel_scope.cancel()
            self._group_cm = None
            await group_cm.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        try:
            await self.stop()
        finally:
            group_cm = self._group_cm
            self._group_cm = None
            if group_cm is not None:
                group_cm.cancel_scope.cancel()
                # The body's own exception propagates by itself; handing it to the group would
                # wrap it in an ExceptionGroup.
                await group_cm.__aexit__(None, None, None)
        return None

    def _check_startable(self) -> None:
        if self._state == "stopped":
            raise BackendStateError("Backend has already stopped")
        if self._state != "new":
            raise BackendStateError("Backend has already started")

    async def _start_in(self, group: TaskGroup) -> StartupResult:
        self._state = "starting"
        self._initializer = BackendInitializer(self._defaults, self._features)
        try:
            result = await self._initializer.start(group)
        except BaseException:
            self._state = "stopped"
            raise
        self._state = "started"
        return result

    async def _release_holder(self) -> None:
        if self._release is not None:
            self._release.set()
        holder, self._holder = self._holder, None
        if holder is not None:
            await holder


def create_specialized_backend(*, default_service_factories: Iterable[ErasedFactory]) -> Backend:
    """A backend with exactly these default factories (Backstage's ``createSpecializedBackend``).

    Most users want :func:`backstage_runtime.create_backend`, which brings every core service.
    """
    return Backend(default_service_factories)
