"""The refs of the actions registry and actions services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._refs import ServiceRef, create_service_ref

if TYPE_CHECKING:
    from .services.actions import ActionsRegistryService, ActionsService

__all__ = [
    "actions_registry_service_ref",
    "actions_service_ref",
    "alpha_actions_registry_service_ref",
    "alpha_actions_service_ref",
]

#: This plugin's actions registry, ``core.actionsRegistry`` (plugin-scoped); Backstage's alpha id
#: ``alpha.core.actionsRegistry`` names the same service.
actions_registry_service_ref: Final[ServiceRef[ActionsRegistryService]] = create_service_ref(
    id="core.actionsRegistry"
)

#: The actions service, ``core.actions`` (plugin-scoped); Backstage's alpha id
#: ``alpha.core.actions`` names the same service.
actions_service_ref: Final[ServiceRef[ActionsService]] = create_service_ref(id="core.actions")

#: Backstage's alpha id of the actions registry; its default factory hands out the plugin's
#: ``core.actionsRegistry``, so a plugin asking under either id gets the same registry.
alpha_actions_registry_service_ref: Final[ServiceRef[ActionsRegistryService]] = create_service_ref(
    id="alpha.core.actionsRegistry"
)

#: Backstage's alpha id of the actions service; its default factory hands out ``core.actions``.
alpha_actions_service_ref: Final[ServiceRef[ActionsService]] = create_service_ref(
    id="alpha.core.actions"
)
