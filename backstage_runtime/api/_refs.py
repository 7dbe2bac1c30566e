"""Service refs and extension point refs: the typed names that features depend on."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

if TYPE_CHECKING:
    from ._factories import ServiceFactory

__all__ = [
    "DefaultFactoryLoader",
    "ExtensionPoint",
    "MultitonServiceRef",
    "ServiceRef",
    "ServiceScope",
    "create_extension_point",
    "create_service_ref",
]

T = TypeVar("T")

#: A service's scope: ``root`` (one instance for the backend) or ``plugin`` (one per plugin).
ServiceScope = Literal["root", "plugin"]

#: ``default_factory(ref)`` returns the factory to use when nobody provided one for the ref's id.
DefaultFactoryLoader = Callable[
    ["ServiceRef[Any]"], "ServiceFactory[Any] | Awaitable[ServiceFactory[Any]]"
]

# Backstage puts no format on service ids; we only refuse what cannot be a name at all, so that a
# typo such as a trailing space shows up at definition time rather than as a "missing" service.
_ID_PATTERN = re.compile(r"^\S+$")


@dataclass(frozen=True, eq=False)
class ServiceRef(Generic[T]):
    """A typed reference to a service, keyed by its ``id``.

    Two refs with the same id name the same service (the registry is keyed by id, as in Backstage).
    ``scope`` is ``"plugin"`` (one instance per plugin) or ``"root"`` (one per backend);
    ``multiton`` refs collect every factory provided for them and are injected as a ``list``
    (they are :class:`MultitonServiceRef` instances). Build refs with :func:`create_service_ref`.

    ``T`` is invariant on purpose: a factory for ``ServiceRef[Base]`` may return any ``Base``,
    so a ``ServiceRef[Base]`` must not pass where a ``ServiceRef[Sub]`` is expected.
    """

    id: str
    scope: ServiceScope = "plugin"
    multiton: bool = False
    default_factory: DefaultFactoryLoader | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"serviceRef{{{self.id}}}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ServiceRef) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("ServiceRef", self.id))


@dataclass(frozen=True, eq=False)
class MultitonServiceRef(ServiceRef[T]):
    """A ref created with ``multiton=True``: every factory provided for it contributes one ``T``.

    Each factory returns one ``T``; whoever asks for the service receives ``list[T]`` (one item
    per factory, in factory order). Typing the ref as ``MultitonServiceRef[T]`` lets the type
    checker see that list, e.g. ``Backend.get_service`` returns ``list[T]`` for it. A multiton
    annotated as a plain ``ServiceRef[T]`` still works at runtime, but is then seen as ``T``.
    """


@overload
def create_service_ref(
    *,
    id: str,
    scope: ServiceScope = "plugin",
    multiton: Literal[False] = False,
    default_factory: DefaultFactoryLoader | None = None,
) -> ServiceRef[T]: ...


@overload
def create_service_ref(
    *,
    id: str,
    scope: ServiceScope = "plugin",
    multiton: Literal[True],
    default_factory: DefaultFactoryLoader | None = None,
) -> MultitonServiceRef[T]: ...


@overload
def create_service_ref(
    *,
    id: str,
    scope: ServiceScope = "plugin",
    multiton: bool,
    default_factory: DefaultFactoryLoader | None = None,
) -> ServiceRef[T]: ...


def create_service_ref(
    *,
    id: str,
    scope: ServiceScope = "plugin",
    multiton: bool = False,
    default_factory: DefaultFactoryLoader | None = None,
) -> ServiceRef[Any]:
    """Create a reference to a service.

    Annotate the variable to give the ref its type (the type checker takes ``T`` from it, and
    asks for an annotation when there is none)::

        todo_store: ServiceRef[TodoStore] = create_service_ref(id="todo.store")
        extra_readers: MultitonServiceRef[ReaderFactory] = create_service_ref(
            id="todo.readers", multiton=True
        )

    ``scope`` defaults to ``"plugin"`` as in Backstage. ``multiton=True`` gives a
    :class:`MultitonServiceRef`. ``default_factory`` is consulted only when
    no factory for this id was added to the backend; it receives the ref and returns a factory (or
    an awaitable of one). Raises :class:`ValueError` for an empty id or an unknown scope.
    """
    if not isinstance(id, str) or not _ID_PATTERN.match(id):
        raise ValueError(
            f"Invalid service ref id {id!r}: it must be a non-empty string without spaces"
        )
    if scope not in ("root", "plugin"):
        raise ValueError(
            f"Invalid scope {scope!r} for service ref '{id}', expected 'root' or 'plugin'"
        )
    if multiton:
        return MultitonServiceRef(
            id=id, scope=scope, multiton=True, default_factory=default_factory
        )
    return ServiceRef(id=id, scope=scope, multiton=False, default_factory=default_factory)


@dataclass(frozen=True, eq=False)
class ExtensionPoint(Generic[T]):
    """A typed reference to an extension point that a plugin offers to its modules.

    ``T`` is the interface the plugin offers; it is invariant, like :class:`ServiceRef`'s.
    """

    id: str

    def __str__(self) -> str:
        return f"extensionPoint{{{self.id}}}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExtensionPoint) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("ExtensionPoint", self.id))


def create_extension_point(*, id: str) -> ExtensionPoint[T]:
    """Create an extension point ref; annotate it as ``ExtensionPoint[YourInterface]``.

    The type checker takes ``T`` from that annotation (and asks for one when there is none).
    """
    if not isinstance(id, str) or not _ID_PATTERN.match(id):
        raise ValueError(f"Invalid extension point id {id!r}: it must be a non-empty string")
    return ExtensionPoint(id=id)
