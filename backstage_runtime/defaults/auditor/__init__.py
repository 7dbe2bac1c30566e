"""Default ``core.auditor``: audit events through the plugin logger, as Backstage emits them.

Usage in a route::

    event = await auditor.create_event("todo-delete", severity_level="medium", request=request,
                                       meta={"id": item_id})
    try:
        delete(item_id)
    except Exception as error:
        await event.fail(error=error)
        raise
    await event.success()
"""

from ._auditor import DefaultAuditorEvent, DefaultAuditorService, read_severity_levels
from ._factory import auditor_service_factory

__all__ = [
    "DefaultAuditorEvent",
    "DefaultAuditorService",
    "auditor_service_factory",
    "read_severity_levels",
]
