"""The refs of the actions registry and actions services."""

from __future__ import annotations

from typing import Final

from ._refs import ServiceRef, create_service_ref
from .services.actions import ActionsRegistryService, ActionsService

__all__ = ["actions_registry_service_ref", "actions_service_ref"]

#: This plugin's actions registry, ``core.actionsRegistry`` (plugin-scoped); Backstage's alpha id
#: ``alpha.core.actionsRegistry`` names the same service.
actions_registry_service_ref: Final[ServiceRef[ActionsRegistryService]] = create_service_ref(
    id="core.actionsRegistry"
)

#: The actions service, ``core.actions`` (plugin-scoped); Backstage's alpha id
#: ``alpha.core.actions`` names the same service.
actions_service_ref: Final[ServiceRef[ActionsService]] = create_service_ref(id="core.actions")
