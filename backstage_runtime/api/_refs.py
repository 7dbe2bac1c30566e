"""Service refs and extension point refs: the typed names that features depend on."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

if TYPE_CHECKING:
    from ._factories import ServiceFactory

__all__ = [
    "DefaultFactoryLoader",
    "ExtensionPoint",
    "ServiceRef",
    "ServiceScope",
    "create_extension_point",
    "create_service_ref",
]

T = TypeVar("T")

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
    ``multiton`` refs collect every factory provided for them and are injected as a ``list``.
    Build refs with :func:`create_service_ref`.
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


def create_service_ref(
    *,
    id: str,
    scope: ServiceScope = "plugin",
    multiton: bool = False,
    default_factory: DefaultFactoryLoader | None = None,
) -> ServiceRef[Any]:
    """Create a reference to a service.

    Annotate the variable to give the ref its type::

        todo_store: ServiceRef[TodoStore] = create_service_ref(id="todo.store")

    ``scope`` defaults to ``"plugin"`` as in Backstage. ``default_factory`` is consulted only when
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
    return ServiceRef(id=id, scope=scope, multiton=multiton, default_factory=default_factory)


@dataclass(frozen=True, eq=False)
class ExtensionPoint(Generic[T]):
    """A typed reference to an extension point that a plugin offers to its modules."""

    id: str

    def __str__(self) -> str:
        return f"extensionPoint{{{self.id}}}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExtensionPoint) and other.id == self.id

    def __hash__(self) -> int:
        return hash(("ExtensionPoint", self.id))


def create_extension_point(*, id: str) -> ExtensionPoint[Any]:
    """Create an extension point ref; annotate it as ``ExtensionPoint[YourInterface]``."""
    if not isinstance(id, str) or not _ID_PATTERN.match(id):
        raise ValueError(f"Invalid extension point id {id!r}: it must be a non-empty string")
    return ExtensionPoint(id=id)
