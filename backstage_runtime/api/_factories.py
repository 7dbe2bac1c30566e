"""Service factories: how a service ref gets its implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, Literal, TypeAlias, TypeVar

from ._refs import ServiceRef
from ._source import caller_location

__all__ = [
    "Deferred",
    "ServiceFactory",
    "ServiceFactoryFunction",
    "ServiceInitialization",
    "create_service_factory",
]

T = TypeVar("T")

#: When a factory builds its service: ``always`` (at startup; a plugin-scoped one for every plugin)
#: or ``lazy`` (when first asked for). Unset, root services are built at startup and plugin
#: services lazily.
ServiceInitialization = Literal["always", "lazy"]

#: What a factory for a ``ServiceRef[T]`` may be: a function (sync or ``async``) returning the
#: ``T``, or a generator (sync or async) yielding it once, whose code after ``yield`` runs at
#: shutdown. Its arguments are the deps as keyword arguments, so the type checker sees ``...``.
ServiceFactoryFunction: TypeAlias = Callable[..., T | Awaitable[T] | AsyncIterator[T] | Iterator[T]]

#: What a factory receives for a dependency it names in ``deferred``: a coroutine function that
#: builds the dependency on its first call (once per scope, like any dependency) and returns the
#: same instance on every call. For a dependency that is costly to build and needed only later
#: (the ``aiohttp`` session behind a JWKS fetch), so the start does not pay for it.
Deferred: TypeAlias = Callable[[], Awaitable[T]]


@dataclass(frozen=True, eq=False)
class ServiceFactory(Generic[T]):
    """Builds the implementation of ``service``; a backend feature. Build with
    :func:`create_service_factory`.
    """

    service: ServiceRef[T]
    deps: Mapping[str, ServiceRef[Any]]
    factory: ServiceFactoryFunction[T]
    create_root_context: Callable[..., Any] | None = None
    initialization: ServiceInitialization | None = None
    #: The names in ``deps`` passed as a :data:`Deferred` instead of the built instance.
    deferred: frozenset[str] = frozenset()
    #: Where the factory was created (``file:line``), to name it in errors.
    source: str = field(default="", compare=False)

    @property
    def eager(self) -> bool:
        """Whether the service is built at start even when nobody depends on it.

        Root services are eager unless ``initialization="lazy"``; plugin services are lazy unless
        ``initialization="always"`` (then they are built for every plugin at its start).
        """
        if self.service.scope == "root":
            return self.initialization != "lazy"
        return self.initialization == "always"

    def __str__(self) -> str:
        return f"service factory for '{self.service.id}'"


def create_service_factory(
    *,
    service: ServiceRef[T],
    deps: Mapping[str, ServiceRef[Any]] | None = None,
    factory: ServiceFactoryFunction[T],
    create_root_context: Callable[..., Any] | None = None,
    initialization: ServiceInitialization | None = None,
    deferred: Iterable[str] = (),
) -> ServiceFactory[T]:
    """Create a factory for ``service``.

    ``factory`` receives its ``deps`` as keyword arguments and returns the implementation (or an
    awaitable of it). It may also be a *generator* (async or not) that yields the implementation
    once: the code after ``yield`` runs at shutdown, after the lifecycle shutdown hooks of its
    scope.
    The type checker ties what ``factory`` returns (or yields) to the ref's ``T``: a factory of
    the wrong type is an error. For a multiton ref each factory returns one ``T``.

    ``create_root_context`` (plugin scope only) runs once per backend with the root-scoped subset of
    ``deps`` as keyword arguments; its result is then passed as the first positional argument of
    every ``factory`` call: ``factory(context, **deps)``.

    ``deferred`` names deps that are passed as a :data:`Deferred` (``await dep()`` builds and
    returns the instance) rather than built before the factory runs. They are dependencies all
    the same: a missing implementation or a cycle through one fails the start. One that is first
    built after this service is cleaned up before it at shutdown, so a generator factory must
    not use a deferred dependency after its ``yield``.

    Raises :class:`ValueError` if ``create_root_context`` is given for a root-scoped service, if a
    dependency is not a :class:`ServiceRef`, if a ``deferred`` name is not in ``deps``, or if
    ``initialization`` is unknown.
    """
    dep_map = dict(deps or {})
    for name, ref in dep_map.items():
        if not isinstance(ref, ServiceRef):
            raise ValueError(
                f"Dependency '{name}' of the service factory for '{service.id}' is not a service "
                f"ref: {ref!r}"
            )
        if not name.isidentifier():
            raise ValueError(
                f"Dependency name '{name}' of the service factory for '{service.id}' is not a "
                "valid Python identifier; deps are passed as keyword arguments"
            )
    if create_root_context is not None and service.scope == "root":
        raise ValueError(
            f"create_root_context is only for plugin-scoped services, but '{service.id}' is "
            "root-scoped"
        )
    deferred_names = frozenset(deferred)
    unknown = sorted(deferred_names - dep_map.keys())
    if unknown:
        raise ValueError(
            f"Deferred dependency {', '.join(repr(name) for name in unknown)} of the service "
            f"factory for '{service.id}' is not in its deps"
        )
    if initialization not in (None, "always", "lazy"):
        raise ValueError(
            f"Invalid initialization {initialization!r} for '{service.id}', "
            "expected 'always' or 'lazy'"
        )
    return ServiceFactory(
        service=service,
        deps=MappingProxyType(dep_map),
        factory=factory,
        create_root_context=create_root_context,
        initialization=initialization,
        deferred=deferred_names,
        source=caller_location(),
    )
