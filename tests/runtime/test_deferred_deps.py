"""A deferred dependency reaches its factory as a coroutine function that builds it on demand."""

from __future__ import annotations

from typing import Any

import pytest
from _support.features import plugin_with_init

from backstage_runtime.api import (
    Deferred,
    ServiceRef,
    create_service_factory,
    create_service_ref,
)
from backstage_runtime.api.errors import BackendValidationError
from backstage_runtime.runtime import create_specialized_backend

pytestmark = pytest.mark.anyio


class Costly:
    """What the deferred dependency builds."""


class User:
    """A service holding a deferred dependency."""

    def __init__(self, costly: Deferred[Costly]) -> None:
        self.costly = costly


def costly_factory(built: list[Costly]) -> Any:
    costly: ServiceRef[Costly] = create_service_ref(id="svc.costly", scope="root")

    def factory() -> Costly:
        built.append(Costly())
        return built[-1]

    return costly, create_service_factory(service=costly, factory=factory, initialization="lazy")


async def test_a_deferred_dependency_is_built_on_its_first_call_only() -> None:
    built: list[Costly] = []
    costly, costly_feature = costly_factory(built)
    user: ServiceRef[User] = create_service_ref(id="svc.user")
    users: list[User] = []
    backend = create_specialized_backend(
        default_service_factories=[
            costly_feature,
            create_service_factory(
                service=user, deps={"costly": costly}, factory=User, deferred=("costly",)
            ),
        ]
    )
    backend.add(plugin_with_init("p", {"user": user}, lambda user: users.append(user)))
    async with backend:
        assert built == []
        first = await users[0].costly()
        second = await users[0].costly()
        assert built == [first]
        assert second is first


async def test_a_deferred_dependency_is_the_instance_everyone_else_gets() -> None:
    built: list[Costly] = []
    costly, costly_feature = costly_factory(built)
    user: ServiceRef[User] = create_service_ref(id="svc.user")
    received: dict[str, Any] = {}

    def init(user: User, costly: Costly) -> None:
        received.update(user=user, costly=costly)

    backend = create_specialized_backend(
        default_service_factories=[
            costly_feature,
            create_service_factory(
                service=user, deps={"costly": costly}, factory=User, deferred=("costly",)
            ),
        ]
    )
    backend.add(plugin_with_init("p", {"user": user, "costly": costly}, init))
    async with backend:
        assert await received["user"].costly() is received["costly"]
    assert len(built) == 1


async def test_a_root_context_receives_its_deferred_root_dependency() -> None:
    built: list[Costly] = []
    costly, costly_feature = costly_factory(built)
    user: ServiceRef[Any] = create_service_ref(id="svc.user")
    contexts: list[Deferred[Costly]] = []

    def create_root_context(*, costly: Deferred[Costly]) -> Deferred[Costly]:
        contexts.append(costly)
        return costly

    backend = create_specialized_backend(
        default_service_factories=[
            costly_feature,
            create_service_factory(
                service=user,
                deps={"costly": costly},
                create_root_context=create_root_context,
                factory=lambda context, costly: (context, costly),
                deferred=("costly",),
            ),
        ]
    )
    pairs: list[Any] = []
    backend.add(plugin_with_init("p", {"user": user}, lambda user: pairs.append(user)))
    async with backend:
        assert built == []
        from_context, from_factory = pairs[0]
        assert await from_context() is await from_factory()
    assert len(contexts) == 1
    assert len(built) == 1


async def test_a_missing_deferred_dependency_still_fails_the_start() -> None:
    absent: ServiceRef[Any] = create_service_ref(id="svc.absent", scope="root")
    user: ServiceRef[Any] = create_service_ref(id="svc.user")
    backend = create_specialized_backend(
        default_service_factories=[
            create_service_factory(
                service=user, deps={"absent": absent}, factory=User, deferred=("absent",)
            )
        ]
    )
    backend.add(plugin_with_init("p", {"user": user}))
    with pytest.raises(BackendValidationError) as caught:
        await backend.start()
    assert caught.value.problems == [
        "Failed to instantiate service 'svc.user' for 'p' because the following dependent "
        "services are missing: 'svc.absent'"
    ]


def test_a_deferred_name_must_be_one_of_the_deps() -> None:
    user: ServiceRef[Any] = create_service_ref(id="svc.user")
    with pytest.raises(ValueError, match=r"Deferred dependency 'costly' .* is not in its deps"):
        create_service_factory(service=user, factory=User, deferred=("costly",))
