"""Default ``core.httpAuth``: the caller's credentials from an incoming request.

Usage in a route::

    @routes.get("/secure")
    async def secure():
        credentials = await http_auth.credentials(request, allow=["user", "service"])
        return {"principal": credentials.principal.to_json()}
"""

from ._factory import http_auth_service_factory
from ._http_auth import COOKIE_NAME, DefaultHttpAuthService

__all__ = [
    "COOKIE_NAME",
    "DefaultHttpAuthService",
    "http_auth_service_factory",
]
