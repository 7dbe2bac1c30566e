"""``mock_services.<service>.mock(...)``: a ``unittest.mock`` double spec'd to a service.

Backstage's ``simpleMock``: every method of the service's Protocol is a mock that records its
calls (an :class:`~unittest.mock.AsyncMock` for ``async def`` ones) and, unless given an
implementation, returns ``None`` as a bare ``jest.fn()`` returns ``undefined``. The double
carries ``.factory``, a service factory serving it, to pass to a test backend.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, TypeVar
from unittest.mock import NonCallableMagicMock, create_autospec

from ..api import ServiceFactory, ServiceRef, create_service_factory

__all__ = [
    "ServiceMock",
    "build_service_mock",
    "create_double",
    "create_mock",
    "create_service_mock",
    "protocol_members",
]

T = TypeVar("T")

#: What ``.mock(...)`` returns: a :class:`~unittest.mock.NonCallableMagicMock` spec'd to the
#: service's Protocol (a misspelt method is an ``AttributeError``, a wrong call signature a
#: ``TypeError``), with ``.factory`` a ``ServiceFactory`` serving this very double.
ServiceMock: TypeAlias = NonCallableMagicMock


def protocol_members(spec: type) -> dict[str, object]:
    """The public methods and properties ``spec`` and its Protocol bases declare, by name."""
    members: dict[str, object] = {}
    for klass in reversed(spec.__mro__):
        if klass is object or klass.__module__ == "typing":
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if inspect.isfunction(value) or isinstance(value, property):
                members[name] = value
    return members


def build_service_mock(
    ref: ServiceRef[T],
    spec: type,
    implementations: Mapping[str, object],
    *,
    defaults: Mapping[str, Callable[..., object]] | None = None,
) -> ServiceMock:
    """A double of ``ref``'s service shaped by ``spec`` (its Protocol), with ``.factory``.

    ``implementations`` maps member names to what they do: a callable becomes the method's
    ``side_effect`` (so the call is still recorded, and an ``async def`` implementation is
    awaited), anything else (or any value for a property) is set as the attribute. ``defaults``
    are side effects used when ``implementations`` has none for that method, for the few
    methods whose Backstage mock returns something (``child`` of a logger mock, say).

    Raises :class:`TypeError` naming the service and its members when ``implementations``
    names something the service does not have.
    """
    double = create_double(spec, implementations, defaults=defaults, name=f"service '{ref.id}'")
    double.factory = _serving(ref, double)
    return double


def create_double(
    spec: type,
    implementations: Mapping[str, object] | None = None,
    *,
    defaults: Mapping[str, Callable[..., object]] | None = None,
    name: str | None = None,
) -> ServiceMock:
    """A double of ``spec`` as :func:`build_service_mock` makes one, without a factory (for
    objects a service hands out, such as an auditor's events). ``name`` is used in errors.
    """
    implementations = implementations or {}
    members = protocol_members(spec)
    unknown = sorted(set(implementations) - set(members))
    if unknown:
        raise TypeError(
            f"The mock of {name or spec.__name__} has no member "
            f"{', '.join(map(repr, unknown))}; its members are: {', '.join(sorted(members))}"
        )
    double: Any = create_autospec(spec, instance=True)
    for member_name, member in members.items():
        if isinstance(member, property):
            # A bare jest mock leaves fields undefined; a MagicMock would look truthy.
            setattr(double, member_name, None)
            continue
        method = getattr(double, member_name)
        method.return_value = None
        default = (defaults or {}).get(member_name)
        if default is not None:
            method.side_effect = default
    for member_name, implementation in implementations.items():
        if callable(implementation) and not isinstance(members[member_name], property):
            getattr(double, member_name).side_effect = implementation
        else:
            setattr(double, member_name, implementation)
    # create_autospec gives Any; the alias says what the double is.
    assert isinstance(double, NonCallableMagicMock)
    return double


def create_mock(spec: type, /, **implementations: object) -> ServiceMock:
    """A ``unittest.mock`` double of any Protocol or class, as ``mock_services.<x>.mock()``
    makes one of a core service: for a plugin's own collaborators (a store, a client).

    Every ``async def`` of ``spec`` is an :class:`~unittest.mock.AsyncMock`, every other method
    a :class:`~unittest.mock.MagicMock`; each checks its call signature, records its calls and
    returns ``None`` (a bare ``jest.fn()``); properties are ``None``. ``implementations`` give
    what members do: a callable becomes the method's ``side_effect`` (still recorded; an
    ``async def`` one is awaited), anything else is the attribute's value::

        store = create_mock(UserSettingsStore, get=lambda **_: UserSetting("b", "k", 1))
        ...
        store.set.assert_awaited_once_with(user_entity_ref="user:default/mock", ...)

    A misspelt member is an ``AttributeError``; ``implementations`` naming a member ``spec``
    does not have is a :class:`TypeError` listing its members.
    """
    return create_double(spec, implementations)


def create_service_mock(
    ref: ServiceRef[T], spec: type, /, **implementations: object
) -> ServiceMock:
    """A double of the service of ``ref`` (a plugin's own ref too), as :func:`create_mock`
    makes one of ``spec``, whose ``.factory`` serves it to a test backend (Backstage's
    ``createServiceMock``, called at once)::

        signals = create_service_mock(signals_service_ref, SignalsService)
        async with start_test_backend(features=[my_plugin, signals.factory]):
            ...
        signals.publish.assert_awaited_once()

    Raises :class:`TypeError` naming the service when ``implementations`` names a member
    ``spec`` does not have.
    """
    return build_service_mock(ref, spec, implementations)


def _serving(ref: ServiceRef[T], double: object) -> ServiceFactory[T]:
    def factory() -> Any:
        return double

    return create_service_factory(service=ref, factory=factory)
