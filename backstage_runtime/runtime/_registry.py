"""The service registry: which factory serves each service id, and what that implies.

The registry holds registrations only (no instances): it is filled while the backend is assembled,
frozen before validation, and is the one place that answers "which factory", "which scope",
"which dependencies are missing", "what is eager" and "does a root service reach into a plugin".
Instances live in :mod:`._container`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from ..api import ServiceFactory, ServiceScope
from ..api.errors import ServiceInstantiationError
from ._once import Once
from ._types import PLUGIN_METADATA_ID, ErasedFactory, ErasedRef

__all__ = ["ServiceRegistry"]


class ServiceRegistry:
    """The factories of one backend, keyed by service id (as Backstage keys them).

    A ref's own ``default_factory`` serves it when nobody provided a factory for its id; it is
    loaded on first lookup and its outcome (a failure too) is remembered, so the registry answers
    the same for the life of the backend.
    """

    def __init__(self) -> None:
        self._factories: dict[str, list[ErasedFactory]] = {}
        self._defaults: dict[int, Once[ErasedFactory]] = {}
        # Ids whose factories were handed out: replacing them would leave two implementations.
        self._looked_up: set[str] = set()
        self._frozen = False

    # -- assembly ----------------------------------------------------------------------------

    def set_factories(self, service_id: str, factories: Iterable[ErasedFactory]) -> None:
        """Install the factories for ``service_id`` (replacing any); only during assembly.

        Raises :class:`ServiceInstantiationError` once something looked the id up (a feature
        loader's dependency, say), and :class:`RuntimeError` once the registry is frozen.
        """
        if self._frozen:
            raise RuntimeError(
                f"Unable to set service factory with id {service_id}, the backend is assembled"
            )
        if service_id in self._looked_up:
            raise ServiceInstantiationError(
                f"Unable to set service factory with id {service_id}, service has already been "
                "instantiated"
            )
        self._factories[service_id] = list(factories)

    def freeze(self) -> None:
        """End assembly: from now on the provided factories never change."""
        self._frozen = True

    # -- registrations -----------------------------------------------------------------------

    def provided_ids(self) -> list[str]:
        """Ids with at least one provided factory, in the order they were first provided."""
        return [sid for sid, factories in self._factories.items() if factories]

    def provided_factories(self, service_id: str) -> list[ErasedFactory]:
        """The factories provided for ``service_id`` (empty if none)."""
        return list(self._factories.get(service_id, ()))

    def can_resolve(self, ref: ErasedRef) -> bool:
        """Whether ``ref`` has an implementation (or needs none: multitons, plugin metadata)."""
        return (
            ref.id == PLUGIN_METADATA_ID
            or ref.multiton
            or bool(self._factories.get(ref.id))
            or ref.default_factory is not None
        )

    def scope_of(self, ref: ErasedRef) -> ServiceScope:
        """The scope ``ref``'s id is served in: its first provided factory decides.

        Refs are keyed by id, so a dependent may hold a different ref object (even one declaring
        another scope) for the same id; the ref's own scope counts only when nobody provided it.
        """
        provided = self._factories.get(ref.id)
        return provided[0].service.scope if provided else ref.scope

    def eager_services(self, scope: ServiceScope) -> list[ErasedRef]:
        """Services of ``scope`` built at start even when unused, in registration order.

        The first provided factory of each id decides, as it is the one a lookup would build.
        """
        eager: list[ErasedRef] = []
        for factories in self._factories.values():
            if factories and factories[0].service.scope == scope and factories[0].eager:
                eager.append(factories[0].service)
        return eager

    async def factories_for(self, ref: ErasedRef) -> list[ErasedFactory]:
        """The factories that serve ``ref``: provided ones, else the ref's default factory.

        Raises :class:`ServiceInstantiationError` when the default factory loader fails or does
        not produce a :class:`ServiceFactory` (the same error for every later lookup).
        """
        self._looked_up.add(ref.id)
        provided = self._factories.get(ref.id)
        if provided:
            return list(provided)
        loader = ref.default_factory
        if loader is None:
            return []
        cell = self._defaults.get(id(loader))
        if cell is None:
            cell = self._defaults[id(loader)] = Once(lambda: _load_default(ref))
        return [await cell.get()]

    # -- problems ----------------------------------------------------------------------------

    def missing_dependencies_problem(self, factory: ErasedFactory, owner: str) -> str | None:
        """Why ``factory`` cannot be built for ``owner`` (a plugin id or ``root``), if a
        dependency has no implementation; None when every dependency resolves.
        """
        missing = [ref.id for ref in factory.deps.values() if not self.can_resolve(ref)]
        if not missing:
            return None
        names = ", ".join(f"'{m}'" for m in missing)
        return (
            f"Failed to instantiate service '{factory.service.id}' for '{owner}' because the "
            f"following dependent services are missing: {names}"
        )

    def root_scope_problems(self, factory: ErasedFactory) -> list[str]:
        """One line per plugin-scoped dependency of a root-scoped ``factory`` (else empty)."""
        if factory.service.scope != "root":
            return []
        return [
            f"Failed to instantiate 'root' scoped service '{factory.service.id}' because it "
            f"depends on 'plugin' scoped service '{ref.id}'."
            for ref in factory.deps.values()
            if self.scope_of(ref) == "plugin" or ref.id == PLUGIN_METADATA_ID
        ]

    def root_context_deps(self, factory: ErasedFactory) -> list[tuple[str, ErasedRef]]:
        """The dependencies ``create_root_context`` receives: the root-scoped subset."""
        return [
            (name, ref)
            for name, ref in factory.deps.items()
            if self.scope_of(ref) == "root" and ref.id != PLUGIN_METADATA_ID
        ]


async def _load_default(ref: ErasedRef) -> ErasedFactory:
    loader = ref.default_factory
    assert loader is not None  # only called for refs that carry one
    try:
        result: object = loader(ref)
        if inspect.isawaitable(result):
            result = await result
        # A loader may hand back a zero-argument callable producing the factory (lazy import).
        if callable(result) and not isinstance(result, ServiceFactory):
            result = result()
    except Exception as error:
        raise ServiceInstantiationError(
            f"Failed to instantiate service '{ref.id}' because the default factory loader threw "
            "an error",
            error,
        ) from error
    if not isinstance(result, ServiceFactory):
        raise ServiceInstantiationError(
            f"The default factory of service '{ref.id}' returned {result!r}, expected a "
            "ServiceFactory"
        )
    return result
