"""``start_test_backend``: a real backend with test-friendly defaults."""

from __future__ import annotations

import json as json_module
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Final, TypeVar, overload

import aiohttp

from ..api import (
    BackendModule,
    BackendPlugin,
    ExtensionPoint,
    MultitonServiceRef,
    ServiceFactory,
    ServiceRef,
    core_services,
    create_backend_module,
    create_backend_plugin,
)
from ..defaults.actions import actions_service_factory, alpha_actions_service_factory
from ..defaults.actions_registry import (
    actions_registry_service_factory,
    alpha_actions_registry_service_factory,
)
from ..defaults.auditor import auditor_service_factory
from ..defaults.cache import cache_service_factory
from ..defaults.database import database_service_factory
from ..defaults.discovery import discovery_service_factory
from ..defaults.http_client import http_client_service_factory
from ..defaults.http_router import http_router_service_factory
from ..defaults.instance_metadata import instance_metadata_service_factory
from ..defaults.lifecycle import lifecycle_service_factory, root_lifecycle_service_factory
from ..defaults.logger import logger_service_factory
from ..defaults.metrics import metrics_service_factory, root_metrics_service_factory
from ..defaults.permissions import permissions_service_factory
from ..defaults.permissions_registry import permissions_registry_service_factory
from ..defaults.root_health import root_health_service_factory
from ..defaults.root_http_router import ListenOptions, root_http_router_service_factory
from ..defaults.root_system_metadata import (
    alpha_root_system_metadata_service_factory,
    root_system_metadata_service_factory,
)
from ..defaults.telemetry import telemetry_service_factory
from ..defaults.tracing import tracing_service_factory
from ..defaults.url_reader import url_reader_service_factory
from ..defaults.user_info import user_info_service_factory
from ..runtime import Backend, create_specialized_backend
from ._mock_auth import mock_auth_factory, mock_http_auth_factory
from ._mock_logger import MockRootLogger
from ._mock_services import mock_services
from ._test_response import TestResponse

__all__ = ["TestBackend", "start_test_backend"]

T = TypeVar("T")


class _NoBody:
    def __repr__(self) -> str:
        return "<no body>"


#: ``json=`` not given (None is JSON ``null``, a body like any other).
_NO_JSON: Final = _NoBody()


class TestBackend:
    """A started test backend: the :class:`Backend` and the logger that recorded its output."""

    __test__ = False  # not a pytest test class

    def __init__(self, backend: Backend, logger: MockRootLogger) -> None:
        self.backend = backend
        #: Everything the backend logged, as recorded entries.
        self.logger = logger
        # One session for every request() of this backend, closed when it stops.
        self._session: aiohttp.ClientSession | None = None

    @overload
    async def get_service(
        self, ref: MultitonServiceRef[T], plugin_id: str | None = None
    ) -> list[T]: ...

    @overload
    async def get_service(self, ref: ServiceRef[T], plugin_id: str | None = None) -> T: ...

    async def get_service(self, ref: ServiceRef[Any], plugin_id: str | None = None) -> Any:
        """The instance of ``ref`` (for ``plugin_id`` when plugin-scoped).

        The type checker sees the ref's type: ``ServiceRef[T]`` gives ``T``, a
        ``MultitonServiceRef[T]`` gives ``list[T]``.
        """
        return await self.backend.get_service(ref, plugin_id)

    async def url(self, path: str = "") -> str:
        """``http://127.0.0.1:<port><path>``: where the test backend's server listens."""
        router = await self.backend.get_service(core_services.root_http_router)
        address = getattr(router, "listen_address", None)
        if address is None:
            raise RuntimeError("this test backend's root HTTP router does not listen on a socket")
        host = address[0] if ":" not in address[0] else f"[{address[0]}]"
        return f"http://{host}:{address[1]}{path}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = _NO_JSON,
        data: bytes | str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> TestResponse:
        """Send one request to this backend's server and read the whole answer.

        ``path`` is from the server's root (``/api/<pluginId>/...``); ``headers`` as for aiohttp
        (``mock_credentials.user.headers(ref)``, say; without ``Authorization`` the caller is
        the mock user). ``json`` is sent as the JSON body (``json=None`` sends ``null``),
        ``data`` as the raw body; ``params`` are added to the query string. Redirects are not
        followed, so a test sees them. Raises :class:`ValueError` for a path that is not
        absolute or for both ``json`` and ``data``.
        """
        if not path.startswith("/"):
            raise ValueError(f"request() takes a path from the server's root, got {path!r}")
        send_headers = dict(headers or {})
        body = data
        if json is not _NO_JSON:
            if data is not None:
                raise ValueError("request() takes json= or data=, not both")
            body = json_module.dumps(json).encode("utf-8")
            if not any(name.lower() == "content-type" for name in send_headers):
                send_headers["Content-Type"] = "application/json"
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            method,
            await self.url(path),
            headers=send_headers,
            data=body,
            params=params,
            allow_redirects=False,
        ) as response:
            return TestResponse(response.status, response.headers, await response.read())

    @asynccontextmanager
    async def client(self, **session_options: Any) -> AsyncIterator[aiohttp.ClientSession]:
        """``async with backend.client() as http:`` an aiohttp session rooted at the server, so
        ``http.get("/api/todo/items")`` reaches this backend; closed when the block ends.
        ``session_options`` go to :class:`aiohttp.ClientSession`.
        """
        async with aiohttp.ClientSession(base_url=await self.url(), **session_options) as http:
            yield http

    async def aclose(self) -> None:
        """Close the session of :meth:`request` (``start_test_backend`` does, at its end)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def test_default_service_factories(
    config: Mapping[str, Any] | None, logger: MockRootLogger
) -> list[ServiceFactory[Any]]:
    """The defaults of a test backend: in-memory config, a recording logger, real lifecycles,
    the real HTTP stack listening on a random loopback port (``backend.listen`` unless the
    config sets it) without per-request log lines, the real database and cache services
    (in-memory SQLite and memory store unless the config says otherwise), and mock auth: a
    request without ``Authorization`` is ``user:default/mock`` (see ``mock_credentials``), and
    an in-memory events bus (``mock_services.events``).
    """
    return [
        mock_services.root_config.factory(config),
        mock_services.root_logger.factory(logger=logger),
        telemetry_service_factory(),
        root_metrics_service_factory(),
        root_lifecycle_service_factory(),
        root_health_service_factory(),
        root_http_router_service_factory(
            log_requests=False, default_listen=ListenOptions("127.0.0.1", 0)
        ),
        root_system_metadata_service_factory(),
        alpha_root_system_metadata_service_factory(),
        instance_metadata_service_factory(),
        http_client_service_factory(),
        logger_service_factory(),
        lifecycle_service_factory(),
        http_router_service_factory(),
        discovery_service_factory(),
        database_service_factory(),
        cache_service_factory(),
        mock_auth_factory(),
        mock_http_auth_factory(),
        user_info_service_factory(),
        permissions_service_factory(),
        permissions_registry_service_factory(),
        url_reader_service_factory(),
        auditor_service_factory(),
        mock_services.scheduler.factory(),
        mock_services.events.factory(),
        # As Node's test backend: the real actions services (its mocks' factories are these).
        actions_registry_service_factory(),
        alpha_actions_registry_service_factory(),
        actions_service_factory(),
        alpha_actions_service_factory(),
        metrics_service_factory(),
        tracing_service_factory(),
    ]


test_default_service_factories.__test__ = False  # type: ignore[attr-defined]


@asynccontextmanager
async def start_test_backend(
    *,
    features: Iterable[object] = (),
    config: Mapping[str, Any] | None = None,
    log_level: str = "debug",
    extension_points: Iterable[tuple[ExtensionPoint[Any], object]] = (),
) -> AsyncIterator[TestBackend]:
    """Start a backend with ``features`` for the duration of the ``async with`` block.

    ``config`` is the whole configuration (no files are read); the server listens on a random
    loopback port, see :meth:`TestBackend.url`, :meth:`TestBackend.request` and
    :meth:`TestBackend.client`. Service factories among
    ``features`` replace the test defaults. A module whose plugin is not among the features gets
    an empty plugin, so a module can be tested alone (as in Backstage's ``startTestBackend``).

    ``extension_points`` are ``(extension_point, implementation)`` pairs handed to the modules
    among ``features`` that depend on them, in place of the plugin that normally provides them:
    a module is tested alone by giving it a fake (or a ``unittest.mock`` double) of its
    plugin's extension point, and asserting on what the module did with it. Raises
    :class:`ValueError` when no module among ``features`` depends on one of them (its plugin
    cannot be known), or when an extension point is given twice.
    """
    features = list(features)
    features[:0] = _extension_point_modules(features, list(extension_points))
    logger = MockRootLogger(level=log_level)
    plugin_ids = {f.plugin_id for f in features if isinstance(f, BackendPlugin)}
    for module_plugin in dict.fromkeys(
        f.plugin_id for f in features if isinstance(f, BackendModule)
    ):
        if module_plugin not in plugin_ids:
            features.append(_empty_plugin(module_plugin))
    backend = create_specialized_backend(
        default_service_factories=test_default_service_factories(config, logger)
    )
    for feature in features:
        backend.add(feature)
    async with backend:
        test = TestBackend(backend, logger)
        try:
            yield test
        finally:
            await test.aclose()


def _empty_plugin(plugin_id: str) -> BackendPlugin:
    def register(env: Any) -> None:
        env.register_init(deps={}, init=lambda: None)

    return create_backend_plugin(plugin_id=plugin_id, register=register)


#: The module that registers a test's extension points for their plugin, as Backstage names it.
EXTENSION_POINT_MODULE_ID = "test-extension-point-registration"


def _extension_point_modules(
    features: list[object], pairs: list[tuple[ExtensionPoint[Any], object]]
) -> list[BackendModule]:
    """One module per plugin registering the given extension points that plugin's modules use.

    The plugin of an extension point is the plugin of a module among ``features`` that depends
    on it; an extension point is never tied to a plugin id otherwise.
    """
    if not pairs:
        return []
    by_id: dict[str, tuple[ExtensionPoint[Any], object]] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], ExtensionPoint)):
            raise ValueError(
                f"extension_points takes (extension_point, implementation) pairs, got {pair!r}"
            )
        if pair[0].id in by_id:
            raise ValueError(f"Extension point '{pair[0].id}' is given twice in extension_points")
        by_id[pair[0].id] = pair
    unplaced = dict(by_id)
    per_plugin: dict[str, list[tuple[ExtensionPoint[Any], object]]] = {}
    for feature in features:
        if not isinstance(feature, BackendModule):
            continue
        try:
            registration = feature.get_registration()
        except Exception:
            continue  # the backend reports a broken registration itself, in its own words
        for dep in registration.init.deps.values():
            if isinstance(dep, ExtensionPoint) and dep.id in unplaced:
                per_plugin.setdefault(feature.plugin_id, []).append(unplaced.pop(dep.id))
    if unplaced:
        names = ", ".join(f"'{ep_id}'" for ep_id in unplaced)
        raise ValueError(
            f"Unable to determine the plugin ID of extension point(s) {names}. Tested extension "
            "points must be depended on by one or more tested modules."
        )
    return [_registering_module(plugin_id, points) for plugin_id, points in per_plugin.items()]


def _registering_module(
    plugin_id: str, points: list[tuple[ExtensionPoint[Any], object]]
) -> BackendModule:
    def register(env: Any) -> None:
        for extension_point, implementation in points:
            env.register_extension_point(extension_point, implementation)
        env.register_init(deps={}, init=lambda: None)

    return create_backend_module(
        plugin_id=plugin_id, module_id=EXTENSION_POINT_MODULE_ID, register=register
    )
