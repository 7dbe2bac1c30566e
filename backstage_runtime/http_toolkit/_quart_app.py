"""The Quart class of the apps a mount builds for blueprints: Quart's request cycle without the
work that nothing asked for.

Per request Quart sends six signals, looks up hooks under every blueprint name (each lookup
re-reads the endpoint through three properties and runs an import), asks twice whether a
function is a coroutine function (five calls into ``inspect`` each time) and binds its URL map
through a host/subdomain comparison that cannot differ while ``SERVER_NAME`` is unset.
:class:`MountedQuart` does each of those only where it can matter: a signal that has receivers,
a hook that is registered, a configured ``SERVER_NAME`` or subdomain. The steps it keeps are
Quart 0.22's own code (the methods below copy it, with the guard added), so what a plugin sees
(``g``, ``current_app``, ``request``, ``session``, hooks, signals, error handlers) is Quart's.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from types import FunctionType, MethodType
from typing import Any, ParamSpec, TypeVar, cast, overload

from quart import Quart
from quart.ctx import AppContext, RequestContext, _sentinel
from quart.globals import _cv_app, request_ctx
from quart.sessions import SecureCookieSessionInterface, SessionMixin
from quart.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_finished,
    request_started,
    request_tearing_down,
)
from quart.typing import ResponseReturnValue, ResponseTypes
from quart.wrappers import BaseRequestWebsocket, Request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import MapAdapter

from ._request_info import get_request_info
from ._route_memory import RouteMemory, route_key
from ._route_probe import probed_match

__all__ = ["MAX_BOUND_HOSTS", "MountedQuart"]

P = ParamSpec("P")
T = TypeVar("T")

# inspect.CO_COROUTINE: the flag an ``async def`` function's code object carries.
_CO_COROUTINE = 0x0080


class _MountedAppContext(AppContext):
    """Quart's app context; ``appcontext_pushed`` and ``appcontext_popped`` are sent only when
    something listens to them.
    """

    async def push(self) -> None:
        """Make this the current app context (Quart's ``AppContext.push``)."""
        self._cv_tokens.append(_cv_app.set(self))
        if appcontext_pushed.receivers:
            await appcontext_pushed.send_async(self.app, _sync_wrapper=self.app.ensure_async)  # type: ignore[arg-type]

    async def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        """Tear down and leave this app context (Quart's ``AppContext.pop``)."""
        try:
            if len(self._cv_tokens) == 1:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                await self.app.do_teardown_appcontext(exc)
        finally:
            ctx = _cv_app.get()
            _cv_app.reset(self._cv_tokens.pop())
            if ctx is not self:
                raise AssertionError(f"Popped wrong app context. ({ctx!r} instead of {self!r})")
        if appcontext_popped.receivers:
            await appcontext_popped.send_async(self.app, _sync_wrapper=self.app.ensure_async)  # type: ignore[arg-type]


class _MountedRequestContext(RequestContext):
    """Quart's request context; without a ``SECRET_KEY`` the session is the null one at once.

    Quart's cookie sessions open nothing without a key and then make the null session, in
    three coroutine calls per request; with another session interface, or a key, Quart's own
    steps run when the context is pushed.
    """

    def __init__(self, app: Quart, request: Request, session: SessionMixin | None = None) -> None:
        interface = app.session_interface
        if (
            session is None
            and type(interface) is SecureCookieSessionInterface
            and not app.config["SECRET_KEY"]
        ):
            session = interface.null_session_class()
        super().__init__(app, request, session)

    def match_request(self) -> None:
        """Quart's matching, a route the same request matched before taken from the app's
        :class:`~._route_memory.RouteMemory` instead.
        """
        adapter = self.url_adapter
        if adapter is None:
            super().match_request()
            return
        memory: RouteMemory = self.app.route_memory  # type: ignore[attr-defined]
        url_map = adapter.map
        key = route_key(adapter)
        request = self.request_websocket
        rule = memory.get(url_map, key)
        if rule is not None:
            request.url_rule = rule  # type: ignore[assignment]
            request.view_args = {}
            return
        super().match_request()
        memory.learn(url_map, key, request.url_rule, request.view_args, request.routing_exception)


class _ProbedRequestContext(_MountedRequestContext):
    """The request context taking the route a :class:`~._route_probe.RouteProbe` matched
    for the request (the same path and method) instead of matching it again.
    """

    def match_request(self) -> None:
        """Set the request's rule and view arguments (Quart's, or the probe's)."""
        request = self.request_websocket
        found = probed_match(request.scope)
        adapter = self.url_adapter
        if (
            found is not None
            and adapter is not None
            and found.path == adapter.path_info
            and found.method == adapter.default_method
        ):
            request.url_rule = found.rule  # type: ignore[assignment]
            request.view_args = found.args
            return
        super().match_request()


def _note_route(request: BaseRequestWebsocket) -> None:
    """Tell the request's info which route template matched (``http.route`` of the request's
    metrics and span): the mount path plus the rule, ``/api/todo/items/<item_id>``."""
    rule = request.url_rule
    if rule is not None:
        scope = request.scope
        info = get_request_info(scope)  # type: ignore[arg-type]  # (a cast costs a call)
        if info is not None:
            info.route = scope.get("root_path", "") + rule.rule


class _NotesRoute:
    """Mixed into a request context: Quart's (or the probe's) matching, then the route noted."""

    def match_request(self: Any) -> None:
        """Match as the context it is mixed into does, then note the route (:func:`_note_route`)."""
        super().match_request()  # type: ignore[misc]
        _note_route(self.request_websocket)


# The contexts of an app that notes routes: a class of their own each, so that an app that
# does not pays nothing for it.
class _NotingRequestContext(_NotesRoute, _MountedRequestContext):
    pass


class _ProbedNotingRequestContext(_NotesRoute, _ProbedRequestContext):
    pass


#: Most hosts whose bound server name is remembered (:meth:`MountedQuart.create_url_adapter`);
#: past it the memory starts over, as the ``Host`` header is the client's to choose.
MAX_BOUND_HOSTS = 256

# Host -> the server name ``Map.bind`` made of it (lower-cased, IDNA-encoded before the port):
# ~11k instructions a request through ``bind``, the same answer for every request of a host.
_bound_server_names: dict[str, str] = {}


def _normalise_host(scheme: str, host: str) -> str:
    # quart.routing's: the default port of the scheme is not part of the host.
    if scheme in ("http", "ws") and host.endswith(":80"):
        return host[:-3]
    if scheme in ("https", "wss") and host.endswith(":443"):
        return host[:-4]
    return host


class MountedQuart(Quart):
    """A Quart app whose request cycle skips the signals nobody listens to and the hooks nobody
    registered (see the module); everything a handler can observe stays Quart's.
    """

    #: Whether requests come with the route a probe matched for them (a plugin router serving
    #: blueprints and an application asks before it sends a request here).
    reuses_probed_matches = False

    #: Whether the matched route template goes into the request's info (``info.route``), for
    #: the request's metrics and span. Matching sets it, before any ``before_request`` hook:
    #: a hook of Quart's own would cost its dispatch (about 30 calls) on every request.
    notes_routes = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The routes its requests matched, where matching again could only repeat them.
        self.route_memory = RouteMemory()

    def app_context(self) -> AppContext:
        """A new app context (one per request, as Quart makes it)."""
        return _MountedAppContext(self)

    def request_context(self, request: Request) -> RequestContext:
        """A new request context for ``request``, reusing a probed match when there is one."""
        if self.reuses_probed_matches:
            if self.notes_routes:
                return _ProbedNotingRequestContext(self, request)
            return _ProbedRequestContext(self, request)
        if self.notes_routes:
            return _NotingRequestContext(self, request)
        return _MountedRequestContext(self, request)

    def create_url_adapter(self, request: BaseRequestWebsocket | None) -> MapAdapter | None:
        """The URL adapter for ``request``; Quart's own unless the host alone decides it.

        Without ``SERVER_NAME``, subdomain or host matching, Quart compares the request's host
        with itself and binds with an empty subdomain: the same binding, made directly. The
        app context of every request asks for an adapter without a request: without
        ``SERVER_NAME`` there is none. The server name ``bind`` makes of a host is remembered
        (bounded), so later requests for it get the same adapter without ``bind``'s IDNA pass.
        """
        server_name = self.config["SERVER_NAME"]
        if request is None and server_name is None:
            return None
        url_map = self.url_map
        if (
            request is None
            or self.subdomain_matching
            or url_map.host_matching
            or url_map.default_subdomain
            or server_name is not None
        ):
            return super().create_url_adapter(request)
        scheme = request.scheme
        host = _normalise_host(scheme, request.host.lower())
        server_name = _bound_server_names.get(host)
        if server_name is None:
            adapter = url_map.bind(
                host,
                request.root_path,
                "",
                scheme,
                request.method,
                request.path,
                request.query_string.decode(),
            )
            if len(_bound_server_names) >= MAX_BOUND_HOSTS:
                _bound_server_names.clear()
            _bound_server_names[host] = adapter.server_name
            return adapter
        # What ``bind`` makes with these arguments (its defaults for None apply to none of
        # them), its host's IDNA encoding taken from the first binding of that host.
        return MapAdapter(
            url_map,
            server_name,
            request.root_path,
            "",
            scheme,
            request.path,
            request.method,
            request.query_string.decode(),
        )

    @overload
    def ensure_async(self, func: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]: ...

    @overload
    def ensure_async(self, func: Callable[P, T]) -> Callable[P, Awaitable[T]]: ...

    def ensure_async(
        self, func: Callable[P, Awaitable[T]] | Callable[P, T]
    ) -> Callable[P, Awaitable[T]]:
        """``func`` as a coroutine function (Quart's), answering at once for an ``async def``
        function or method, on which ``inspect`` would find the same flag.
        """
        plain = func.__func__ if isinstance(func, MethodType) else func
        if type(plain) is FunctionType and plain.__code__.co_flags & _CO_COROUTINE:
            return func  # type: ignore[return-value]  # (a cast would cost a call)
        return super().ensure_async(func)

    async def full_dispatch_request(
        self, request_context: RequestContext | None = None
    ) -> ResponseTypes:
        """Quart's: ``request_started``, the ``before_request`` hooks, the view, then
        :meth:`finalize_request`.
        """
        try:
            if request_started.receivers:
                await request_started.send_async(self, _sync_wrapper=self.ensure_async)  # type: ignore[arg-type]
            result: ResponseReturnValue | HTTPException | None
            result = await self.preprocess_request(request_context)
            if result is None:
                result = await self.dispatch_request(request_context)
        except Exception as error:
            result = await self.handle_user_exception(error)
        return await self.finalize_request(result, request_context)

    async def preprocess_request(
        self, request_context: RequestContext | None = None
    ) -> ResponseReturnValue | None:
        """Quart's URL value preprocessors and ``before_request`` hooks, when there are any."""
        if not any(self.url_value_preprocessors.values()) and not any(
            self.before_request_funcs.values()
        ):
            return None
        return await super().preprocess_request(request_context)

    async def finalize_request(
        self,
        result: ResponseReturnValue | HTTPException,
        request_context: RequestContext | None = None,
        from_error_handler: bool = False,
    ) -> ResponseTypes:
        """Quart's: the response from ``result``, the ``after_request`` hooks, then
        ``request_finished``.
        """
        response = await self.make_response(result)
        try:
            response = await self.process_response(response, request_context)
            if request_finished.receivers:
                await request_finished.send_async(
                    self,
                    _sync_wrapper=self.ensure_async,  # type: ignore[arg-type]
                    response=response,
                )
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing errored")
        return response

    async def process_response(
        self, response: ResponseTypes, request_context: RequestContext | None = None
    ) -> ResponseTypes:
        """Quart's ``after_request`` hooks (and ``after_this_request``'s), when there are any,
        then the session's save.
        """
        context = request_context or request_ctx
        if context._after_request_functions or any(self.after_request_funcs.values()):
            return await super().process_response(response, request_context)
        session = context.session  # opened when the context was pushed, never None here
        if not self.session_interface.is_null_session(session):
            save = self.ensure_async(self.session_interface.save_session)
            await save(self, cast(SessionMixin, session), response)
        return response

    async def do_teardown_request(
        self, exc: BaseException | None, request_context: RequestContext | None = None
    ) -> None:
        """Quart's ``teardown_request`` hooks and ``request_tearing_down``, when there are any."""
        if any(self.teardown_request_funcs.values()) or request_tearing_down.receivers:
            await super().do_teardown_request(exc, request_context)

    async def do_teardown_appcontext(self, exc: BaseException | None) -> None:
        """Quart's ``teardown_appcontext`` hooks and ``appcontext_tearing_down``, when there
        are any.
        """
        if self.teardown_appcontext_funcs or appcontext_tearing_down.receivers:
            await super().do_teardown_appcontext(exc)
