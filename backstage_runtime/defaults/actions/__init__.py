"""Default ``core.actions``: list and invoke the actions of other plugins, here or remote.

Usage in a plugin::

    deps={"actions": actions_service_ref}
    ...
    for action in await actions.list(credentials=credentials):
        ...
    output = await actions.invoke(id="catalog:get-entity", input={...}, credentials=credentials)

Configuration (``backend.actions``)::

    pluginSources: [catalog, scaffolder]     # the plugins whose actions are listed
    filter:
      include: [{id: "catalog:*"}]           # minimatch globs on the action id
      exclude: [{attributes: {destructive: true}}]
"""

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from ._factory import actions_service_factory, alpha_actions_service_factory

# The rest loads on first use (backstage_runtime._lazy): a backend imports this package for its
# factory, and builds the service only when something depends on it.
if TYPE_CHECKING:
    from ._filter import ActionFilter, glob_pattern, read_action_filter
    from ._remote_errors import error_from_response
    from ._service import DefaultActionsService, parse_action
else:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "ActionFilter": "._filter",
            "read_action_filter": "._filter",
            "glob_pattern": "._filter",
            "error_from_response": "._remote_errors",
            "DefaultActionsService": "._service",
            "parse_action": "._service",
        },
    )

__all__ = [
    "ActionFilter",
    "DefaultActionsService",
    "actions_service_factory",
    "alpha_actions_service_factory",
    "error_from_response",
    "glob_pattern",
    "parse_action",
    "read_action_filter",
]
