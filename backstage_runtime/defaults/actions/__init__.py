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

from ._factory import actions_service_factory, alpha_actions_service_factory
from ._filter import ActionFilter, glob_pattern, read_action_filter
from ._remote_errors import error_from_response
from ._service import DefaultActionsService, parse_action

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
