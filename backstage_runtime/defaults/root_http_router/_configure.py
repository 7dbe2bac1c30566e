"""``configure(context)``: the root pipeline as the application wants it, Backstage's
``rootHttpRouterServiceFactory({ configure })`` in Python.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from ...api import Config, LoggerService, RootLifecycleService
from ...api.errors import BackstageError
from ...http_toolkit import ASGIApp, Piece

__all__ = [
    "ConfigureRootHttpRouter",
    "RootHttpRouterConfigureContext",
    "UnknownPieceError",
]

#: What a piece may be given as: a :class:`Piece`, or a function wrapping the next app (its
#: ``__name__`` is then the piece's name unless one is given).
Middleware = Piece | Callable[[ASGIApp], ASGIApp]


class UnknownPieceError(BackstageError, KeyError):
    """A piece name that the root pipeline does not hold (the message names it and lists the
    pieces it holds).
    """

    name = "UnknownPieceError"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class RootHttpRouterConfigureContext:
    """What ``configure`` receives: the root pipeline to assemble, outermost piece first.

    Like Backstage's ``configure({ app, applyDefaults, routes, ... })``, the pipeline starts
    empty: :meth:`apply_defaults` appends the default pieces (:attr:`defaults`) where the
    pipeline has got to, so middleware given to :meth:`use` before it runs before them (sees a
    request first) and middleware given after it runs after them, right before the routes. Named
    pieces can then be moved around: :meth:`insert_before`, :meth:`insert_after`,
    :meth:`replace` (a request logger of your own in place of ``request_log``, say) and
    :meth:`remove`. :meth:`use_route` mounts an app at a root path next to the plugins'.

    Without :meth:`apply_defaults` the routes are served by exactly the pieces given here: no
    error rendering, no health endpoints, no request counting for the graceful drain
    (``in_flight``) unless you add them from :attr:`defaults`.
    """

    def __init__(
        self,
        *,
        config: Config,
        logger: LoggerService,
        lifecycle: RootLifecycleService,
        defaults: Sequence[Piece],
        mount: Callable[[str, Any], None],
    ) -> None:
        self._config = config
        self._logger = logger
        self._lifecycle = lifecycle
        self._defaults = MappingProxyType({piece.name: piece for piece in defaults})
        self._mount = mount
        self._pieces: list[Piece] = []
        self._defaults_applied = False

    @property
    def config(self) -> Config:
        """The root config."""
        return self._config

    @property
    def logger(self) -> LoggerService:
        """The root HTTP router's logger (``service: rootHttpRouter``)."""
        return self._logger

    @property
    def lifecycle(self) -> RootLifecycleService:
        """The root lifecycle, for hooks of the middleware added here."""
        return self._lifecycle

    @property
    def defaults(self) -> Mapping[str, Piece]:
        """The default pieces by name, in their default order (read-only): ``client_address``,
        ``request_tracking``, ``request_log``, ``in_flight``, ``compression``,
        ``security_headers``, ``cors``, ``etag``, ``errors``, ``health`` and others as
        configured (a piece with nothing to do is absent: ``cors`` without ``backend.cors``,
        ``client_address`` without ``backend.trustProxy``).
        """
        return self._defaults

    @property
    def piece_names(self) -> list[str]:
        """The names of the pipeline's pieces so far, outermost first."""
        return [piece.name for piece in self._pieces]

    @property
    def pieces(self) -> tuple[Piece, ...]:
        """The pipeline's pieces so far, outermost first."""
        return tuple(self._pieces)

    def apply_defaults(self) -> None:
        """Append the default pieces (once; a second call raises :class:`ValueError`)."""
        if self._defaults_applied:
            raise ValueError("apply_defaults() was already called")
        self._defaults_applied = True
        for piece in self._defaults.values():
            self._append(piece)

    def use(self, middleware: Middleware, *, name: str | None = None) -> None:
        """Append ``middleware`` (a :class:`Piece`, or a function that takes the next ASGI app
        and returns the app to run before it) to the pipeline; ``name`` names it (default: the
        piece's name or the function's ``__name__``). Raises :class:`ValueError` for a name
        already in the pipeline.
        """
        self._append(_as_piece(middleware, name))

    def insert_before(
        self, anchor: str, middleware: Middleware, *, name: str | None = None
    ) -> None:
        """Put ``middleware`` right before (outside) the piece named ``anchor``.

        Raises :class:`UnknownPieceError` when there is no piece ``anchor``.
        """
        piece = _as_piece(middleware, name)
        self._check_new_name(piece.name)
        self._pieces.insert(self._index(anchor), piece)

    def insert_after(self, anchor: str, middleware: Middleware, *, name: str | None = None) -> None:
        """Put ``middleware`` right after (inside) the piece named ``anchor``.

        Raises :class:`UnknownPieceError` when there is no piece ``anchor``.
        """
        piece = _as_piece(middleware, name)
        self._check_new_name(piece.name)
        self._pieces.insert(self._index(anchor) + 1, piece)

    def replace(self, name: str, middleware: Middleware) -> None:
        """Put ``middleware`` in the place of the piece ``name``, under that name unless it is a
        :class:`Piece` with a name of its own.

        Raises :class:`UnknownPieceError` when there is no piece ``name``.
        """
        index = self._index(name)
        piece = middleware if isinstance(middleware, Piece) else Piece(name, middleware)
        if piece.name != name:
            self._check_new_name(piece.name)
        self._pieces[index] = piece

    def remove(self, name: str) -> None:
        """Take the piece ``name`` out of the pipeline.

        Raises :class:`UnknownPieceError` when there is no piece ``name``.
        """
        del self._pieces[self._index(name)]

    def use_route(self, path: str, handler: Any) -> None:
        """Mount ``handler`` (a Quart blueprint or app, or any ASGI app) at the root ``path``,
        as ``root_http_router.use(path, handler)`` does; it is served inside the pipeline.
        """
        self._mount(path, handler)

    def _append(self, piece: Piece) -> None:
        self._check_new_name(piece.name)
        self._pieces.append(piece)

    def _check_new_name(self, name: str) -> None:
        if name in self.piece_names:
            raise ValueError(f"The root pipeline already has a piece named '{name}'")

    def _index(self, name: str) -> int:
        for index, piece in enumerate(self._pieces):
            if piece.name == name:
                return index
        held = ", ".join(self.piece_names) or "none"
        hint = "" if self._defaults_applied else " (apply_defaults() was not called)"
        raise UnknownPieceError(
            f"The root pipeline has no piece named '{name}'{hint}; its pieces: {held}"
        )


#: The ``configure`` option: called once with the context, may be async.
ConfigureRootHttpRouter = Callable[[RootHttpRouterConfigureContext], Awaitable[None] | None]


def _as_piece(middleware: Middleware, name: str | None) -> Piece:
    if isinstance(middleware, Piece):
        return middleware if name is None else Piece(name, middleware.wrap)
    if not callable(middleware):
        raise TypeError(
            f"Root middleware must be a Piece or a function of the next ASGI app, "
            f"not {type(middleware).__name__}"
        )
    piece_name = name or getattr(middleware, "__name__", None)
    if not piece_name or piece_name == "<lambda>":
        raise ValueError("Give a name= for root middleware that has no __name__ of its own")
    return Piece(piece_name, middleware)
