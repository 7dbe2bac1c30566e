"""The registry a plugin's ``core.permissionsRegistry`` is: the permissions toolkit's router."""

from ...permissions._registry import PermissionIntegrationRouter as PermissionsRegistry

__all__ = ["PermissionsRegistry"]
